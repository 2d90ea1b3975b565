"""Per-article comment settings that editors and admins change on a page."""

from __future__ import annotations

from moderation.extensions import db
from moderation.models import Article


def update(article_id: int, comments_open: bool, premoderated: bool) -> Article:
    """Open or close comments, and switch pre-moderation, for one article."""
    article = db.session.get(Article, article_id)
    if article is None:
        raise LookupError(f"no article {article_id}")
    article.comments_open, article.premoderated = comments_open, premoderated
    db.session.commit()
    return article
