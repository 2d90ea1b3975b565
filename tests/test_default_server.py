"""The default server (gunicorn.conf.py as shipped, four workers): limits that hold across the
workers, slow clients that cannot take it down, and an access log without client addresses."""

from __future__ import annotations

import shutil
import socket
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from moderation.models import Role
from moderation.services import comments as service
from moderation.services import demo
from tests.conftest import PASSWORD, empty_postgres, make_app, postgres_url, release_database
from tests.helpers import count_comments
from tests.livesite import DEMO_SLUG, Reader, attempt_login, gunicorn

pytestmark = pytest.mark.server
SLOW_CLIENTS, READERS = 100, 10
ATTEMPTS, LIMIT = 16, 5
HALF_A_HEADER = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Still-Typing: "


@pytest.fixture(scope="module")
def default_server(migrated_database, model_dir, tmp_path_factory):
    """gunicorn with the shipped settings (workers, worker class, access log) on a demo database."""
    folder = tmp_path_factory.mktemp("default-server")
    url = migrated_database
    if postgres_url():
        empty_postgres(url)
    else:
        shutil.copy(migrated_database.removeprefix("sqlite:///"), folder / "db.sqlite3")
        url = f"sqlite:///{folder / 'db.sqlite3'}"
    app = make_app(url, model_dir, folder)
    with app.app_context():
        demo.load_demo()
        service.create_user("mod", PASSWORD, Role.MODERATOR)
    release_database(app)
    limits = {"RATELIMIT_ENABLED": "true", "LOGIN_RATE_LIMIT": f"{LIMIT} per minute",
              "COMMENT_RATE_LIMIT": f"{LIMIT} per minute"}
    with gunicorn(url, model_dir, folder, workers=4, access_log=None, **limits) as (base, _):
        yield base, folder, app
    release_database(app)


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


@pytest.mark.engine_agnostic
def test_the_default_server_stays_reachable_with_100_clients_sending_half_a_header(default_server):
    base, _, _ = default_server
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


@pytest.mark.engine_agnostic
def test_the_default_access_log_records_requests_but_no_client_address(default_server):
    base, folder, _ = default_server
    for path in ("/", f"/articles/{DEMO_SLUG}?page=1"):
        urllib.request.urlopen(base + path, timeout=15).read()
    line = f'"GET /articles/{DEMO_SLUG}?page=1 HTTP/1.1" 200'
    assert wait_for(lambda: line in (folder / "gunicorn.out").read_text())  # written after the answer
    assert "127.0.0.1" not in (folder / "gunicorn.out").read_text()


def test_default_limits_hold_across_four_workers_on_fresh_connections(default_server):
    """The out-of-the-box storage (database://): 16 concurrent visitors, each on new connections."""
    base, _, app = default_server
    with ThreadPoolExecutor(ATTEMPTS) as pool:
        logins = Counter(pool.map(lambda n: attempt_login(base, "mod", f"wrong {n}"), range(ATTEMPTS)))
        posts = Counter(pool.map(lambda n: Reader(base, f"r{n}").post_one(n)[1], range(ATTEMPTS)))
    assert logins == {200: LIMIT, 429: ATTEMPTS - LIMIT}
    assert posts == {303: LIMIT, 429: ATTEMPTS - LIMIT}
    assert count_comments(app) == 6 + LIMIT
    release_database(app)


@pytest.mark.engine_agnostic
def test_the_default_server_opens_no_control_socket(default_server):
    # gunicorn's control socket is one path per user: a server started after another took it over,
    # and the first server's SQLite database was corrupted.
    _, folder, _ = default_server
    log = (folder / "gunicorn.log").read_text()
    assert "Booting worker" in log and "Control socket" not in log
