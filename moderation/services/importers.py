"""Importers: Disqus XML, WordPress WXR and Isso SQLite exports, brought in through the services.

Readers (`read_disqus`, `read_wordpress`, `read_isso`) turn a file into plain records and never touch
the database; `import_export` stores them: each article found by its canonical URL or created by the
article service, each comment with its date and state, an audit row and a classify job (the worker
classifies them in batches). The source's comment id is kept, so running an import again adds nothing.
XML is read with the standard library over expat >= 2.4.1, which refuses entity-expansion bombs and
never fetches external entities.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

from sqlalchemy import select

from moderation.config import MAX_AUTHOR_CHARS
from moderation.extensions import db
from moderation.jobs import queue as jobs
from moderation.models import ActionKind, Article, Comment, CommentStatus, ModerationAction
from moderation.services import articles as article_service
from moderation.services import comments as service

ANONYMOUS = "Anonymous"
COMMIT_EVERY = 200
SOURCES = {"disqus": "Disqus", "wordpress": "WordPress", "isso": "Isso"}


class ImportFailed(ValueError):
    """The export cannot be read; the message says why, for a person."""


@dataclass(frozen=True)
class ImportedArticle:
    url: str
    title: str
    published: date | None = None


@dataclass(frozen=True)
class ImportedComment:
    external_id: str
    article_key: str
    author: str
    email: str
    body: str
    created_at: datetime
    status: CommentStatus


@dataclass
class Export:
    source: str
    articles: dict[str, ImportedArticle] = field(default_factory=dict)
    comments: list[ImportedComment] = field(default_factory=list)


@dataclass
class ImportResult:
    articles_added: int = 0
    comments_added: int = 0
    already_there: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (external id, why)


# ----- reading ---------------------------------------------------------------------------------

class _TextOnly(HTMLParser):
    """Keep the text of an HTML comment body, with paragraph and line breaks."""

    BREAKS = {"p": "\n\n", "br": "\n", "div": "\n", "li": "\n", "blockquote": "\n\n"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:  # type: ignore[no-untyped-def]
        self.parts.append(self.BREAKS.get(tag, ""))

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text from a comment's HTML; our pages show comments as text only."""
    parser = _TextOnly()
    parser.feed(markup or "")
    parser.close()
    lines = "".join(parser.parts).replace("\r\n", "\n").split("\n")
    text = "\n".join(line.strip() for line in lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _text(element: ElementTree.Element, name: str) -> str:
    child = _child(element, name)
    return (child.text or "").strip() if child is not None else ""


def _attribute(element: ElementTree.Element | None, name: str) -> str:
    if element is None:
        return ""
    return next((v for k, v in element.attrib.items() if _local(k) == name), "")


def _parse_xml(path: Path) -> ElementTree.Element:
    try:
        return ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise ImportFailed(f"{path.name} is not well-formed XML ({error}).") from error


def _utc(raw: str, formats: Iterable[str]) -> datetime | None:
    """A naive UTC datetime from the export's timestamp, or None when it has none."""
    for pattern in formats:
        try:
            parsed = datetime.strptime(raw.strip(), pattern)
        except ValueError:
            continue
        return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return None


def read_disqus(path: Path) -> Export:
    """Threads and posts of a Disqus export (spam and deleted posts come in as rejected)."""
    root = _parse_xml(path)
    if _local(root.tag) != "disqus":
        raise ImportFailed(f"{path.name} is not a Disqus export (its root element is <{_local(root.tag)}>).")
    export = Export("disqus")
    for thread in (e for e in root if _local(e.tag) == "thread"):
        created = _utc(_text(thread, "createdAt"), ("%Y-%m-%dT%H:%M:%SZ",))
        export.articles[_attribute(thread, "id")] = ImportedArticle(
            _text(thread, "link"), _text(thread, "title"), created.date() if created else None)
    for post in (e for e in root if _local(e.tag) == "post"):
        author = _child(post, "author")
        flags = {name: _text(post, name).lower() == "true" for name in ("isSpam", "isDeleted")}
        approved = _text(post, "isApproved").lower() != "false"
        status = (CommentStatus.REJECTED if any(flags.values())
                  else CommentStatus.APPROVED if approved else CommentStatus.PENDING)
        export.comments.append(ImportedComment(
            external_id=f"disqus:{_attribute(post, 'id')}",
            article_key=_attribute(_child(post, "thread"), "id"),
            author=_text(author, "name") if author is not None else "",
            email=_text(author, "email") if author is not None else "",
            body=html_to_text(_text(post, "message")),
            created_at=_utc(_text(post, "createdAt"), ("%Y-%m-%dT%H:%M:%SZ",)) or _now(),
            status=status))
    return export


WP_STATES = {"1": CommentStatus.APPROVED, "0": CommentStatus.PENDING, "spam": CommentStatus.REJECTED,
             "trash": CommentStatus.REJECTED}
WP_DATES = ("%Y-%m-%d %H:%M:%S",)


def read_wordpress(path: Path) -> Export:
    """Posts and their comments from a WordPress export (WXR); pingbacks and trackbacks are left out."""
    root = _parse_xml(path)
    channel = _child(root, "channel")
    if _local(root.tag) != "rss" or channel is None:
        raise ImportFailed(f"{path.name} is not a WordPress export (WXR): no <rss><channel>.")
    export = Export("wordpress")
    for item in (e for e in channel if _local(e.tag) == "item"):
        key = _text(item, "post_id")
        published = _utc(_text(item, "post_date_gmt"), WP_DATES)
        export.articles[key] = ImportedArticle(_text(item, "link"), _text(item, "title"),
                                               published.date() if published else None)
        for comment in (e for e in item if _local(e.tag) == "comment"):
            if _text(comment, "comment_type") in ("pingback", "trackback"):
                continue
            export.comments.append(ImportedComment(
                external_id=f"wordpress:{_text(comment, 'comment_id')}", article_key=key,
                author=_text(comment, "comment_author"), email=_text(comment, "comment_author_email"),
                body=html_to_text(_text(comment, "comment_content")),
                created_at=(_utc(_text(comment, "comment_date_gmt"), WP_DATES)
                            or _utc(_text(comment, "comment_date"), WP_DATES) or _now()),
                status=WP_STATES.get(_text(comment, "comment_approved"), CommentStatus.PENDING)))
    return export


ISSO_STATES = {1: CommentStatus.APPROVED, 2: CommentStatus.PENDING, 4: CommentStatus.REJECTED}


def read_isso(path: Path, site: str | None) -> Export:
    """Threads and comments of an Isso database; Isso keeps page paths, so `site` makes them URLs."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            threads = connection.execute("SELECT id, uri, title FROM threads").fetchall()
            rows = connection.execute("SELECT tid, id, created, mode, text, author, email FROM comments "
                                      "ORDER BY id").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise ImportFailed(f"{path.name} is not an Isso database ({error}).") from error
    export = Export("isso")
    for thread_id, uri, title in threads:
        url = urljoin(site.rstrip("/") + "/", uri.lstrip("/")) if site and uri.startswith("/") else uri
        export.articles[str(thread_id)] = ImportedArticle(url, title or "")
    for thread_id, comment_id, created, mode, text, author, email in rows:
        export.comments.append(ImportedComment(
            external_id=f"isso:{comment_id}", article_key=str(thread_id), author=author or "",
            email=email or "", body=text or "",
            created_at=datetime.fromtimestamp(created, UTC).replace(tzinfo=None),
            status=ISSO_STATES.get(mode, CommentStatus.PENDING)))
    return export


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ----- storing ---------------------------------------------------------------------------------

def import_export(export: Export, progress: Callable[[int], None] = lambda _: None) -> ImportResult:
    """Store the export's articles and new comments; a comment already imported is left alone."""
    result = ImportResult()
    articles = {key: _article_for(record, result) for key, record in export.articles.items()}
    seen = _already_imported([c.external_id for c in export.comments])
    touched: set[int] = set()
    for index, record in enumerate(export.comments, start=1):
        article = articles.get(record.article_key)
        if record.external_id in seen:
            result.already_there += 1
        elif article is None:
            result.skipped.append((record.external_id, "its article could not be imported"))
        elif (problem := _store_comment(article, record, SOURCES[export.source])) is not None:
            result.skipped.append((record.external_id, problem))
        else:
            seen.add(record.external_id)
            result.comments_added += 1
            touched.add(article.id)
        if index % COMMIT_EVERY == 0:
            _commit(touched)
        progress(1)
    _commit(touched)
    return result


def _article_for(record: ImportedArticle, result: ImportResult) -> Article | None:
    """The article with this canonical URL, created through the article service when new."""
    if not record.url.startswith(("http://", "https://")):
        result.skipped.append((record.url, "the page has no full address (for Isso, give --site)"))
        return None
    existing = article_service.find_article(record.url)
    if existing is not None:
        return existing
    try:
        article = article_service.create_article(
            article_service.ArticleFields(title=record.title or record.url, canonical_url=record.url),
            published=record.published)
    except service.InvalidComment as invalid:
        result.skipped.append((record.url, "; ".join(invalid.errors.values())))
        return None
    result.articles_added += 1
    return article


def _already_imported(external_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(external_ids), 500):
        chunk = external_ids[start:start + 500]
        found.update(db.session.scalars(select(Comment.external_id).where(Comment.external_id.in_(chunk))))
    return found


def _store_comment(article: Article, record: ImportedComment, source: str) -> str | None:
    """Add one imported comment with its audit row and classify job; return why not, if it breaks a rule."""
    author = service.clean_text(record.author)[:MAX_AUTHOR_CHARS] or ANONYMOUS
    body = service.clean_text(record.body)
    email = service.clean_text(record.email).lower()
    errors = service.validation_errors(author, email, body)
    if "email" in errors:  # keep the comment, drop the unusable address
        email, errors = "", {k: v for k, v in errors.items() if k != "email"}
    if errors:
        return "; ".join(errors.values())
    decided = None if record.status is CommentStatus.PENDING else record.created_at
    comment = Comment(article=article, author=author, email=email or None, body=body,
                      created_at=record.created_at, decided_at=decided, status=record.status,
                      external_id=record.external_id)
    comment.actions.append(ModerationAction(action=ActionKind.SUBMIT, to_status=record.status.value,
                                            reason=f"Imported from {source} ({record.status.value} there)"))
    db.session.add(comment)
    db.session.flush()
    jobs.enqueue(jobs.CLASSIFY, comment.id)
    return None


def _commit(touched: set[int]) -> None:
    service.bump_comment_lists(touched)
    db.session.commit()
    touched.clear()
