"""The comment moderation web app: `create_app()` builds it, `wsgi.py` serves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from moderation import config
from moderation.extensions import cache, csrf, db, limiter, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment (or the test dict), then the parts."""
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                instance_relative_config=True, instance_path=(test_config or {}).get("INSTANCE_PATH"))
    config.secure_instance_folder(app)
    app.config.from_mapping(config.defaults(app))
    app.config.from_mapping(config.from_environment() if test_config is None else test_config)
    app.config.from_mapping(config.cookie_names(app.config))
    config.ensure_secret_key(app)
    trust_proxies(app)
    register_extensions(app)
    register_blueprints(app)
    register_hooks(app)
    register_commands(app)
    _prepare_password_checks(app)
    return app


def _prepare_password_checks(app: Flask) -> None:
    """Make the unknown-name dummy hash now, so no log-in pays for it (see accounts.authenticate)."""
    from moderation.services import accounts

    accounts.dummy_hash(app.config["PASSWORD_HASH_METHOD"])


def trust_proxies(app: Flask) -> None:
    """Take the client address and scheme from the last TRUSTED_PROXY_HOPS proxies (opt-in).

    Without it X-Forwarded-For is ignored, so a client cannot choose its own address to escape a
    rate limit; behind nginx every visitor would otherwise share the proxy's address.
    """
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def register_extensions(app: Flask) -> None:
    from moderation import models, ratelimits  # noqa: F401  (models for Alembic; database:// limits)
    from moderation.services import fresh_rows

    _engine_options(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    cache.init_app(app)
    app.extensions["article_rows"] = fresh_rows.FreshRows()  # watches the SQLite file: _configure_sqlite
    with app.app_context():
        _configure_sqlite(app)


def _engine_options(app: Flask) -> None:
    """No pre-ping on SQLite: it guards against a server dropping idle connections, and a file cannot."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"],
                                                   "pool_pre_ping": False}


# SQLite's default checkpoints the write-ahead log inside whichever commit passes 1,000 pages: a
# reader's post then copied pages and waited on fsync, and while another connection held an older
# snapshot, every following commit tried again. The worker does it instead; 10,000 pages (40 MB)
# is the backstop for a site running without one.
WAL_AUTOCHECKPOINT_PAGES = 10_000


def _configure_sqlite(app: Flask) -> None:
    """WAL, a busy timeout, foreign keys and secure deletion on every new SQLite connection;
    the database files readable by their owner only; the kept article rows watch the file."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # The worker checkpoints every second (jobs/worker.py); this is the backstop when it cannot.
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        # Deleted and overwritten content is zeroed on disk, so an erasure leaves no old text behind.
        cursor.execute("PRAGMA secure_delete=ON")
        for _, name, path in cursor.execute("PRAGMA database_list").fetchall():
            if name == "main" and path:  # a file (an in-memory database has no path)
                config.private_sqlite_files(path)
                app.extensions["article_rows"].watch(path)
        cursor.close()


def register_blueprints(app: Flask) -> None:
    from moderation.api import routes as api
    from moderation.pages import (
        articles,
        auth,
        comments,
        editor,
        embed,
        integrations,
        operations,
        people,
        queue,
        settings,
        staff,
    )

    for module in (comments, auth, queue, editor, operations, staff, people, settings, articles,
                   integrations, api, embed):
        app.register_blueprint(module.bp)


def register_hooks(app: Flask) -> None:
    from moderation import errors, params, security

    errors.init_app(app)
    security.init_app(app)
    app.url_value_preprocessor(params.refuse_impossible_ids)


def register_commands(app: Flask) -> None:
    from moderation import cli

    cli.init_app(app)
