"""Staff accounts: everyone changes their own password; admins disable and enable accounts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from moderation.extensions import db
from moderation.models import Role, User
from moderation.pages.auth import roles_required, start_session
from moderation.pages.forms import ButtonForm, PasswordForm
from moderation.services import accounts
from moderation.services import comments as service

bp = Blueprint("staff", __name__)


@bp.route("/account/password", methods=["GET", "POST"])
@roles_required(*Role)
def password():
    """Change your own password; every other session of yours ends, this one continues."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data or "",
                                     form.new_password.data or "", form.confirm_password.data or "")
        except service.InvalidComment as invalid:
            for name, message in invalid.errors.items():
                getattr(form, name).errors.append(message)
        else:
            start_session(current_user)
            flash("Your password is changed. Any other session of yours has ended.", "success")
            return redirect(url_for("staff.password"), 303)
    return render_template("staff/password.html", form=form), 422 if form.errors else 200


@bp.get("/admin/users")
@roles_required(Role.ADMIN)
def users():
    """Every staff account, with a button to disable or enable it."""
    return render_template("staff/users.html", users=accounts.all_users(), form=ButtonForm())


@bp.post("/admin/users/<int:user_id>/<any(disable, enable):change>")
@roles_required(Role.ADMIN)
def set_disabled(user_id: int, change: str):
    """Disable an account (its sessions end on every server at once) or enable it again."""
    if not ButtonForm().validate_on_submit():
        abort(400, "The form had expired. Please reload the page and try again.")
    user = db.session.get(User, user_id) if user_id <= 2**31 - 1 else None
    if user is None:
        abort(404)
    try:
        accounts.set_disabled(user, change == "disable", by=current_user)
    except service.NotAllowed as refused:
        flash(str(refused), "warning")
    else:
        flash(f"{user.username} is {'disabled' if user.disabled_at else 'enabled'}.", "success")
    return redirect(url_for("staff.users"), 303)
