"""Readers' pages: the article list, an article with its approved comments, and posting."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import Row

from moderation import dashboard, queries, service
from moderation.config import MAX_AUTHOR_CHARS, MAX_COMMENT_CHARS, MAX_EMAIL_CHARS
from moderation.extensions import cache, limiter
from moderation.forms import HONEYPOT_FIELD, CommentForm
from moderation.models import Article, CommentStatus, Role
from moderation.params import page_arg

bp = Blueprint("comments", __name__)

AWAITING = "Thank you! Your comment is awaiting moderation and will appear once a moderator approves it."
PUBLISHED = "Thank you! Your comment is published."
FIELD_LIMITS = {"author": MAX_AUTHOR_CHARS, "email": MAX_EMAIL_CHARS, "body": MAX_COMMENT_CHARS}
FORM_FIELDS = ("author", "email", "body")
# What the article page shows: the ORM object when posting, a plain row when only reading.
ShownArticle = Article | Row[Any]


@dataclass(frozen=True)
class FormState:
    """What the comment form shows: the reader's values, errors by field, and the submission token.

    Plain values, so the article page renders its form as plain HTML: building and rendering a
    WTForms form took a third of a page view's time. Posting still validates with CommentForm.
    """

    submission_token: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def blank(cls) -> FormState:
        return cls(secrets.token_hex(16))

    @classmethod
    def of(cls, form: CommentForm, extra: dict[str, str] | None = None) -> FormState:
        """The posted form again, with its errors plus `extra` (field -> message from the service)."""
        errors = {name: [*form[name].errors] for name in FORM_FIELDS}
        for name, message in (extra or {}).items():
            errors.setdefault(name, []).append(message)
        return cls(form.submission_token.data or secrets.token_hex(16),
                   {name: form[name].data or "" for name in FORM_FIELDS}, errors)


def article_or_404(slug: str) -> Article:
    article = queries.article_by_slug(slug)
    if article is None:
        abort(404)
    return article


@bp.get("/")
def index():
    """List the articles."""
    return render_template("comments/index.html", articles=queries.articles())


@bp.get("/articles/<slug>")
def article(slug: str):
    """Show the article, its approved comments and the comment form."""
    article = queries.article_row(slug)
    if article is None:
        abort(404)
    if current_user.is_authenticated or get_flashed_messages():
        return render_article(article, FormState.blank())
    return reader_page(article)


def reader_page(article: ShownArticle) -> str:
    """The page every reader who is not logged in sees, rendered once per article state, with their tokens.

    For such a reader with no message waiting, nothing on the page but the form's CSRF and submission
    tokens depends on who asks: the cached shell holds two slots instead, filled for each request, so
    no reader's token is ever stored or shown to another. The key holds `comments_version` and a
    digest of the article's own fields, both from the row this request just read: never stale.
    """
    page, per_page = page_arg(), current_app.config["COMMENTS_PER_PAGE"]
    key = f"page:{article.id}:{article.comments_version}:{page}:{per_page}:{article_digest(article)}"
    csrf_slot, token_slot = token_slots()
    shell = cache.get(key)
    if shell is None:
        shell = render_template("comments/article.html", article=article, comment_list=comment_list(article),
                                form=FormState(token_slot), csrf_value=csrf_slot, breakdown=None,
                                limits=FIELD_LIMITS)
        cache.set(key, shell)
    return shell.replace(csrf_slot, generate_csrf(), 1).replace(token_slot, secrets.token_hex(16), 1)


def article_digest(article: ShownArticle) -> str:
    """A digest of what the page shows of the article itself (an edit changes the page's cache key)."""
    fields = (article.slug, article.title, article.standfirst, article.body, str(article.published),
              str(article.comments_open))
    return hashlib.blake2b("\x1f".join(fields).encode(), digest_size=12).hexdigest()


def token_slots() -> tuple[str, str]:
    """Placeholders no comment can hold: derived from the secret key (the same on every app server)."""
    digest = hashlib.sha256(b"page-token-slots:" + current_app.config["SECRET_KEY"].encode()).hexdigest()
    return f"csrf-slot-{digest[:24]}", f"token-slot-{digest[24:48]}"


def render_article(article: ShownArticle, form: FormState, status: int = 200):
    breakdown = None
    if current_user.is_authenticated and current_user.has_role(Role.EDITOR, Role.ADMIN):
        breakdown = dashboard.article_breakdown(article.id)
    return render_template("comments/article.html", article=article, comment_list=comment_list(article),
                           form=form, breakdown=breakdown, limits=FIELD_LIMITS), status


def comment_list(article: ShownArticle) -> Markup:
    """The approved comments' HTML, rendered once per article version and page, then cached.

    The key holds `comments_version`, which every decision, undo, erasure or published comment
    bumps in its own transaction: a reader can never get a list older than the article row they
    just read. The fragment is our own autoescaped template output (comment text is escaped in
    it), so marking it safe adds no unescaped user text; it holds nothing about the reader.
    """
    page, per_page = page_arg(), current_app.config["COMMENTS_PER_PAGE"]
    key = f"comments:{article.id}:{article.comments_version}:{page}:{per_page}"
    html = cache.get(key)
    if html is None:
        comments = queries.approved_comments(article, page, per_page)
        html = render_template("comments/_comment_list.html", article=article, comments=comments)
        cache.set(key, html)
    return Markup(html)


def comment_limit() -> str:
    return current_app.config["COMMENT_RATE_LIMIT"]


@bp.post("/articles/<slug>/comments")
@limiter.limit(comment_limit)
def post_comment(slug: str):
    """Store a reader's comment, then redirect (post/redirect/get) with what happens next."""
    article = article_or_404(slug)
    form = CommentForm()
    if not form.validate_on_submit():
        return render_article(article, FormState.of(form), 422)
    if request.form.get(HONEYPOT_FIELD):
        flash(AWAITING, "success")  # a bot filled the hidden field: store nothing, say nothing
        return redirect(url_for("comments.article", slug=slug, _anchor="comments"), 303)
    try:
        submitted = service.submit_comment(
            article, form.author.data or "", form.body.data or "", form.email.data,
            client_address=request.remote_addr, submission_token=form.submission_token.data or None,
        )
    except service.InvalidComment as invalid:
        return render_article(article, FormState.of(form, invalid.errors), 422)
    except service.NotAllowed as refused:
        return render_article(article, FormState.of(form, {"body": str(refused)}), 422)
    flash(AWAITING if submitted.status is CommentStatus.PENDING else PUBLISHED, "success")
    return redirect(url_for("comments.article", slug=slug, _anchor="comments"), 303)
