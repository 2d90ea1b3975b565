"""The worker holds model batches back while other processes keep the cores busy (readers first).

The busy machine is real: one CPU-bound process per core, started by the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

from moderation import config
from moderation.jobs.readers_first import CpuTimes, ReadersFirst, cpu_times, others_share, usable_cores
from moderation.jobs.worker import Worker, alive_workers
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
    assert first.crowded


def seconds_held(first: ReadersFirst, limit: float = 10.0) -> float:
    """Ask, as the worker's loop does every 0.1 s, until the batch may run; how long that took."""
    started = time.monotonic()
    while not first.may_run():
        assert time.monotonic() - started < limit, "never let the batch run"
        time.sleep(0.1)
    return time.monotonic() - started


def test_the_share_of_the_machine_counts_only_the_other_processes():
    before, after = CpuTimes(everyone=10.0, own=4.0, at=100.0), CpuTimes(everyone=11.8, own=4.2, at=101.0)
    assert others_share(before, after, cores=2) == pytest.approx(0.8)  # 1.6 s of 2 cores' second
    assert others_share(before, before, cores=2) == 0.0


def test_the_readings_of_our_cores_grow_with_the_cpu_used():
    cores = usable_cores()
    before = cpu_times(cores)
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    after = cpu_times(cores)
    assert before is not None and after is not None
    assert after.own - before.own >= 0.2 and after.everyone - before.everyone >= 0.1  # /proc/stat: 10 ms ticks
    assert cpu_times({max(cores) + 1000}).everyone == 0.0  # a core we may not use counts nothing


def test_while_every_core_stays_busy_a_crowded_batch_holds_the_next_one_for_its_limit():
    first = ReadersFirst(max_pause=1.2)
    crowded_out(first)
    with every_core_busy():
        held = seconds_held(first)
    # Busy at the first full look (1 s) and still within the limit, so it looked a second time; a
    # quiet machine would have let the batch run after the first look.
    assert 1.9 <= held < 4.0
    assert first.may_run()  # released: the next batch runs, and decides whether to look again


def test_nothing_holds_back_a_batch_that_got_its_cpu_nor_a_worker_with_a_limit_of_zero():
    first, off = ReadersFirst(max_pause=60), ReadersFirst(max_pause=0)
    crowded_out(off)
    with every_core_busy():
        assert first.may_run()  # nothing ran yet, so nothing was crowded
        assert off.may_run()
        crowded_out(first)
        assert not first.may_run()  # a crowded batch starts a look
        first.nothing_to_do()  # no model job was due
        assert first.may_run()


@pytest.fixture
def yielding_app(database_url, model_dir, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    application = make_app(database_url, model_dir, instance, WORKER_YIELD_SECONDS=60)
    yield application
    release_database(application)


def test_the_loop_skips_the_model_while_holding_back_and_classify_pending_never_does(yielding_app):
    from moderation.services import demo

    with yielding_app.app_context():
        demo.load_demo()
        worker = Worker(yielding_app, name="readers-first")
        crowded_out(worker.readers_first)
        with every_core_busy():
            assert worker.run_once(may_hold_back=True) == 0  # the loop's turn: the model waits
            assert count_comments(yielding_app, topic=None) == 6
            worker.heartbeat(force=True)  # the loop's heartbeat still goes out while it holds back
            assert [w.name for w in alive_workers()] == ["readers-first"]
            assert worker.drain() == 6  # `classify-pending`: never holds back
        assert count_comments(yielding_app, topic=None) == 0


def test_the_wait_is_a_setting_of_whole_seconds():
    assert config.defaults(Flask(__name__))["WORKER_YIELD_SECONDS"] == 60
    assert config.from_environment({"WORKER_YIELD_SECONDS": "0"})["WORKER_YIELD_SECONDS"] == 0
    assert config.from_environment({"WORKER_YIELD_SECONDS": "30"})["WORKER_YIELD_SECONDS"] == 30
    for raw in ("-1", "ten", "1.5"):
        with pytest.raises(ValueError, match="WORKER_YIELD_SECONDS"):
            config.from_environment({"WORKER_YIELD_SECONDS": raw})
