"""The background worker: claims jobs from the database, runs their handler, reports a heartbeat.

Run it with `flask --app wsgi worker` beside the web servers (`./bin/serve` does), on as many
machines as needed: the job table's leases keep any two workers from doing the same job. Each job
kind has a handler that takes a batch; classifying is the first, webhooks and re-scoring come next.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, select

from moderation.extensions import db
from moderation.jobs import classification
from moderation.jobs import queue as jobs
from moderation.jobs import webhooks as delivery
from moderation.jobs.readers_first import ReadersFirst
from moderation.models import Comment, Job, WorkerHeartbeat, utcnow
from moderation.services import comments as service
from moderation.services import webhooks

log = logging.getLogger(__name__)
HEARTBEAT_EVERY = 5.0  # seconds
PURGE_EVERY = 3600.0  # seconds between deletions of old finished jobs
CHECKPOINT_EVERY = 1.0  # seconds between SQLite checkpoints (see checkpoint_until)
MODEL_RETRY_EVERY = 30.0  # seconds between attempts to load a missing model
ALIVE_WITHIN = timedelta(seconds=30)  # a heartbeat older than this counts as a dead worker
WEBHOOK_BATCH = 10  # deliveries per claim: each is one HTTP request, sent one after another


@dataclass(frozen=True)
class Handler:
    kind: str
    batch_size: int
    run: Callable[[Worker, list[Job]], None]
    needs_model: bool = False
    lease: timedelta = jobs.DEFAULT_LEASE
    in_sequence: bool = False  # jobs sharing a sequence key run one at a time, in order


class Worker:
    """One worker process's loop; `run_once` is the unit tests and `classify-pending` drive."""

    def __init__(self, app: Flask, name: str | None = None, batch_size: int = 64) -> None:
        self.app = app
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.handlers = [Handler(jobs.CLASSIFY, batch_size, classify_jobs, needs_model=True),
                         Handler(webhooks.WEBHOOK, WEBHOOK_BATCH, delivery.deliver_jobs, in_sequence=True,
                                 lease=delivery.lease_for(WEBHOOK_BATCH, app.config))]
        self.model = classification.LoadedModel(None, "not loaded yet")
        self.model_checked_at = 0.0
        self.done = self.failed = 0
        self.last_heartbeat = 0.0
        self.last_purge: float | None = None
        self.readers_first = ReadersFirst(app.config["WORKER_YIELD_SECONDS"])

    def ensure_model(self) -> None:
        """Load the model at start, and retry while it is missing (an operator may fix it)."""
        if self.model.analyzer is None and time.monotonic() - self.model_checked_at >= MODEL_RETRY_EVERY:
            self.model = classification.load(self.app)
            self.model_checked_at = time.monotonic()

    def run_once(self, may_hold_back: bool = False) -> int:
        """Claim and handle one batch of every kind of job that is due; return how many ran.

        With `may_hold_back` (the long-running loop) the model batch is skipped while readers keep
        the machine busy (readers_first); `classify-pending` and the tests never hold back.
        """
        self.ensure_model()
        handled = 0
        for handler in self.handlers:
            if handler.needs_model and (self.model.analyzer is None or (may_hold_back and self.holds_back())):
                continue
            batch = jobs.claim(handler.kind, handler.batch_size, handler.lease,
                               in_sequence=handler.in_sequence)
            if handler.needs_model and not batch:
                self.readers_first.nothing_to_do()
            if batch:
                with self.readers_first.batch() if handler.needs_model else nullcontext():
                    handler.run(self, batch)
                handled += len(batch)
        return handled

    def holds_back(self) -> bool:
        """Whether the model batch waits for readers now; a hold of a second or more is logged at its end."""
        held = self.readers_first.held_for()
        if not self.readers_first.may_run():
            return True
        if held >= 1.0:
            log.info("worker %s: held classification back %.1f s while readers kept the cores busy",
                     self.name, held)
        return False

    def drain(self, progress: Callable[[int], None] = lambda _: None) -> int:
        """Run until no job is due; return how many ran."""
        total = 0
        while ran := self.run_once():
            total += ran
            progress(ran)
        self.heartbeat(force=True)
        return total

    def run_forever(self, stop: threading.Event, poll: float = 0.2) -> None:
        """Work until `stop` is set, sleeping `poll` seconds whenever nothing is due."""
        log.info("worker %s started", self.name)
        if db.engine.dialect.name == "sqlite":
            threading.Thread(target=self.checkpoint_until, args=(stop, db.engine), daemon=True,
                             name="sqlite-checkpoints").start()
        while not stop.is_set():
            try:
                ran = self.run_once(may_hold_back=True)
            except Exception:  # a broken database must not kill the loop: log, wait, retry
                log.exception("worker %s: job loop failed; retrying", self.name)
                db.session.rollback()
                ran = 0
                stop.wait(2.0)
            self.heartbeat()
            self.purge_old_jobs()
            if not ran:
                stop.wait(poll)
        self.heartbeat(force=True)
        log.info("worker %s stopped", self.name)

    def purge_old_jobs(self, force: bool = False) -> int:
        """Delete jobs finished more than JOB_RETENTION_DAYS ago, at start and then hourly; how many."""
        if not force and self.last_purge is not None and time.monotonic() - self.last_purge < PURGE_EVERY:
            return 0
        self.last_purge = time.monotonic()
        kept = timedelta(days=self.app.config["JOB_RETENTION_DAYS"])
        try:
            purged = jobs.purge_finished(utcnow() - kept)
        except Exception:  # a failed clean-up must not stop the jobs: try again next time
            log.exception("worker %s: could not delete old finished jobs", self.name)
            db.session.rollback()
            return 0
        if purged:
            log.info("worker %s deleted %d jobs finished before the last %s", self.name, purged, kept)
        return purged

    def checkpoint_until(self, stop: threading.Event, engine: Engine) -> None:
        """Checkpoint SQLite's log every CHECKPOINT_EVERY seconds until `stop`, beside the job loop.

        A thread of its own: between two batches the loop can be busy for seconds while readers
        post, and the log would grow until a reader's commit hit the backstop. SQLite works without
        the GIL, and the thread takes the worker's idle priority, so it uses what readers leave.
        """
        while not stop.wait(CHECKPOINT_EVERY):
            self.checkpoint_sqlite(engine)

    def checkpoint_sqlite(self, engine: Engine) -> None:
        """Copy SQLite's write-ahead log into the database file, off the readers' path.

        Web connections leave checkpoints to the worker (WAL_AUTOCHECKPOINT_PAGES in
        moderation/__init__.py): done inside a reader's commit, one cost a page copy and an fsync.
        PASSIVE never waits for a reader or a writer; what it cannot copy now, the next one does.
        """
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # a busy or broken database must not stop the jobs: try again next time
            log.exception("worker %s: could not checkpoint the SQLite log", self.name)

    def heartbeat(self, force: bool = False) -> None:
        """Tell the operators' page this worker is alive, what model it has and what it did."""
        if not force and time.monotonic() - self.last_heartbeat < HEARTBEAT_EVERY:
            return
        row = db.session.get(WorkerHeartbeat, self.name) or WorkerHeartbeat(name=self.name)
        row.last_seen_at = utcnow()
        row.model_version, row.model_error = self.model.version, self.model.error
        row.jobs_done, row.jobs_failed = self.done, self.failed
        db.session.add(row)
        db.session.commit()
        self.last_heartbeat = time.monotonic()


def lower_priority(niceness: int, idle_policy: bool = True) -> int:
    """Give every thread of this process CPU priority `niceness` (never raise it); return the result.

    On Linux a nice value belongs to a thread and only new threads inherit it: the BLAS threads
    NumPy started at import keep theirs unless each is set, so every task in /proc is. Nice alone
    did not keep the worker off readers' CPU: gunicorn's workers sleep briefly in every request
    (the socket, SQLite's lock), and the kernel gave a nice-19 worker half a core of the two they
    wanted. With `idle_policy` the threads also take SCHED_IDLE, whose threads run only on CPU time
    nothing else wants; a backlog still drains at full speed once the web workers are idle.
    """
    tasks = Path("/proc/self/task")
    threads = [int(tid) for tid in os.listdir(tasks)] if tasks.is_dir() else [0]
    for thread in threads:
        try:
            if niceness > os.getpriority(os.PRIO_PROCESS, thread):
                os.setpriority(os.PRIO_PROCESS, thread, niceness)
            if idle_policy and hasattr(os, "SCHED_IDLE"):
                os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
        except ProcessLookupError:  # a thread that ended meanwhile
            continue
    lower_own_autogroup(niceness)
    return os.getpriority(os.PRIO_PROCESS, 0)


def runs_idle() -> bool:
    """Whether this thread is under Linux's SCHED_IDLE policy (what `lower_priority` sets)."""
    return hasattr(os, "SCHED_IDLE") and os.sched_getscheduler(0) == os.SCHED_IDLE


AUTOGROUP = Path("/proc/self/autogroup")


def lower_own_autogroup(niceness: int) -> None:
    """Lower this session's scheduling group too, when the worker leads a session of its own.

    With Linux's autogroups (on by default), nice ranks threads only within their session's
    group, and groups share the CPU equally: a worker started in a new session (by a process
    manager, or bench/run.py) kept half of two cores against gunicorn whatever its nice. A worker
    in the same session as gunicorn (./bin/serve) leaves the group alone: that would lower gunicorn.
    """
    if os.getsid(0) != os.getpid() or not AUTOGROUP.is_file():
        return
    try:
        if niceness > int(AUTOGROUP.read_text().split()[-1]):
            AUTOGROUP.write_text(str(niceness))
    except (OSError, ValueError, IndexError):  # no autogroups, in none, or not allowed: nice stands
        log.warning("could not lower the worker's scheduling group to nice %d", niceness)


def classify_jobs(worker: Worker, batch: list[Job]) -> None:
    """Classify the batch's comments in one pass; a comment that breaks the model fails alone.

    The texts are read, the read transaction ended, and only then is the model run: no transaction
    is open while the worker computes, and the results go in as a few prepared statements.
    """
    analyzer = worker.model.analyzer
    assert analyzer is not None  # run_once only calls this handler with a model
    job_of = {job.subject_id: job.id for job in batch if job.subject_id is not None}
    bodies = dict(db.session.execute(select(Comment.id, Comment.body).where(Comment.id.in_(job_of))).all())
    db.session.rollback()
    gone = [job.id for job in batch if job.subject_id not in bodies]  # erased or deleted since
    todo = list(bodies.items())
    try:
        analyses = analyzer.analyze_many([body for _, body in todo])
    except Exception:  # find the comment(s) that broke the batch, classify the rest
        log.exception("batch of %d failed; classifying one by one", len(todo))
        analyses = [_analyze_alone(worker, job_of[comment_id], comment_id, body) for comment_id, body in todo]
    results = [(comment_id, analysis) for (comment_id, _), analysis in zip(todo, analyses, strict=True)
               if analysis is not None]
    service.store_analyses(results)
    jobs.finish_ids(gone + [job_of[comment_id] for comment_id, _ in results])
    db.session.commit()
    worker.done += len(results)


def _analyze_alone(worker: Worker, job_id: int, comment_id: int, body: str):  # -> Analysis | None
    analyzer = worker.model.analyzer
    assert analyzer is not None
    try:
        return analyzer.analyze(body)
    except Exception as exc:
        message = f"the model could not classify this comment ({exc.__class__.__name__})"
        service.mark_unclassifiable(comment_id, message)
        jobs.fail(db.session.get_one(Job, job_id), message, retry=False)
        db.session.commit()
        worker.failed += 1
        return None


def alive_workers() -> Sequence[WorkerHeartbeat]:
    """Workers that reported within ALIVE_WITHIN, newest first."""
    since = utcnow() - ALIVE_WITHIN
    return list(db.session.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at >= since)
                                   .order_by(WorkerHeartbeat.last_seen_at.desc())))


def all_workers() -> Sequence[WorkerHeartbeat]:
    return list(db.session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_seen_at.desc())))


def classification_status() -> str | None:
    """None when a live worker has a model; otherwise what an operator must know."""
    alive = alive_workers()
    if any(w.model_version for w in alive):
        return None
    errors = [w.model_error for w in alive if w.model_error]
    if errors:
        return f"The topic model is unavailable: {errors[0]}"
    return ("No classification worker has reported in the last "
            f"{int(ALIVE_WITHIN.total_seconds())} seconds: start one with `flask --app wsgi worker`.")
