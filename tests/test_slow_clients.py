"""The default server (gunicorn.conf.py as shipped) under slow clients, and what its log keeps."""

from __future__ import annotations

import shutil
import socket
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from moderation import demo
from tests.conftest import make_app, postgres_url, release_database
from tests.livesite import DEMO_SLUG, gunicorn

pytestmark = pytest.mark.server
SLOW_CLIENTS, READERS = 100, 10
HALF_A_HEADER = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Still-Typing: "


@pytest.fixture(scope="module")
def default_server(migrated_database, model_dir, tmp_path_factory):
    """gunicorn with the shipped settings (workers, worker class, access log) on a demo database."""
    folder = tmp_path_factory.mktemp("default-server")
    url = migrated_database
    if not postgres_url():
        shutil.copy(migrated_database.removeprefix("sqlite:///"), folder / "db.sqlite3")
        url = f"sqlite:///{folder / 'db.sqlite3'}"
    app = make_app(url, model_dir, folder)
    with app.app_context():
        demo.load_demo()
    release_database(app)
    with gunicorn(url, model_dir, folder, workers=4, access_log=None) as (base, _):
        yield base, folder


def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def read_article(base: str) -> int:
    """A reader on a fresh connection; a generous timeout, so a worker still starting is no failure."""
    return urllib.request.urlopen(f"{base}/articles/{DEMO_SLUG}", timeout=15).status


def test_the_default_server_stays_reachable_with_100_clients_sending_half_a_header(default_server):
    base, _ = default_server
    port = int(base.rsplit(":", 1)[1])
    slow = []
    try:
        for _ in range(SLOW_CLIENTS):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            connection.sendall(HALF_A_HEADER)
            slow.append(connection)
        with ThreadPoolExecutor(READERS) as pool:
            statuses = list(pool.map(lambda _: read_article(base), range(READERS)))
    finally:
        for connection in slow:
            connection.close()
    assert statuses == [200] * READERS


def test_the_default_access_log_records_requests_but_no_client_address(default_server):
    base, folder = default_server
    for path in ("/", f"/articles/{DEMO_SLUG}?page=1"):
        urllib.request.urlopen(base + path, timeout=15).read()
    line = f'"GET /articles/{DEMO_SLUG}?page=1 HTTP/1.1" 200'
    assert wait_for(lambda: line in (folder / "gunicorn.out").read_text())  # written after the answer
    assert "127.0.0.1" not in (folder / "gunicorn.out").read_text()
