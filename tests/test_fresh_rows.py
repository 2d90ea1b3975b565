"""Rows kept until the database changes (moderation/services/fresh_rows.py), against real SQLite files."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from moderation.services.fresh_rows import ChangeCounter, FreshRows, counter_for

pytestmark = pytest.mark.engine_agnostic


def test_only_sqlite_files_have_a_counter(tmp_path):
    assert counter_for(f"sqlite:///{tmp_path / 'a.sqlite3'}") is not None
    for uri in ("sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true",
                "postgresql+psycopg://u:p@localhost/db"):
        assert counter_for(uri) is None, uri


def test_a_row_is_read_again_after_any_commit_and_only_then(tmp_path):
    path = tmp_path / "rows.sqlite3"
    with closing(sqlite3.connect(path)) as writer:
        writer.execute("CREATE TABLE t (v TEXT)")
        writer.execute("INSERT INTO t VALUES ('first')")
        writer.commit()
        rows, reads = FreshRows(ChangeCounter(str(path))), []

        def read() -> str:
            reads.append(1)
            return writer.execute("SELECT v FROM t").fetchone()[0]

        assert rows.get("k", read) == "first" and rows.get("k", read) == "first"
        assert len(reads) == 1
        writer.execute("UPDATE t SET v = 'second'")
        writer.commit()
        assert rows.get("k", read) == "second" and len(reads) == 2


def test_a_missing_file_is_never_created_and_every_call_reads(tmp_path):
    missing = tmp_path / "gone" / "db.sqlite3"
    rows = FreshRows(ChangeCounter(str(missing)))
    assert rows.get("k", lambda: "read") == "read"
    missing.parent.mkdir()
    assert rows.get("k", lambda: "read again") == "read again"
    assert not missing.exists()
