"""Moderators: the queue, approve/reject one or many, undo, history, audit rows, filters."""

from __future__ import annotations

import re

import pytest

from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Role
from tests.conftest import csrf_from
from tests.helpers import actions_for, count_comments, latest_comment, post_comment, run_worker


def latest_comment_with_id(app, comment_id: int) -> Comment:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        db.session.expunge(comment)
        return comment


@pytest.fixture
def pending(client, app, article) -> list[int]:
    """Three reader comments waiting in the queue."""
    bodies = ["Patient records should never leave the country.",
              "The egress fees will eat every saving.",
              "Great chance for small agencies to hire."]
    for body in bodies:
        post_comment(client, article.slug, body=body)
    run_worker(app)
    return [latest_comment(app).id - 2, latest_comment(app).id - 1, latest_comment(app).id]


def decide(client, url: str, **data: str):
    token = csrf_from(client.get("/moderation").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_queue_lists_pending_oldest_first_with_badges(client, staff, pending):
    staff.login()
    page = client.get("/moderation").get_data(as_text=True)
    positions = [page.index(f'id="comment-{cid}"') for cid in pending]
    assert positions == sorted(positions)
    assert "Pending (3)" in page and "Approved (6)" in page
    assert re.search(r'class="badge topic-\w+"[^>]*>\w+ · \d+%', page)
    assert re.search(r'class="badge sentiment-\w+"[^>]*>\w+ · [+-]\d\.\d\d', page)


def test_approve_publishes_comment_and_writes_audit_row(client, app, staff, article, pending):
    staff.login()
    response = decide(client, f"/moderation/{pending[0]}/approve")
    assert response.status_code == 303
    assert "Latest Comments (7)" in client.get(article.url).get_data(as_text=True)
    assert actions_for(app, pending[0])[-1] == ("approve", "approved", "moderator-user")
    decided = latest_comment_with_id(app, pending[0])
    assert decided.decided_at >= decided.created_at and 0 <= decided.decision_minutes < 5


def test_reject_with_reason_records_it_and_stays_hidden(client, app, staff, article, pending):
    staff.login()
    decide(client, f"/moderation/{pending[1]}/reject", reason="spam", note="link farm")
    assert count_comments(app, status=CommentStatus.REJECTED) == 1
    assert "egress fees" not in client.get(article.url).get_data(as_text=True)
    history = client.get("/moderation/history").get_data(as_text=True)
    assert "Spam or advertising: link farm" in history and "moderator-user" in history


def test_unknown_reason_is_refused(client, app, staff, pending):
    staff.login()
    response = decide(client, f"/moderation/{pending[1]}/reject", reason="because")
    assert response.status_code == 400
    assert count_comments(app, status=CommentStatus.PENDING) == 3


@pytest.mark.parametrize(("action", "status"), [("approve", CommentStatus.APPROVED),
                                                 ("reject", CommentStatus.REJECTED)])
def test_bulk_decision_changes_every_selected_comment(client, app, staff, pending, action, status):
    staff.login()
    token = csrf_from(client.get("/moderation").get_data(as_text=True))
    response = client.post("/moderation/bulk", data={
        "csrf_token": token, "action": action, "ids": pending[:2], "reason": ""})
    assert response.status_code == 303
    assert count_comments(app, status=CommentStatus.PENDING) == 1
    for cid in pending[:2]:
        assert actions_for(app, cid)[-1] == (action, status.value, "moderator-user")


def test_bulk_without_selection_changes_nothing(client, app, staff, pending):
    staff.login()
    token = csrf_from(client.get("/moderation").get_data(as_text=True))
    response = client.post("/moderation/bulk", data={"csrf_token": token, "action": "approve"},
                           follow_redirects=True)
    assert "Select at least one comment" in response.get_data(as_text=True)
    assert count_comments(app, status=CommentStatus.PENDING) == 3


@pytest.mark.parametrize("data", [{"action": "delete", "ids": "1"}, {"action": "approve", "ids": "x"}])
def test_bulk_with_bad_values_is_a_400(client, staff, pending, data):
    staff.login()
    token = csrf_from(client.get("/moderation").get_data(as_text=True))
    assert client.post("/moderation/bulk", data={"csrf_token": token, **data}).status_code == 400


def test_undo_returns_comment_to_queue_and_is_audited(client, app, staff, article, pending):
    staff.login()
    decide(client, f"/moderation/{pending[0]}/approve")
    response = decide(client, f"/moderation/{pending[0]}/undo")
    assert response.status_code == 303
    assert count_comments(app, status=CommentStatus.PENDING) == 3
    assert [a[0] for a in actions_for(app, pending[0])] == ["submit", "classify", "approve", "undo"]
    undone = latest_comment_with_id(app, pending[0])
    assert undone.decided_at is None and undone.decision_minutes is None
    assert "Latest Comments (6)" in client.get(article.url).get_data(as_text=True)


def test_undo_of_pending_comment_says_so(client, app, staff, pending):
    staff.login()
    page = decide(client, f"/moderation/{pending[0]}/undo")
    assert page.status_code == 303
    assert "already waiting" in client.get("/moderation").get_data(as_text=True)


def test_decision_on_missing_comment_changes_nothing(client, staff, pending):
    staff.login()
    assert decide(client, "/moderation/99999/undo").status_code == 404


def test_filters_narrow_the_queue(client, staff, pending):
    staff.login()
    everything = client.get("/moderation?status=all").get_data(as_text=True)
    assert "9 comments match" in everything
    approved = client.get("/moderation?status=approved&topic=privacy").get_data(as_text=True)
    assert "1 comment match" in approved and "patient data" in approved


@pytest.mark.parametrize("query", ["status=deleted", "topic=sports", "sentiment=angry",
                                   "article=abc", "article=99999999999999999999", "page=0",
                                   "status=pending'--"])
def test_bad_filter_values_are_a_clear_400(client, staff, query):
    staff.login()
    response = client.get(f"/moderation?{query}")
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_queue_paginates(client, app, staff, pending):
    staff.login()
    app.config["QUEUE_PER_PAGE"] = 2
    first = client.get("/moderation").get_data(as_text=True)
    assert "Page 1 of 2" in first
    second = client.get("/moderation?page=2").get_data(as_text=True)
    assert f'id="comment-{pending[2]}"' in second


def test_decision_without_csrf_token_is_refused(client, app, staff, pending):
    staff.login()
    response = client.post(f"/moderation/{pending[0]}/approve", data={})
    assert response.status_code == 400
    assert count_comments(app, status=CommentStatus.PENDING) == 3


def test_editor_cannot_decide(client, app, staff, pending):
    staff.login(Role.EDITOR)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(f"/moderation/{pending[0]}/approve", data={"csrf_token": token})
    assert response.status_code == 403
    assert count_comments(app, status=CommentStatus.PENDING) == 3


def reasons_of(app, comment_id: int) -> list[tuple[str, str | None]]:
    from moderation.models import ModerationAction

    with app.app_context():
        rows = db.session.scalars(db.select(ModerationAction).where(ModerationAction.comment_id == comment_id)
                                  .order_by(ModerationAction.id))
        return [(r.action.value, r.reason) for r in rows]


def test_bulk_approve_records_no_reason_even_when_one_was_chosen(client, app, staff, pending):
    staff.login()
    token = csrf_from(client.get("/moderation").get_data(as_text=True))
    client.post("/moderation/bulk", data={"csrf_token": token, "action": "approve", "ids": pending[:2],
                                          "reason": "spam", "note": "meant for rejections"})
    for cid in pending[:2]:
        assert reasons_of(app, cid)[-1] == ("approve", None)


def test_undo_of_a_decision_a_later_one_replaced_changes_nothing_and_says_why(client, app, staff, pending):
    from moderation.models import ModerationAction

    staff.login()
    decide(client, f"/moderation/{pending[0]}/approve")
    decide(client, f"/moderation/{pending[0]}/reject", reason="spam")
    with app.app_context():
        approve_id = db.session.scalar(db.select(ModerationAction.id).where(
            ModerationAction.comment_id == pending[0], ModerationAction.action == "approve"))
    response = decide(client, f"/moderation/{pending[0]}/undo", decision=str(approve_id))
    assert response.status_code == 303
    assert latest_comment_with_id(app, pending[0]).status is CommentStatus.REJECTED
    assert "A later decision replaced this one" in client.get("/moderation/history").get_data(as_text=True)


def test_history_offers_undo_only_on_the_decision_that_set_the_status(client, app, staff, pending):
    staff.login()
    decide(client, f"/moderation/{pending[0]}/approve")
    decide(client, f"/moderation/{pending[0]}/reject", reason="spam")
    history = client.get("/moderation/history").get_data(as_text=True)
    forms = re.findall(rf'action="/moderation/{pending[0]}/undo".*?</form>', history, re.S)
    assert len(forms) == 1 and "Undo rejection" in forms[0]
    assert "Replaced by a later decision" in history
    assert "Moves it back to the pending queue." in history


def test_rejected_tab_shows_the_reason_and_who_rejected(client, staff, pending):
    staff.login()
    decide(client, f"/moderation/{pending[1]}/reject", reason="off_topic", note="about football")
    page = client.get("/moderation?status=rejected").get_data(as_text=True)
    assert "Rejected by\n  <strong>moderator-user</strong>" in page
    assert "Off topic: about football" in page


def test_a_decision_asked_for_as_json_answers_with_counts_and_the_new_item(client, staff, pending):
    staff.login()
    token = csrf_from(client.get("/moderation").get_data(as_text=True))
    response = client.post(f"/moderation/{pending[0]}/approve", data={"csrf_token": token},
                           headers={"Accept": "application/json"})
    answer = response.get_json()
    assert response.status_code == 200 and answer["ok"] is True
    assert answer["counts"] == {"pending": 2, "approved": 7, "rejected": 0}
    [item] = answer["comments"]
    assert item["status"] == "approved" and item["action"] == "approve"
    assert f'id="comment-{pending[0]}"' in item["html"] and "Undo approval" in item["html"]


def test_every_queue_control_names_the_comment_it_acts_on(client, staff, pending):
    staff.login()
    page = client.get("/moderation").get_data(as_text=True)
    names = re.findall(r'<span class="visually-hidden"> comment by Reader: “([^”]+)”</span>', page)
    assert len(names) == 3 * 3  # select, approve, reject for each of the three
    assert len(set(names)) == 3
