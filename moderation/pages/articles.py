"""Editors' and admins' article pages: list, create, edit and close the articles comments belong to."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from moderation.models import Article, Role
from moderation.pages.auth import roles_required
from moderation.pages.forms import ArticleForm, ButtonForm
from moderation.services import articles as article_service
from moderation.services import comments as service
from moderation.services import queries
from moderation.services.articles import ArticleFields

bp = Blueprint("articles", __name__, url_prefix="/manage/articles")
EDITORS = (Role.EDITOR, Role.ADMIN)


def article_or_404(article_id: int) -> Article:
    article = article_service.article_by_id(article_id)
    if article is None:
        abort(404)
    return article


def fields_from(form: ArticleForm) -> ArticleFields:
    return ArticleFields(title=form.title.data or "", canonical_url=form.canonical_url.data or "",
                         slug=form.slug.data or "", comments_open=bool(form.comments_open.data),
                         premoderated=bool(form.premoderated.data))


def show_errors(form: ArticleForm, errors: dict[str, str]) -> None:
    """Put each service error beside its field."""
    for name, message in errors.items():
        field = getattr(form, name)
        field.errors = [*field.errors, message]


@bp.get("")
@roles_required(*EDITORS)
def index():
    """Every article with its address, switches and a link to edit it."""
    return render_template("articles/index.html", articles=queries.articles(), button_form=ButtonForm())


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def create():
    """The new-article form."""
    form = ArticleForm()
    if form.validate_on_submit():
        try:
            article = article_service.create_article(fields_from(form))
        except service.InvalidComment as invalid:
            show_errors(form, invalid.errors)
        else:
            flash(f"Article created: /articles/{article.slug}", "success")
            return redirect(url_for("articles.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("articles/form.html", form=form, article=None), status


@bp.route("/<int:article_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(article_id: int):
    """Edit an article's title, address, slug and switches."""
    article = article_or_404(article_id)
    form = ArticleForm(obj=article)
    if form.validate_on_submit():
        try:
            article_service.update_article(article, fields_from(form))
        except service.InvalidComment as invalid:
            show_errors(form, invalid.errors)
        else:
            flash("Article saved.", "success")
            return redirect(url_for("articles.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("articles/form.html", form=form, article=article), status


@bp.post("/<int:article_id>/close")
@roles_required(*EDITORS)
def close(article_id: int):
    """Close comments on an article (a button with CSRF)."""
    article = article_or_404(article_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    article_service.close_article(article)
    flash(f"Comments are closed on “{article.title}”.", "success")
    return redirect(url_for("articles.index"), 303)
