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

from moderation import demo
from moderation.extensions import db
from moderation.models import Comment
from tests.conftest import release_database
from tests.livesite import DEMO_SLUG, Reader, gunicorn

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
