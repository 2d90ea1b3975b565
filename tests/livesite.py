"""Run the real app under gunicorn on 127.0.0.1 for tests that need a real server."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_SLUG = "ai-multi-cloud-strategy"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, model_dir: Path, instance: Path, workers: int = 3,
             access_log: str = "/dev/null", **extra_env: str):
    """Start gunicorn, wait until it answers, and always stop it (bounded in time).

    `access_log=None` keeps gunicorn.conf.py's own access-log setting (standard output, kept in
    `instance/gunicorn.out`).
    """
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "live-test-secret",
           "COMMENT_MODEL_DIR": str(model_dir), "MODEL_AUTO_TRAIN": "false",
           "RATELIMIT_ENABLED": "false", "WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": "4",
           **extra_env}
    log = open(instance / "gunicorn.log", "w")  # noqa: SIM115 (closed in finally)
    out = open(instance / "gunicorn.out", "w")  # noqa: SIM115 (closed in finally)
    access = ["--access-logfile", access_log] if access_log else []
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         *access, "wsgi:app"],
        cwd=ROOT, env=env, stdout=out, stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        out.close()


class Reader:
    """One browser-like client: GET the article for fresh tokens, then POST a comment."""

    def __init__(self, base: str, name: str) -> None:
        self.base, self.name = base, name
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())

    def post_one(self, n: int) -> tuple[str, int]:
        page = self.opener.open(f"{self.base}/articles/{DEMO_SLUG}", timeout=20).read().decode()
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        token = re.search(r'name="submission_token" type="hidden" value="([^"]+)"', page).group(1)
        body = f"{self.name} comment {n}"
        data = urllib.parse.urlencode({"csrf_token": csrf, "submission_token": token,
                                       "author": self.name, "body": body, "website": ""}).encode()
        try:
            status = self.opener.open(f"{self.base}/articles/{DEMO_SLUG}/comments", data, timeout=20).status
        except urllib.error.HTTPError as error:
            status = error.code
        return body, status


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wait_until_up(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        try:
            urllib.request.urlopen(base + "/", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


def attempt_login(base: str, username: str, password: str) -> int:
    """One visitor on fresh connections: GET the log-in form, POST it; return the POST's status."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                         NoRedirect())
    page = opener.open(f"{base}/login", timeout=20).read().decode()
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": csrf, "username": username, "password": password}).encode()
    try:
        return opener.open(f"{base}/login", data, timeout=20).status
    except urllib.error.HTTPError as error:
        return error.code
