"""Articles: create, edit, close and find them by slug or canonical URL; the only code that writes them.

Pages, the CLI, the API's auto-registration and the importers all call these functions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError

from moderation.extensions import db
from moderation.models import Article, utcnow
from moderation.services import queries
from moderation.services.comments import InvalidComment, bump_comment_lists, clean_text

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_TITLE_CHARS = 300
MAX_URL_CHARS = 500
MAX_SLUG_CHARS = 200


@dataclass(frozen=True)
class ArticleFields:
    title: str
    canonical_url: str
    slug: str = ""
    comments_open: bool = True
    premoderated: bool = True


def slugify(text: str, limit: int = 80) -> str:
    """'Cloud bills: who pays?' -> 'cloud-bills-who-pays' (ASCII, lower case, hyphens)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text.lower()))[:limit].strip("-")


def normalise_url(url: str | None) -> str | None:
    """An absolute http(s) URL with lower-case scheme and host and no fragment; None if it is not one."""
    raw = clean_text(url)
    parts = urlsplit(raw)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in raw):
        return None
    netloc = parts.netloc.lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def field_errors(fields: ArticleFields, current: Article | None = None) -> dict[str, str]:
    """Check an article's fields; return field -> message for a person."""
    errors: dict[str, str] = {}
    if not clean_text(fields.title):
        errors["title"] = "Please give the article a title."
    elif len(clean_text(fields.title)) > MAX_TITLE_CHARS:
        errors["title"] = f"Titles can be at most {MAX_TITLE_CHARS} characters."
    url = normalise_url(fields.canonical_url)
    if url is None:
        errors["canonical_url"] = "Please enter the article's full address, starting with https://."
    elif len(url) > MAX_URL_CHARS:
        errors["canonical_url"] = f"Addresses can be at most {MAX_URL_CHARS} characters."
    elif _taken(Article.canonical_url, url, current):
        errors["canonical_url"] = "Another article already has this address."
    slug = clean_text(fields.slug)
    if slug and (not SLUG.fullmatch(slug) or len(slug) > MAX_SLUG_CHARS):
        errors["slug"] = "Slugs are lower-case letters, digits and single hyphens (e.g. cloud-bills)."
    elif slug and _taken(Article.slug, slug, current):
        errors["slug"] = "Another article already has this slug."
    return errors


def _taken(column, value: str, current: Article | None) -> bool:
    query = select(Article.id).where(column == value)
    if current is not None:
        query = query.where(Article.id != current.id)
    return db.session.scalar(query) is not None


def unique_slug(base: str) -> str:
    """The slug itself when free, else the first free 'slug-2', 'slug-3', ..."""
    base = base or "article"
    taken = set(db.session.scalars(select(Article.slug).where(Article.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def create_article(fields: ArticleFields, published: date | None = None) -> Article:
    """Validate and store a new article; the slug comes from the title when none is given."""
    errors = field_errors(fields)
    if errors:
        raise InvalidComment(errors)
    title = clean_text(fields.title)
    article = Article(title=title, canonical_url=normalise_url(fields.canonical_url),
                      slug=clean_text(fields.slug) or unique_slug(slugify(title)),
                      published=published or utcnow().date(), comments_open=fields.comments_open,
                      premoderated=fields.premoderated, standfirst="", body="")
    db.session.add(article)
    _commit_or_explain()
    return article


def update_article(article: Article, fields: ArticleFields) -> Article:
    """Change an article's title, address, slug and switches; readers' cached lists are renewed."""
    errors = field_errors(fields, current=article)
    if errors:
        raise InvalidComment(errors)
    article.title = clean_text(fields.title)
    article.canonical_url = normalise_url(fields.canonical_url)
    article.slug = clean_text(fields.slug) or article.slug
    article.comments_open, article.premoderated = fields.comments_open, fields.premoderated
    bump_comment_lists([article.id])  # the cached list links to the slug
    _commit_or_explain()
    return article


def close_article(article: Article) -> Article:
    """Stop new comments on the article; what was approved stays visible."""
    article.comments_open = False
    db.session.commit()
    return article


def _commit_or_explain() -> None:
    """Commit; a concurrent save that took the slug or address first becomes a field error."""
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise InvalidComment({"slug": "Another article took this slug or address a moment ago."}) from error


def article_key(reference: str | None) -> tuple[str, str] | None:
    """("url", the normalised address) or ("slug", the text) for an embed's data-article; None if empty."""
    reference = clean_text(reference)
    if not reference:
        return None
    url = normalise_url(reference) if reference.startswith(("http://", "https://")) else None
    return ("url", url) if url is not None else ("slug", reference)


def find_article(reference: str | None) -> Article | None:
    """The article with this slug or canonical URL (the embed's data-article may be either)."""
    key = article_key(reference)
    if key is None:
        return None
    kind, value = key
    column = Article.canonical_url if kind == "url" else Article.slug
    return db.session.scalar(select(Article).where(column == value))


def find_article_row(reference: str | None) -> Row[Any] | None:
    """`find_article` as a plain row on a connection of its own: for readers who only read."""
    key = article_key(reference)
    if key is None:
        return None
    kind, value = key
    return queries.article_row(value) if kind == "slug" else queries.article_row_by_url(value)


def article_by_id(article_id: int) -> Article | None:
    return db.session.get(Article, article_id)


def register_from_page(url: str, title: str | None) -> Article:
    """Create the article a news page stands for, on its first comment (auto-registration)."""
    normalised = normalise_url(url)
    fallback = (urlsplit(normalised).path.strip("/").rsplit("/", 1)[-1] if normalised else "") or "Article"
    name = clean_text(title)[:MAX_TITLE_CHARS] or fallback
    return create_article(ArticleFields(title=name, canonical_url=url))
