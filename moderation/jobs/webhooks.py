"""Webhook delivery: the worker's handler that POSTs each signed event to its endpoint.

One at a time per comment and endpoint and in order (the `webhook` jobs share a sequence key),
retrying with exponential backoff until the endpoint answers 2xx or a day has passed. What is sent,
and how receivers check it, is in `moderation.services.webhooks`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from moderation.extensions import db
from moderation.jobs import queue as jobs
from moderation.models import Job, WebhookEndpoint, utcnow
from moderation.services.webhooks import ERASED_BEFORE_SENT, sign

if TYPE_CHECKING:
    from moderation.jobs.worker import Worker


def deliver(endpoint: WebhookEndpoint, payload: dict[str, Any], timeout: float) -> str | None:
    """POST one signed event; return None when the endpoint took it (2xx), else what went wrong."""
    body = payload["body"].encode()
    timestamp = int(time.time())
    request = urllib.request.Request(endpoint.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "comment-moderation-webhooks/1",
        "X-Comments-Event": payload["event"], "X-Comments-Delivery": json.loads(body)["id"],
        "X-Comments-Timestamp": str(timestamp),
        "X-Comments-Signature": sign(endpoint.secret, timestamp, body)})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except urllib.error.URLError as error:
        return f"could not connect: {error.reason}"
    except (OSError, ValueError) as error:
        return f"{error.__class__.__name__}: {error}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure to fix in the endpoint's address, never a silent re-POST elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def backoff(attempts: int, config: dict[str, Any]) -> timedelta:
    """RETRY_BASE, 2x, 4x, ... seconds, at most RETRY_MAX."""
    seconds = float(config["WEBHOOK_RETRY_BASE_SECONDS"]) * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, float(config["WEBHOOK_RETRY_MAX_SECONDS"])))


def deliver_jobs(worker: Worker, batch: list[Job]) -> None:
    """The worker's handler: deliver each job, committing after each so a crash resends none."""
    for job in batch:
        _deliver_job(worker, job, worker.app.config)
        db.session.commit()


def _deliver_job(worker: Worker, job: Job, config: dict[str, Any]) -> None:
    payload = job.payload or {}
    endpoint = db.session.get(WebhookEndpoint, payload.get("endpoint_id"))
    if endpoint is None or not endpoint.active:
        jobs.fail(job, "the endpoint was removed", retry=False)
        return
    if "body" not in payload:  # erased while this delivery was being tried: never send it again
        jobs.fail(job, ERASED_BEFORE_SENT, retry=False)
        return
    error = deliver(endpoint, payload, float(config["WEBHOOK_TIMEOUT_SECONDS"]))
    if error is None:
        jobs.finish([job])
        worker.done += 1
    elif utcnow() - job.created_at >= timedelta(seconds=float(config["WEBHOOK_GIVE_UP_SECONDS"])):
        jobs.fail(job, f"given up after {job.attempts} attempts: {error}", retry=False)
        worker.failed += 1
    else:
        jobs.retry_later(job, error, backoff(job.attempts, config))


def lease_for(batch_size: int, config: dict[str, Any]) -> timedelta:
    """Long enough for a whole batch of endpoints that each time out."""
    return timedelta(seconds=batch_size * float(config["WEBHOOK_TIMEOUT_SECONDS"]) + 60)
