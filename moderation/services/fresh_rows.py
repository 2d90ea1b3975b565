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


class ChangeCounter:
    """SQLite's commit counter for one database file, read on a connection of this process's own.

    One connection per process, opened at the first read (a forked child opens its own), shared by
    its threads or greenlets under a lock: the read takes microseconds, and a gevent worker must not
    open one per greenlet. A count means something only on the connection that read it: a new
    connection starts counting afresh. So each read comes with the connection's generation, and a
    connection is opened anew, with a new generation, after an error, in a forked child, and when
    the file at the path is no longer the one it opened (a restored backup).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.connection: sqlite3.Connection | None = None
        self.opened: tuple[int, int, int] | None = None  # (pid, device, inode) it was opened for
        self.generation = 0

    def read(self) -> tuple[int, int] | None:
        """(generation, count) now; None when the file cannot be read (the caller then reads its
        row afresh, and the database's own error reaches the reader as the app shows it)."""
        with self.lock:
            try:
                file = os.stat(self.path)
                identity = (os.getpid(), file.st_dev, file.st_ino)
                if self.connection is None or self.opened != identity:
                    self.connection, self.opened = self.open(), identity
                    self.generation += 1
                return self.generation, self.connection.execute("PRAGMA data_version").fetchone()[0]
            except (OSError, sqlite3.Error):
                self.connection = None
                return None

    def open(self) -> sqlite3.Connection:
        """Open the file as it is (mode=rw never creates a missing database)."""
        return sqlite3.connect(f"file:{quote(self.path)}?mode=rw", uri=True, check_same_thread=False,
                               isolation_level=None, timeout=1.0)


class FreshRows:
    """Rows by key, each served until the database's commit count moves past the one it was read at.

    It watches the file the app's own SQLite connections opened (`watch`, called as each one
    connects), so a relative or URI-style database URL means the same file here; until then, and
    on PostgreSQL, every call reads its row.
    """

    def __init__(self, limit: int = 1024) -> None:
        self.counter: ChangeCounter | None = None
        self.limit = limit
        self.rows: dict[Hashable, tuple[tuple[int, int], Any]] = {}

    def watch(self, path: str) -> None:
        """Count commits to this file (the path SQLite reports for the app's database)."""
        if self.counter is None or self.counter.path != path:
            self.counter = ChangeCounter(path)
            self.rows.clear()

    def get(self, key: Hashable, fetch: Callable[[], Any]) -> Any:
        """The kept row while nothing was committed since it was read; otherwise `fetch()` it again.

        The count is read before fetching: a commit that lands between the two leaves the row
        newer than its count, and the next call, seeing the count move, reads it again.
        """
        counter = self.counter
        count = counter.read() if counter is not None else None
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
