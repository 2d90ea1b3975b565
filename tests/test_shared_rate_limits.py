"""Several app servers share rate limits through Redis (RATELIMIT_STORAGE_URI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from moderation import demo
from tests.conftest import release_database
from tests.livesite import Reader, free_port, gunicorn

pytestmark = pytest.mark.server


@pytest.fixture
def redis_url(tmp_path):
    """A private redis-server on 127.0.0.1, stopped after the test."""
    executable = shutil.which("redis-server")
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing in CI: bin/test should have installed it")
        pytest.skip("redis-server not installed (bin/test installs it as root)")
    port = free_port()
    server = subprocess.Popen([executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_redis(port)
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_for_redis(port: int, timeout: float = 20) -> None:
    import redis

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with redis.Redis(port=port) as client:
                client.ping()
                return
        except redis.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


def test_two_app_servers_share_one_comment_limit(app, database_url, model_dir, tmp_path, redis_url):
    with app.app_context():
        demo.load_demo()
    release_database(app)
    limits = {"RATELIMIT_ENABLED": "true", "RATELIMIT_STORAGE_URI": redis_url,
              "COMMENT_RATE_LIMIT": "2 per minute"}
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    with gunicorn(database_url, model_dir, first_dir, workers=1, **limits) as (first, _), \
            gunicorn(database_url, model_dir, second_dir, workers=1, **limits) as (second, _):
        codes = [Reader(first, "a").post_one(0)[1], Reader(second, "b").post_one(0)[1],
                 Reader(first, "c").post_one(1)[1], Reader(second, "d").post_one(1)[1]]
    # Same client address (127.0.0.1) on two separate processes: only a shared store sees 3 and 4.
    assert codes == [303, 303, 429, 429]
