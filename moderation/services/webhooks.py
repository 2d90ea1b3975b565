"""Webhooks: signed `comment.created`, `comment.decided` and `comment.erased` events for the newsroom's
own systems.

Endpoints choose `comment.created` and `comment.decided`. `comment.erased` goes to every active
endpoint, whatever it chose: anyone who may hold a copy of the text must hear that it is to go.

Each event is a `webhook` job per endpoint, written in the same transaction as the change it reports
(the jobs table is the outbox: no event without its change, no change without its event). The
background worker delivers them (`moderation.jobs.webhooks`), one at a time per comment and endpoint
and in order, retrying with exponential backoff until the endpoint answers 2xx or a day has passed.

Receivers check `X-Comments-Signature: sha256=HEX`, the HMAC-SHA256 with the endpoint's secret of
`TIMESTAMP + "." + BODY`, where TIMESTAMP is `X-Comments-Timestamp` (Unix seconds, refused when old,
against replay), and may drop repeats by the event id in `X-Comments-Delivery`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

from sqlalchemy import select

from moderation.extensions import db
from moderation.jobs import queue as jobs
from moderation.models import Comment, Job, User, WebhookEndpoint, utcnow

WEBHOOK = "webhook"
CREATED, DECIDED, ERASED = "comment.created", "comment.decided", "comment.erased"
EVENTS = (CREATED, DECIDED)  # what an endpoint chooses; ERASED is sent to every endpoint
ERASED_BEFORE_SENT = "not sent: the comment was erased"
SIGNATURE_TOLERANCE = 300  # seconds a receiver should accept a timestamp for


class InvalidEndpoint(ValueError):
    """The endpoint's address or events are not usable; the message is for a person."""


def add_endpoint(url: str, events: list[str]) -> WebhookEndpoint:
    """Register an endpoint with a fresh signing secret."""
    url = (url or "").strip()
    if not url.startswith(("http://", "https://")) or len(url) > 500 or any(c.isspace() for c in url):
        raise InvalidEndpoint("Enter the endpoint's full address, starting with https://.")
    chosen = [event for event in EVENTS if event in events]
    if not chosen:
        raise InvalidEndpoint(f"Choose at least one event: {', '.join(EVENTS)}.")
    endpoint = WebhookEndpoint(url=url, events=chosen, secret="whsec_" + secrets.token_urlsafe(24))
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active)
                                   .order_by(WebhookEndpoint.id)))


def remove_endpoint(endpoint_id: int) -> None:
    """Stop sending to an endpoint; deliveries still waiting for it are given up."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not endpoint.active:
        raise LookupError(f"no endpoint {endpoint_id}")
    endpoint.active = False
    db.session.commit()


# Built once: every posted comment asks, and nearly always the answer is "no endpoint".
ACTIVE_ENDPOINT_EVENTS = select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.active)


def subscribers(event: str) -> list[int]:
    """The ids of active endpoints that asked for this event (plain rows, no ORM objects)."""
    return [endpoint_id for endpoint_id, events in db.session.connection().execute(ACTIVE_ENDPOINT_EVENTS)
            if event in events]


def comment_event(event: str, comment: Comment, user: User | None = None, reason: str | None = None,
                  action: str | None = None) -> None:
    """Queue the event for every endpoint that asked for it (the caller commits, with its change)."""
    _enqueue_for(subscribers(event), event, comment, user, reason, action)


def comment_created(comment_id: int) -> None:
    """Queue `comment.created` for a comment just inserted; it is loaded only when someone listens."""
    targets = subscribers(CREATED)
    if targets:
        _enqueue_for(targets, CREATED, db.session.get_one(Comment, comment_id))


def comments_erased(comments: list[Comment], user: User | None) -> None:
    """Queue `comment.erased` for every active endpoint (the caller commits, with the erasure).

    The body is the comment as it now is: author and text already blanked, nothing of the person.
    """
    targets = [endpoint_id for endpoint_id, _ in db.session.connection().execute(ACTIVE_ENDPOINT_EVENTS)]
    for comment in comments:
        _enqueue_for(targets, ERASED, comment, user)


def without_body(payload: dict[str, Any] | None) -> dict[str, Any] | None:
    """A delivery's record without the event it carried (which may quote an erased comment)."""
    if payload is None:
        return None
    return {key: value for key, value in payload.items() if key != "body"}


def _enqueue_for(targets: list[int], event: str, comment: Comment, user: User | None = None,
                 reason: str | None = None, action: str | None = None) -> None:
    if not targets:
        return
    body = json.dumps(event_body(event, comment, user, reason, action), separators=(",", ":"))
    for endpoint_id in sorted(targets):
        jobs.enqueue(WEBHOOK, comment.id, sequence_key=f"{endpoint_id}:{comment.id}",
                     payload={"endpoint_id": endpoint_id, "event": event, "body": body})


def event_body(event: str, comment: Comment, user: User | None, reason: str | None,
               action: str | None) -> dict[str, Any]:
    """What a receiver gets: the event, its id and time, and the comment as it is now."""
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()), "event": event, "created_at": utcnow().isoformat() + "Z",
        "comment": {"id": comment.id, "author": comment.author, "body": comment.body,
                    "status": comment.status.value, "created_at": comment.created_at.isoformat() + "Z",
                    "article": {"slug": comment.article.slug, "url": comment.article.canonical_url}},
    }
    if event == DECIDED:
        body["decision"] = {"action": action, "status": comment.status.value, "reason": reason,
                            "by": user.username if user else None}
    return body


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for this body at this time."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, body: bytes, timestamp: str, signature: str, now: float | None = None,
           tolerance: int = SIGNATURE_TOLERANCE) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent (no replays)."""
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def recent_deliveries(limit: int = 100) -> list[tuple[Job, WebhookEndpoint | None]]:
    """The latest deliveries, newest first, with their endpoint, for the admins' page."""
    query = select(Job).where(Job.kind == WEBHOOK).order_by(Job.id.desc()).limit(limit)
    rows = list(db.session.scalars(query))
    known = {e.id: e for e in db.session.scalars(select(WebhookEndpoint))}
    return [(job, known.get((job.payload or {}).get("endpoint_id"))) for job in rows]
