"""Staff log-in and log-out (Flask-Login), and the role check every staff page uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from moderation import service
from moderation.extensions import db, limiter, login_manager
from moderation.forms import ButtonForm, LoginForm
from moderation.models import Role, User

bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def roles_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let only logged-in users with one of `roles` through: anonymous -> login, others -> 403."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator


def safe_next(target: str | None) -> str | None:
    """Accept only a local path as the place to go after log-in (no open redirect)."""
    if not target or target.startswith(("//", "\\")) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    return target


def home_for(user: User) -> str:
    if user.has_role(Role.MODERATOR, Role.ADMIN):
        return url_for("queue.index")
    return url_for("editor.dashboard")


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    """Show and handle the log-in form."""
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or home_for(user))
        form.password.errors.append("Unknown username or wrong password.")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Log out (a POST with CSRF, so another site cannot log you out)."""
    if ButtonForm().validate_on_submit():
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("comments.index"))
