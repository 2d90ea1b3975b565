"""The worker waits between model batches while other processes keep the cores busy (readers first).

The busy machine is real: one CPU-bound process per core, started by the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

from moderation import config
from moderation.jobs.readers_first import CpuTimes, ReadersFirst, cpu_times, others_share
from moderation.jobs.worker import Worker
from tests.conftest import make_app, release_database
from tests.helpers import count_comments

pytestmark = [pytest.mark.skipif(not Path("/proc/stat").is_file(), reason="reads the machine's CPU time from /proc"),
              pytest.mark.engine_agnostic]


@contextmanager
def every_core_busy() -> Iterator[None]:
    """One process spinning on each core, as a burst of readers' requests would keep them."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(0.3)  # let them start spinning
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def crowded_out(first: ReadersFirst) -> None:
    """A batch that got no CPU while it ran (it slept): what a batch starved by readers looks like."""
    with first.batch():
        time.sleep(0.1)


def test_the_share_of_the_machine_counts_only_the_other_processes():
    before, after = CpuTimes(everyone=10.0, own=4.0, at=100.0), CpuTimes(everyone=11.8, own=4.2, at=101.0)
    assert others_share(before, after, cores=2) == pytest.approx(0.8)  # 1.6 s of 2 cores' second
    assert others_share(before, before, cores=2) == 0.0


def test_the_machine_readings_grow_with_the_cpu_used():
    before = cpu_times()
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    after = cpu_times()
    assert before is not None and after is not None
    assert after.own - before.own >= 0.15 and after.everyone - before.everyone >= 0.1  # 10 ms ticks


def test_after_a_crowded_batch_the_worker_waits_while_every_core_is_busy_up_to_its_limit():
    first = ReadersFirst(max_pause=1.0)
    crowded_out(first)
    assert first.crowded
    with every_core_busy():
        waited = first.wait_for_readers(threading.Event())
    assert waited >= 1.0  # busy at every look, so it waited its whole limit, and no longer than a look more
    assert waited < 2.5


def test_a_batch_that_got_its_cpu_never_waits_and_a_limit_of_zero_turns_waiting_off():
    first = ReadersFirst(max_pause=5.0)
    assert not first.crowded  # nothing ran yet: no reason to look
    off = ReadersFirst(max_pause=0)
    crowded_out(off)
    with every_core_busy():
        assert first.wait_for_readers(threading.Event()) == 0.0
        assert off.wait_for_readers(threading.Event()) == 0.0


def test_stopping_the_worker_ends_a_wait_at_once():
    first = ReadersFirst(max_pause=30.0)
    crowded_out(first)
    stop = threading.Event()
    stop.set()
    with every_core_busy():
        assert first.wait_for_readers(stop) < 1.0


@pytest.fixture
def yielding_app(database_url, model_dir, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    application = make_app(database_url, model_dir, instance, WORKER_YIELD_SECONDS=1)
    yield application
    release_database(application)


def test_the_running_worker_waits_before_a_model_batch_but_classify_pending_does_not(yielding_app):
    from moderation.services import demo

    with yielding_app.app_context():
        demo.load_demo()
        worker = Worker(yielding_app, name="readers-first")
        crowded_out(worker.readers_first)
        with every_core_busy():
            started = time.monotonic()
            assert worker.run_once(threading.Event()) == 6  # the demo's six comments, after the wait
            assert time.monotonic() - started >= 1.0
        assert count_comments(yielding_app, topic=None) == 0
        crowded_out(worker.readers_first)
        with every_core_busy():
            started = time.monotonic()
            assert worker.drain() == 0  # `classify-pending`'s loop: no stop event, so it never waits
            assert time.monotonic() - started < 1.0


def test_the_wait_is_a_setting_of_whole_seconds():
    assert config.defaults(Flask(__name__))["WORKER_YIELD_SECONDS"] == 60
    assert config.from_environment({"WORKER_YIELD_SECONDS": "0"})["WORKER_YIELD_SECONDS"] == 0
    assert config.from_environment({"WORKER_YIELD_SECONDS": "30"})["WORKER_YIELD_SECONDS"] == 30
    for raw in ("-1", "ten", "1.5"):
        with pytest.raises(ValueError, match="WORKER_YIELD_SECONDS"):
            config.from_environment({"WORKER_YIELD_SECONDS": raw})
