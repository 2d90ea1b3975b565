"""Indexes that only hold rows with a value (migration 0010): rows without one cost a post nothing,
and lookups by value still use them."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from moderation.extensions import db

PARTIAL = {"ix_comments_email": "email", "ix_comments_email_hash": "email_hash",
           "ix_comments_external_id": "external_id", "ix_jobs_sequence_key": "sequence_key"}

# The lookups the services make: erasure by address, a commenter's history, an import's
# already-imported check, and the webhook queue's "an earlier job of the same sequence" test.
LOOKUPS = {
    "ix_comments_email": "SELECT id FROM comments WHERE email = 'reader@example.com'",
    "ix_comments_email_hash": "SELECT status, count(*) FROM comments WHERE email_hash = 'abc' GROUP BY status",
    "ix_comments_external_id": "SELECT external_id FROM comments WHERE external_id IN ('disqus:1', 'isso:2')",
    "ix_jobs_sequence_key": "SELECT 1 FROM jobs WHERE sequence_key = '3:7' AND id < 100",
}


def index_definitions() -> dict[str, str]:
    if db.engine.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    else:
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    return dict(db.session.execute(text(query)).all())


def test_indexes_on_optional_columns_leave_out_rows_without_a_value(app):
    with app.app_context():
        definitions = index_definitions()
    for name, column in PARTIAL.items():  # PostgreSQL writes the condition in parentheses, SQLite not
        assert f"where {column} is not null" in definitions[name].lower().replace("(", "").replace(")", "")


@pytest.mark.parametrize("index", sorted(LOOKUPS))
def test_lookups_by_value_still_use_the_partial_index(app, index):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL plans tiny tables as sequential scans; its definitions are checked above")
        plan = " ".join(str(row[-1]) for row in db.session.execute(text("EXPLAIN QUERY PLAN " + LOOKUPS[index])))
    assert index in plan
