"""Under gunicorn with several workers: concurrent readers, a killed worker, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

import pytest
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import Comment
from moderation.services import demo
from tests.conftest import release_database
from tests.livesite import DEMO_SLUG, ROOT, Reader, free_port, gunicorn

pytestmark = pytest.mark.server
CLIENTS, SECONDS = 16, 6.0



def load(base: str, results: list[tuple[str, int | str]], stop: float, name: str) -> None:
    reader, n = Reader(base, name), 0
    while time.monotonic() < stop:
        try:
            results.append(reader.post_one(n))
        except Exception as error:  # noqa: BLE001 (a killed worker cuts connections in many ways)
            results.append((f"{name} comment {n}", type(error).__name__))
        n += 1


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def test_concurrent_posts_are_stored_exactly_once_even_when_a_worker_dies(app, database_url, model_dir, tmp_path):
    with app.app_context():
        demo.load_demo()
    release_database(app)
    with gunicorn(database_url, model_dir, tmp_path) as (base, master):
        results: list[tuple[str, int | str]] = []
        stop = time.monotonic() + SECONDS
        threads = [threading.Thread(target=load, args=(base, results, stop, f"reader{i}")) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(SECONDS / 3)
        victims = worker_pids(master.pid)
        assert victims, "no gunicorn workers found"
        os.kill(victims[0], signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=60)
        after = urllib.request.urlopen(f"{base}/articles/{DEMO_SLUG}", timeout=10).status
    codes = Counter(status for _, status in results)
    assert codes[500] == 0, codes
    accepted = [body for body, status in results if status == 303]
    assert len(accepted) >= CLIENTS, codes
    with app.app_context():
        stored = Counter(db.session.scalars(select(Comment.body).where(Comment.author.like("reader%"))))
    release_database(app)
    assert all(stored[body] == 1 for body in accepted)
    assert max(stored.values()) == 1
    assert after == 200


def serve(database_url: str, model_dir, log, port: int) -> subprocess.Popen:
    """Start ./bin/serve itself, as an operator would, in its own process group."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "serve-test-secret",
           "COMMENT_MODEL_DIR": str(model_dir), "MODEL_AUTO_TRAIN": "false",
           "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
    return subprocess.Popen([str(ROOT / "bin" / "serve")], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def children(pid: int, pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid), "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def unclassified(app) -> int:
    with app.app_context():
        count = len(db.session.scalars(select(Comment.id).where(Comment.topic.is_(None))).all())
        db.session.remove()
        return count


@pytest.mark.engine_agnostic
@pytest.mark.parametrize("victim", ["worker", "gunicorn"])
def test_serve_runs_the_worker_beside_gunicorn_and_stopping_one_stops_both(app, database_url, model_dir,
                                                                            tmp_path, victim):
    port = free_port()
    with open(tmp_path / "serve.log", "w") as log:
        _serve_and_kill(app, database_url, model_dir, tmp_path, log, port, victim)
    release_database(app)


def _serve_and_kill(app, database_url, model_dir, tmp_path, log, port, victim) -> None:
    process = serve(database_url, model_dir, log, port)
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for(lambda: _answers(base), timeout=120), (tmp_path / "serve.log").read_text()
        body, status = Reader(base, "served").post_one(1)
        assert status == 303
        assert wait_for(lambda: unclassified(app) == 0, timeout=30), "the worker did not classify"
        pattern = "flask --app wsgi worker" if victim == "worker" else "gunicorn"
        pids = children(process.pid, pattern)
        assert pids, f"no {victim} process under bin/serve"
        os.kill(pids[0], signal.SIGKILL if victim == "worker" else signal.SIGTERM)
        process.wait(timeout=30)
        assert not children(process.pid, "flask|gunicorn")
        assert not _answers(base)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _answers(base: str) -> bool:
    try:
        return urllib.request.urlopen(base + "/", timeout=2).status == 200
    except OSError:
        return False
