"""The JSON API: readers list and post comments; staff with personal tokens work the queue and figures."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import ApiToken, Article, CommentStatus, Job, Role, User
from moderation.services import comments as service
from moderation.services import dashboard, origins, tokens
from tests.conftest import create_staff, csrf_from, set_article
from tests.helpers import actions_for, count_comments, latest_comment, post_comment, run_worker

SITE = "https://news.example"


def api_token(app, role: Role, username: str | None = None) -> dict[str, str]:
    """A live token for a new staff member with `role`, as the Authorization header."""
    username = username or f"api-{role.value}"
    create_staff(app, username, role)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        _, raw = tokens.create_token(user, "tests")
    return {"Authorization": f"Bearer {raw}"}


def post_json(client, payload: dict, **headers: str):
    return client.post("/api/v1/comments", json=payload, headers=headers)


def new_comment(article_slug: str, **fields) -> dict:
    return {"article": article_slug, "author": "API Reader", "body": "Who pays the egress fees?", **fields}


def allow(app, origin: str, auto_register: bool = False) -> None:
    with app.app_context():
        origins.add_origin(origin, auto_register)


# ----- readers -----------------------------------------------------------------------------------

def test_readers_list_approved_comments_newest_first_with_topic_and_sentiment(app, client, article):
    run_worker(app)
    page = client.get("/api/v1/comments", query_string={"article": article.slug, "per_page": 4}).get_json()
    assert page["total"] == 6 and page["pages"] == 2 and len(page["comments"]) == 4
    assert page["article"]["slug"] == article.slug and page["article"]["comments_open"] is True
    times = [c["created_at"] for c in page["comments"]]
    assert times == sorted(times, reverse=True)
    assert all(c["topic"] and c["sentiment"] and c["status"] == "approved" for c in page["comments"])
    assert not any("email" in c for c in page["comments"])
    oldest = client.get("/api/v1/comments", query_string={"article": article.slug, "order": "oldest",
                                                          "per_page": 6}).get_json()["comments"]
    newest = client.get("/api/v1/comments", query_string={"article": article.slug,
                                                          "per_page": 6}).get_json()["comments"]
    assert [c["id"] for c in oldest] == [c["id"] for c in reversed(newest)]


def test_the_list_finds_an_article_by_its_canonical_url(app, client, article):
    set_article(app, article.id, canonical_url=f"{SITE}/2026/cloud")
    page = client.get("/api/v1/comments", query_string={"article": f"{SITE}/2026/cloud#comments"})
    assert page.status_code == 200 and page.get_json()["total"] == 6


def test_pending_and_rejected_comments_never_show_in_the_list(app, client, article):
    post_json(client, new_comment(article.slug))
    assert client.get(f"/api/v1/comments?article={article.slug}").get_json()["total"] == 6


@pytest.mark.parametrize(("query", "status", "message"), [
    ({"article": "no-such-article"}, 404, "There is no article"),
    ({}, 400, "Say which article"),
    ({"article": "ai-multi-cloud-strategy", "page": "0"}, 400, "page number"),
    ({"article": "ai-multi-cloud-strategy", "per_page": "1000"}, 400, "per_page"),
    ({"article": "ai-multi-cloud-strategy", "order": "random"}, 400, "order must be"),
])
def test_bad_list_requests_get_a_json_error_a_person_understands(client, article, query, status, message):
    response = client.get("/api/v1/comments", query_string=query)
    assert response.status_code == status and response.is_json
    assert message in response.get_json()["error"]


def test_posting_stores_a_pending_comment_with_its_classify_job(app, client, article):
    response = post_json(client, new_comment(article.slug, email="Reader@Example.org"))
    assert response.status_code == 201
    body = response.get_json()
    assert body["comment"]["status"] == "pending" and body["comment"]["topic"] is None
    assert "awaiting moderation" in body["message"]
    stored = latest_comment(app)
    assert (stored.id, stored.email, stored.author) == (body["comment"]["id"], "reader@example.org", "API Reader")
    assert actions_for(app, stored.id) == [("submit", "pending", None)]
    with app.app_context():
        assert db.session.scalar(select(Job.kind).where(Job.subject_id == stored.id)) == "classify"


def test_the_api_and_the_form_store_the_same_comment(app, client, article):
    post_comment(client, article.slug, author="Same", body="Same words, two doors.")
    form_comment = latest_comment(app)
    post_json(client, new_comment(article.slug, author="Same", body="Same words, two doors."))
    api_comment = latest_comment(app)
    keep = ("author", "body", "status", "email", "client_hash", "article_id")
    assert {k: getattr(form_comment, k) for k in keep} == {k: getattr(api_comment, k) for k in keep}


def test_a_premoderation_free_article_publishes_at_once(app, client, article):
    set_article(app, article.id, premoderated=False)
    body = post_json(client, new_comment(article.slug)).get_json()
    assert body["comment"]["status"] == "approved" and body["message"] == "Thank you! Your comment is published."
    assert client.get(f"/api/v1/comments?article={article.slug}").get_json()["total"] == 7


def test_sending_the_same_submission_token_twice_stores_one_comment(app, client, article):
    first = post_json(client, new_comment(article.slug, submission_token="tok-123"))
    second = post_json(client, new_comment(article.slug, submission_token="tok-123"))
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["comment"]["id"] == second.get_json()["comment"]["id"]
    assert count_comments(app, status=CommentStatus.PENDING) == 1


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"body": ""}, "body", "Please write a comment."),
    ({"body": "x" * 5001}, "body", "at most 5000 characters"),
    ({"author": ""}, "author", "Please enter your name."),
    ({"author": "a" * 81}, "author", "at most 80 characters"),
    ({"email": "not-an-address"}, "email", "valid email address"),
    ({"body": ["not", "text"]}, "body", "This must be text."),
    ({"submission_token": "bad token!"}, "submission_token", "submission token"),
    ({"article": ""}, "article", "Say which article"),
])
def test_invalid_comments_get_field_errors_as_json_and_nothing_is_stored(app, client, article, fields, field,
                                                                        message):
    response = post_json(client, new_comment(article.slug, **fields))
    assert response.status_code == 422
    assert message in response.get_json()["errors"][field]
    assert count_comments(app, status=CommentStatus.PENDING) == 0


def test_a_filled_honeypot_answers_like_success_but_stores_nothing(app, client, article):
    response = post_json(client, new_comment(article.slug, website="http://spam.example"))
    assert response.status_code == 201 and response.get_json()["comment"] is None
    assert count_comments(app, status=CommentStatus.PENDING) == 0


def test_a_closed_article_refuses_comments_with_a_field_error(app, client, article):
    set_article(app, article.id, comments_open=False)
    response = post_json(client, new_comment(article.slug))
    assert response.status_code == 422 and "closed" in response.get_json()["errors"]["article"]


@pytest.mark.parametrize(("data", "content_type", "status"), [
    ("author=x&body=y", "application/x-www-form-urlencoded", 415),
    ("[1, 2]", "application/json", 400),
    ("{not json", "application/json", 400),
])
def test_posts_that_are_not_a_json_object_are_refused(app, client, article, data, content_type, status):
    response = client.post("/api/v1/comments", data=data, content_type=content_type)
    assert response.status_code == status and response.is_json and response.get_json()["error"]
    assert count_comments(app, status=CommentStatus.PENDING) == 0


def test_a_page_on_a_site_nobody_allowed_cannot_post(app, client, article):
    response = post_json(client, new_comment(article.slug), Origin="https://evil.example")
    assert response.status_code == 403 and "not allowed" in response.get_json()["error"]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert count_comments(app, status=CommentStatus.PENDING) == 0


def test_an_allowed_site_reads_and_posts_with_cors_headers(app, client, article):
    allow(app, SITE)
    listed = client.get(f"/api/v1/comments?article={article.slug}", headers={"Origin": SITE})
    posted = post_json(client, new_comment(article.slug), Origin=SITE)
    assert posted.status_code == 201
    for response in (listed, posted):
        assert response.headers["Access-Control-Allow-Origin"] == SITE
        assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in posted.headers


def test_preflight_is_answered_only_for_allowed_sites(app, client, article):
    allow(app, SITE)
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = client.options("/api/v1/comments", headers={"Origin": SITE, **ask})
    refused = client.options("/api/v1/comments", headers={"Origin": "https://evil.example", **ask})
    assert allowed.headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert allowed.headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_origins_named_in_the_setting_are_allowed_too(app, client, article):
    app.config["EMBED_ORIGINS"] = "https://other.example, https://third.example:8443/"
    response = post_json(client, new_comment(article.slug), Origin="https://third.example:8443")
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == "https://third.example:8443"


def test_unknown_articles_are_not_registered_by_default(app, client):
    allow(app, SITE)
    response = post_json(client, new_comment(f"{SITE}/2026/new-story", title="New story"), Origin=SITE)
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Article)) is None


def test_a_site_with_auto_registration_registers_the_article_on_its_first_comment(app, client):
    allow(app, SITE, auto_register=True)
    first = post_json(client, new_comment(f"{SITE}/2026/new-story", title="A new story"), Origin=SITE)
    second = post_json(client, new_comment(f"{SITE}/2026/new-story", body="Second."), Origin=SITE)
    assert (first.status_code, second.status_code) == (201, 201)
    with app.app_context():
        articles = list(db.session.scalars(select(Article)))
    assert [(a.title, a.canonical_url, a.slug) for a in articles] == [
        ("A new story", f"{SITE}/2026/new-story", "a-new-story")]
    assert count_comments(app, article_id=articles[0].id) == 2


def test_auto_registration_only_takes_addresses_on_the_posting_site(app, client):
    allow(app, SITE, auto_register=True)
    response = post_json(client, new_comment("https://elsewhere.example/story", title="X"), Origin=SITE)
    assert response.status_code == 404


@pytest.mark.parametrize("app_settings", [{"RATELIMIT_ENABLED": True, "COMMENT_RATE_LIMIT": "2 per minute"}])
def test_the_api_shares_the_forms_rate_limit_per_client(app, client, article, app_settings):
    statuses = [post_json(client, new_comment(article.slug, body=f"Comment {n}")).status_code for n in range(3)]
    assert statuses == [201, 201, 429]
    last = post_json(client, new_comment(article.slug, body="one more"))
    assert last.is_json and "a little fast" in last.get_json()["error"]


# ----- tokens ------------------------------------------------------------------------------------

def test_staff_create_a_token_on_a_page_that_shows_it_once_and_stores_only_its_hash(app, client, staff):
    staff.login(Role.MODERATOR)
    token = csrf_from(client.get("/integrations/tokens").get_data(as_text=True))
    page = client.post("/integrations/tokens", data={"csrf_token": token, "name": "CMS sync"})
    html = page.get_data(as_text=True)
    raw = html.split('<code id="new-token">')[1].split("</code>")[0]
    assert raw.startswith("cmt_") and len(raw) > 40
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.token_hash == tokens.digest(raw) and raw not in (row.token_hash, row.prefix)
    assert client.get("/api/v1/queue", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert raw not in client.get("/integrations/tokens").get_data(as_text=True)


def test_a_revoked_token_stops_working_at_once(app, client, staff):
    staff.login(Role.MODERATOR, username="mod")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "mod"))
        row, raw = tokens.create_token(user, "laptop")
        token_id, headers = row.id, {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/queue", headers=headers).status_code == 200
    csrf = csrf_from(client.get("/integrations/tokens").get_data(as_text=True))
    client.post(f"/integrations/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    refused = client.get("/api/v1/queue", headers=headers)
    assert refused.status_code == 401 and "revoked" in refused.get_json()["error"]


def test_nobody_revokes_another_persons_token(app, client, staff):
    other = api_token(app, Role.MODERATOR, "other")
    staff.login(Role.MODERATOR, username="me")
    with app.app_context():
        other_id = db.session.scalar(select(ApiToken.id))
    csrf = csrf_from(client.get("/integrations/tokens").get_data(as_text=True))
    assert client.post(f"/integrations/tokens/{other_id}/revoke", data={"csrf_token": csrf}).status_code == 404
    assert client.get("/api/v1/queue", headers=other).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer", "Basic dXNlcjpwdw==", "Bearer cmt_made-up"])
def test_staff_endpoints_need_a_live_token(client, header):
    response = client.get("/api/v1/queue", headers={"Authorization": header} if header else {})
    assert response.status_code == 401 and response.is_json
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_logged_in_browser_session_is_not_a_token(client, staff):
    staff.login(Role.ADMIN)
    assert client.get("/api/v1/queue").status_code == 401


@pytest.mark.parametrize(("role", "queue", "figures"), [
    (Role.MODERATOR, 200, 403), (Role.EDITOR, 403, 200), (Role.ADMIN, 200, 200)])
def test_a_token_can_do_what_its_owners_role_can(app, client, role, queue, figures):
    headers = api_token(app, role)
    assert client.get("/api/v1/queue", headers=headers).status_code == queue
    assert client.get("/api/v1/breakdown", headers=headers).status_code == figures
    assert client.get("/api/v1/trend", headers=headers).status_code == figures


# ----- moderators --------------------------------------------------------------------------------

def test_moderators_read_the_queue_with_its_filters(app, client, article):
    headers = api_token(app, Role.MODERATOR)
    for body in ("We pay twice for the cloud.", "Privacy of our data matters."):
        post_json(client, new_comment(article.slug, body=body))
    run_worker(app)
    pending = client.get("/api/v1/queue", headers=headers).get_json()
    assert pending["total"] == 2 and pending["counts"] == {"pending": 2, "approved": 6, "rejected": 0}
    assert [c["body"] for c in pending["comments"]] == ["We pay twice for the cloud.",
                                                        "Privacy of our data matters."]
    topic = pending["comments"][0]["topic"]
    only = client.get("/api/v1/queue", headers=headers, query_string={"topic": topic}).get_json()
    assert {c["topic"] for c in only["comments"]} == {topic}
    everything = client.get("/api/v1/queue", headers=headers, query_string={"status": "all"}).get_json()
    assert everything["total"] == 8
    bad = client.get("/api/v1/queue", headers=headers, query_string={"status": "maybe"})
    assert bad.status_code == 400 and "Unknown status" in bad.get_json()["error"]


def test_moderators_approve_one_and_reject_many_with_a_reason(app, client, article):
    headers = api_token(app, Role.MODERATOR, "mia")
    ids = [post_json(client, new_comment(article.slug, body=f"Comment {n}")).get_json()["comment"]["id"]
           for n in range(3)]
    approved = client.post("/api/v1/decisions", headers=headers, json={"ids": [ids[0]], "action": "approve"})
    rejected = client.post("/api/v1/decisions", headers=headers,
                           json={"ids": ids[1:], "action": "reject", "reason": "spam", "note": "links"})
    assert approved.get_json() == {"changed": 1, "action": "approve"}
    assert rejected.get_json() == {"changed": 2, "action": "reject"}
    assert actions_for(app, ids[1])[-1] == ("reject", "rejected", "mia")
    with app.app_context():
        reasons = {a.reason for c in service.db.session.scalars(
            select(service.Comment).where(service.Comment.id.in_(ids[1:]))) for a in c.actions if a.reason}
    assert reasons == {"Spam or advertising: links"}
    listed = client.get(f"/api/v1/comments?article={article.slug}").get_json()
    assert listed["total"] == 7 and listed["comments"][0]["id"] == ids[0]


def test_undo_sends_a_decision_back_to_the_queue(app, client, article):
    headers = api_token(app, Role.MODERATOR)
    comment_id = post_json(client, new_comment(article.slug)).get_json()["comment"]["id"]
    client.post("/api/v1/decisions", headers=headers, json={"ids": [comment_id], "action": "approve"})
    undone = client.post(f"/api/v1/comments/{comment_id}/undo", headers=headers)
    assert undone.status_code == 200 and undone.get_json()["comment"]["status"] == "pending"
    again = client.post(f"/api/v1/comments/{comment_id}/undo", headers=headers)
    assert again.status_code == 409 and "already waiting" in again.get_json()["error"]
    assert client.post("/api/v1/comments/999999/undo", headers=headers).status_code == 404


@pytest.mark.parametrize(("payload", "field"), [
    ({"ids": [], "action": "approve"}, "ids"),
    ({"ids": ["1"], "action": "approve"}, "ids"),
    ({"ids": [1], "action": "publish"}, "action"),
    ({"ids": [1], "action": ["approve"]}, "action"),
    ({"ids": [1], "action": "reject", "reason": "boring"}, "reason"),
    ({"ids": [1], "action": "reject", "reason": ["spam"]}, "reason"),
    ({"ids": [1], "action": "reject", "note": "x" * 301}, "note"),
])
def test_bad_decisions_get_field_errors_and_change_nothing(app, client, article, payload, field):
    headers = api_token(app, Role.MODERATOR)
    response = client.post("/api/v1/decisions", headers=headers, json=payload)
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert count_comments(app, status=CommentStatus.APPROVED) == 6


# ----- editors -----------------------------------------------------------------------------------

def test_breakdown_and_trend_are_the_dashboards_figures(app, client, article):
    run_worker(app)
    headers = api_token(app, Role.EDITOR)
    figures = client.get("/api/v1/breakdown", headers=headers, query_string={"statuses": "all"}).get_json()
    trend = client.get("/api/v1/trend", headers=headers, query_string={"by": "week"}).get_json()
    with app.app_context():
        expected = dashboard.summary(dashboard.DashboardFilters(
            statuses=tuple(CommentStatus), query={"statuses": "all"}))
        weekly = dashboard.trend(dashboard.DashboardFilters(granularity="week"))
    assert figures["topics"] == expected["topics"] and sum(t["count"] for t in figures["topics"]) == 6
    assert figures["sentiment_by_topic"] == expected["sentiment_by_topic"]
    assert trend == {"granularity": "week", "trend": weekly}
    bad = client.get("/api/v1/breakdown", headers=headers, query_string={"start": "yesterday"})
    assert bad.status_code == 400 and "year-month-day" in bad.get_json()["error"]


# ----- errors ------------------------------------------------------------------------------------

def test_api_errors_are_json_while_pages_stay_html(client):
    api = client.get("/api/v1/nothing-here")
    page = client.get("/nothing-here", headers={"Accept": "text/html"})
    wrong_method = client.delete("/api/v1/comments")
    assert api.status_code == 404 and api.get_json()["error"] == "There is nothing at this address."
    assert wrong_method.status_code == 405 and wrong_method.is_json
    assert page.status_code == 404 and page.mimetype == "text/html"
