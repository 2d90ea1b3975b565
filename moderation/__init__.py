"""The comment moderation web app: `create_app()` builds it, `wsgi.py` serves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event

from moderation import config
from moderation.extensions import cache, csrf, db, limiter, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment (or the test dict), then the parts."""
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config.defaults(app))
    app.config.from_mapping(config.from_environment() if test_config is None else test_config)
    config.ensure_secret_key(app)
    register_extensions(app)
    register_blueprints(app)
    register_hooks(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from moderation import models  # noqa: F401  (the models must be known to Alembic)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    cache.init_app(app)
    with app.app_context():
        _configure_sqlite(app)


def _configure_sqlite(app: Flask) -> None:
    """WAL, a busy timeout and foreign keys on every new SQLite connection."""
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
        cursor.close()


def register_blueprints(app: Flask) -> None:
    from moderation import auth, comments, editor, operations, people, queue, settings

    for module in (comments, auth, queue, editor, operations, people, settings):
        app.register_blueprint(module.bp)


def register_hooks(app: Flask) -> None:
    from moderation import errors, security

    errors.init_app(app)
    security.init_app(app)


def register_commands(app: Flask) -> None:
    from moderation import cli

    cli.init_app(app)
