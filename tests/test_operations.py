"""Operators: migrations match the models, CLI commands, faults (database down, model missing)."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from classifiers import sentiment_model
from moderation.config import normalise_database_url
from moderation.extensions import db
from moderation.models import CommentStatus
from tests.conftest import make_app, migrate_to_head, postgres_url, release_database
from tests.helpers import (
    TOPIC_MODEL_FILES,
    copy_models,
    count_comments,
    demo_rows,
    latest_comment,
    post_comment,
    run_worker,
)


def test_migrations_build_exactly_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_upgrade_backfills_decision_minutes_of_earlier_decisions(tmp_path: Path, model_dir: Path,
                                                                 migrated_database: str):
    from flask_migrate import downgrade, upgrade

    with scratch_database(tmp_path, migrated_database) as url:
        app = make_app(url, model_dir, tmp_path)
        with app.app_context():
            upgrade(revision="0001")
            db.session.execute(text(
                "INSERT INTO articles (id, slug, title, standfirst, body, published, premoderated, comments_open) "
                "VALUES (1, 'a', 'A', '', '', '2026-11-01', TRUE, TRUE)"))
            db.session.execute(text(
                "INSERT INTO comments (article_id, author, body, created_at, decided_at, status) VALUES "
                "(1, 'x', 'decided', '2026-11-01 12:00:00', '2026-11-01 12:45:00', 'approved'),"
                "(1, 'y', 'waiting', '2026-11-01 12:00:00', NULL, 'pending')"))
            db.session.commit()
            upgrade()
            minutes = dict(db.session.execute(text("SELECT body, decision_minutes FROM comments")).all())
            db.session.commit()  # end the read's transaction: PostgreSQL's DROP INDEX waits for it
            downgrade(revision="0001")
        release_database(app)
    assert minutes["decided"] == pytest.approx(45, abs=0.01) and minutes["waiting"] is None


def test_load_demo_is_idempotent(app, runner):
    first = runner.invoke(args=["load-demo"])
    second = runner.invoke(args=["load-demo"])
    assert "(6 comments added)" in first.output and "(0 comments added)" in second.output
    assert "Demo login: demo-moderator / " in first.output
    assert first.output.splitlines()[1] == second.output.splitlines()[1]
    assert count_comments(app, status=CommentStatus.APPROVED) == 6


def test_create_user_reads_two_lines_from_stdin(app, runner, client):
    result = runner.invoke(args=["create-user", "alice", "--role", "moderator"], input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0 and "Created moderator 'alice'" in result.output
    again = runner.invoke(args=["create-user", "alice", "--role", "editor"], input="s3cret-pass\ns3cret-pass\n")
    assert again.exit_code != 0 and "already exists" in again.output


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["bob", "--role", "moderator"], "one-password\nanother-one\n", "do not match"),
    (["bob", "--role", "moderator"], "short\nshort\n", "at least 8"),
    (["bob", "--role", "overlord"], "", "Invalid value for '--role'"),
])
def test_create_user_refuses_bad_input(runner, args, stdin, message):
    result = runner.invoke(args=["create-user", *args], input=stdin)
    assert result.exit_code != 0 and message in result.output


@contextmanager
def postgres_admin(migrated_database: str):
    """An autocommit connection to the test server, and a scratch database name dropped at the end."""
    name = f"moderation_scratch_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_database_url(migrated_database),
                          isolation_level="AUTOCOMMIT")
    try:
        yield admin, name, migrated_database.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def create_database(admin, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))


@contextmanager
def scratch_database(tmp_path: Path, migrated_database: str):
    """An empty database of the backend under test, removed afterwards."""
    if not postgres_url():
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    with postgres_admin(migrated_database) as (admin, name, url):
        create_database(admin, name)
        yield url


@contextmanager
def database_that_comes_later(tmp_path: Path, migrated_database: str, model_dir: Path):
    """A database URL that does not answer yet, and a function that brings it up (migrated)."""
    if not postgres_url():
        missing = tmp_path / "not-yet" / "db.sqlite3"

        def bring_up() -> None:
            missing.parent.mkdir()
            missing.write_bytes(Path(migrated_database.removeprefix("sqlite:///")).read_bytes())

        yield f"sqlite:///{missing}", bring_up
        return
    with postgres_admin(migrated_database) as (admin, name, url):

        def bring_up() -> None:
            create_database(admin, name)
            migrate_to_head(url, model_dir, tmp_path)

        yield url, bring_up


def test_unreachable_database_is_a_503_and_recovers(tmp_path: Path, model_dir: Path, migrated_database: str):
    with database_that_comes_later(tmp_path, migrated_database, model_dir) as (url, bring_up):
        app = make_app(url, model_dir, tmp_path)
        client = app.test_client()
        response = client.get("/articles/ai-multi-cloud-strategy")
        assert response.status_code == 503
        assert "database is unreachable" in response.get_data(as_text=True)
        assert "Traceback" not in response.get_data(as_text=True)
        bring_up()
        assert client.get("/").status_code == 200
        release_database(app)


def test_missing_model_stores_comments_unclassified_then_classify_pending(tmp_path, database_url, model_dir):
    app = make_app(database_url, tmp_path / "no-model", tmp_path)
    client = app.test_client()
    with app.app_context():
        from moderation.services import demo

        demo.load_demo()
    response = post_comment(client, "ai-multi-cloud-strategy", body="Stored while the model is down.")
    assert response.status_code == 303
    assert run_worker(app) == 0  # a worker without a model leaves the jobs for a worker with one
    assert count_comments(app, topic=None) == 7
    refused = app.test_cli_runner().invoke(args=["classify-pending"])
    assert refused.exit_code == 1 and "python -m classifiers train" in refused.output
    assert count_comments(app, topic=None) == 7
    fixed = make_app(database_url, model_dir, tmp_path)
    result = fixed.test_cli_runner().invoke(args=["classify-pending"])
    assert "Classified 7 comments." in result.output
    assert count_comments(fixed, topic=None) == 0
    for application in (app, fixed):
        release_database(application)


@pytest.mark.skipif(bool(postgres_url()), reason="training does not touch the database: the SQLite pass covers it")
def test_worker_trains_a_missing_model_at_start(tmp_path, database_url, model_dir):
    # The topic model is there, the sentiment model is not: the worker builds what is missing (the
    # set-up's `train --if-stale` builds both from nothing on every fresh checkout).
    folder = copy_models(model_dir, tmp_path / "half-model-dir", TOPIC_MODEL_FILES)
    app = make_app(database_url, folder, tmp_path, MODEL_AUTO_TRAIN=True)
    try:
        with app.app_context():
            from moderation.services import demo

            demo.load_demo()
        economics = next(r["body"] for r in demo_rows() if r["topic"] == "cost")
        post_comment(app.test_client(), "ai-multi-cloud-strategy", body=economics)
        assert not (folder / sentiment_model.ARTIFACT_NAME).exists()  # the web app never needs the model
        run_worker(app)
        assert (folder / sentiment_model.ARTIFACT_NAME).exists() and (folder / sentiment_model.CARD_NAME).exists()
        stored = latest_comment(app)
        assert stored.topic == "cost" and stored.sentiment is not None
    finally:
        release_database(app)


def test_queue_and_operations_page_warn_when_the_model_is_unavailable(tmp_path, database_url):
    from moderation.models import Role
    from moderation.services import comments as service
    from tests.conftest import PASSWORD, csrf_from

    app = make_app(database_url, tmp_path / "no-model", tmp_path)
    with app.app_context():
        from moderation.services import demo

        demo.load_demo()
        service.create_user("boss", PASSWORD, Role.ADMIN)
    run_worker(app, name="worker-without-model")
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token})
    queue = client.get("/moderation").get_data(as_text=True)
    assert "6 comments wait for classification" in queue and "The topic model is unavailable" in queue
    operations = client.get("/operations").get_data(as_text=True)
    assert "The topic model is unavailable" in operations and "python -m classifiers train" in operations
    assert "worker-without-model" in operations
    status = client.get("/operations/status.json").get_json()
    assert status["unclassified"] == 6 and status["backlog"]["classify"]["queued"] == 6
    assert status["workers"][0]["model_version"] is None and status["workers"][0]["alive"]
    release_database(app)
