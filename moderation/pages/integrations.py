"""Staff pages for running beside a news site: personal API tokens and the sites allowed to embed."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from moderation.models import Role
from moderation.pages.auth import roles_required
from moderation.pages.forms import ButtonForm, OriginForm, TokenForm, WebhookForm
from moderation.services import comments as service
from moderation.services import origins, tokens, webhooks

bp = Blueprint("integrations", __name__, url_prefix="/integrations")
ALL_STAFF = tuple(Role)


def field_errors(form, errors: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    for name, message in errors.items():
        field = getattr(form, name)
        field.errors = [*field.errors, message]


def render_tokens(form: TokenForm, new_token: str | None = None, status: int = 200):
    return render_template("integrations/tokens.html", form=form, tokens=tokens.tokens_of(current_user),
                           new_token=new_token, button_form=ButtonForm()), status


@bp.get("/tokens")
@roles_required(*ALL_STAFF)
def token_list():
    """Your API tokens; a new one is shown once, right after it is made."""
    return render_tokens(TokenForm())


@bp.post("/tokens")
@roles_required(*ALL_STAFF)
def create_token():
    """Make a token and show it once (no redirect: it must never sit in a cookie or a URL)."""
    form = TokenForm()
    if not form.validate_on_submit():
        return render_tokens(form, status=422)
    try:
        _, raw = tokens.create_token(current_user, form.name.data or "")
    except service.InvalidComment as invalid:
        field_errors(form, invalid.errors)
        return render_tokens(form, status=422)
    return render_tokens(TokenForm(formdata=None), new_token=raw)


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required(*ALL_STAFF)
def revoke_token(token_id: int):
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        token = tokens.revoke(current_user, token_id)
    except LookupError:
        abort(404)
    flash(f"Token “{token.name}” revoked: it no longer works.", "success")
    return redirect(url_for("integrations.token_list"), 303)


def render_origins(form: OriginForm, status: int = 200):
    return render_template("integrations/origins.html", form=form, origins=origins.allowed_origins(),
                           configured=sorted(origins.configured_origins()), button_form=ButtonForm()), status


@bp.get("/origins")
@roles_required(Role.ADMIN)
def origin_list():
    """The sites whose pages may embed the comments, and whether they auto-register articles."""
    return render_origins(OriginForm())


@bp.post("/origins")
@roles_required(Role.ADMIN)
def add_origin():
    form = OriginForm()
    if not form.validate_on_submit():
        return render_origins(form, 422)
    try:
        row = origins.add_origin(form.origin.data or "", bool(form.auto_register.data))
    except service.InvalidComment as invalid:
        field_errors(form, invalid.errors)
        return render_origins(form, 422)
    except service.NotAllowed as refused:
        field_errors(form, {"origin": str(refused)})
        return render_origins(form, 422)
    flash(f"{row.origin} may now embed the comments.", "success")
    return redirect(url_for("integrations.origin_list"), 303)


@bp.post("/origins/<int:origin_id>/auto-register")
@roles_required(Role.ADMIN)
def toggle_auto_register(origin_id: int):
    """Switch auto-registration of articles on or off for one site."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        current = next(o for o in origins.allowed_origins() if o.id == origin_id)
        origins.set_auto_register(origin_id, not current.auto_register)
    except (StopIteration, LookupError):
        abort(404)
    return redirect(url_for("integrations.origin_list"), 303)


@bp.post("/origins/<int:origin_id>/remove")
@roles_required(Role.ADMIN)
def remove_origin(origin_id: int):
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        origins.remove_origin(origin_id)
    except LookupError:
        abort(404)
    flash("The site can no longer embed the comments.", "success")
    return redirect(url_for("integrations.origin_list"), 303)


def render_webhooks(form: WebhookForm, status: int = 200):
    return render_template("integrations/webhooks.html", form=form, endpoints=webhooks.endpoints(),
                           button_form=ButtonForm(), tolerance=webhooks.SIGNATURE_TOLERANCE), status


@bp.get("/webhooks")
@roles_required(Role.ADMIN)
def webhook_list():
    """Endpoints that receive signed comment events, with their secrets."""
    return render_webhooks(WebhookForm())


@bp.post("/webhooks")
@roles_required(Role.ADMIN)
def add_webhook():
    form = WebhookForm()
    if not form.validate_on_submit():
        return render_webhooks(form, 422)
    chosen = [event for event, on in ((webhooks.CREATED, form.created.data),
                                      (webhooks.DECIDED, form.decided.data)) if on]
    try:
        endpoint = webhooks.add_endpoint(form.url.data or "", chosen)
    except webhooks.InvalidEndpoint as invalid:
        form.url.errors = [*form.url.errors, str(invalid)]
        return render_webhooks(form, 422)
    flash(f"Events now go to {endpoint.url}.", "success")
    return redirect(url_for("integrations.webhook_list"), 303)


@bp.post("/webhooks/<int:endpoint_id>/remove")
@roles_required(Role.ADMIN)
def remove_webhook(endpoint_id: int):
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        webhooks.remove_endpoint(endpoint_id)
    except LookupError:
        abort(404)
    flash("The endpoint receives no more events.", "success")
    return redirect(url_for("integrations.webhook_list"), 303)


@bp.get("/webhooks/deliveries")
@roles_required(Role.ADMIN)
def deliveries():
    """The latest deliveries and their state: delivered, waiting to retry, or given up."""
    return render_template("integrations/deliveries.html", deliveries=webhooks.recent_deliveries())
