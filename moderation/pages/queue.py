"""The moderation queue: filter, approve, reject (one or many), undo, and the history."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from classifiers import SENTIMENTS, TOPICS
from moderation.errors import wants_json
from moderation.jobs import worker
from moderation.models import ActionKind, Role
from moderation.pages import highlight
from moderation.pages.auth import roles_required
from moderation.pages.forms import ButtonForm, DecisionForm
from moderation.params import (
    FILTER_KEYS,
    SORTS,
    comment_ids,
    page_arg,
    queue_filters,
    valid_comment_id,
    whole_number,
)
from moderation.services import comments as service
from moderation.services import corrections, queries, wordlists

bp = Blueprint("queue", __name__, url_prefix="/moderation")
MODERATORS = (Role.MODERATOR, Role.ADMIN)


@bp.get("")
@roles_required(*MODERATORS)
def index():
    """Pending comments, oldest first, with filters, counts and bulk actions."""
    filters = queue_filters()
    page = queries.queue_page(filters, page_arg(), current_app.config["QUEUE_PER_PAGE"])
    return render_template(
        "queue/index.html", page=page, counts=queries.status_counts(filters),
        articles=queries.articles(), sorts=SORTS, unclassified=service.count_unclassified(),
        classification_problem=worker.classification_status(),
        **item_context([c.id for c in page.items], filters, request.args.get("select") == "all"),
    )


def item_context(ids: list[int], filters: service.QueueFilters, select_all: bool = False) -> dict:
    """What each queue item needs: decisions, corrections, the forms and the label choices."""
    return {"decisions": queries.latest_decisions(ids), "corrections": corrections.corrections_for(ids),
            "filters": filters, "reasons": service.REJECT_REASONS, "topics": TOPICS,
            "sentiments": SENTIMENTS, "decision_form": DecisionForm(), "button_form": ButtonForm(),
            "select_all": select_all}


@bp.app_template_global()
def highlighted(comment) -> list[tuple[str, str]]:
    """The comment's text in pieces: suspect words and the words that decided its topic marked."""
    if "word_lists" not in g:
        g.word_lists = wordlists.entries()
    suspect = [(m.start, m.end) for m in wordlists.find(comment.body, g.word_lists)]
    terms = highlight.spans_of(comment.body, [term for term, _ in comment.topic_terms or []])
    return highlight.labelled_segments(comment.body, {"suspect": suspect, "term": terms})


def answer(message: str, category: str, ids: list[int]):
    """Tell the moderator what happened: JSON for the page's script, else a flash and the queue."""
    if wants_json():
        filters = queue_filters(request.form)
        return jsonify(ok=category == "success", message=message,
                       counts=queries.status_counts(filters), comments=decided_items(ids, filters))
    flash(message, category)
    return back_to_queue()


def decided_items(ids: list[int], filters: service.QueueFilters) -> list[dict[str, object]]:
    """Each comment's new status, its last decision (to undo it) and its queue item, re-rendered."""
    context = item_context(ids, filters)
    decisions = context["decisions"]
    items = []
    for comment in queries.comments_by_ids(ids):
        decision = decisions.get(comment.id)
        undoable = decision is not None and decision.action is not ActionKind.UNDO
        items.append({"id": comment.id, "status": comment.status.value,
                      "decision": decision.id if undoable else None,
                      "action": decision.action.value if undoable else None,
                      "undo_url": url_for("queue.undo", comment_id=comment.id),
                      "html": render_template("queue/_item.html", comment=comment, **context)})
    return items


def back_to_queue():
    """Return to the queue view the moderator came from (its filters are in the form)."""
    kept = {k: request.form[k] for k in (*FILTER_KEYS, "page") if request.form.get(k)}
    return redirect(url_for("queue.index", **kept), 303)


def decide(ids: list[int], action: ActionKind):
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400, "The reason is not one of the listed reasons.")
    if not ids:
        return answer("Select at least one comment first.", "warning", [])
    reason = service.reason_text(form.reason.data, form.note.data)
    changed = service.decide(ids, action, current_user, reason)
    verb = "approved" if action is ActionKind.APPROVE else "rejected"
    return answer(f"{changed} comment{'s' if changed != 1 else ''} {verb}.", "success", ids)


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


@bp.post("/<int:comment_id>/labels")
@roles_required(*MODERATORS)
def correct(comment_id: int):
    """Correct the model's topic or sentiment; stored apart from the model's own labels."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        made = corrections.correct_labels(comment_id, current_user, topic=request.form.get("topic") or None,
                                          sentiment=request.form.get("sentiment") or None)
    except LookupError:
        abort(404)
    except service.NotAllowed as refused:
        abort(400, str(refused))
    changes = ", ".join(f"{c.field} {c.old_label or 'none'} → {c.new_label}" for c in made)
    return answer(f"Labels corrected: {changes}." if made else "The labels were already so.",
                  "success", [comment_id])


@bp.post("/<int:comment_id>/undo")
@roles_required(*MODERATORS)
def undo(comment_id: int):
    """Put a decided comment back in the queue."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    raw_decision = request.form.get("decision") or None
    decision = whole_number(raw_decision) if raw_decision else None
    if raw_decision and decision is None:  # "²".isdigit() is true, but int("²") fails
        abort(400, "The decision to undo must be a decision number.")
    try:
        service.undo(valid_comment_id(comment_id), current_user, decision)
    except LookupError:
        abort(404)
    except service.NotAllowed as refused:
        message, category = str(refused), "warning"
    else:
        message, category = "The comment is back in the queue, waiting for a decision.", "success"
    if wants_json():
        return answer(message, category, [comment_id])
    flash(message, category)
    return redirect(request.referrer if _local(request.referrer) else url_for("queue.history"), 303)


def _local(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


@bp.get("/history")
@roles_required(*MODERATORS)
def history():
    """Decided comments: what was done, by whom and when, newest first."""
    page = queries.history_page(page_arg(), current_app.config["QUEUE_PER_PAGE"])
    current = queries.latest_decisions(list({a.comment_id for a in page.items}))
    return render_template("queue/history.html", page=page, button_form=ButtonForm(),
                           current={c: a.id for c, a in current.items()})
