"""The editors' dashboard: breakdowns, trends, representative comments and exports."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator

from flask import Blueprint, Response, abort, render_template, stream_with_context
from flask_login import current_user

from classifiers import TOPICS
from moderation.models import CommentStatus, Role
from moderation.pages import charts
from moderation.pages.auth import can_read_unpublished, roles_required
from moderation.params import dashboard_filters
from moderation.services import dashboard, names, queries

bp = Blueprint("editor", __name__, url_prefix="/editor")
EDITORS = (Role.EDITOR, Role.ADMIN)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheets skip leading spaces and invisible characters (U+FEFF, U+2060, U+00AD ...) before
# deciding that a cell is a formula; so does the guard.
HIDDEN_LEAD = re.compile(rf"^(?:\s|{names.INVISIBLE.pattern})+")


@bp.get("", endpoint="dashboard")
@roles_required(*EDITORS)
def dashboard_view():
    """The dashboard page: figures, charts with their tables, representative comments."""
    filters = dashboard_filters()
    figures = dashboard.summary(filters)
    return render_template(
        "editor/dashboard.html", filters=filters, figures=figures, articles=queries.articles(),
        topic_chart=charts.bar_chart(figures["topics"], "topic", "count", "Comments per topic"),
        sentiment_chart=charts.stacked_chart(figures["sentiment_by_topic"],
                                             ("positive", "neutral", "negative"),
                                             "Sentiment split per topic"),
        trend_chart=charts.line_chart(figures["trend"], TOPICS, "Comments per topic over time"),
        representatives=dashboard.representatives(filters), topics=TOPICS,
    )


def neutralise(value: object) -> object:
    """Stop spreadsheets from running a cell as a formula."""
    if isinstance(value, str) and (value.startswith(FORMULA_START)
                                   or HIDDEN_LEAD.sub("", value).startswith(FORMULA_START)):
        return "'" + value
    return value


def csv_lines(header: list[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _chain(header, rows):
        writer.writerow([neutralise(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _chain(header: list[str], rows: Iterable[Iterable[object]]) -> Iterator[Iterable[object]]:
    yield header
    yield from rows


def attachment(name: str, mimetype: str, body: Iterable[str]) -> Response:
    """A download that no browser or proxy keeps a copy of (it may hold readers' comments)."""
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export/breakdown.<fmt>")
@roles_required(*EDITORS)
def export_breakdown(fmt: str):
    """The figures being viewed, as CSV or JSON."""
    figures = dashboard.summary(dashboard_filters())
    if fmt == "json":
        return attachment("breakdown.json", "application/json", [json.dumps(figures, indent=2)])
    if fmt != "csv":
        abort(404)
    header = ["topic", "count", "share", "corrected_share", "corrected_ci95_low", "corrected_ci95_high",
              "fewer_than_30", "positive", "neutral", "negative", "mean_score"]
    sentiment = {r["topic"]: r for r in figures["sentiment_by_topic"]}
    rows = [[t["topic"], t["count"], t["share"], t.get("corrected_share"),
             *(t.get("corrected_ci95") or (None, None)), t.get("few"),
             *(sentiment.get(t["topic"], {}).get(k) for k in header[7:])] for t in figures["topics"]]
    return attachment("breakdown.csv", "text/csv", csv_lines(header, rows))


EXPORT_COLUMNS = ["id", "article", "author", "body", "created_at", "status", "topic",
                  "topic_confidence", "sentiment", "sentiment_score", "sentiment_neg", "sentiment_neu",
                  "sentiment_pos", "sentiment_compound", "model_version"]


def export_values(row) -> list[object]:
    values = list(row)
    values[4] = values[4].isoformat()
    values[5] = values[5].value
    return values


@bp.get("/export/comments.<fmt>")
@roles_required(*EDITORS)
def export_comments(fmt: str):
    """The comments behind the figures, streamed so a large export never sits in memory."""
    filters = dashboard_filters()
    if filters.statuses != (CommentStatus.APPROVED,) and not can_read_unpublished(current_user):
        abort(403, "Editors can export the text of published (approved) comments only; the figures "
                   "for every status are in the breakdown export. Admins can export all comments.")
    if fmt not in ("csv", "json"):
        abort(404)
    batches = dashboard.comments_for_export(filters)
    first = next(batches, [])  # the first query runs now: a failure is an error page, not a cut download
    rows = (export_values(r) for r in itertools.chain(first, itertools.chain.from_iterable(batches)))
    if fmt == "csv":
        return attachment("comments.csv", "text/csv", csv_lines(EXPORT_COLUMNS, rows))
    return attachment("comments.json", "application/json", json_array(rows))


def json_array(rows: Iterable[list[object]]) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        record = {k: neutralise(v) for k, v in zip(EXPORT_COLUMNS, row, strict=True)}
        yield ("," if index else "") + "\n" + json.dumps(record)
    yield "\n]\n"
