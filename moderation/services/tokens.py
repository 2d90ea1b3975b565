"""Personal API tokens: shown once, stored as SHA-256, acting with their owner's current role."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from moderation.extensions import db
from moderation.models import ApiToken, User, utcnow
from moderation.services.comments import InvalidComment, clean_text

PREFIX = "cmt_"
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often, not on every call


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Make a token for the user; return the row and the raw token, which is never stored."""
    name = clean_text(name)
    if not name or len(name) > 80:
        raise InvalidComment({"name": "Name the token (1 to 80 characters), e.g. 'CMS sync'."})
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=digest(raw), prefix=raw[:len(PREFIX) + 6])
    db.session.add(token)
    db.session.commit()
    return token, raw


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked ones included, marked)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.id.desc())))


def revoke(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; it stops working at once."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise LookupError(f"no token {token_id} for this user")
    token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()
    return token


def user_for(raw: str | None) -> User | None:
    """The owner of a live token, or None for an unknown or revoked one."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(raw),
                                                     ApiToken.revoked_at.is_(None)))
    if token is None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        token.last_used_at = now
        db.session.commit()
    return token.user
