"""Read-only queries for pages: articles, approved comments, the queue and its history."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Row, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import joinedload

from moderation.extensions import db
from moderation.models import ActionKind, Article, Comment, CommentStatus, ModerationAction
from moderation.services.comments import QueueFilters


def articles() -> list[Article]:
    """All articles, newest first."""
    return list(db.session.scalars(select(Article).order_by(Article.published.desc(), Article.id)))


# Built once: on the readers' hottest path, building the statement cost as much as running it.
ARTICLE_BY_SLUG = select(Article).where(Article.slug == bindparam("slug"))
ARTICLE_ROW_BY_SLUG = select(Article.__table__).where(Article.__table__.c.slug == bindparam("slug"))
ARTICLE_ROW_BY_URL = select(Article.__table__).where(Article.__table__.c.canonical_url == bindparam("url"))


def article_by_slug(slug: str) -> Article | None:
    return db.session.scalar(ARTICLE_BY_SLUG, {"slug": slug})


def article_row(slug: str) -> Row[Any] | None:
    """The article as a plain row, read on a connection of its own: no ORM session or object.

    Every page view reads it (its `comments_version` keys the cached page), and loading an ORM
    object through a session cost a quarter of a view. On SQLite the row is kept until anything
    is committed to the database (services/fresh_rows.py): most views then run no query at all.
    """
    return _kept_row(ARTICLE_ROW_BY_SLUG, "slug", slug)


def article_row_by_url(url: str) -> Row[Any] | None:
    """`article_row` by the article's canonical address (embeds name articles by it)."""
    return _kept_row(ARTICLE_ROW_BY_URL, "url", url)


def _kept_row(statement: Select, name: str, value: str) -> Row[Any] | None:
    def read() -> Row[Any] | None:
        with db.engine.connect() as connection:
            return connection.execute(statement, {name: value}).first()

    return current_app.extensions["article_rows"].get((name, value), read)


def article_row_to_write(slug: str) -> Row[Any] | None:
    """The article as a plain row, read in the session's transaction (posting writes in it next)."""
    return db.session.connection().execute(ARTICLE_ROW_BY_SLUG, {"slug": slug}).first()


def approved_comments(article: Article, page: int, per_page: int) -> Pagination:
    """The comments readers may see: approved only, newest first."""
    query = (select(Comment)
             .where(Comment.article_id == article.id, Comment.status == CommentStatus.APPROVED)
             .order_by(Comment.created_at.desc(), Comment.id.desc()))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def own_pending(article_id: int, comment_ids: list[int]) -> list[Comment]:
    """The reader's own comments on this article that still wait for a moderator, newest first."""
    ids = [i for i in comment_ids if isinstance(i, int)]
    if not ids:
        return []
    return list(db.session.scalars(
        select(Comment).where(Comment.id.in_(ids), Comment.article_id == article_id,
                              Comment.status == CommentStatus.PENDING)
        .order_by(Comment.created_at.desc(), Comment.id.desc())))


def page_of_comment(article: Article, comment_id: int, per_page: int, own: list[int]) -> int | None:
    """Which page of the article's comments shows this one (1 for the reader's own pending one)."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.article_id != article.id:
        return None
    if comment.status is CommentStatus.PENDING and comment_id in own:
        return 1
    if comment.status is not CommentStatus.APPROVED:
        return None
    newer = db.session.scalar(select(func.count(Comment.id)).where(
        Comment.article_id == article.id, Comment.status == CommentStatus.APPROVED,
        or_(Comment.created_at > comment.created_at,
            and_(Comment.created_at == comment.created_at, Comment.id > comment.id)))) or 0
    return newer // per_page + 1


def filtered(query: Select, filters: QueueFilters) -> Select:
    """Apply the queue's filters to a select over Comment."""
    if filters.status is not None:
        query = query.where(Comment.status == filters.status)
    if filters.article_id is not None:
        query = query.where(Comment.article_id == filters.article_id)
    if filters.topic is not None:
        query = query.where(Comment.topic == filters.topic)
    if filters.sentiment is not None:
        query = query.where(Comment.sentiment == filters.sentiment)
    if filters.unclassified:
        query = query.where(Comment.topic.is_(None))
    if filters.search:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", filters.search) + "%"
        query = query.where(or_(Comment.body.ilike(pattern, escape="\\"),
                                Comment.author.ilike(pattern, escape="\\")))
    return query


QUEUE_ORDERS = {
    "oldest": (Comment.created_at, Comment.id),
    "newest": (Comment.created_at.desc(), Comment.id.desc()),
    "uncertain": (Comment.topic_confidence.asc().nulls_last(), Comment.created_at, Comment.id),
}


def queue_page(filters: QueueFilters, page: int, per_page: int) -> Pagination:
    """Comments for the queue: oldest first by default, so nobody waits longest by accident."""
    query = filtered(select(Comment).options(joinedload(Comment.article)), filters)
    query = query.order_by(*QUEUE_ORDERS[filters.sort])
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def status_counts(filters: QueueFilters) -> dict[str, int]:
    """How many comments per status match the other filters (for the queue's tabs)."""
    base = QueueFilters(status=None, article_id=filters.article_id, topic=filters.topic,
                        sentiment=filters.sentiment, unclassified=filters.unclassified,
                        search=filters.search)
    query = filtered(select(Comment.status, func.count(Comment.id)), base).group_by(Comment.status)
    counts = {status.value: 0 for status in CommentStatus}
    counts.update({status.value: n for status, n in db.session.execute(query)})
    return counts


def comments_by_ids(comment_ids: list[int]) -> list[Comment]:
    """These comments with their articles, in the order of the ids given."""
    found = {c.id: c for c in db.session.scalars(
        select(Comment).options(joinedload(Comment.article)).where(Comment.id.in_(comment_ids)))}
    return [found[i] for i in comment_ids if i in found]


DECIDING = (ActionKind.APPROVE, ActionKind.REJECT, ActionKind.UNDO)


def latest_decisions(comment_ids: list[int]) -> dict[int, ModerationAction]:
    """For each comment, the approve, reject or undo that set its current status (who, why, when)."""
    if not comment_ids:
        return {}
    newest = (select(func.max(ModerationAction.id))
              .where(ModerationAction.comment_id.in_(comment_ids), ModerationAction.action.in_(DECIDING))
              .group_by(ModerationAction.comment_id))
    rows = db.session.scalars(select(ModerationAction).options(joinedload(ModerationAction.user))
                              .where(ModerationAction.id.in_(newest)))
    return {row.comment_id: row for row in rows}


def history_page(page: int, per_page: int) -> Pagination:
    """Decisions, newest first, with who made them."""
    query = (select(ModerationAction)
             .options(joinedload(ModerationAction.comment).joinedload(Comment.article),
                      joinedload(ModerationAction.user))
             .where(ModerationAction.action.in_(
                 [ActionKind.APPROVE, ActionKind.REJECT, ActionKind.UNDO, ActionKind.ERASE]))
             .order_by(ModerationAction.id.desc()))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def approved_comments_ordered(article: Article, page: int, per_page: int, oldest_first: bool) -> Pagination:
    """The approved comments, newest or oldest first (the API lets the reader choose)."""
    if not oldest_first:
        return approved_comments(article, page, per_page)
    query = (select(Comment)
             .where(Comment.article_id == article.id, Comment.status == CommentStatus.APPROVED)
             .order_by(Comment.created_at, Comment.id))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def article_digest(article: Any) -> str:
    """A digest of every field of an article row: an edit changes the keys of its cached pages."""
    fields = "\x1f".join(str(value) for value in article)
    return hashlib.blake2b(fields.encode(), digest_size=12).hexdigest()
