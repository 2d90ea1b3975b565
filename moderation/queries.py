"""Read-only queries for pages: articles, approved comments, the queue and its history."""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.orm import joinedload

from moderation.extensions import db
from moderation.models import ActionKind, Article, Comment, CommentStatus, ModerationAction
from moderation.service import QueueFilters


def articles() -> list[Article]:
    """All articles, newest first."""
    return list(db.session.scalars(select(Article).order_by(Article.published.desc(), Article.id)))


# Built once: on the readers' hottest path, building the statement cost as much as running it.
ARTICLE_BY_SLUG = select(Article).where(Article.slug == bindparam("slug"))


ARTICLE_ROW_BY_SLUG = select(Article.__table__).where(Article.__table__.c.slug == bindparam("slug"))


def article_by_slug(slug: str) -> Article | None:
    return db.session.scalar(ARTICLE_BY_SLUG, {"slug": slug})


def article_row(slug: str) -> Row[Any] | None:
    """The article as a plain row, for pages that only show it: half the cost of an ORM object."""
    return db.session.execute(ARTICLE_ROW_BY_SLUG, {"slug": slug}).first()


def approved_comments(article: Article, page: int, per_page: int) -> Pagination:
    """The comments readers may see: approved only, newest first."""
    query = (select(Comment)
             .where(Comment.article_id == article.id, Comment.status == CommentStatus.APPROVED)
             .order_by(Comment.created_at.desc(), Comment.id.desc()))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


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
    return query


def queue_page(filters: QueueFilters, page: int, per_page: int) -> Pagination:
    """Comments for the queue: oldest first, so nobody waits longest by accident."""
    query = filtered(select(Comment).options(joinedload(Comment.article)), filters)
    query = query.order_by(Comment.created_at, Comment.id)
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def status_counts(filters: QueueFilters) -> dict[str, int]:
    """How many comments per status match the other filters (for the queue's tabs)."""
    base = QueueFilters(status=None, article_id=filters.article_id, topic=filters.topic,
                        sentiment=filters.sentiment)
    query = filtered(select(Comment.status, func.count(Comment.id)), base).group_by(Comment.status)
    counts = {status.value: 0 for status in CommentStatus}
    counts.update({status.value: n for status, n in db.session.execute(query)})
    return counts


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
