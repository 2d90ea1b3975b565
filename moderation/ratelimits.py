"""Rate limits kept in the app's own database, so every worker and every app server counts together.

`RATELIMIT_STORAGE_URI=database://` (the default) selects this storage: each counted request is a
row in `rate_limit_hits`, written under a per-key lock (PostgreSQL: an advisory lock; SQLite: the
database's single write lock), so limits hold exactly however many processes serve the site.
Redis (`redis://...`) stays the choice for sites whose log-in and comment traffic outgrows this.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import Connection, delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from moderation.extensions import db
from moderation.models import RateLimitHit

hits = RateLimitHit.__table__
MAX_KEY_CHARS = 255
PURGE_BATCH = 500


def stored_key(key: str) -> str:
    """Keys longer than the column are stored as their hash."""
    if len(key) <= MAX_KEY_CHARS:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def lock_number(key: str) -> int:
    """A signed 64-bit number for PostgreSQL's advisory lock on this key."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


@contextmanager
def locked(key: str, now: float) -> Iterator[Connection]:
    """A transaction that no other process can enter for the same key until it commits."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": lock_number(key)})
        # On SQLite this first statement writes, so the transaction holds the write lock from here.
        expired = (select(hits.c.id).where(hits.c.expires_at <= now).limit(PURGE_BATCH)
                   .with_for_update(skip_locked=True))
        connection.execute(delete(hits).where(hits.c.id.in_(expired.scalar_subquery())))
        yield connection


def _count(connection: Connection, key: str, since: float) -> tuple[float | None, int]:
    oldest, count = connection.execute(
        select(func.min(hits.c.hit_at), func.count()).where(hits.c.key == key, hits.c.hit_at > since)
    ).one()
    return oldest, count


def _add(connection: Connection, key: str, now: float, expires_at: float, amount: int) -> None:
    connection.execute(insert(hits), [{"key": key, "hit_at": now, "expires_at": expires_at}] * amount)


class DatabaseStorage(Storage, MovingWindowSupport):
    """The `limits` storage for `database://`: moving and fixed windows on the app's database."""

    STORAGE_SCHEME = ["database"]

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Count `amount` more requests unless that would pass `limit` within the last `expiry` s."""
        if amount > limit:
            return False
        key, now = stored_key(key), time.time()
        with locked(key, now) as connection:
            _, count = _count(connection, key, now - expiry)
            if count + amount > limit:
                return False
            _add(connection, key, now, now + expiry, amount)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """The oldest counted request in the window and how many there are."""
        now = time.time()
        with db.engine.connect() as connection:
            oldest, count = _count(connection, stored_key(key), now - expiry)
        return (oldest if count else now), count

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Fixed window: count `amount` more requests in the key's current window."""
        key, now = stored_key(key), time.time()
        with locked(key, now) as connection:
            window_end = connection.scalar(select(func.max(hits.c.expires_at))
                                           .where(hits.c.key == key, hits.c.expires_at > now))
            _add(connection, key, now, window_end or now + expiry, amount)
            return self._live(connection, key, now)

    def get(self, key: str) -> int:
        with db.engine.connect() as connection:
            return self._live(connection, stored_key(key), time.time())

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with db.engine.connect() as connection:
            end = connection.scalar(select(func.max(hits.c.expires_at))
                                    .where(hits.c.key == stored_key(key), hits.c.expires_at > now))
        return end or now

    @staticmethod
    def _live(connection: Connection, key: str, now: float) -> int:
        return connection.scalar(select(func.count()).where(hits.c.key == key, hits.c.expires_at > now)) or 0

    def check(self) -> bool:
        try:
            with db.engine.connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with db.engine.begin() as connection:
            return connection.execute(delete(hits)).rowcount

    def clear(self, key: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(hits).where(hits.c.key == stored_key(key)))


def comment_limit() -> str:
    """The limit on posting comments (form and API alike), read per request from the configuration."""
    return current_app.config["COMMENT_RATE_LIMIT"]
