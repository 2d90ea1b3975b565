"""Webhooks: signed events in an outbox written with the change, delivered in order, exactly once."""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import Job, JobState, Role
from moderation.services import erasure, webhooks
from tests.conftest import csrf_from
from tests.helpers import background_worker, run_worker, wait_until
from tests.test_api import api_token, new_comment, post_json

FAST_RETRIES = {"WEBHOOK_RETRY_BASE_SECONDS": 0.2, "WEBHOOK_RETRY_MAX_SECONDS": 0.4,
                "WEBHOOK_TIMEOUT_SECONDS": 5}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def add_endpoint(app, url: str, events=webhooks.EVENTS) -> tuple[int, str]:
    with app.app_context():
        endpoint = webhooks.add_endpoint(url, list(events))
        return endpoint.id, endpoint.secret


def webhook_jobs(app) -> list[Job]:
    with app.app_context():
        rows = list(db.session.scalars(select(Job).where(Job.kind == webhooks.WEBHOOK).order_by(Job.id)))
        db.session.expunge_all()
        return rows


@contextmanager
def receiver(port: int, secret: str):
    """A real HTTP endpoint on 127.0.0.1 that records every event whose signature checks out."""
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signed = webhooks.verify(secret, body, self.headers["X-Comments-Timestamp"],
                                     self.headers["X-Comments-Signature"])
            event = json.loads(body)
            if signed and event["id"] == self.headers["X-Comments-Delivery"]:
                received.append(event)
            self.send_response(204 if signed else 401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_signatures_hold_only_for_the_same_body_secret_and_a_recent_time():
    body, now = b'{"event":"comment.created"}', int(time.time())
    signature = webhooks.sign("whsec_a", now, body)
    assert webhooks.verify("whsec_a", body, str(now), signature)
    assert not webhooks.verify("whsec_a", body + b" ", str(now), signature)
    assert not webhooks.verify("whsec_b", body, str(now), signature)
    old = now - 3600
    assert not webhooks.verify("whsec_a", body, str(old), webhooks.sign("whsec_a", old, body))


def test_events_are_written_with_the_change_and_only_for_endpoints_that_asked(app, client, article):
    post_json(client, new_comment(article.slug))
    assert webhook_jobs(app) == []  # no endpoint yet: nothing queued
    created_only, _ = add_endpoint(app, "http://127.0.0.1:9/created", [webhooks.CREATED])
    both, _ = add_endpoint(app, "http://127.0.0.1:9/both")
    comment_id = post_json(client, new_comment(article.slug, body="Second")).get_json()["comment"]["id"]
    client.post("/api/v1/decisions", headers=api_token(app, Role.MODERATOR),
                json={"ids": [comment_id], "action": "reject", "reason": "spam"})
    invalid = post_json(client, new_comment(article.slug, body=""))
    assert invalid.status_code == 422
    rows = [(j.payload["endpoint_id"], j.payload["event"], j.subject_id, j.sequence_key) for j in webhook_jobs(app)]
    assert rows == [(created_only, "comment.created", comment_id, f"{created_only}:{comment_id}"),
                    (both, "comment.created", comment_id, f"{both}:{comment_id}"),
                    (both, "comment.decided", comment_id, f"{both}:{comment_id}")]
    decided = json.loads(webhook_jobs(app)[-1].payload["body"])
    assert decided["decision"] == {"action": "reject", "status": "rejected", "reason": "Spam or advertising",
                                   "by": "api-moderator"}


def test_admins_register_endpoints_and_see_deliveries_on_pages(app, client, staff, article):
    staff.login(Role.ADMIN)
    token = csrf_from(client.get("/integrations/webhooks").get_data(as_text=True))
    added = client.post("/integrations/webhooks", data={"csrf_token": token, "url": "http://127.0.0.1:9/hook",
                                                        "created": "y"})
    refused = client.post("/integrations/webhooks", data={"csrf_token": token, "url": "ftp://x"})
    assert added.status_code == 303 and refused.status_code == 422
    page = client.get("/integrations/webhooks").get_data(as_text=True)
    assert "http://127.0.0.1:9/hook" in page and "whsec_" in page
    assert "Every endpoint also gets <code>comment.erased</code>" in page
    post_json(client, new_comment(article.slug))
    run_worker(app)  # port 9 refuses: the delivery waits for its retry
    deliveries = client.get("/integrations/webhooks/deliveries").get_data(as_text=True)
    assert "comment.created" in deliveries and "waiting" in deliveries and "Connection refused" in deliveries


def test_moderators_and_editors_cannot_see_webhooks(client, staff):
    staff.login(Role.MODERATOR)
    assert client.get("/integrations/webhooks").status_code == 403
    assert client.get("/integrations/webhooks/deliveries").status_code == 403


@pytest.mark.parametrize("app_settings", [{**FAST_RETRIES, "WEBHOOK_GIVE_UP_SECONDS": 0}])
def test_a_delivery_is_given_up_after_the_limit_and_the_next_one_for_the_comment_goes_on(
        app, client, article, app_settings):
    add_endpoint(app, f"http://127.0.0.1:{free_port()}/down")
    comment_id = post_json(client, new_comment(article.slug)).get_json()["comment"]["id"]
    client.post("/api/v1/decisions", headers=api_token(app, Role.MODERATOR),
                json={"ids": [comment_id], "action": "approve"})
    run_worker(app)
    states = [(j.payload["event"], j.state, j.attempts) for j in webhook_jobs(app)]
    assert states == [("comment.created", JobState.FAILED, 1), ("comment.decided", JobState.FAILED, 1)]
    assert "given up after 1 attempts" in webhook_jobs(app)[0].last_error


@pytest.mark.parametrize("app_settings", [FAST_RETRIES])
def test_a_receiver_down_for_a_while_then_up_gets_every_event_once_in_order_per_comment(
        app, client, article, app_settings):
    port = free_port()
    _, secret = add_endpoint(app, f"http://127.0.0.1:{port}/hook")
    moderator = api_token(app, Role.MODERATOR)
    ids = [post_json(client, new_comment(article.slug, body=f"Comment {n}")).get_json()["comment"]["id"]
           for n in range(3)]
    client.post("/api/v1/decisions", headers=moderator, json={"ids": ids[:2], "action": "approve"})
    client.post("/api/v1/decisions", headers=moderator, json={"ids": [ids[2]], "action": "reject"})
    client.post(f"/api/v1/comments/{ids[0]}/undo", headers=moderator)
    client.post("/api/v1/decisions", headers=moderator, json={"ids": [ids[0]], "action": "reject"})
    expected = {ids[0]: ["comment.created/pending", "comment.decided/approved", "comment.decided/pending",
                         "comment.decided/rejected"],
                ids[1]: ["comment.created/pending", "comment.decided/approved"],
                ids[2]: ["comment.created/pending", "comment.decided/rejected"]}

    with background_worker(app, "webhook-test-worker"):
        wait_until(lambda: sum(j.attempts for j in webhook_jobs(app)) >= 9)  # every comment tried, and retried
        assert all(j.state is not JobState.DONE for j in webhook_jobs(app))
        with receiver(port, secret) as received:
            wait_until(lambda: all(j.state is JobState.DONE for j in webhook_jobs(app)))
            time.sleep(0.5)  # anything sent twice would arrive now
    per_comment: dict[int, list[str]] = {}
    for event in received:
        per_comment.setdefault(event["comment"]["id"], []).append(f"{event['event']}/{event['comment']['status']}")
    assert per_comment == expected
    assert len({event["id"] for event in received}) == len(received) == 8
    assert max(j.attempts for j in webhook_jobs(app)) >= 2


@pytest.mark.parametrize("app_settings", [FAST_RETRIES])
def test_erasure_sends_comment_erased_to_every_endpoint_and_never_the_text_it_held(
        app, client, article, app_settings):
    port = free_port()
    _, secret = add_endpoint(app, f"http://127.0.0.1:{port}/hook", [webhooks.CREATED])  # did not ask
    person = new_comment(article.slug, body="Call me on 0161 496 0000 about the bills.")
    person["email"] = "erase.me@example.org"
    comment_id = post_json(client, person).get_json()["comment"]["id"]
    with app.app_context():
        assert erasure.erase_by_email("erase.me@example.org", None) == 1
    created, erased = webhook_jobs(app)
    assert (created.payload["event"], created.state, created.last_error) == (
        "comment.created", JobState.FAILED, "not sent: the comment was erased")
    assert "body" not in created.payload  # the deliveries page keeps the event's name, not the text
    assert (erased.payload["event"], erased.subject_id, erased.state) == ("comment.erased", comment_id,
                                                                          JobState.QUEUED)

    with receiver(port, secret) as received, background_worker(app, "erasure-webhook-worker"):
        wait_until(lambda: webhook_jobs(app)[-1].state is JobState.DONE)
    assert [(e["event"], e["comment"]["id"], e["comment"]["author"]) for e in received] == [
        ("comment.erased", comment_id, "[erased]")]
    assert "0161" not in json.dumps(received) and "erase.me" not in json.dumps(received)
