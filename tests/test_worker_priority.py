"""The background worker yields the CPU to readers: a lower priority (WORKER_NICE, default 10) and, on
Linux, the SCHED_IDLE policy (WORKER_SCHED_IDLE, default on)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moderation import config

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads thread priorities from /proc"),
              pytest.mark.engine_agnostic]


def thread_niceness(pid: int) -> set[int]:
    """The nice value of every thread of a process (field 19 of /proc/PID/task/TID/stat)."""
    values = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        values.add(int(fields[16]))
    return values


def autogroup_niceness(pid: int) -> int:
    """The nice value of the process's scheduling group ("/autogroup-N nice V")."""
    return int(Path(f"/proc/{pid}/autogroup").read_text().split()[-1])


def start_worker(database_url: str, model_dir: Path, new_session: bool = False,
                 **env: str) -> subprocess.Popen[str]:
    inherited = {name: value for name, value in os.environ.items()
                 if name not in ("WORKER_NICE", "WORKER_SCHED_IDLE")}
    settings = {**inherited, "DATABASE_URL": database_url, "COMMENT_MODEL_DIR": str(model_dir),
                "SECRET_KEY": "test-secret", "MODEL_AUTO_TRAIN": "false", **env}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--poll", "0.1"],
                            cwd=ROOT, env=settings, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            start_new_session=new_session)


def wait_for_start(process: subprocess.Popen[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if "waiting for jobs" in line:
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError("the worker did not start")


@pytest.fixture
def worker_process(database_url, model_dir, request):
    process = start_worker(database_url, model_dir, **getattr(request, "param", {}))
    yield process
    process.terminate()
    process.wait(timeout=30)
    process.stderr.close()


@pytest.mark.parametrize("worker_process", [{}], indirect=True)
def test_the_worker_runs_at_nice_10_by_default(worker_process):
    assert "at CPU priority nice 10" in wait_for_start(worker_process)
    time.sleep(1.0)  # the model is loaded by now, with whatever threads its libraries start
    assert thread_niceness(worker_process.pid) == {10}


@pytest.mark.parametrize("worker_process", [{"WORKER_NICE": "15"}], indirect=True)
def test_every_thread_of_the_worker_takes_the_configured_priority(worker_process):
    assert "at CPU priority nice 15" in wait_for_start(worker_process)
    time.sleep(1.0)
    assert thread_niceness(worker_process.pid) == {15}


def thread_policies(pid: int) -> set[int]:
    return {os.sched_getscheduler(int(task.name)) for task in Path(f"/proc/{pid}/task").iterdir()}


needs_sched_idle = pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="no SCHED_IDLE on this system")


@needs_sched_idle
@pytest.mark.parametrize("worker_process", [{}], indirect=True)
def test_every_thread_of_the_worker_runs_under_the_idle_policy_by_default(worker_process):
    assert "nice 10, idle scheduling" in wait_for_start(worker_process)
    time.sleep(1.0)  # the model is loaded by now, with whatever threads its libraries start
    assert thread_policies(worker_process.pid) == {os.SCHED_IDLE}


@needs_sched_idle
@pytest.mark.parametrize("worker_process", [{"WORKER_SCHED_IDLE": "false"}], indirect=True)
def test_the_idle_policy_can_be_switched_off(worker_process):
    line = wait_for_start(worker_process)
    assert "idle scheduling" not in line
    assert thread_policies(worker_process.pid) == {os.SCHED_OTHER}
    assert thread_niceness(worker_process.pid) == {10}


@pytest.mark.parametrize("name", ["WORKER_SCHED_IDLE", "MODEL_AUTO_TRAIN"])
def test_a_switch_that_is_neither_on_nor_off_fails_fast_with_its_name(name):
    with pytest.raises(ValueError, match=name):
        config.from_environment({name: "sometimes"})
    assert config.from_environment({name: "off"})[name] is False


def test_a_worker_priority_of_0_leaves_it_as_started():
    assert config.from_environment({"WORKER_NICE": "0"})["WORKER_NICE"] == 0


@pytest.mark.parametrize("raw", ["20", "-1", "ten", "1.5"])
def test_a_worker_priority_outside_0_to_19_fails_fast_with_its_name(raw):
    with pytest.raises(ValueError, match="WORKER_NICE"):
        config.from_environment({"WORKER_NICE": raw})


def in_an_autogroup(pid: int) -> bool:
    """Whether the process is in an autogroup.

    The kernel leaves the file empty for a process in the root group, as in some CI containers.
    """
    try:
        text = Path(f"/proc/{pid}/autogroup").read_text()
    except OSError:
        return False
    return re.fullmatch(r"/autogroup-\d+ nice -?\d+\s*", text) is not None


needs_autogroups = pytest.mark.skipif(not Path("/proc/self/autogroup").is_file(),
                                      reason="the kernel has no scheduler autogroups")
needs_own_autogroup = pytest.mark.skipif(not in_an_autogroup(os.getpid()),
                                         reason="this test process is in the root scheduling group")


@needs_autogroups
@pytest.mark.parametrize("worker_process", [{"new_session": True}], indirect=True)
def test_a_worker_in_a_session_of_its_own_lowers_its_scheduling_group_too(worker_process):
    wait_for_start(worker_process)
    assert autogroup_niceness(worker_process.pid) == 10


@needs_own_autogroup
def test_a_worker_sharing_its_session_leaves_the_group_alone(database_url, model_dir):
    before = autogroup_niceness(os.getpid())  # this test's group: the worker below joins it
    process = start_worker(database_url, model_dir)
    try:
        wait_for_start(process)
        assert autogroup_niceness(os.getpid()) == before < 10
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()
