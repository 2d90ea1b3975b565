"""Rows read once and served again until the database changes; on SQLite, the database says when.

Every reader's page view reads its article row: the row's `comments_version` keys the cached page,
so a decision committed before the request is always seen. Through SQLAlchemy (a pooled connection
checked out, the statement run, the connection reset and returned) that read cost a fifth of a
view. SQLite counts commits for us: `PRAGMA data_version`, read on a connection of this process's
own that never writes, changes whenever any other connection commits to the file, in this
process or another. A row kept with the count read just before it was fetched is therefore still
the row in the database for as long as the count is the same.

PostgreSQL has no such counter: there every call reads the row.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Hashable
from typing import Any
from urllib.parse import quote

from sqlalchemy.engine import make_url


class ChangeCounter:
    """SQLite's commit counter for one database file, read on a connection of this process's own.

    One connection per process, opened at the first read (never in a preloading master: a forked
    child opens its own), shared by its threads or greenlets under a lock: the read takes
    microseconds, and a gevent worker must not open one per greenlet.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.connection: sqlite3.Connection | None = None
        self.owner_pid = 0

    def read(self) -> int | None:
        """The count now; None when the file cannot be read (the caller then reads its row afresh,
        and the database's own error reaches the reader as the app shows it)."""
        with self.lock:
            try:
                if self.connection is None or self.owner_pid != os.getpid():
                    self.connection, self.owner_pid = self.open(), os.getpid()
                return self.connection.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error:
                self.connection = None
                return None

    def open(self) -> sqlite3.Connection:
        """Open the file as it is (mode=rw never creates a missing database)."""
        return sqlite3.connect(f"file:{quote(self.path)}?mode=rw", uri=True, check_same_thread=False,
                               isolation_level=None)


def counter_for(database_uri: str) -> ChangeCounter | None:
    """A counter for an SQLite file; None for other databases and for in-memory SQLite."""
    url = make_url(database_uri)
    in_memory = url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    if url.get_backend_name() != "sqlite" or in_memory:
        return None
    return ChangeCounter(os.path.abspath(url.database))


class FreshRows:
    """Rows by key, each served until the database's commit count moves past the one it was read at."""

    def __init__(self, counter: ChangeCounter | None, limit: int = 1024) -> None:
        self.counter = counter
        self.limit = limit
        self.rows: dict[Hashable, tuple[int, Any]] = {}

    def get(self, key: Hashable, fetch: Callable[[], Any]) -> Any:
        """The kept row while nothing was committed since it was read; otherwise `fetch()` it again.

        The count is read before fetching: a commit that lands between the two leaves the row
        newer than its count, and the next call, seeing the count move, reads it again.
        """
        count = self.counter.read() if self.counter is not None else None
        if count is None:
            return fetch()
        kept = self.rows.get(key)
        if kept is not None and kept[0] == count:
            return kept[1]
        row = fetch()
        if len(self.rows) >= self.limit:
            self.rows.clear()
        self.rows[key] = (count, row)
        return row
