"""The moderation queue: filter, approve, reject (one or many), undo, and the history."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from classifiers import SENTIMENTS, TOPICS
from moderation import queries, service, worker
from moderation.auth import roles_required
from moderation.forms import ButtonForm, DecisionForm
from moderation.models import ActionKind, CommentStatus, Role
from moderation.params import article_arg, comment_ids, page_arg, valid_comment_id

bp = Blueprint("queue", __name__, url_prefix="/moderation")
MODERATORS = (Role.MODERATOR, Role.ADMIN)
FILTER_KEYS = ("status", "article", "topic", "sentiment")


def parse_filters() -> service.QueueFilters:
    """Read the queue filters from the query string; an unknown value is a clear 400."""
    args = request.args
    status = args.get("status", "pending")
    if status not in {s.value for s in CommentStatus} | {"all"}:
        abort(400, f"Unknown status {status!r}: use pending, approved, rejected or all.")
    topic = args.get("topic") or None
    if topic is not None and topic not in (*TOPICS, "unclassified"):
        abort(400, f"Unknown topic {topic!r}: use one of {', '.join(TOPICS)} or unclassified.")
    sentiment = args.get("sentiment") or None
    if sentiment is not None and sentiment not in SENTIMENTS:
        abort(400, f"Unknown sentiment {sentiment!r}: use {', '.join(SENTIMENTS)}.")
    return service.QueueFilters(
        status=None if status == "all" else CommentStatus(status),
        article_id=article_arg(),
        topic=None if topic == "unclassified" else topic,
        sentiment=sentiment, unclassified=topic == "unclassified",
        extra={k: args[k] for k in FILTER_KEYS if args.get(k)},
    )


@bp.get("")
@roles_required(*MODERATORS)
def index():
    """Pending comments, oldest first, with filters, counts and bulk actions."""
    filters = parse_filters()
    page = queries.queue_page(filters, page_arg(), current_app.config["QUEUE_PER_PAGE"])
    return render_template(
        "queue/index.html", page=page, filters=filters, counts=queries.status_counts(filters),
        articles=queries.articles(), topics=TOPICS, sentiments=SENTIMENTS,
        decision_form=DecisionForm(), button_form=ButtonForm(), reasons=service.REJECT_REASONS,
        unclassified=service.count_unclassified(),
        classification_problem=worker.classification_status(),
    )


def back_to_queue():
    """Return to the queue view the moderator came from (its filters are in the form)."""
    kept = {k: request.form[k] for k in (*FILTER_KEYS, "page") if request.form.get(k)}
    return redirect(url_for("queue.index", **kept), 303)


def decide(ids: list[int], action: ActionKind):
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400, "The reason is not one of the listed reasons.")
    if not ids:
        flash("Select at least one comment first.", "warning")
        return back_to_queue()
    reason = service.reason_text(form.reason.data, form.note.data)
    changed = service.decide(ids, action, current_user, reason)
    verb = "approved" if action is ActionKind.APPROVE else "rejected"
    flash(f"{changed} comment{'s' if changed != 1 else ''} {verb}.", "success")
    return back_to_queue()


@bp.post("/<int:comment_id>/approve")
@roles_required(*MODERATORS)
def approve(comment_id: int):
    return decide([valid_comment_id(comment_id)], ActionKind.APPROVE)


@bp.post("/<int:comment_id>/reject")
@roles_required(*MODERATORS)
def reject(comment_id: int):
    return decide([valid_comment_id(comment_id)], ActionKind.REJECT)


@bp.post("/bulk")
@roles_required(*MODERATORS)
def bulk():
    """Decide every selected comment at once."""
    action = {"approve": ActionKind.APPROVE, "reject": ActionKind.REJECT}.get(
        request.form.get("action", ""))
    if action is None:
        abort(400, "Choose approve or reject.")
    return decide(comment_ids(request.form.getlist("ids")), action)


@bp.post("/<int:comment_id>/undo")
@roles_required(*MODERATORS)
def undo(comment_id: int):
    """Put a decided comment back in the queue."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        service.undo(valid_comment_id(comment_id), current_user)
    except LookupError:
        abort(404)
    except service.NotAllowed as refused:
        flash(str(refused), "warning")
    else:
        flash("The comment is back in the queue.", "success")
    return redirect(request.referrer if _local(request.referrer) else url_for("queue.history"), 303)


def _local(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


@bp.get("/history")
@roles_required(*MODERATORS)
def history():
    """Decided comments: what was done, by whom and when, newest first."""
    page = queries.history_page(page_arg(), current_app.config["QUEUE_PER_PAGE"])
    return render_template("queue/history.html", page=page, button_form=ButtonForm())
