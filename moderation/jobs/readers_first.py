"""The worker steps aside while readers keep every core busy: model batches wait, nothing else does.

`SCHED_IDLE` (worker.lower_priority) gives the worker only CPU time nothing else wants. Under a
burst of posts that is not enough: the web workers block for a moment many times a second
(SQLite's write lock, the socket), the worker runs in each gap, and on the 2-core benchmark machine
it still took a third of a core; readers' posts ran 16% slower than with the worker stopped, the
article page 11% slower. So a model batch that got less than half a core tells the worker that the
machine is busy. It then looks, for a second at a time, at how much of its cores the other
processes use, and holds the next model batch back while they use three quarters or more.

Holding back never blocks the worker's loop: it goes on sending its heartbeat and delivering
webhooks, and only the model handler is skipped. A hold lasts at most `max_pause` seconds
(WORKER_YIELD_SECONDS, 60 by default); then one batch runs, and the worker looks again. A backlog
that builds during a burst is classified right after it; a burst that never ends slows
classification to about a batch a minute without stopping it; a steady 20 comments a second never
starves a batch, so the worker never holds back. A look lasts a second so that a lull of a few
tenths between two waves of requests does not end the hold: with 0.2 s looks, a batch started in
such a lull, then crept along in the web workers' gaps for 12 s.

The cores looked at are the ones this process may run on (its CPU affinity), read per core from
/proc/stat. In a container limited by a CPU quota rather than by a cpuset, /proc/stat shows the
whole host, so other tenants' load counts too; WORKER_YIELD_SECONDS=0 turns holding back off.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROC_STAT = Path("/proc/stat")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
BUSY_SHARE = 0.75  # the others use at least this share of our cores: readers need them
STARVED_SHARE = 0.5  # a batch that got less than this share of one core was crowded out
SHORTEST_BATCH = 0.05  # seconds: a shorter batch says too little about the CPU it got
LOOK = 1.0  # seconds one look at the others lasts: long enough to step over a short lull


@dataclass(frozen=True)
class CpuTimes:
    """Seconds of CPU our cores had run anything, and this process, at a moment; and the moment."""

    everyone: float
    own: float
    at: float


def process_cpu() -> float:
    """Seconds of CPU this process (all its threads) has used, to the nanosecond."""
    return time.process_time()


def usable_cores() -> set[int]:
    """The cores this process may run on (all of them where affinity is unknown)."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def cpu_times(cores: set[int]) -> CpuTimes | None:
    """Busy time of these cores from /proc/stat (less idle, I/O wait and steal); None off Linux."""
    try:
        lines = PROC_STAT.read_text().splitlines()
    except OSError:
        return None
    busy_ticks = 0
    for line in lines:
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cores:
            user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
            busy_ticks += user + nice + system + irq + softirq
    return CpuTimes(busy_ticks / CLOCK_TICKS, process_cpu(), time.monotonic())


def others_share(before: CpuTimes, after: CpuTimes, cores: int) -> float:
    """The share of `cores` that processes other than this one used between two readings."""
    elapsed = after.at - before.at
    if elapsed <= 0:
        return 0.0
    others = (after.everyone - before.everyone) - (after.own - before.own)
    return max(0.0, others) / (elapsed * cores)


class ReadersFirst:
    """Decides, without ever sleeping, whether the worker's next model batch may run now."""

    def __init__(self, max_pause: float, cores: set[int] | None = None) -> None:
        self.max_pause = max_pause
        self.cores = cores or usable_cores()
        self.crowded = False  # the last batch got less CPU than it asked for
        self.holding_since: float | None = None
        self.look: CpuTimes | None = None  # the reading the current look started from

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run a model batch and note whether it got the CPU it wanted."""
        started_at, cpu_before = time.monotonic(), process_cpu()
        yield
        elapsed = time.monotonic() - started_at
        if elapsed >= SHORTEST_BATCH:
            self.crowded = (process_cpu() - cpu_before) / elapsed < STARVED_SHARE

    def nothing_to_do(self) -> None:
        """No model job was due: no reason to look at the machine until a batch is crowded again."""
        self.crowded = False

    def may_run(self) -> bool:
        """True unless the last batch was crowded and, at the last full look, the others kept
        BUSY_SHARE of the cores busy, for at most `max_pause` seconds in a row."""
        if self.max_pause <= 0 or not self.crowded:
            return True
        now = time.monotonic()
        if self.holding_since is None:
            self.holding_since, self.look = now, cpu_times(self.cores)
        if self.look is None:  # nothing to read (not Linux): never hold back
            return self.release()
        if now - self.look.at < LOOK:
            return False
        latest = cpu_times(self.cores)
        busy = latest is not None and others_share(self.look, latest, len(self.cores)) >= BUSY_SHARE
        if busy and now - self.holding_since < self.max_pause:
            self.look = latest
            return False
        return self.release()

    def release(self) -> bool:
        """End a hold: the next batch runs, and tells whether to look again."""
        self.holding_since = self.look = None
        self.crowded = False
        return True

    def held_for(self) -> float:
        """How long the current hold has lasted (0 when none)."""
        return 0.0 if self.holding_since is None else time.monotonic() - self.holding_since
