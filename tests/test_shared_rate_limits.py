"""Rate limits hold across workers and servers: the database by default, Redis when configured."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from moderation.services import demo
from tests.conftest import release_database
from tests.helpers import count_comments, post_comment
from tests.livesite import Reader, free_port, gunicorn


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


@pytest.mark.server
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


class TestDatabaseStorage:
    """The database storage in-process: two app instances stand for two workers or servers."""

    @pytest.fixture
    def app_settings(self):
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "database://",
                "COMMENT_RATE_LIMIT": "3 per minute", "LOGIN_RATE_LIMIT": "2 per minute"}

    def test_two_app_instances_on_one_database_share_the_comment_limit(self, app, app_settings, client,
                                                                        database_url, model_dir, tmp_path,
                                                                        article):
        from tests.conftest import make_app

        (tmp_path / "other").mkdir()
        other = make_app(database_url, model_dir, tmp_path / "other", **app_settings)
        first, second = client, other.test_client()
        codes = [post_comment(c, article.slug, body=f"shared {n}").status_code
                 for n, c in enumerate([first, second, first, second, first])]
        release_database(other)
        assert codes == [303, 303, 303, 429, 429]
        assert count_comments(app) == 9

    def test_the_refusal_says_when_to_come_back(self, client, article):
        for n in range(3):
            post_comment(client, article.slug, body=f"quick {n}")
        response = post_comment(client, article.slug, body="too soon")
        assert response.status_code == 429
        assert 0 < int(response.headers["Retry-After"]) <= 60

    def test_the_database_never_holds_a_client_address(self, app, client, article):
        from sqlalchemy import select

        from moderation.extensions import db
        from moderation.models import RateLimitHit

        post_comment(client, article.slug, body="counted", environ_base={"REMOTE_ADDR": "198.51.100.7"})
        with app.app_context():
            keys = db.session.scalars(select(RateLimitHit.key)).all()
        assert keys and not any("198.51.100.7" in key or "127.0.0.1" in key for key in keys)


class TestTrustedProxy:
    """TRUSTED_PROXY_HOPS: off by default (X-Forwarded-For ignored), on behind a reverse proxy."""

    @pytest.fixture
    def app_settings(self, request):
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "database://",
                "COMMENT_RATE_LIMIT": "2 per minute", "TRUSTED_PROXY_HOPS": request.param}

    @pytest.mark.parametrize("app_settings", [0], indirect=True)
    def test_without_it_a_forged_forwarded_for_does_not_escape_the_limit(self, client, article):
        codes = [post_comment(client, article.slug, body=f"forged {n}",
                              headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code for n in range(3)]
        assert codes == [303, 303, 429]

    @pytest.mark.parametrize("app_settings", [1], indirect=True)
    def test_with_one_hop_each_visitor_behind_the_proxy_has_its_own_limit(self, app, client, article):
        def post(visitor: str, n: int) -> int:
            return post_comment(client, article.slug, body=f"{visitor} {n}",
                                headers={"X-Forwarded-For": visitor}).status_code

        codes = [post("203.0.113.1", n) for n in range(3)] + [post("203.0.113.2", 0)]
        assert codes == [303, 303, 429, 303]
        from sqlalchemy import select

        from moderation.extensions import db
        from moderation.models import Comment

        with app.app_context():
            hashes = set(db.session.scalars(select(Comment.client_hash).where(Comment.body.like("203.%"))))
        assert len(hashes) == 2


def test_trusted_proxy_hops_must_be_a_whole_number():
    from moderation.config import from_environment

    assert from_environment({"TRUSTED_PROXY_HOPS": "2"})["TRUSTED_PROXY_HOPS"] == 2
    with pytest.raises(ValueError, match="TRUSTED_PROXY_HOPS"):
        from_environment({"TRUSTED_PROXY_HOPS": "yes"})
