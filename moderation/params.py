"""Query-string and form parsers shared by the blueprints: a bad value is a clear 400, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date

from flask import abort, request

MAX_PAGE = 100_000
MAX_ID = 2**31 - 1  # the largest INTEGER both SQLite and PostgreSQL store in our id columns
# ASCII digits only: "²".isdigit() is true, and int() of 5,000 digits raises; ten digits hold MAX_ID.
WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def whole_number(raw: str) -> int | None:
    """The number a string of at most ten ASCII digits spells, else None."""
    return int(raw) if WHOLE_NUMBER.fullmatch(raw) else None


def page_arg() -> int:
    """The `page` query parameter; anything but a positive number is a 400."""
    page = whole_number(request.args.get("page", "1"))
    if page is None or not 1 <= page <= MAX_PAGE:
        abort(400, "The page number must be a positive whole number.")
    return page


def article_arg(args: Mapping[str, str] | None = None) -> int | None:
    """The optional `article` filter (an article number), from the query string or `args`."""
    raw = (request.args if args is None else args).get("article") or None
    if raw is None:
        return None
    article = whole_number(raw)
    if article is None or article > MAX_ID:
        abort(400, "The article filter must be an article number.")
    return article


def comment_ids(raw_ids: Iterable[str]) -> list[int]:
    """Comment numbers from a form (bulk decisions); anything else is a 400."""
    ids = [whole_number(raw) for raw in raw_ids]
    if not all(i is not None and 1 <= i <= MAX_ID for i in ids):
        abort(400, "Comment numbers must be whole numbers, as listed in the queue.")
    return ids  # type: ignore[return-value]


def valid_comment_id(number: int) -> int:
    """A comment number from the URL; one no comment can have is a 400."""
    if not 1 <= number <= MAX_ID:
        abort(400, f"There is no comment number {number}.")
    return number


def date_arg(name: str) -> date | None:
    """An optional year-month-day date between 1900 and 2999 (so a day after it always exists)."""
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        abort(400, f"The {name} date must look like 2026-11-03 (year-month-day).")
    if not EARLIEST <= value <= LATEST:
        abort(400, f"The {name} date must be between {EARLIEST} and {LATEST}.")
    return value
