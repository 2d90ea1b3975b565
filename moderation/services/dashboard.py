"""Editors' figures. Every number is computed by the database (GROUP BY), never in Python loops."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Select, func, literal_column, select

from classifiers import TOPICS
from moderation.extensions import db
from moderation.models import Article, Comment, CommentStatus
from moderation.services import shares

UNCLASSIFIED = "unclassified"
UNCERTAIN = "uncertain"
TOPIC_ORDER = (*TOPICS, UNCLASSIFIED)


@dataclass(frozen=True)
class DashboardFilters:
    start: date | None = None
    end: date | None = None
    article_id: int | None = None
    statuses: tuple[CommentStatus, ...] = (CommentStatus.APPROVED,)
    granularity: str = "day"
    query: dict[str, str] = field(default_factory=dict)


def scoped(query: Select, filters: DashboardFilters, with_status: bool = True) -> Select:
    """Apply date range (inclusive days), article and status filters."""
    if filters.start:
        query = query.where(Comment.created_at >= datetime.combine(filters.start, time.min))
    if filters.end:
        query = query.where(Comment.created_at < datetime.combine(filters.end + timedelta(days=1), time.min))
    if filters.article_id is not None:
        query = query.where(Comment.article_id == filters.article_id)
    if with_status:
        query = query.where(Comment.status.in_(filters.statuses))
    return query


def topic_label():
    """The topic, or 'unclassified'; a literal (not a bound parameter), so that PostgreSQL sees the
    SELECT and GROUP BY expressions as the same one."""
    return func.coalesce(Comment.topic, literal_column(f"'{UNCLASSIFIED}'"))


@dataclass(frozen=True)
class Fact:
    """Aggregates for one (status, topic) pair: the database's answer to one GROUP BY."""

    status: CommentStatus
    topic: str
    uncertain: bool
    count: int
    positive: int
    neutral: int
    negative: int
    score_sum: float
    score_count: int


def facts(filters: DashboardFilters) -> list[Fact]:
    """One scan for every count on the page, per status and topic.

    The GROUP BY uses the plain columns of ix_comments_status_topic_sentiment, so SQLite streams the
    groups along that covering index (a coalesce() or CASE per row costs 5x at 1M rows); the at most
    3 x 6 x 4 aggregate rows are then folded into Facts here.
    """
    query = scoped(select(Comment.status, Comment.topic, Comment.topic_uncertain, Comment.sentiment,
                          func.count(), func.sum(Comment.sentiment_score),
                          func.count(Comment.sentiment_score)),
                   filters, with_status=False)
    query = query.group_by(Comment.status, Comment.topic, Comment.topic_uncertain, Comment.sentiment)
    folded: dict[tuple[CommentStatus, str, bool], dict[str, float]] = {}
    rows = db.session.execute(query)
    for status, topic, uncertain, sentiment, count, score_sum, score_count in rows:
        fact = folded.setdefault((status, topic or UNCLASSIFIED, bool(uncertain)), dict.fromkeys(
            ("count", "positive", "neutral", "negative", "score_sum", "score_count"), 0))
        fact["count"] += count
        if sentiment in ("positive", "neutral", "negative"):
            fact[sentiment] += count
        fact["score_sum"] += float(score_sum or 0)
        fact["score_count"] += score_count
    return [Fact(status, topic, uncertain, int(v["count"]), int(v["positive"]), int(v["neutral"]),
                 int(v["negative"]), v["score_sum"], int(v["score_count"]))
            for (status, topic, uncertain), v in folded.items()]


def _selected(found: list[Fact], filters: DashboardFilters) -> list[Fact]:
    return [f for f in found if f.status in filters.statuses]


def topic_breakdown(filters: DashboardFilters, found: list[Fact] | None = None,
                    rates: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Count and share per topic, uncertain comments apart, and shares corrected for the model's confusion.

    A comment whose topic the model is unsure of is counted as `uncertain`, never under its topic;
    the corrected share uses every classified comment's best guess and the measured confusion.
    """
    counts: dict[str, int] = {}
    guessed: dict[str, int] = {}
    for fact in _selected(facts(filters) if found is None else found, filters):
        bucket = UNCERTAIN if fact.uncertain and fact.topic in TOPICS else fact.topic
        counts[bucket] = counts.get(bucket, 0) + fact.count
        if fact.topic in TOPICS:
            guessed[fact.topic] = guessed.get(fact.topic, 0) + fact.count
    total = sum(counts.values())
    adjusted = shares.corrected(guessed, rates)
    return [{"topic": t, "count": counts.get(t, 0),
             "share": round(counts.get(t, 0) / total, 4) if total else 0.0, **adjusted.get(t, {})}
            for t in (*TOPICS, UNCERTAIN, UNCLASSIFIED) if t in TOPICS or counts.get(t)]


def sentiment_by_topic(filters: DashboardFilters, found: list[Fact] | None = None) -> list[dict[str, Any]]:
    """Positive/neutral/negative split and the mean sentiment score (-1..1) per topic."""
    selected = _selected(facts(filters) if found is None else found, filters)
    rows = []
    for topic in TOPICS:
        mine = [f for f in selected if f.topic == topic]
        scored = sum(f.score_count for f in mine)
        rows.append({"topic": topic, "positive": sum(f.positive for f in mine),
                     "neutral": sum(f.neutral for f in mine), "negative": sum(f.negative for f in mine),
                     "total": sum(f.count for f in mine),
                     "mean_score": round(sum(f.score_sum for f in mine) / scored, 4)
                     if scored else None})
    return rows


def period_expression(granularity: str):
    """The day or ISO-week start of created_at, in the database's own dialect.

    PostgreSQL groups by the bare date_trunc() timestamp: formatting it per row with to_char()
    tripled the cost at 1M rows. period_label() names the groups afterwards.
    """
    if db.engine.dialect.name == "postgresql":
        return func.date_trunc(granularity, Comment.created_at)
    if granularity == "week":  # SQLite: back up to Monday
        return func.date(Comment.created_at, "-6 days", "weekday 1")
    return func.date(Comment.created_at)


def period_label(when: object) -> str:
    """'2026-11-03' for a period start, whether the database gave a timestamp or text."""
    return when.date().isoformat() if isinstance(when, datetime) else str(when)


def trend(filters: DashboardFilters) -> list[dict[str, Any]]:
    """Comments per topic and mean sentiment per day or week (grouped on plain columns)."""
    period = period_expression(filters.granularity).label("period")
    query = scoped(select(period, Comment.topic, func.count(),
                          func.sum(Comment.sentiment_score), func.count(Comment.sentiment_score)),
                   filters)
    query = query.group_by(period, Comment.topic).order_by(period)
    by_period: dict[str, dict[str, Any]] = {}
    for when, topic, count, score_sum, scored in db.session.execute(query):
        label = period_label(when)
        row = by_period.setdefault(label, {"period": label, "total": 0, "_sum": 0.0, "_scored": 0,
                                           **{t: 0 for t in TOPIC_ORDER}})
        row[topic or UNCLASSIFIED] += count
        row["total"] += count
        row["_sum"] += float(score_sum or 0)
        row["_scored"] += scored
    return [{**{k: v for k, v in r.items() if not k.startswith("_")},
             "mean_score": round(r["_sum"] / r["_scored"], 4) if r["_scored"] else None}
            for r in by_period.values()]


def moderation_by_topic(filters: DashboardFilters, found: list[Fact] | None = None) -> list[dict[str, Any]]:
    """Approved, rejected and pending per topic (every status), and the median minutes to a decision."""
    found = facts(filters) if found is None else found
    counts = {(f.topic, f.status): f.count for f in found}
    present = {f.topic for f in found}
    return [{"topic": t, **{s.value: counts.get((t, s), 0) for s in CommentStatus},
             "median_minutes_to_decision": median_minutes(filters, t)}
            for t in TOPIC_ORDER if t != UNCLASSIFIED or t in present]


def topic_is(topic: str):
    """A topic condition the (topic, ...) indexes can use, unlike a test on topic_label()."""
    return Comment.topic.is_(None) if topic == UNCLASSIFIED else Comment.topic == topic


def median_minutes(filters: DashboardFilters, topic: str) -> float | None:
    """Median of the stored decision_minutes: ORDER BY + OFFSET along the (topic, minutes) index."""
    base = scoped(select(Comment.decision_minutes), filters, with_status=False)
    base = base.where(topic_is(topic), Comment.decision_minutes.is_not(None))
    count = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    if not count:
        return None
    ordered = base.order_by(Comment.decision_minutes)
    middle = [db.session.scalar(ordered.offset(i).limit(1)) for i in {(count - 1) // 2, count // 2}]
    return round(sum(float(m) for m in middle) / len(middle), 2)


def representatives(filters: DashboardFilters, per_kind: int = 3) -> dict[str, dict[str, Any]]:
    """Per topic: the most positive, most negative and most confident approved comments.

    Only comments that fit are shown (a "most positive" comment is labelled positive), each comment
    at most once per topic, and every list says how many comments it was chosen from.
    """
    approved = DashboardFilters(filters.start, filters.end, filters.article_id,
                                (CommentStatus.APPROVED,))
    sizes = {f.topic: f for f in facts(approved) if f.status is CommentStatus.APPROVED}
    result: dict[str, dict[str, Any]] = {}
    for topic in TOPICS:
        fact = sizes.get(topic)
        pools = {"positive": fact.positive if fact else 0, "negative": fact.negative if fact else 0,
                 "confident": fact.count if fact else 0}
        shown: list[int] = []
        kinds = {}
        for kind in ("positive", "negative", "confident"):
            rows = _most(approved, topic, kind, shown, per_kind)
            shown += [row["id"] for row in rows]
            kinds[kind] = {"rows": rows, "pool": pools[kind]}
        result[topic] = {"approved": pools["confident"], "kinds": kinds}
    return result


def _most(approved: DashboardFilters, topic: str, kind: str, shown: list[int], limit: int) -> list[dict]:
    """The top comments of one kind; the tie-break runs with the main key, so each is an index walk."""
    base = scoped(select(Comment.id, Comment.author, Comment.body, Comment.topic_confidence,
                         Comment.sentiment_score, Article.slug, Article.title)
                  .join(Article), approved).where(Comment.topic == topic)
    if shown:
        base = base.where(Comment.id.not_in(shown))
    if kind == "confident":
        base = base.order_by(Comment.topic_confidence.desc(), Comment.id.desc())
    else:
        base = base.where(Comment.sentiment == kind)
        key = Comment.sentiment_score  # the sentiment model's score, as the label it ranks within
        base = base.order_by(key.desc(), Comment.id.desc()) if kind == "positive" else base.order_by(
            key.asc(), Comment.id.asc())
    return [row._asdict() for row in db.session.execute(base.limit(limit))]


def article_breakdown(article_id: int) -> dict[str, Any]:
    """The small breakdown editors see on an article page (approved comments)."""
    filters = DashboardFilters(article_id=article_id)
    found = facts(filters)
    return {"topics": topic_breakdown(filters, found, shares.confusion_rates()),
            "sentiment": sentiment_by_topic(filters, found)}


def summary(filters: DashboardFilters) -> dict[str, Any]:
    """Everything the dashboard shows, as plain values (also the JSON export)."""
    found = facts(filters)
    return {
        "filters": {"start": filters.start and filters.start.isoformat(),
                    "end": filters.end and filters.end.isoformat(),
                    "article": filters.article_id,
                    "statuses": [s.value for s in filters.statuses],
                    "granularity": filters.granularity},
        "topics": topic_breakdown(filters, found, shares.confusion_rates()),
        "sentiment_by_topic": sentiment_by_topic(filters, found),
        "trend": trend(filters),
        "moderation": moderation_by_topic(filters, found),
    }


def comments_for_export(filters: DashboardFilters, batch: int = 1000) -> Iterator[list[Any]]:
    """The comments behind the figures, with their classification, in batches of `batch` rows.

    Each batch is its own short query after the last id seen (no server-side cursor has to outlive
    the request), and the caller fetches the first batch before it starts its answer: a failing
    query is an error page, never a download that breaks off.
    """
    query = scoped(select(Comment.id, Article.slug, Comment.author, Comment.body,
                          Comment.created_at, Comment.status, Comment.topic,
                          Comment.topic_confidence, Comment.sentiment, Comment.sentiment_score,
                          Comment.sentiment_neg,
                          Comment.sentiment_neu, Comment.sentiment_pos,
                          Comment.sentiment_compound, Comment.model_version).join(Article),
                   filters).order_by(Comment.id)
    last = 0
    while rows := db.session.execute(query.where(Comment.id > last).limit(batch)).all():
        yield rows
        last = rows[-1].id
