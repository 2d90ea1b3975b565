"""The operators' page: are workers alive, do they have a model, how long is the backlog."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from moderation.jobs import queue as jobs
from moderation.jobs import worker
from moderation.models import Role, utcnow
from moderation.pages.auth import roles_required
from moderation.services import comments as service

bp = Blueprint("operations", __name__, url_prefix="/operations")


def status() -> dict[str, object]:
    """Everything the page shows, as plain values (also served as JSON for monitoring)."""
    oldest = jobs.oldest_waiting(jobs.CLASSIFY)
    return {
        "classification_problem": worker.classification_status(),
        "unclassified": service.count_unclassified(),
        "oldest_waiting_seconds": round((utcnow() - oldest).total_seconds(), 1) if oldest else None,
        "backlog": jobs.backlog(),
        "workers": [
            {"name": w.name, "alive": w.last_seen_at >= utcnow() - worker.ALIVE_WITHIN,
             "last_seen_at": w.last_seen_at.isoformat() + "Z", "started_at": w.started_at.isoformat() + "Z",
             "model_version": w.model_version, "model_error": w.model_error,
             "jobs_done": w.jobs_done, "jobs_failed": w.jobs_failed}
            for w in worker.all_workers()
        ],
        "recent_failures": [
            {"id": j.id, "kind": j.kind, "subject_id": j.subject_id, "attempts": j.attempts,
             "error": j.last_error, "finished_at": j.finished_at.isoformat() + "Z" if j.finished_at else None}
            for j in jobs.recent_failures()
        ],
    }


@bp.get("")
@roles_required(Role.ADMIN)
def index():
    """Workers, their model, the job backlog and recent failures."""
    return render_template("operations/index.html", status=status())


@bp.get("/status.json")
@roles_required(Role.ADMIN)
def status_json():
    return jsonify(status())
