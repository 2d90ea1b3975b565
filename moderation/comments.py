"""Readers' pages: the article list, an article with its approved comments, and posting."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from moderation import dashboard, queries, service
from moderation.config import MAX_AUTHOR_CHARS, MAX_COMMENT_CHARS
from moderation.extensions import cache, limiter
from moderation.forms import HONEYPOT_FIELD, CommentForm
from moderation.models import Article, Role
from moderation.params import page_arg

bp = Blueprint("comments", __name__)

AWAITING = "Thank you! Your comment is awaiting moderation and will appear once a moderator approves it."
PUBLISHED = "Thank you! Your comment is published."
FIELD_LIMITS = {"author": MAX_AUTHOR_CHARS, "body": MAX_COMMENT_CHARS}


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
    form = CommentForm()
    form.submission_token.data = secrets.token_hex(16)
    return render_article(article_or_404(slug), form)


def render_article(article: Article, form: CommentForm, status: int = 200):
    breakdown = None
    if current_user.is_authenticated and current_user.has_role(Role.EDITOR, Role.ADMIN):
        breakdown = dashboard.article_breakdown(article.id)
    return render_template("comments/article.html", article=article, comment_list=comment_list(article),
                           form=form, breakdown=breakdown, limits=FIELD_LIMITS), status


def comment_list(article: Article) -> Markup:
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
        return render_article(article, form, 422)
    if request.form.get(HONEYPOT_FIELD):
        flash(AWAITING, "success")  # a bot filled the hidden field: store nothing, say nothing
        return redirect(url_for("comments.article", slug=slug, _anchor="comments"), 303)
    try:
        submitted = service.submit_comment(
            article, form.author.data or "", form.body.data or "", form.email.data,
            client_address=request.remote_addr, submission_token=form.submission_token.data or None,
        )
    except service.InvalidComment as invalid:
        return form_errors(article, form, invalid.errors)
    except service.NotAllowed as refused:
        form.body.errors = [*form.body.errors, str(refused)]
        return render_article(article, form, 422)
    flash(AWAITING if submitted.comment.status.value == "pending" else PUBLISHED, "success")
    return redirect(url_for("comments.article", slug=slug, _anchor="comments"), 303)


def form_errors(article: Article, form: CommentForm, errors: dict[str, str]):
    """Show the form again with the reader's text kept and each error beside its field."""
    for name, message in errors.items():
        field = getattr(form, name)
        field.errors = [*field.errors, message]
    return render_article(article, form, 422)
