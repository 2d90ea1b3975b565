"""Staff log-in and log-out (Flask-Login), and the role check every staff page uses."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from moderation.extensions import limiter, login_manager
from moderation.models import Role, User
from moderation.pages.forms import ButtonForm, LoginForm
from moderation.services import accounts

bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."


SEEN_KEY = "staff_seen"
SEEN_STEP_SECONDS = 60  # refresh the idle clock at most once a minute: fewer new cookies


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The session's user, unless the session was ended (elsewhere, or by staying idle)."""
    user = accounts.user_for_session(session_id)
    if user is None or idle_too_long():
        session.pop("_user_id", None)
        return None
    return user


def idle_too_long() -> bool:
    """True when the staff session saw no request for STAFF_IDLE_MINUTES; else note this one."""
    now, seen = int(time.time()), session.get(SEEN_KEY)
    if not isinstance(seen, int) or now - seen > current_app.config["STAFF_IDLE_MINUTES"] * 60:
        flash("Your session ended after a while without activity. Please log in again.", "info")
        return True
    if now - seen >= SEEN_STEP_SECONDS:
        session[SEEN_KEY] = now
    return False


def start_session(user: User) -> None:
    """A fresh session for this user: nothing carried over, a new CSRF secret, the idle clock set."""
    session.clear()
    login_user(user)
    session[SEEN_KEY] = int(time.time())


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


# Who may read the text of comments that are not published (pending or rejected): the people who
# decide them. Editors read figures for every status but the text of approved comments only.
UNPUBLISHED_TEXT_READERS = (Role.MODERATOR, Role.ADMIN)


def can_read_unpublished(user: User) -> bool:
    """The role rule for the text of pending and rejected comments (queue, exports)."""
    return user.is_authenticated and user.has_role(*UNPUBLISHED_TEXT_READERS)


def safe_next(target: str | None) -> str | None:
    """Accept only a local path as the place to go after log-in (no open redirect)."""
    if not target or target.startswith(("//", "\\")) or "\\" in target or not target.isprintable():
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
        user = accounts.authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            start_session(user)
            return redirect(safe_next(request.args.get("next")) or home_for(user))
        form.password.errors.append("Unknown username or wrong password.")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Log out everywhere (a POST with CSRF, so another site cannot log you out).

    The session lives in a signed cookie, so a copy of it would outlive a plain log-out: ending
    the user's session generation makes every copy, on every server, worthless.
    """
    if ButtonForm().validate_on_submit():
        if current_user.is_authenticated:
            accounts.end_sessions(current_user)
        logout_user()
        session.clear()
        flash("You are logged out.", "info")
    return redirect(url_for("comments.index"))
