"""Commenters, known by a keyed hash of their email: history, bans, suspensions and trust.

Moderators see a commenter's earlier comments and decisions without the address (admins see it).
A ban or suspension is a row in `commenter_actions`; the newest row says what holds, so lifting
one is another row and every step stays audited. Trusted commenters (N approved comments and
none rejected, N set by an admin; off by default) are published without waiting.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from moderation.extensions import db
from moderation.models import Comment, CommenterAction, CommentStatus, SiteSetting, User, utcnow

BAN, SUSPEND, LIFT = "ban", "suspend", "lift"
TRUST_SETTING = "trusted_after_approved"
MAX_SUSPEND_DAYS = 3650


class Refused(ValueError):
    """A banned or suspended commenter tried to post: nothing is stored."""


def email_hash(email: str | None) -> str | None:
    """The keyed hash of a cleaned email address (the same key on every app server)."""
    if not email:
        return None
    key = hashlib.sha256(b"commenter-email:" + current_app.config["SECRET_KEY"].encode()).digest()
    return hmac.new(key, email.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Standing:
    """What holds for a commenter now."""

    state: str  # "active", "banned" or "suspended"
    reason: str | None = None
    until: datetime | None = None
    action: CommenterAction | None = None


def standing(hashed: str | None) -> Standing:
    """Banned, suspended (until when) or active, from the newest action."""
    if not hashed:
        return Standing("active")
    latest = db.session.scalar(select(CommenterAction).where(CommenterAction.email_hash == hashed)
                               .order_by(CommenterAction.id.desc()).limit(1))
    if latest is None or latest.action == LIFT:
        return Standing("active", action=latest)
    if latest.action == SUSPEND and latest.until is not None and latest.until <= utcnow():
        return Standing("active", action=latest)
    return Standing("banned" if latest.action == BAN else "suspended", latest.reason, latest.until, latest)


def refuse_if_barred(hashed: str | None) -> None:
    """Raise Refused with a message for the reader when this commenter may not post now."""
    now = standing(hashed)
    if now.state == "banned":
        raise Refused("Comments from this email address are not accepted on this site.")
    if now.state == "suspended":
        raise Refused(f"Comments from this email address are suspended until "
                      f"{now.until:%d %b %Y, %H:%M} UTC.")


def act(hashed: str, action: str, user: User, reason: str | None, days: int | None = None) -> CommenterAction:
    """Ban, suspend for `days` or lift, with a reason; audited by the row itself."""
    if action not in (BAN, SUSPEND, LIFT):
        raise ValueError(f"unknown action {action!r}")
    reason = " ".join((reason or "").split())[:300] or None
    if action != LIFT and not reason:
        raise ValueError("Give a reason: the commenter's history shows it to every moderator.")
    until = None
    if action == SUSPEND:
        if days is None or not 1 <= days <= MAX_SUSPEND_DAYS:
            raise ValueError(f"Suspend for 1 to {MAX_SUSPEND_DAYS} days.")
        until = utcnow() + timedelta(days=days)
    if action == LIFT and standing(hashed).state == "active":
        raise ValueError("This commenter is neither banned nor suspended.")
    row = CommenterAction(email_hash=hashed, user=user, action=action, reason=reason, until=until)
    db.session.add(row)
    db.session.commit()
    return row


@dataclass(frozen=True)
class History:
    hashed: str
    comments: list[Comment]
    approved: int
    rejected: int
    pending: int
    actions: list[CommenterAction]
    standing: Standing
    email: str | None


def history(hashed: str, limit: int = 50) -> History:
    """A commenter's comments (newest first), counts per status, and bans with their lifting."""
    counts = dict(db.session.execute(select(Comment.status, func.count(Comment.id))
                                     .where(Comment.email_hash == hashed).group_by(Comment.status)).all())
    comments = list(db.session.scalars(select(Comment).where(Comment.email_hash == hashed)
                                       .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit)))
    actions = list(db.session.scalars(select(CommenterAction).where(CommenterAction.email_hash == hashed)
                                      .order_by(CommenterAction.id.desc())))
    return History(hashed, comments, counts.get(CommentStatus.APPROVED, 0),
                   counts.get(CommentStatus.REJECTED, 0), counts.get(CommentStatus.PENDING, 0),
                   actions, standing(hashed), comments[0].email if comments else None)


def trust_threshold() -> int:
    """Approved comments needed to be trusted; 0 means nobody is (the default)."""
    row = db.session.get(SiteSetting, TRUST_SETTING)
    return int(row.value) if row and row.value.isdigit() else 0


def set_trust_threshold(approved: int) -> None:
    """Set N (0 switches trust off)."""
    if not 0 <= approved <= 1000:
        raise ValueError("Use a number from 0 (off) to 1000.")
    row = db.session.get(SiteSetting, TRUST_SETTING) or SiteSetting(key=TRUST_SETTING, value="0")
    row.value, row.updated_at = str(approved), utcnow()
    db.session.add(row)
    db.session.commit()


def is_trusted(hashed: str | None) -> bool:
    """N or more approved comments and none rejected, when trust is on."""
    if not hashed:  # no email, no history: asked first, so most posts skip reading the setting
        return False
    needed = trust_threshold()
    if not needed:
        return False
    counts = dict(db.session.execute(select(Comment.status, func.count(Comment.id))
                                     .where(Comment.email_hash == hashed).group_by(Comment.status)).all())
    return counts.get(CommentStatus.APPROVED, 0) >= needed and not counts.get(CommentStatus.REJECTED, 0)
