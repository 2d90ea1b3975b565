"""The only code that writes: submitting, classifying and deciding comments, with their audit rows.

Views, CLI commands and the JSON API call these functions; they take plain values, never the
request, and return models or plain values.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from classifiers import Analysis
from moderation.config import MAX_AUTHOR_CHARS, MAX_COMMENT_CHARS, MAX_EMAIL_CHARS
from moderation.extensions import db
from moderation.jobs import queue as jobs
from moderation.models import (
    ActionKind,
    Article,
    Comment,
    CommentStatus,
    ModerationAction,
    Role,
    User,
    utcnow,
)
from moderation.services import commenters, names, webhooks, wordlists

# What a reader is told after posting, by the page and the API alike.
AWAITING = "Thank you! Your comment is awaiting moderation and will appear once a moderator approves it."
PUBLISHED = "Thank you! Your comment is published."
RECEIVED = "Thank you. Your comment has been received."

REJECT_REASONS = {
    "spam": "Spam or advertising",
    "abuse": "Abusive or hateful",
    "off_topic": "Off topic",
    "personal_data": "Shares personal data",
    "other": "Other",
}
DECISIONS = {ActionKind.APPROVE: CommentStatus.APPROVED, ActionKind.REJECT: CommentStatus.REJECTED}
EMAIL = re.compile(r"[^@\s\ufffd]+@[^@\s\ufffd]+\.[^@\s\ufffd]+")  # U+FFFD: bytes that were not UTF-8
UNDOABLE = (ActionKind.APPROVE, ActionKind.REJECT)
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class InvalidComment(ValueError):
    """The submission breaks a rule; `errors` maps each field name to a message for a person."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotAllowed(ValueError):
    """The action is not possible in the comment's or article's current state."""


@dataclass(frozen=True)
class Submission:
    """A stored comment as the reader's answer needs it, without reloading the committed row."""

    comment_id: int
    status: CommentStatus
    author: str
    body: str
    created_at: datetime
    duplicate: bool = False

    @property
    def comment(self) -> Comment:
        """The stored comment itself (one query)."""
        return db.session.get_one(Comment, self.comment_id)


@dataclass(frozen=True)
class QueueFilters:
    status: CommentStatus | None = CommentStatus.PENDING
    article_id: int | None = None
    topic: str | None = None
    sentiment: str | None = None
    unclassified: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    sort: str = "oldest"  # oldest, newest or uncertain (least confident first)
    search: str | None = None  # words in the comment or its author's name


def clean_text(value: str | None) -> str:
    """Normalise untrusted text: NFC, Unix line breaks, no control or direction characters."""
    text = unicodedata.normalize("NFC", value or "").replace("\r\n", "\n").replace("\r", "\n")
    return CONTROL_CHARS.sub("", text).strip()


def validation_errors(author: str, email: str, body: str) -> dict[str, str]:
    """Check cleaned fields against the published limits; return field -> message."""
    errors: dict[str, str] = {}
    if not author:
        errors["author"] = "Please enter your name."
    elif len(author) > MAX_AUTHOR_CHARS:
        errors["author"] = f"Your name can be at most {MAX_AUTHOR_CHARS} characters."
    elif names.name_error(author):
        errors["author"] = names.name_error(author)
    if len(email) > MAX_EMAIL_CHARS or (email and not EMAIL.fullmatch(email)):
        errors["email"] = "Please enter a valid email address, or leave it empty."
    body_error = _body_error(body)
    if body_error:
        errors["body"] = body_error
    if "\ufffd" in author:
        errors["author"] = "Your name contains characters that could not be read."
    return errors


def _body_error(body: str) -> str | None:
    if not body:
        return "Please write a comment."
    if len(body) > MAX_COMMENT_CHARS:
        return f"Comments can be at most {MAX_COMMENT_CHARS} characters (yours has {len(body)})."
    if "\ufffd" in body:
        return "Your comment contains characters that could not be read (invalid UTF-8)."
    return None


def client_hash(address: str | None) -> str | None:
    """Salted hash of a client address (keyed by the secret key); the raw address is never kept."""
    if not address:
        return None
    key = hashlib.sha256(b"client-address:" + current_app.config["SECRET_KEY"].encode()).digest()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


def submit_comment(
    article: Article | Row[Any],
    author: str,
    body: str,
    email: str | None = None,
    client_address: str | None = None,
    submission_token: str | None = None,
) -> Submission:
    """Validate and store a reader's comment with its classify job; a repeated token returns the first.

    Classifying is the background worker's work: the reader's request only validates and stores.
    A repeated token is caught by the column's unique index when inserting, not looked up first:
    one query less on every post, and the same answer when two posts race.
    `article` may be the ORM object or its plain row (only its id and switches are read).
    A banned or suspended commenter is refused (commenters.Refused) and nothing is stored; the
    word lists reject or hold the comment; trusted commenters skip the wait.
    """
    if not article.comments_open:
        raise NotAllowed("Comments are closed on this article.")
    author, body, email_clean = names.clean_name(author), clean_text(body), clean_text(email).lower()
    errors = validation_errors(author, email_clean, body)
    if errors:
        raise InvalidComment(errors)
    hashed = commenters.email_hash(email_clean or None)
    commenters.refuse_if_barred(hashed)
    verdict, trusted = wordlists.check(f"{author}\n{body}"), commenters.is_trusted(hashed)
    status, actions = _publish_or_hold(article.premoderated, verdict, trusted)
    now = utcnow()
    decided = status is not CommentStatus.PENDING
    row = {"article_id": article.id, "author": author, "body": body, "email": email_clean or None,
           "email_hash": hashed, "client_hash": client_hash(client_address),
           "submission_token": submission_token, "status": status, "created_at": now,
           "decided_at": now if decided else None, "decision_minutes": 0.0 if decided else None}
    return _store_new(row, actions, submission_token)


def _by_token(token: str | None) -> Comment | None:
    if not token:
        return None
    return db.session.scalar(select(Comment).where(Comment.submission_token == token))


def _publish_or_hold(premoderated: bool, verdict: wordlists.Verdict,
                     trusted: bool) -> tuple[CommentStatus, list[dict[str, Any]]]:
    """Banned words reject, suspect words hold; otherwise pre-moderation holds the untrusted.

    Returns the status to store and the audit rows that explain it (submitted, and rejected).
    """
    waits = bool(verdict.suspect) or (premoderated and not trusted)
    status = CommentStatus.PENDING if waits or verdict.banned else CommentStatus.APPROVED
    held = f"Held for suspect words: {', '.join(verdict.suspect)}" if verdict.suspect else None
    published = "Published at once: trusted commenter" if trusted and not waits else None
    actions = [{"action": ActionKind.SUBMIT, "from_status": None, "to_status": status.value,
                "reason": held or published}]
    if verdict.banned:
        actions.append({"action": ActionKind.REJECT, "from_status": status.value,
                        "to_status": CommentStatus.REJECTED.value,
                        "reason": f"Banned words: {', '.join(verdict.banned)}"})
        status = CommentStatus.REJECTED
    return status, actions


# Built once, executed as plain INSERTs: the ORM's unit of work (a flush of two new objects) cost
# more than half of a post, and the reader's answer needs nothing back but the id.
INSERT_COMMENT = insert(Comment.__table__)
INSERT_ACTIONS = insert(ModerationAction.__table__)


def _store_new(row: dict[str, Any], actions: list[dict[str, Any]], token: str | None) -> Submission:
    """Store the comment, its audit rows and its classify job in one transaction; a repeated token
    (a double click, a retry) returns the comment that holds it instead."""
    try:
        connection = db.session.connection()  # the session's transaction, without its ORM layer per statement
        comment_id = connection.execute(INSERT_COMMENT, row).inserted_primary_key[0]
        connection.execute(INSERT_ACTIONS, [{**action, "comment_id": comment_id, "user_id": None,
                                             "created_at": row["created_at"]} for action in actions])
        jobs.enqueue(jobs.CLASSIFY, comment_id)
        webhooks.comment_created(comment_id)
        if row["status"] is CommentStatus.APPROVED:
            bump_comment_lists([row["article_id"]])
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        earlier = _by_token(token)
        if earlier is None:
            raise
        return Submission(earlier.id, earlier.status, earlier.author, earlier.body, earlier.created_at,
                          duplicate=True)
    return Submission(comment_id, row["status"], row["author"], row["body"], row["created_at"])


def record(comment: Comment, **fields: object) -> ModerationAction:
    """Add an audit row for the comment (the caller commits).

    Set from the row's side: appending to `comment.actions` would first load every earlier row of
    the comment, a query per comment when a batch is classified or decided.
    """
    action = ModerationAction(comment=comment, **fields)
    db.session.add(action)
    return action


# Built once: the worker writes every batch's classifications with these (executemany).
UPDATE_ANALYSIS = update(Comment.__table__).where(Comment.__table__.c.id == bindparam("comment_id"))
BUMP_APPROVED_LISTS = (
    update(Article.__table__)
    .where(Article.__table__.c.id.in_(
        select(Comment.__table__.c.article_id)
        .where(Comment.__table__.c.id.in_(bindparam("comment_ids", expanding=True)),
               Comment.__table__.c.status == CommentStatus.APPROVED)
        .scalar_subquery()))
    .values(comments_version=Article.__table__.c.comments_version + 1)
)


def store_analyses(results: Sequence[tuple[int, Analysis]]) -> None:
    """Write classifications onto their comments, with an audit row each (the caller commits).

    Every parameter is prepared before the first statement runs: on SQLite the write lock is held
    from the first statement to the commit, and a worker building ORM rows inside it, at a lower
    priority than the web workers, kept readers' posts waiting. Readers see topic and sentiment in
    the cached lists, so the lists holding an approved comment of the batch are renewed.
    """
    if not results:
        return
    now = utcnow()
    values = [analysis_values(comment_id, analysis) for comment_id, analysis in results]
    audit = [{"comment_id": comment_id, "user_id": None, "action": ActionKind.CLASSIFY, "from_status": None,
              "to_status": None, "reason": analysis.model_version, "created_at": now}
             for comment_id, analysis in results]
    ids = [comment_id for comment_id, _ in results]
    connection = db.session.connection()
    connection.execute(UPDATE_ANALYSIS, values)
    connection.execute(INSERT_ACTIONS, audit)
    connection.execute(BUMP_APPROVED_LISTS, {"comment_ids": ids})


def analysis_values(comment_id: int, result: Analysis) -> dict[str, Any]:
    """The comment's columns for one classification, keyed for UPDATE_ANALYSIS."""
    scores = result.sentiment_scores
    return {
        "comment_id": comment_id, "topic": result.topic, "topic_confidence": result.topic_confidence,
        "topic_scores": dict(result.topic_scores), "topic_uncertain": result.topic_uncertain,
        "topic_terms": [[t.term, t.weight] for t in result.topic_terms],
        "sentiment": result.sentiment, "sentiment_score": result.sentiment_score,
        "sentiment_neg": scores["neg"], "sentiment_neu": scores["neu"], "sentiment_pos": scores["pos"],
        "sentiment_compound": scores["compound"], "model_version": result.model_version,
        "classification_error": None,
    }


def mark_unclassifiable(comment_id: int, error: str) -> None:
    """Record that the model could not handle this comment, so it is shown as such, not as waiting."""
    db.session.execute(update(Comment).where(Comment.id == comment_id)
                       .values(classification_error=error[:300]))


def enqueue_unclassified() -> int:
    """Give every unclassified comment without an open classify job a new one; return how many."""
    waiting = list(db.session.scalars(select(Comment.id).where(Comment.topic.is_(None))
                                      .order_by(Comment.id)))
    covered = jobs.open_subjects(jobs.CLASSIFY, waiting)
    missing = [comment_id for comment_id in waiting if comment_id not in covered]
    for comment_id in missing:
        jobs.enqueue(jobs.CLASSIFY, comment_id)
    db.session.commit()
    return len(missing)


def count_unclassified() -> int:
    """How many stored comments still wait for a classification."""
    return db.session.scalar(select(func.count(Comment.id)).where(Comment.topic.is_(None))) or 0


def reason_text(reason: str | None, note: str | None) -> str | None:
    """Combine a listed reason and a free-text note into the audit trail's reason."""
    parts = [REJECT_REASONS[reason]] if reason in REJECT_REASONS else []
    note = clean_text(note)[:300]
    if note:
        parts.append(note)
    return ": ".join(parts) or None


def decide(
    comment_ids: Iterable[int], action: ActionKind, user: User, reason: str | None = None
) -> int:
    """Approve or reject comments; each change and its audit row commit together.

    A reason belongs to a rejection only: an approval never records one, whatever was sent.
    """
    target = DECISIONS[action]
    reason = reason if action is ActionKind.REJECT else None
    changed = [comment for comment in _comments_for_update(comment_ids) if comment.status is not target]
    for comment in changed:
        _transition(comment, action, target, user, reason)
        comment.mark_decided()
        webhooks.comment_event(webhooks.DECIDED, comment, user, reason, action.value)
    bump_comment_lists(c.article_id for c in changed)
    db.session.commit()
    return len(changed)


def undo(comment_id: int, user: User, decision_id: int | None = None) -> Comment:
    """Send a decided comment back to the queue, recording who did it.

    With `decision_id`, undo only that decision: if a later one replaced it, undoing would reverse
    something else than the moderator asked for, so nothing changes.
    """
    comments = _comments_for_update([comment_id])
    if not comments:
        raise LookupError(f"no comment {comment_id}")
    comment = comments[0]
    if comment.status is CommentStatus.PENDING:
        raise NotAllowed("This comment is already waiting in the queue.")
    if decision_id is not None and latest_decision_id(comment.id) != decision_id:
        raise NotAllowed("A later decision replaced this one, so it cannot be undone here. "
                         "Nothing was changed.")
    bump_comment_lists([comment.article_id])
    _transition(comment, ActionKind.UNDO, CommentStatus.PENDING, user, None)
    comment.mark_undecided()
    webhooks.comment_event(webhooks.DECIDED, comment, user, None, ActionKind.UNDO.value)
    db.session.commit()
    return comment


def latest_decision_id(comment_id: int) -> int | None:
    """The audit row of the decision that set the comment's current status (None once undone)."""
    latest = db.session.scalar(
        select(ModerationAction).where(ModerationAction.comment_id == comment_id,
                                       ModerationAction.action.in_(UNDOABLE + (ActionKind.UNDO,)))
        .order_by(ModerationAction.id.desc()).limit(1))
    return latest.id if latest is not None and latest.action in UNDOABLE else None


def _comments_for_update(comment_ids: Iterable[int]) -> list[Comment]:
    ids = sorted(set(comment_ids))
    if not ids:
        return []
    query = select(Comment).where(Comment.id.in_(ids)).order_by(Comment.id).with_for_update()
    return list(db.session.scalars(query))


def bump_comment_lists(article_ids: Iterable[int]) -> None:
    """Invalidate the cached comment lists of these articles (the caller commits).

    Any change to a comment that is or was approved changes what readers see; bumping the version
    in the SQL itself (not read-modify-write) and in the same transaction means no process can
    serve the old list after the commit, however many write at once.
    """
    article_ids = sorted(set(article_ids))
    if article_ids:
        db.session.execute(update(Article).where(Article.id.in_(article_ids))
                           .values(comments_version=Article.comments_version + 1))


def _transition(comment: Comment, action: ActionKind, target: CommentStatus,
                user: User | None, reason: str | None) -> None:
    record(comment, action=action, user=user, from_status=comment.status.value, to_status=target.value,
           reason=reason)
    comment.status = target


def create_user(username: str, password: str, role: Role) -> User:
    """Create a staff account with a hashed password."""
    username = clean_text(username)
    if not username or len(username) > 80:
        raise InvalidComment({"username": "Usernames are 1 to 80 characters."})
    if len(password) < 8:
        raise InvalidComment({"password": "Passwords need at least 8 characters."})
    if db.session.scalar(select(User).where(User.username == username)):
        raise NotAllowed(f"user {username!r} already exists")
    user = User(username=username, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def reader_message(status: CommentStatus) -> str:
    """The reader's answer: waiting, published, or (rejected by a word list) the same neutral thanks."""
    return {CommentStatus.PENDING: AWAITING, CommentStatus.APPROVED: PUBLISHED}.get(status, RECEIVED)
