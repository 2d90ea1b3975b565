"""Readers' pages: the article list, an article with its approved comments, and posting."""

from __future__ import annotations

import functools
import hashlib
import secrets
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import Row

from moderation import ratelimits
from moderation.config import MAX_AUTHOR_CHARS, MAX_COMMENT_CHARS
from moderation.extensions import cache, limiter
from moderation.models import Article, Comment, Role
from moderation.pages.forms import HONEYPOT_FIELD, CommentForm
from moderation.params import page_arg
from moderation.services import commenters, dashboard, queries
from moderation.services import comments as service

bp = Blueprint("comments", __name__)

FIELD_LIMITS = {"author": MAX_AUTHOR_CHARS, "body": MAX_COMMENT_CHARS}
# The reader's own recent comments, remembered in their (signed) session cookie only, so the
# pending ones are shown to that browser and nobody else, outside the shared cached list.
OWN_COMMENTS_KEY, OWN_COMMENTS_KEPT = "own_comments", 20
YOUR_COMMENT = "your-comment"
# Session keys that put something of the reader's own on the page: a message, a staff login.
SESSION_STATE = frozenset({"posted", "_flashes", "_user_id"})
# What the article page shows: the ORM object after a refused post, a plain row when only reading.
ShownArticle = Article | Row[Any]


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
    shown = queries.article_row(slug)
    if shown is None:
        abort(404)
    own = own_pending(shown.id)
    if not own and sees_the_shared_page():
        return reader_page(shown)
    form = CommentForm()
    form.submission_token.data = secrets.token_hex(16)
    return render_article(shown, form, own=own)


def own_pending(article_id: int) -> list[Comment]:
    """The reader's own comments here that still wait (their session lists them; none: no query)."""
    kept = session.get(OWN_COMMENTS_KEY)
    return queries.own_pending(article_id, kept) if kept else []


def sees_the_shared_page() -> bool:
    """True for a reader with nothing of their own to show: not logged in, no message waiting.

    Read from the session's keys: asking Flask-Login first would run its user loading (and its
    session-protection hash) for every anonymous reader. Staff never log in with a remember cookie;
    one sent anyway takes the full path, where Flask-Login decides.
    """
    return (SESSION_STATE.isdisjoint(session)
            and current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") not in request.cookies)


def reader_page(article: ShownArticle) -> str:
    """The page every such reader sees, rendered once per article state, with their own tokens.

    Nothing on it but the form's CSRF and submission tokens depends on who asks: the cached page
    holds two slots instead, filled for each request, so no reader's token is ever stored or shown
    to another. The key holds `comments_version` and a digest of the article's fields, both from
    the row this request just read: a decision, undo, erasure or edit committed before it is seen.
    """
    page, per_page = page_arg(), current_app.config["COMMENTS_PER_PAGE"]
    key = f"page:{article.id}:{article.comments_version}:{page}:{per_page}:{queries.article_digest(article)}"
    csrf_slot, token_slot = token_slots()
    shell = cache.get(key)
    if shell is None:
        form = CommentForm()
        form.submission_token.data = token_slot
        shell = render_template("comments/article.html", article=article, comment_list=comment_list(article),
                                form=form, csrf_value=csrf_slot, breakdown=None, limits=FIELD_LIMITS,
                                own_pending=[], posted=None)
        cache.set(key, shell)
    return shell.replace(csrf_slot, generate_csrf(), 1).replace(token_slot, secrets.token_hex(16), 1)


def token_slots() -> tuple[str, str]:
    """Placeholders no comment or article can hold: derived from the secret key (the same on every server)."""
    return slots_for(current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=4)
def slots_for(secret_key: str) -> tuple[str, str]:
    """Hashed once per key: every reader's page view fills these slots."""
    digest = hashlib.sha256(b"page-token-slots:" + secret_key.encode()).hexdigest()
    return f"csrf-slot-{digest[:24]}", f"token-slot-{digest[24:48]}"


def render_article(article: ShownArticle, form: CommentForm, status: int = 200,
                   own: list[Comment] | None = None):
    """The page with this reader's own parts: their form and messages, waiting comments, staff tools."""
    breakdown = None
    if current_user.is_authenticated and current_user.has_role(Role.EDITOR, Role.ADMIN):
        breakdown = dashboard.article_breakdown(article.id)
    return render_template("comments/article.html", article=article, comment_list=comment_list(article),
                           form=form, breakdown=breakdown, limits=FIELD_LIMITS,
                           own_pending=own_pending(article.id) if own is None else own,
                           posted=session.pop("posted", None)), status


def remember_own(comment_id: int, message: str) -> None:
    """Keep this comment in the reader's session so their browser shows it while it waits."""
    kept = [i for i in session.get(OWN_COMMENTS_KEY, []) if i != comment_id]
    session[OWN_COMMENTS_KEY] = [*kept, comment_id][-OWN_COMMENTS_KEPT:]
    session["posted"] = message


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


@bp.post("/articles/<slug>/comments")
@limiter.limit(ratelimits.comment_limit)
def post_comment(slug: str):
    """Store a reader's comment, then redirect (post/redirect/get) with what happens next."""
    article = queries.article_row_to_write(slug)  # the service reads its id and switches: a row will do
    if article is None:
        abort(404)
    form = CommentForm()
    if not form.validate_on_submit():
        return render_article(article, form, 422)
    if request.form.get(HONEYPOT_FIELD):
        session["posted"] = service.AWAITING  # a bot filled the hidden field: store nothing, say nothing
        return redirect(url_for("comments.article", slug=slug, _anchor=YOUR_COMMENT), 303)
    try:
        submitted = service.submit_comment(
            article, form.author.data or "", form.body.data or "", form.email.data,
            client_address=request.remote_addr, submission_token=usable_token(form.submission_token.data),
        )
    except service.InvalidComment as invalid:
        return form_errors(article, form, invalid.errors)
    except service.NotAllowed as refused:
        return form_errors(article, form, {"body": str(refused)})
    except commenters.Refused as refused:
        return form_errors(article, form, {"email": str(refused)})
    # A comment the banned-word list rejected gets the same neutral answer as any other.
    remember_own(submitted.comment_id, service.reader_message(submitted.status))
    return redirect(url_for("comments.article", slug=slug, _anchor=YOUR_COMMENT), 303)


@bp.get("/articles/<slug>/comments")
def comments_form(slug: str):
    """The form's address, opened directly (a bookmark, or back after an error): go to the form."""
    return redirect(url_for("comments.article", slug=article_or_404(slug).slug, _anchor="leave-comment"))


@bp.get("/articles/<slug>/comments/<int:comment_id>")
def permalink(slug: str, comment_id: int):
    """A comment's own address: the article page it is on, scrolled to it."""
    article = article_or_404(slug)
    page = queries.page_of_comment(article, comment_id, current_app.config["COMMENTS_PER_PAGE"],
                                   session.get(OWN_COMMENTS_KEY, []))
    if page is None:
        abort(404, "There is no published comment at this address.")
    args = {"page": page} if page > 1 else {}
    return redirect(url_for("comments.article", slug=slug, _anchor=f"comment-{comment_id}", **args))


def usable_token(token: str | None) -> str | None:
    """The form's double-submit token, or None when it is not one we could have issued (harmless to drop)."""
    return token if token and len(token) <= 64 else None


def form_errors(article: ShownArticle, form: CommentForm, errors: dict[str, str]):
    """Show the form again with the reader's text kept and each error beside its field."""
    for name, message in errors.items():
        field = getattr(form, name)
        field.errors = [*field.errors, message]
    return render_article(article, form, 422)
