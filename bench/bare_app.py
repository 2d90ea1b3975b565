"""The baseline: the least a Flask comment server can do under the same gunicorn settings.

One sqlite3 INSERT per POST, one SELECT of the latest 20 comments per GET (rendered by one Jinja
template, autoescaped), WAL with synchronous=NORMAL, one connection per worker process. Served by
`bench/run.py` as `gunicorn bench.bare_app:app` with BARE_DB naming the database file.
"""

from __future__ import annotations

import os
import sqlite3
import threading

from flask import Flask, request

SCHEMA = """
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY,
    thread TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX IF NOT EXISTS ix_comments_thread_id ON comments (thread, id);
"""
PAGE = """<!doctype html><title>{{ thread }}</title><h2>Comments ({{ comments|length }})</h2>
{% for author, body, created_at in comments %}<div class="comment"><p><strong>{{ author }}</strong>
<time>{{ created_at }}</time></p><div>{{ body }}</div></div>{% endfor %}"""


def connect(path: str) -> sqlite3.Connection:
    """Open the database the way the other two servers do: WAL, synchronous=NORMAL."""
    connection = sqlite3.connect(path, timeout=15, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def create_schema(path: str) -> None:
    with connect(path) as connection:
        connection.executescript(SCHEMA)


def create_app(path: str) -> Flask:
    """The two routes: POST a comment to a thread, GET the thread's latest 20 comments."""
    app = Flask(__name__)
    create_schema(path)
    page = app.jinja_env.from_string(PAGE)
    local = threading.local()  # opened lazily, so each forked worker opens its own

    def database() -> sqlite3.Connection:
        if getattr(local, "connection", None) is None:
            local.connection = connect(path)
        return local.connection

    def close() -> None:
        connection = getattr(local, "connection", None)
        if connection is not None:
            connection.close()
            local.connection = None

    app.extensions["bare_close"] = close  # for tests; gunicorn workers keep theirs until they exit

    @app.post("/threads/<thread>/comments")
    def post(thread: str):
        author, body = request.form.get("author", "").strip(), request.form.get("body", "").strip()
        if not author or not body:
            return "author and body are required\n", 422
        database().execute("INSERT INTO comments (thread, author, body) VALUES (?, ?, ?)",
                           (thread, author[:80], body[:5000]))
        return "stored\n", 201

    @app.get("/threads/<thread>")
    def get(thread: str):
        rows = database().execute("SELECT author, body, created_at FROM comments WHERE thread = ? "
                                  "ORDER BY id DESC LIMIT 20", (thread,)).fetchall()
        return page.render(thread=thread, comments=rows)

    return app


app = create_app(os.environ["BARE_DB"]) if os.environ.get("BARE_DB") else None
