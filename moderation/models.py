"""Typed SQLAlchemy 2 models: articles, comments, users and the append-only audit trail."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from moderation.extensions import db


def utcnow() -> datetime:
    """Timestamps are stored in UTC, without tzinfo, identically on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


class CommentStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Role(enum.StrEnum):
    MODERATOR = "moderator"
    EDITOR = "editor"
    ADMIN = "admin"


class ActionKind(enum.StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    UNDO = "undo"
    ERASE = "erase"
    CLASSIFY = "classify"


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    """Store enums by value in a VARCHAR, so adding a member needs no ALTER TYPE."""
    return Enum(kind, name=name, native_enum=False, length=20,
                values_callable=lambda members: [m.value for m in members])


class Article(db.Model):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    standfirst: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[date]
    premoderated: Mapped[bool] = mapped_column(default=True)
    comments_open: Mapped[bool] = mapped_column(default=True)
    # Bumped in the same transaction as any change to what readers see under the article, so a
    # cached comment list keyed by it can never be served stale by any process.
    comments_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The page's address on the news site: how the embed and the importers find the article.
    canonical_url: Mapped[str | None] = mapped_column(String(500), unique=True, index=True)

    comments: Mapped[list[Comment]] = relationship(back_populates="article")


def only_where_set(column: str) -> dict[str, Any]:
    """A partial index's condition: rows without a value (no email, not imported) stay out of it.

    Every posted comment writes one page of each index it is in, inside SQLite's single write
    lock; most comments have no email, no external id and no sequence key, so those indexes need
    not hold them. Lookups (`column = value`) imply the condition, so both databases use the index.
    """
    condition = text(f"{column} IS NOT NULL")
    return {"sqlite_where": condition, "postgresql_where": condition}


class Comment(db.Model):
    __tablename__ = "comments"
    # Each index serves a named reader: the queue, the article page, or a dashboard query that it
    # covers (answered from the index alone, without reading the table).
    __table_args__ = (
        Index("ix_comments_status_created_topic", "status", "created_at", "topic", "sentiment_score"),
        Index("ix_comments_article_status_created", "article_id", "status", "created_at"),
        Index("ix_comments_status_topic_sentiment", "status", "topic", "topic_uncertain", "sentiment",
              "sentiment_score"),
        Index("ix_comments_status_topic_confidence", "status", "topic", "topic_confidence"),
        Index("ix_comments_topic_decision_minutes", "topic", "decision_minutes"),
        Index("ix_comments_created", "created_at"),
        Index("ix_comments_email", "email", **only_where_set("email")),
        Index("ix_comments_email_hash", "email_hash", **only_where_set("email_hash")),
        Index("ix_comments_external_id", "external_id", unique=True, **only_where_set("external_id")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    author: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    # Minutes from submission to decision, stored when deciding so a median is an index walk.
    decision_minutes: Mapped[float | None]
    status: Mapped[CommentStatus] = mapped_column(
        _enum(CommentStatus, "comment_status"), default=CommentStatus.PENDING
    )
    topic: Mapped[str | None] = mapped_column(String(20))
    topic_confidence: Mapped[float | None]
    topic_scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sentiment: Mapped[str | None] = mapped_column(String(10))
    sentiment_neg: Mapped[float | None]
    sentiment_neu: Mapped[float | None]
    sentiment_pos: Mapped[float | None]
    sentiment_compound: Mapped[float | None]
    model_version: Mapped[str | None] = mapped_column(String(80))
    # The sentiment model's score from -1 to 1 (VADER's four raw scores are kept above).
    sentiment_score: Mapped[float | None]
    # True when the top topic's calibrated probability is below the model's confidence bar:
    # counted as "uncertain" by the dashboard, never silently filed under the topic.
    topic_uncertain: Mapped[bool | None]
    # Words and phrases that pushed the model toward the topic: [[term, weight], ...], strongest first.
    topic_terms: Mapped[list[Any] | None] = mapped_column(JSON)
    # Set when the model could not classify this comment; the queue shows it instead of "classifying".
    classification_error: Mapped[str | None] = mapped_column(String(300))
    client_hash: Mapped[str | None] = mapped_column(String(64))
    # Keyed hash of the email: finds a commenter's history without showing moderators the address.
    email_hash: Mapped[str | None] = mapped_column(String(64))
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # "disqus:123", "wordpress:45", "isso:6": the source's own id, so an import never adds it twice.
    external_id: Mapped[str | None] = mapped_column(String(200))

    article: Mapped[Article] = relationship(back_populates="comments")
    actions: Mapped[list[ModerationAction]] = relationship(
        back_populates="comment", order_by="ModerationAction.id"
    )

    @property
    def classified(self) -> bool:
        return self.topic is not None

    def mark_decided(self) -> None:
        """Record when this comment was decided, and how long it waited."""
        self.decided_at = utcnow()
        self.decision_minutes = (self.decided_at - (self.created_at or self.decided_at)).total_seconds() / 60

    def mark_undecided(self) -> None:
        self.decided_at = self.decision_minutes = None


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of every session's user id: bumping it (log-out, new password, disabling) ends all of
    # this user's sessions on every server, although the session itself lives in a signed cookie.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    disabled_at: Mapped[datetime | None]

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation}"

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


class ModerationAction(db.Model):
    """One row per thing that happened to a comment; rows are only ever added."""

    __tablename__ = "moderation_actions"
    __table_args__ = (Index("ix_moderation_actions_comment", "comment_id", "id"),
                      Index("ix_moderation_actions_created", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[ActionKind] = mapped_column(_enum(ActionKind, "action_kind"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="actions")
    user: Mapped[User | None] = relationship()


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(db.Model):
    """Work for the background worker, written in the same transaction as the change that needs it.

    One table serves every kind of job (classify today; webhooks and re-scoring later). Workers on
    any number of machines claim rows with a lease: a worker that dies leaves its rows to be
    claimed again once the lease runs out.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_kind_state_id", "kind", "state", "id"),
                      Index("ix_jobs_kind_subject", "kind", "subject_id"),
                      Index("ix_jobs_sequence_key", "sequence_key", "id", **only_where_set("sequence_key")))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # Jobs sharing a key run one at a time in id order (webhook deliveries for one comment and endpoint).
    sequence_key: Mapped[str | None] = mapped_column(String(200))


class WorkerHeartbeat(db.Model):
    """What each background worker last said about itself: the operators' page reads these."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    model_version: Mapped[str | None] = mapped_column(String(80))
    model_error: Mapped[str | None] = mapped_column(String(500))
    jobs_done: Mapped[int] = mapped_column(default=0)
    jobs_failed: Mapped[int] = mapped_column(default=0)


class AllowedOrigin(db.Model):
    """A news site whose pages may embed the comments (CORS) and post to the API from a browser."""

    __tablename__ = "allowed_origins"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(300), unique=True)
    # Register an unknown article on its first comment from this site (as Isso does); off by default.
    auto_register: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(db.Model):
    """A staff member's personal API token: only its SHA-256 is stored; it acts with the user's role."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class WebhookEndpoint(db.Model):
    """Where to POST signed events; deliveries are `webhook` jobs in the jobs table (the outbox)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateLimitHit(db.Model):
    """One counted request of a rate limit, in the app's own database (the default limits storage).

    Every gunicorn worker and every app server on the same DATABASE_URL sees the same rows, so the
    configured limits are the enforced ones. `key` holds the limit and a keyed hash of the client
    address, never the address itself; rows are deleted once they expire.
    """

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_expires", "key", "expires_at"),
                      Index("ix_rate_limit_hits_expires", "expires_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    hit_at: Mapped[float]
    expires_at: Mapped[float]


class LabelCorrection(db.Model):
    """A moderator's correction of the model's topic or sentiment, kept apart from the model's labels.

    The comment keeps what the model said; these rows say who changed which label, when, from
    what and to what, under which model version: training data for a later model.
    """

    __tablename__ = "label_corrections"
    __table_args__ = (Index("ix_label_corrections_comment", "comment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    field: Mapped[str] = mapped_column(String(20))
    old_label: Mapped[str | None] = mapped_column(String(20))
    new_label: Mapped[str] = mapped_column(String(20))
    model_version: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()


class WordListEntry(db.Model):
    """A banned or suspect word or phrase, set by an admin."""

    __tablename__ = "word_list_entries"
    __table_args__ = (UniqueConstraint("kind", "phrase", name="uq_word_list_entries_kind_phrase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    phrase: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()


class CommenterAction(db.Model):
    """A ban, suspension or lifting of one for a commenter (by email hash); rows are only added.

    The newest row says what holds now, so lifting a ban is a new row and the audit stays whole.
    """

    __tablename__ = "commenter_actions"
    __table_args__ = (Index("ix_commenter_actions_hash", "email_hash", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(300))
    until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()


class SiteSetting(db.Model):
    """A setting admins change on a page (e.g. when commenters become trusted)."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
