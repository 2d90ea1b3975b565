"""The worker steps aside while readers keep every core busy: it waits between two model batches.

`SCHED_IDLE` (worker.lower_priority) gives the worker only CPU time nothing else wants. Under a
burst of posts that is not enough: the web workers block for a moment many times a second
(SQLite's write lock, the socket), the worker runs in each gap, and on the 2-core benchmark machine
it still took a third of a core; readers' posts ran 16% slower than with the worker stopped, the
article page 11% slower. So a batch that got less than half of a core tells the worker that the
machine is busy. Before the next one it then measures, while it sleeps, how much of the machine
the other processes use, and waits while they use nearly all of it.

A wait lasts at most `max_pause` seconds (WORKER_YIELD_SECONDS, 60 by default); then one batch
runs, and the worker looks again. A backlog that builds during a burst is classified right after
it, a long burst slows classification without stopping it, and at a steady rate (20 comments a
second) the worker never waits. Each look lasts a second, so a lull of a few tenths between two
waves of requests does not end the wait: with 0.2 s looks, a batch started in such a lull and
then crept along in the web workers' gaps for 12 s. Only model batches wait: webhook deliveries,
which cost little CPU, go on.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROC_STAT = Path("/proc/stat")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
BUSY_SHARE = 0.75  # the others use at least this share of all cores: readers need them
STARVED_SHARE = 0.5  # a batch that got less than this share of one core was crowded out
SHORTEST_BATCH = 0.05  # seconds: a shorter batch says too little about the CPU it got
PROBE = 1.0  # seconds the worker sleeps to measure the others: long enough to step over a short lull


def process_cpu() -> float:
    """Seconds of CPU this process (all its threads) has used."""
    times = os.times()
    return times.user + times.system


@dataclass(frozen=True)
class CpuTimes:
    """Seconds of CPU every process and this one had used at a moment, and the moment."""

    everyone: float
    own: float
    at: float


def cpu_times() -> CpuTimes | None:
    """Read the machine's busy time (/proc/stat, less idle, I/O wait and steal); None off Linux."""
    try:
        first_line = PROC_STAT.read_text().split("\n", 1)[0].split()
        user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in first_line[1:9])
    except (OSError, ValueError):
        return None
    busy_ticks = user + nice + system + irq + softirq
    return CpuTimes(busy_ticks / CLOCK_TICKS, process_cpu(), time.monotonic())


def others_share(before: CpuTimes, after: CpuTimes, cores: int) -> float:
    """The share of all cores that processes other than this one used between two readings."""
    elapsed = after.at - before.at
    if elapsed <= 0:
        return 0.0
    others = (after.everyone - before.everyone) - (after.own - before.own)
    return max(0.0, others) / (elapsed * cores)


class ReadersFirst:
    """Decides when the worker's next model batch waits for readers; `max_pause` 0 never waits."""

    def __init__(self, max_pause: float, cores: int | None = None) -> None:
        self.max_pause = max_pause
        self.cores = cores or os.cpu_count() or 1
        self.crowded = False  # the last batch got less CPU than it asked for
        self.paused = 0.0  # seconds waited in all, for the logs

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run a model batch and note whether it got the CPU it wanted."""
        started_at, cpu_before = time.monotonic(), process_cpu()
        yield
        elapsed = time.monotonic() - started_at
        if elapsed >= SHORTEST_BATCH:
            self.crowded = (process_cpu() - cpu_before) / elapsed < STARVED_SHARE

    def wait_for_readers(self, stop: threading.Event) -> float:
        """After a crowded batch, sleep while the others use nearly every core; how long it slept."""
        if self.max_pause <= 0 or not self.crowded:
            return 0.0
        started_at = time.monotonic()
        while not stop.is_set() and time.monotonic() - started_at < self.max_pause:
            if not self.machine_busy(stop):
                break
        waited = time.monotonic() - started_at
        self.paused += waited
        return waited

    def machine_busy(self, stop: threading.Event) -> bool:
        """Sleep PROBE seconds and say whether the other processes used BUSY_SHARE of the cores."""
        before = cpu_times()
        stop.wait(PROBE)
        after = cpu_times()
        if before is None or after is None:
            return False
        return others_share(before, after, self.cores) >= BUSY_SHARE
