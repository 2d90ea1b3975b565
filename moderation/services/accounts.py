"""Staff accounts: log-in checks that cost the same for every name, sessions that can be ended,
password changes and disabling. Only this module and `service.create_user` write users."""

from __future__ import annotations

import secrets
from functools import cache

from flask import current_app
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from moderation.extensions import db
from moderation.models import User, utcnow
from moderation.services.comments import InvalidComment, NotAllowed, clean_text

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 200
MAX_ID_DIGITS = 10


@cache
def dummy_hash(method: str) -> str:
    """A hash of a random password, made like real ones and checked when the name is unknown.

    Made once per process and method, when the app is created (~100 ms of scrypt), so not even the
    first unknown name costs a second hash.
    """
    return generate_password_hash(secrets.token_hex(16), method=method)


def authenticate(username: str, password: str) -> User | None:
    """Return the active user whose password matches, else None.

    Unknown names check the password against a dummy hash, so both answers cost one hash check
    and the time taken does not tell which usernames exist.
    """
    user = db.session.scalar(select(User).where(User.username == clean_text(username)))
    if user is None:
        check_password_hash(dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def user_for_session(session_id: str) -> User | None:
    """The user a session's id ("<user id>:<generation>") names, if that session is still valid."""
    user_id, _, generation = session_id.partition(":")
    if not all(part.isascii() and part.isdigit() and len(part) <= MAX_ID_DIGITS
               for part in (user_id, generation)):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_generation != int(generation):
        return None
    return user


def end_sessions(user: User) -> None:
    """End every session of this user, on every server: their ids name the old generation."""
    db.session.execute(update(User).where(User.id == user.id)
                       .values(session_generation=User.session_generation + 1))
    db.session.commit()
    db.session.refresh(user)


def password_errors(password: str, confirmation: str | None = None) -> dict[str, str]:
    """Check a new password against the rules; return field -> message."""
    if len(password) < MIN_PASSWORD_CHARS:
        return {"new_password": f"Passwords need at least {MIN_PASSWORD_CHARS} characters."}
    if len(password) > MAX_PASSWORD_CHARS:
        return {"new_password": f"Passwords can be at most {MAX_PASSWORD_CHARS} characters."}
    if confirmation is not None and confirmation != password:
        return {"confirm_password": "The two new passwords do not match."}
    return {}


def change_password(user: User, current: str, new: str, confirmation: str) -> None:
    """The user's own change: needs the current password; ends all of the user's sessions."""
    if not user.check_password(current):
        raise InvalidComment({"current_password": "That is not your current password."})
    set_password(user, new, confirmation)


def set_password(user: User, new: str, confirmation: str | None = None) -> None:
    """Store a new password and end every session that used the old one."""
    errors = password_errors(new, confirmation)
    if errors:
        raise InvalidComment(errors)
    user.set_password(new)
    db.session.commit()
    end_sessions(user)


def by_username(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == clean_text(username)))
    if user is None:
        raise LookupError(f"no user {username!r}")
    return user


def set_disabled(user: User, disabled: bool, by: User | None = None) -> None:
    """Disable (ending all sessions at once) or enable a staff account; nobody disables themselves."""
    if by is not None and by.id == user.id and disabled:
        raise NotAllowed("You cannot disable your own account.")
    user.disabled_at = utcnow() if disabled else None
    db.session.commit()
    if disabled:
        end_sessions(user)


def all_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username)))
