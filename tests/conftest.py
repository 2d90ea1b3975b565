"""Fixtures: the real trained model, a real database built by the migrations, the real app."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from classifiers import Analyzer, load_analyzer, sentiment_model
from classifiers import topic as topic_model
from moderation import create_app
from moderation.config import normalise_database_url
from moderation.extensions import db
from moderation.models import Article, Role
from moderation.services import comments as service
from moderation.services import demo

PASSWORD = "correct horse battery"
# Sentence vectors are cached by text hash; every model a test trains (and the CLI runs they start)
# reuses what `./bin/test` encoded when it built the project's model.
os.environ.setdefault("COMMENT_EMBEDDING_CACHE",
                      str(Path(__file__).resolve().parent.parent / "models" / "embedding-cache"))
TABLES = ("label_corrections", "commenter_actions", "word_list_entries", "site_settings",
          "moderation_actions", "jobs", "worker_heartbeats", "comments", "api_tokens", "users", "articles",
          "allowed_origins", "webhook_endpoints", "rate_limit_hits")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train the real topic and sentiment models from the shipped data, once per test session.

    Both passes of `./bin/test` reuse the models its set-up built (TEST_MODEL_DIR) when they are
    current: training has tests of its own (test_classifiers, test_sentiment, test_operations), and
    each pytest-xdist worker would otherwise train its own copy.
    """
    reused = os.environ.get("TEST_MODEL_DIR")
    if reused and topic_model.is_current(Path(reused)) and sentiment_model.is_current(Path(reused)):
        return Path(reused)
    folder = tmp_path_factory.mktemp("model")
    topic_model.train(folder)
    sentiment_model.train(folder)
    return folder


@pytest.fixture(scope="session")
def analyzer(model_dir: Path) -> Analyzer:
    return load_analyzer(model_dir)


def postgres_url() -> str | None:
    """Set by bin/test for the PostgreSQL pass; each pytest-xdist worker gets a database of its own."""
    shared = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{shared}_{worker}" if shared and worker else shared or None


def create_postgres_database(url: str) -> None:
    """Create this worker's database on the test server (bin/test creates only the shared one)."""
    name = url.rsplit("/", 1)[1]
    engine = create_engine(normalise_database_url(os.environ["TEST_DATABASE_URL"]),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> str:
    """Build the schema once from the Alembic migrations (SQLite file, or the test PostgreSQL)."""
    url = postgres_url() or f"sqlite:///{tmp_path_factory.mktemp('db') / 'template.sqlite3'}"
    if postgres_url():
        create_postgres_database(url)
        drop_everything(url)
    migrate_to_head(url, model_dir, tmp_path_factory.mktemp("instance"))
    return url


def migrate_to_head(url: str, model_dir: Path, instance: Path) -> None:
    from flask_migrate import upgrade

    app = make_app(url, model_dir, instance)
    with app.app_context():
        upgrade()
    release_database(app)


def release_database(app: Flask) -> None:
    """Close every connection the app holds, so none is left for the garbage collector."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def drop_everything(url: str) -> None:
    engine = create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


TEST_PASSWORD_HASH = "scrypt:1024:8:1"


def make_app(url: str, model_dir: Path, instance: Path, **overrides: object) -> Flask:
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
        "MODEL_DIR": str(model_dir),
        "MODEL_AUTO_TRAIN": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "INSTANCE_PATH": str(instance),
        # Still scrypt, at 1/32 of the work: hundreds of test users and log-ins would otherwise cost
        # about 100 ms each. tests/test_sessions.py keeps checking the shipped default.
        "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH,
        # The suite keeps both cores busy, so a worker would wait for "readers" in most tests and
        # only slow them; tests/test_readers_first.py sets it.
        "WORKER_YIELD_SECONDS": 0,
    }
    settings.update(overrides)
    app = create_app(settings)
    app.instance_path = str(instance)
    return app


def empty_postgres(url: str) -> None:
    """Empty every table of the shared PostgreSQL test database (tests and module fixtures start clean)."""
    engine = create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    """A fresh, migrated database for each test."""
    if postgres_url():
        empty_postgres(migrated_database)
        return migrated_database
    copy = tmp_path / "test.sqlite3"
    shutil.copy(migrated_database.removeprefix("sqlite:///"), copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def second_server(database_url: str, model_dir: Path, tmp_path: Path) -> Iterator[Flask]:
    """Another app server on the same database, with its own in-memory cache (as a second machine)."""
    instance = tmp_path / "second"
    instance.mkdir()
    other = make_app(database_url, model_dir, instance)
    yield other
    release_database(other)


@pytest.fixture
def app_settings() -> dict[str, object]:
    """Override in a test module to change settings (rate limits, ...)."""
    return {}


@pytest.fixture
def app(database_url: str, model_dir: Path, tmp_path: Path, app_settings: dict) -> Iterator[Flask]:
    instance = tmp_path / "instance"
    instance.mkdir()
    application = make_app(database_url, model_dir, instance, **app_settings)
    yield application
    release_database(application)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@dataclass(frozen=True)
class ArticleRef:
    id: int
    slug: str

    @property
    def url(self) -> str:
        return f"/articles/{self.slug}"


@pytest.fixture
def article(app: Flask) -> ArticleRef:
    """The demo article with its six approved comments, loaded through the app's own path."""
    with app.app_context():
        result = demo.load_demo()
        return ArticleRef(result.article.id, result.article.slug)


def set_article(app: Flask, article_id: int, **fields: object) -> None:
    with app.app_context():
        row = db.session.get(Article, article_id)
        for name, value in fields.items():
            setattr(row, name, value)
        db.session.commit()


def create_staff(app: Flask, username: str, role: Role) -> None:
    with app.app_context():
        service.create_user(username, PASSWORD, role)


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class Staff:
    """Log staff in and out through the real log-in form."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app, self.client = app, client

    def login(self, role: Role = Role.MODERATOR, username: str | None = None):
        username = username or f"{role.value}-user"
        create_staff(self.app, username, role)
        token = csrf_from(self.client.get("/login").get_data(as_text=True))
        return self.client.post("/login", data={"username": username, "password": PASSWORD,
                                                "csrf_token": token})


@pytest.fixture
def staff(app: Flask, client: FlaskClient) -> Staff:
    return Staff(app, client)


@pytest.fixture(scope="module")
def site(migrated_database: str, model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The app under gunicorn with demo data and staff (mia, eddie, ada), shared by a module."""
    from tests.browsing import live_site, require_chromium

    require_chromium()
    with live_site(migrated_database, model_dir, tmp_path_factory.mktemp("site")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium shared by a module's tests (each test starts logged out)."""
    from tests.browsing import chromium

    with chromium() as driver:
        yield driver
