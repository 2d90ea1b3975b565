"""Rows kept until the database changes (moderation/services/fresh_rows.py), against real SQLite files."""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from flask_migrate import upgrade

from moderation.services import demo
from moderation.services.fresh_rows import FreshRows
from tests.conftest import make_app, release_database

pytestmark = pytest.mark.engine_agnostic


def table_with(path: Path, value: str) -> sqlite3.Connection:
    writer = sqlite3.connect(path)
    writer.execute("CREATE TABLE t (v TEXT)")
    writer.execute("INSERT INTO t VALUES (?)", (value,))
    writer.commit()
    return writer


def test_a_row_is_read_again_after_any_commit_and_only_then(tmp_path):
    path = tmp_path / "rows.sqlite3"
    with closing(table_with(path, "first")) as writer:
        rows, reads = FreshRows(), []
        rows.watch(str(path))

        def read() -> str:
            reads.append(1)
            return writer.execute("SELECT v FROM t").fetchone()[0]

        assert rows.get("k", read) == "first" and rows.get("k", read) == "first"
        assert len(reads) == 1
        writer.execute("UPDATE t SET v = 'second'")
        writer.commit()
        assert rows.get("k", read) == "second" and len(reads) == 2


def test_unwatched_or_missing_files_keep_nothing_and_are_never_created(tmp_path):
    assert FreshRows().get("k", lambda: "read") == "read"  # PostgreSQL, or no connection yet
    missing = tmp_path / "gone" / "db.sqlite3"
    rows = FreshRows()
    rows.watch(str(missing))
    assert rows.get("k", lambda: "read") == "read"
    missing.parent.mkdir()
    assert rows.get("k", lambda: "read again") == "read again"
    assert not missing.exists()


def test_a_file_that_went_away_and_came_back_is_counted_afresh(tmp_path):
    """A new connection counts from the start again: a count kept from the old one must not match."""
    path, away = tmp_path / "rows.sqlite3", tmp_path / "away.sqlite3"
    with closing(table_with(path, "old")) as writer:
        rows = FreshRows()
        rows.watch(str(path))
        read = lambda: writer.execute("SELECT v FROM t").fetchone()[0]  # noqa: E731
        assert rows.get("k", read) == "old"
        os.rename(path, away)  # moved aside for a moment: the counter cannot read it and lets go
        assert rows.get("k", read) == "old"
        os.rename(away, path)
        writer.execute("UPDATE t SET v = 'new'")
        writer.commit()
        assert rows.get("k", read) == "new"  # a fresh connection's first count could equal the kept one


def test_a_file_replaced_by_another_is_read_from_the_new_one(tmp_path):
    path, backup = tmp_path / "rows.sqlite3", tmp_path / "backup.sqlite3"
    table_with(backup, "restored").close()
    with closing(table_with(path, "live")) as writer:
        rows = FreshRows()
        rows.watch(str(path))
        assert rows.get("k", lambda: writer.execute("SELECT v FROM t").fetchone()[0]) == "live"
    shutil.copy(backup, tmp_path / "copy.sqlite3")
    os.replace(tmp_path / "copy.sqlite3", path)  # a restore: a new file at the same path
    with closing(sqlite3.connect(path)) as reader:
        assert rows.get("k", lambda: reader.execute("SELECT v FROM t").fetchone()[0]) == "restored"


def test_a_relative_database_url_is_watched_where_the_app_opened_it(tmp_path, model_dir):
    """Flask-SQLAlchemy puts a relative SQLite path in the instance folder; the rows watch that file."""
    instance = tmp_path / "instance"
    instance.mkdir()
    app = make_app("sqlite:///relative.sqlite3", model_dir, instance)
    with app.app_context():
        upgrade()
        slug = demo.load_demo().article.slug
    client = app.test_client()
    assert "Outside edit" not in client.get(f"/articles/{slug}").get_data(as_text=True)
    database = instance / "relative.sqlite3"
    assert app.extensions["article_rows"].counter.path == str(database)
    with closing(sqlite3.connect(database)) as outside:
        outside.execute("UPDATE articles SET title = 'Outside edit' WHERE slug = ?", (slug,))
        outside.commit()
    assert "Outside edit" in client.get(f"/articles/{slug}").get_data(as_text=True)
    release_database(app)
