"""The news sites allowed to embed the comments: CORS, browser posting and auto-registration.

Admins list them on a page; operators may also name them in EMBED_ORIGINS (comma-separated), which
never auto-register articles. An origin is `scheme://host[:port]`, exactly as a browser sends it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import AllowedOrigin
from moderation.services.comments import InvalidComment, NotAllowed, clean_text


def normalise_origin(value: str | None) -> str | None:
    """'https://News.example/path' -> 'https://news.example'; None when it is not an http(s) origin."""
    parts = urlsplit(clean_text(value))
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    host = parts.hostname.lower()
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port and port != default else "")


def configured_origins() -> set[str]:
    """Origins named in the EMBED_ORIGINS setting."""
    raw = current_app.config.get("EMBED_ORIGINS") or ""
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    return {origin for name in names if (origin := normalise_origin(name))}


def stored_origin(origin: str) -> AllowedOrigin | None:
    return db.session.scalar(select(AllowedOrigin).where(AllowedOrigin.origin == origin))


def is_allowed(origin: str | None) -> bool:
    """May a page on this origin read and post comments from the browser?"""
    if not origin:
        return False
    return origin in configured_origins() or stored_origin(origin) is not None


def may_auto_register(origin: str | None, article_url: str) -> bool:
    """Register an unknown article on its first comment: only when the admin switched it on for this
    site, and only for an address on that same site."""
    row = stored_origin(origin) if origin else None
    return bool(row and row.auto_register and normalise_origin(article_url) == origin)


def allowed_origins() -> list[AllowedOrigin]:
    return list(db.session.scalars(select(AllowedOrigin).order_by(AllowedOrigin.origin)))


def add_origin(value: str, auto_register: bool = False) -> AllowedOrigin:
    """Allow a site to embed the comments."""
    origin = normalise_origin(value)
    if origin is None:
        raise InvalidComment({"origin": "Enter the site's address, such as https://news.example."})
    if stored_origin(origin) is not None:
        raise NotAllowed(f"{origin} is already allowed.")
    row = AllowedOrigin(origin=origin, auto_register=auto_register)
    db.session.add(row)
    db.session.commit()
    return row


def set_auto_register(origin_id: int, enabled: bool) -> AllowedOrigin:
    row = db.session.get(AllowedOrigin, origin_id)
    if row is None:
        raise LookupError(f"no allowed origin {origin_id}")
    row.auto_register = enabled
    db.session.commit()
    return row


def remove_origin(origin_id: int) -> None:
    """Stop a site from embedding the comments (its articles and comments stay)."""
    row = db.session.get(AllowedOrigin, origin_id)
    if row is None:
        raise LookupError(f"no allowed origin {origin_id}")
    db.session.delete(row)
    db.session.commit()
