"""The job table as a queue: enqueue in the caller's transaction, claim with a lease, finish or retry.

No broker: the database every app server already shares is the queue. On PostgreSQL a claim is one
`UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)`, so workers on many machines never
claim the same row and never wait on each other; on SQLite the same single statement takes the
write lock before it reads, so two workers cannot claim the same row either. A claim is a lease:
rows whose lease ran out (their worker was killed) are claimed again, up to MAX_ATTEMPTS.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, select, update
from sqlalchemy.orm import aliased

from moderation.extensions import db
from moderation.models import Job, JobState, utcnow

CLASSIFY = "classify"
MAX_ATTEMPTS = 5
DEFAULT_LEASE = timedelta(seconds=60)
RETRY_BASE = timedelta(seconds=5)


INSERT_JOB = insert(Job.__table__)  # built once: every posted comment enqueues a job


def enqueue(kind: str, subject_id: int | None = None, payload: dict[str, Any] | None = None,
            run_after: datetime | None = None, sequence_key: str | None = None) -> None:
    """Insert a job in the caller's transaction; it is stored when the caller commits its change.

    A plain INSERT rather than an ORM object: every posted comment enqueues one, and a second
    unit-of-work flush per post cost more than the statement. Jobs sharing a `sequence_key` run
    one at a time, in the order they were enqueued, when their kind is claimed with `in_sequence`.
    """
    now = utcnow()
    db.session.connection().execute(INSERT_JOB, {
        "kind": kind, "subject_id": subject_id, "payload": payload, "state": JobState.QUEUED,
        "attempts": 0, "run_after": run_after or now, "created_at": now, "sequence_key": sequence_key})


def claim(kind: str, limit: int, lease: timedelta = DEFAULT_LEASE, in_sequence: bool = False) -> list[Job]:
    """Lease up to `limit` due jobs of one kind, oldest first, and commit the lease at once.

    Jobs whose lease ran out come first (their worker died), then queued ones. Each is its own
    UPDATE walking the (kind, state, id) index in id order and stopping at the limit: one
    statement over both states had to sort the whole backlog, under SQLite's write lock, at the
    worker's low priority, while readers' posts waited on that lock. With `in_sequence`, a job
    waits while an earlier job with its sequence key is still open.
    """
    db.session.rollback()  # start a fresh transaction: on SQLite the UPDATE must come first
    now, token = utcnow(), secrets.token_hex(16)
    leased = {"state": JobState.RUNNING, "claim_token": token, "lease_until": now + lease,
              "attempts": Job.attempts + 1}
    count = 0
    for due in (and_(Job.state == JobState.RUNNING, Job.lease_until < now),
                and_(Job.state == JobState.QUEUED, Job.run_after <= now)):
        if count < limit:
            count += _lease(kind, due, limit - count, in_sequence, leased)
    db.session.commit()
    if not count:
        return []
    # Read back through the same index: only this kind's running jobs are looked at.
    return list(db.session.scalars(select(Job).where(Job.kind == kind, Job.state == JobState.RUNNING,
                                                     Job.claim_token == token).order_by(Job.id)))


def _lease(kind: str, due: Any, limit: int, in_sequence: bool, leased: dict[str, Any]) -> int:
    """Lease up to `limit` jobs in one state; how many."""
    candidates = select(Job.id).where(Job.kind == kind, due)
    if in_sequence:
        candidates = candidates.where(~_earlier_open_job())
    candidates = candidates.order_by(Job.id).limit(limit).with_for_update(skip_locked=True)
    statement = update(Job).where(_chosen(candidates), due).values(leased)
    return db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount


def _chosen(candidates):  # -> the WHERE clause
    """PostgreSQL locks the candidates first and updates exactly those: as a subquery of the UPDATE,
    a LIMIT ... SKIP LOCKED select may be re-run by the plan (a nested loop) and lease more than
    `limit` rows. SQLite keeps the single statement, which takes the write lock before it reads."""
    if db.engine.dialect.name == "postgresql":
        return Job.id.in_(list(db.session.scalars(candidates)))
    return Job.id.in_(candidates.scalar_subquery())


def _earlier_open_job():  # -> the EXISTS clause
    earlier = aliased(Job)
    return exists().where(earlier.sequence_key == Job.sequence_key, earlier.id < Job.id,
                          earlier.state.in_([JobState.QUEUED, JobState.RUNNING]))


def finish(jobs: Iterable[Job]) -> None:
    """Mark jobs done (the caller commits, together with the work they did)."""
    now = utcnow()
    for job in jobs:
        job.state, job.finished_at, job.lease_until, job.last_error = JobState.DONE, now, None, None


def finish_ids(job_ids: Sequence[int]) -> None:
    """Mark jobs done by id, in one statement (the caller commits, together with the work they did)."""
    if job_ids:
        done = {"state": JobState.DONE, "finished_at": utcnow(), "lease_until": None, "last_error": None}
        db.session.execute(update(Job).where(Job.id.in_(job_ids)).values(done),
                           execution_options={"synchronize_session": False})


def fail(job: Job, error: str, retry: bool = True) -> None:
    """Record an error; retry later with backoff, or give up after MAX_ATTEMPTS (or when told to)."""
    job.last_error = error[:500]
    job.lease_until = None
    if retry and job.attempts < MAX_ATTEMPTS:
        job.state = JobState.QUEUED
        job.run_after = utcnow() + RETRY_BASE * 2 ** (job.attempts - 1)
    else:
        job.state, job.finished_at = JobState.FAILED, utcnow()


def retry_later(job: Job, error: str, delay: timedelta) -> None:
    """Record an error and run the job again after `delay` (the caller chose the backoff)."""
    job.last_error, job.lease_until = error[:500], None
    job.state, job.run_after = JobState.QUEUED, utcnow() + delay


def release(jobs: Sequence[Job]) -> None:
    """Hand claimed jobs back untouched (the worker cannot do them now, e.g. no model)."""
    for job in jobs:
        job.state, job.lease_until, job.claim_token = JobState.QUEUED, None, None
        job.attempts = max(job.attempts - 1, 0)


def open_subjects(kind: str, subject_ids: Iterable[int]) -> set[int]:
    """Which of these subjects already have a queued or running job of this kind."""
    ids = list(subject_ids)
    if not ids:
        return set()
    query = select(Job.subject_id).where(Job.kind == kind, Job.subject_id.in_(ids),
                                         Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
    return {subject for subject in db.session.scalars(query) if subject is not None}


def backlog() -> dict[str, dict[str, int]]:
    """Jobs per kind and state, for the operators' page."""
    rows = db.session.execute(select(Job.kind, Job.state, func.count(Job.id)).group_by(Job.kind, Job.state))
    table: dict[str, dict[str, int]] = {}
    for kind, state, count in rows:
        table.setdefault(kind, {s.value: 0 for s in JobState})[JobState(state).value] = count
    return table


def oldest_waiting(kind: str) -> datetime | None:
    """When the oldest job still waiting for a worker was created."""
    return db.session.scalar(select(func.min(Job.created_at)).where(
        Job.kind == kind, Job.state.in_([JobState.QUEUED, JobState.RUNNING])))


def recent_failures(limit: int = 20) -> list[Job]:
    """Jobs given up on, newest first."""
    return list(db.session.scalars(select(Job).where(Job.state == JobState.FAILED)
                                   .order_by(Job.id.desc()).limit(limit)))


PURGE_CHUNK = 500


def purge_finished(before: datetime, chunk: int = PURGE_CHUNK) -> int:
    """Delete the jobs that finished (done or failed) before `before`; how many.

    The ids are read first, outside any write, and deleted a chunk per transaction, so the write
    lock is held only for short deletes by primary key, however many jobs have piled up.
    """
    db.session.rollback()
    finished = select(Job.id).where(Job.state.in_([JobState.DONE, JobState.FAILED]), Job.finished_at < before)
    ids = list(db.session.scalars(finished.order_by(Job.id)))
    db.session.rollback()
    for start in range(0, len(ids), chunk):
        db.session.execute(delete(Job).where(Job.id.in_(ids[start:start + chunk])),
                           execution_options={"synchronize_session": False})
        db.session.commit()
    return len(ids)
