"""Settings pages: per-article comment settings (editors, admins), word lists and trust (admins)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from moderation.models import Role
from moderation.pages.auth import roles_required
from moderation.pages.forms import ButtonForm
from moderation.params import whole_number
from moderation.services import article_settings, commenters, queries, wordlists

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.route("/articles/<slug>", methods=["GET", "POST"])
@roles_required(Role.EDITOR, Role.ADMIN)
def article(slug: str):
    """Comments open or closed, and pre-moderation on or off, for one article."""
    found = queries.article_by_slug(slug)
    if found is None:
        abort(404)
    form = ButtonForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        article_settings.update(found.id, request.form.get("comments_open") == "on",
                                request.form.get("premoderated") == "on")
        flash("The article's comment settings are saved.", "success")
        return redirect(url_for("settings.article", slug=slug), 303)
    return render_template("settings/article.html", article=found, form=form)


@bp.route("/moderation", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def moderation():
    """The banned and suspect word lists, and when commenters become trusted."""
    form = ButtonForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        errors = save(request.form)
        if not errors:
            flash("The moderation settings are saved.", "success")
            return redirect(url_for("settings.moderation"), 303)
    lists = {kind: [p for k, p in wordlists.entries() if k == kind] for kind in wordlists.KINDS}
    return render_template("settings/moderation.html", form=form, lists=lists, errors=errors,
                           sent=request.form if errors else None,
                           trusted_after=commenters.trust_threshold()), 422 if errors else 200


def save(values) -> dict[str, str]:
    """Store both lists and the trust threshold; return field -> message for what was refused."""
    errors = {}
    trusted_after = whole_number(values.get("trusted_after", "0").strip() or "0")  # not isdigit: "²"
    if trusted_after is None or trusted_after > 1000:
        errors["trusted_after"] = "Use a whole number from 0 (off) to 1000."
    for kind in wordlists.KINDS:
        try:
            wordlists.valid_phrases(values.get(kind, ""))
        except ValueError as problem:
            errors[kind] = str(problem)
    if errors:
        return errors  # nothing saved: every list and the number stay as they were
    for kind in wordlists.KINDS:
        wordlists.replace_list(kind, values.get(kind, ""), current_user)
    commenters.set_trust_threshold(trusted_after)
    return errors
