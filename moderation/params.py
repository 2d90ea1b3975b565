"""Query-string parsers shared by the blueprints: a bad value is a clear 400, never a 500."""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, request

MAX_PAGE = 100_000
MAX_ID = 2**31 - 1  # the largest INTEGER both SQLite and PostgreSQL store in our id columns


def page_arg() -> int:
    """The `page` query parameter; anything but a positive number is a 400."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, "The page number must be a positive whole number.")
    return int(raw)


def article_arg(args: Mapping[str, str] | None = None) -> int | None:
    """The optional `article` filter (an article number), from the query string or `args`."""
    raw = (request.args if args is None else args).get("article") or None
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) > MAX_ID:
        abort(400, "The article filter must be an article number.")
    return int(raw)
