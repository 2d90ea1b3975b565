"""Query-string and form parsers shared by the blueprints: a bad value is a clear 400, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date

from flask import abort, request
from werkzeug.datastructures import MultiDict

from classifiers import SENTIMENTS, TOPICS
from moderation.models import CommentStatus
from moderation.services.comments import QueueFilters, clean_text
from moderation.services.dashboard import DashboardFilters

MAX_PAGE = 100_000
MAX_ID = 2**31 - 1  # the largest INTEGER both SQLite and PostgreSQL store in our id columns
# ASCII digits only: "²".isdigit() is true, and int() of 5,000 digits raises; ten digits hold MAX_ID.
WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
# The moderation queue's filters (the page's form and the API's query string read the same ones).
FILTER_KEYS = ("status", "article", "topic", "sentiment", "sort", "q")
SORTS = {"oldest": "Oldest first", "newest": "Newest first", "uncertain": "Least confident first"}
MAX_SEARCH_CHARS = 200
MAX_RANGE_DAYS = 3660  # the editors' dashboard: ten years at most


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


def refuse_impossible_ids(_endpoint: str | None, values: dict[str, object] | None) -> None:
    """A number in the address that no row can have is a clear 400, before a query overflows on it."""
    for name, value in (values or {}).items():
        if name.endswith("_id") and isinstance(value, int) and value > MAX_ID:
            abort(400, f"There is no {name.removesuffix('_id').replace('_', ' ')} number {value}.")


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


def queue_filters(args: MultiDict[str, str] | None = None) -> QueueFilters:
    """Read the queue filters from the query string (or a form); an unknown value is a clear 400."""
    args = request.args if args is None else args
    status = args.get("status", "pending")
    if status not in {s.value for s in CommentStatus} | {"all"}:
        abort(400, f"Unknown status {status!r}: use pending, approved, rejected or all.")
    topic = args.get("topic") or None
    if topic is not None and topic not in (*TOPICS, "unclassified"):
        abort(400, f"Unknown topic {topic!r}: use one of {', '.join(TOPICS)} or unclassified.")
    sentiment = args.get("sentiment") or None
    if sentiment is not None and sentiment not in SENTIMENTS:
        abort(400, f"Unknown sentiment {sentiment!r}: use {', '.join(SENTIMENTS)}.")
    sort = args.get("sort") or "oldest"
    if sort not in SORTS:
        abort(400, f"Unknown order {sort!r}: use {', '.join(SORTS)}.")
    search = clean_text(args.get("q")) or None
    if search and len(search) > MAX_SEARCH_CHARS:
        abort(400, f"Search for at most {MAX_SEARCH_CHARS} characters.")
    return QueueFilters(
        status=None if status == "all" else CommentStatus(status), sort=sort, search=search,
        article_id=article_arg(args),
        topic=None if topic == "unclassified" else topic,
        sentiment=sentiment, unclassified=topic == "unclassified",
        extra={k: args[k] for k in FILTER_KEYS if args.get(k)},
    )


def dashboard_filters() -> DashboardFilters:
    """Read the dashboard filters from the URL, so a view can be bookmarked; bad values are 400."""
    start, end = date_arg("start"), date_arg("end")
    if start and end and start > end:
        abort(400, "The start date must be on or before the end date.")
    if start and end and (end - start).days > MAX_RANGE_DAYS:
        abort(400, "The date range can be at most ten years.")
    article = article_arg()
    statuses = request.args.get("statuses", "approved")
    chosen = {"approved": (CommentStatus.APPROVED,), "all": tuple(CommentStatus)}.get(statuses)
    if chosen is None:
        abort(400, "Statuses must be 'approved' or 'all'.")
    granularity = request.args.get("by", "day")
    if granularity not in ("day", "week"):
        abort(400, "Trends can be by 'day' or 'week'.")
    kept = {k: request.args[k] for k in ("start", "end", "article", "statuses", "by")
            if request.args.get(k)}
    return DashboardFilters(start, end, article, chosen, granularity, kept)
