"""Right to erasure: remove a person's data from everything the service keeps.

Their comments keep their place in the audit trail and in the figures (status, topic, sentiment),
but lose every copy of what the person wrote or is: name, text, email, the client-address hash,
the model's explaining terms, moderators' notes on those comments, and any note elsewhere that
quotes their email, name or a phone number they wrote. Afterwards no older version of the rows
is left in the database files (SQLite: secure_delete and a truncating WAL checkpoint;
PostgreSQL: VACUUM of the tables involved).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable

from sqlalchemy import select, update

from moderation.extensions import db
from moderation.jobs import queue as jobs
from moderation.models import ActionKind, Comment, Job, JobState, ModerationAction, User
from moderation.services import webhooks
from moderation.services.comments import REJECT_REASONS, bump_comment_lists, clean_text

log = logging.getLogger(__name__)

ERASED_AUTHOR = "[erased]"
ERASED_BODY = "[This comment was erased at the author's request.]"
ERASED_NOTE = "[erased]"
PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")
MIN_PHONE_DIGITS, MIN_NAME_CHARS = 7, 4
NOTED_ACTIONS = (ActionKind.APPROVE, ActionKind.REJECT, ActionKind.UNDO)
CHECKPOINT_TRIES = 50


def erase_by_email(email: str, user: User | None) -> int:
    """Erase every comment left with this email; return how many (the caller need not commit)."""
    address = clean_text(email).lower()
    if not address:
        return 0
    comments = list(db.session.scalars(select(Comment).where(Comment.email == address)))
    patterns = quoting_patterns(address, comments)
    for comment in comments:
        erase_comment(comment, user)
    scrub_other_notes(patterns, [c.id for c in comments])
    forget_jobs([c.id for c in comments])
    webhooks.comments_erased(comments, user)
    bump_comment_lists(c.article_id for c in comments)
    db.session.commit()
    if comments and not purge_old_versions():
        log.warning("erasure: the SQLite write-ahead log stayed in use; it is cleared at the next checkpoint")
    return len(comments)


def erase_comment(comment: Comment, user: User | None) -> None:
    """Blank what the person wrote and is, keeping the comment's place in the figures."""
    comment.author, comment.body, comment.email = ERASED_AUTHOR, ERASED_BODY, None
    comment.client_hash = comment.submission_token = comment.email_hash = None
    comment.topic_terms = None
    comment.classification_error = None
    for action in comment.actions:
        if action.action in NOTED_ACTIONS:
            action.reason = reason_without_note(action.reason)
    comment.actions.append(ModerationAction(action=ActionKind.ERASE, user=user, reason="right to erasure"))


def forget_jobs(comment_ids: list[int]) -> None:
    """Drop every copy of the comments that jobs hold; webhook events not yet sent are never sent.

    A delivery keeps its endpoint and event name for the deliveries page, not the body it carried.
    """
    db.session.execute(update(Job).where(Job.subject_id.in_(comment_ids), Job.kind != webhooks.WEBHOOK)
                       .values(payload=None, last_error=None))
    for job in db.session.scalars(select(Job).where(Job.subject_id.in_(comment_ids),
                                                    Job.kind == webhooks.WEBHOOK)):
        job.payload, job.last_error = webhooks.without_body(job.payload), None
        if job.state is JobState.QUEUED:
            jobs.fail(job, webhooks.ERASED_BEFORE_SENT, retry=False)


def reason_without_note(reason: str | None) -> str | None:
    """Keep a listed reason ("Shares personal data"), drop the moderator's free text after it."""
    if not reason:
        return reason
    for label in REJECT_REASONS.values():
        if reason == label:
            return reason
        if reason.startswith(label + ": "):
            return f"{label}: {ERASED_NOTE}"
    return ERASED_NOTE


def quoting_patterns(address: str, comments: Iterable[Comment]) -> list[re.Pattern[str]]:
    """What a note elsewhere could quote: the email, the names used, phone numbers written."""
    patterns = [re.compile(re.escape(address), re.IGNORECASE)]
    for comment in comments:
        if len(comment.author) >= MIN_NAME_CHARS:
            patterns.append(re.compile(rf"\b{re.escape(comment.author)}\b", re.IGNORECASE))
        for number in PHONE.findall(comment.body):
            digits = re.sub(r"\D", "", number)
            if len(digits) >= MIN_PHONE_DIGITS:
                patterns.append(re.compile(r"\+?" + r"[\s().-]*".join(digits)))
    return patterns


def scrub_other_notes(patterns: list[re.Pattern[str]], erased_ids: list[int]) -> None:
    """Replace quotes of the person in moderators' notes on other comments."""
    query = select(ModerationAction).where(ModerationAction.action.in_(NOTED_ACTIONS),
                                           ModerationAction.reason.is_not(None),
                                           ModerationAction.comment_id.not_in(erased_ids or [0]))
    for action in db.session.scalars(query.execution_options(yield_per=1000)):
        scrubbed = action.reason
        for pattern in patterns:
            scrubbed = pattern.sub(ERASED_NOTE, scrubbed)
        if scrubbed != action.reason:
            action.reason = scrubbed


def purge_old_versions() -> bool:
    """Leave no earlier version of the erased rows in the database files; False if it must wait."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM comments, moderation_actions, jobs")
        return True
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        for _ in range(CHECKPOINT_TRIES):
            busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if not busy:
                return True
            time.sleep(0.1)
    return False
