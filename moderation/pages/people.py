"""Commenters for moderators: a commenter's history, ban, suspend and lifting (by email hash)."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from moderation.models import Role
from moderation.pages.auth import roles_required
from moderation.pages.forms import ButtonForm
from moderation.services import commenters

bp = Blueprint("people", __name__, url_prefix="/moderation/commenters")
MODERATORS = (Role.MODERATOR, Role.ADMIN)
HASH = re.compile(r"[0-9a-f]{64}")


def hash_or_404(hashed: str) -> str:
    if not HASH.fullmatch(hashed):
        abort(404)
    return hashed


@bp.get("/<hashed>")
@roles_required(*MODERATORS)
def history(hashed: str):
    """Earlier comments and decisions, counts, and what holds now; the address for admins only."""
    found = commenters.history(hash_or_404(hashed))
    return render_template("people/history.html", found=found, button_form=ButtonForm(),
                           show_email=current_user.has_role(Role.ADMIN))


@bp.post("/<hashed>/standing")
@roles_required(*MODERATORS)
def change_standing(hashed: str):
    """Ban, suspend for N days, or lift either; a reason is required for bans and suspensions."""
    hashed = hash_or_404(hashed)
    if not ButtonForm().validate_on_submit():
        abort(400)
    action, raw_days = request.form.get("action", ""), request.form.get("days", "")
    if raw_days and not raw_days.isdigit():
        abort(400, "The number of days must be a whole number.")
    try:
        commenters.act(hashed, action, current_user, request.form.get("reason"),
                       int(raw_days) if raw_days else None)
    except ValueError as problem:
        flash(str(problem), "warning")
    else:
        flash({"ban": "The commenter is banned.", "suspend": "The commenter is suspended.",
               "lift": "The ban or suspension is lifted."}[action], "success")
    return redirect(url_for("people.history", hashed=hashed), 303)
