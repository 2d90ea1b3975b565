"""Commenters, word lists on arrival, trust and per-article settings, through the real app."""

from __future__ import annotations

import re

import pytest

from moderation.extensions import db
from moderation.models import Article, Comment, CommenterAction, CommentStatus, ModerationAction, Role, User
from moderation.services import commenters, erasure, wordlists
from tests.conftest import csrf_from, set_article
from tests.helpers import count_comments, latest_comment, post_comment

EMAIL = "rowan@example.org"


def hashed(app) -> str:
    with app.app_context():
        return commenters.email_hash(EMAIL)


def user_named(username: str) -> User:
    return db.session.scalar(db.select(User).where(User.username == username))


def post_form(client, url: str, **data: str):
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


@pytest.fixture
def history_of_rowan(client, app, article):
    """Rowan: two comments approved, one rejected, one waiting."""
    for body in ("First one.", "Second one.", "Third one.", "Fourth one."):
        post_comment(client, article.slug, author="Rowan", email=EMAIL, body=body)
    with app.app_context():
        rows = db.session.scalars(db.select(Comment).where(Comment.author == "Rowan").order_by(Comment.id)).all()
        for row, status in zip(rows, (CommentStatus.APPROVED, CommentStatus.APPROVED, CommentStatus.REJECTED),
                               strict=False):
            row.status = status
        db.session.commit()
    return hashed(app)


def test_a_moderator_sees_a_commenters_history_and_counts_but_not_the_address(client, staff, history_of_rowan):
    staff.login()
    page = client.get(f"/moderation/commenters/{history_of_rowan}").get_data(as_text=True)
    assert "<strong>2</strong> approved · <strong>1</strong> rejected · <strong>1</strong> waiting" in page
    assert "Fourth one." in page and "First one." in page
    assert EMAIL not in page
    queue = client.get("/moderation").get_data(as_text=True)
    assert f"/moderation/commenters/{history_of_rowan}" in queue and EMAIL not in queue


def test_an_admin_sees_the_address(client, staff, history_of_rowan):
    staff.login(Role.ADMIN)
    assert EMAIL in client.get(f"/moderation/commenters/{history_of_rowan}").get_data(as_text=True)


def test_a_banned_commenter_is_refused_clearly_and_nothing_is_stored(client, app, staff, article, history_of_rowan):
    staff.login()
    url = f"/moderation/commenters/{history_of_rowan}"
    post_form(client, url + "/standing", action="ban", reason="Repeated abuse")
    before = count_comments(app)
    response = post_comment(client, article.slug, author="Rowan", email=EMAIL.upper(), body="Let me back in.")
    assert response.status_code == 422
    assert "Comments from this email address are not accepted on this site." in response.get_data(as_text=True)
    assert count_comments(app) == before
    assert "Banned\n    by moderator-user: Repeated abuse" in client.get(url).get_data(as_text=True)


def test_a_suspension_says_until_when_and_lifting_it_is_audited(client, app, staff, article, history_of_rowan):
    staff.login()
    url = f"/moderation/commenters/{history_of_rowan}"
    post_form(client, url + "/standing", action="suspend", days="3", reason="Cooling off")
    refused = post_comment(client, article.slug, author="Rowan", email=EMAIL, body="Still here.")
    assert re.search(r"suspended until \d\d \w\w\w \d{4}, \d\d:\d\d UTC", refused.get_data(as_text=True))
    post_form(client, url + "/standing", action="lift")
    assert post_comment(client, article.slug, author="Rowan", email=EMAIL, body="Back again.").status_code == 303
    with app.app_context():
        record = [(a.action, a.reason, a.user.username) for a in db.session.scalars(
            db.select(CommenterAction).order_by(CommenterAction.id))]
    assert record == [("suspend", "Cooling off", "moderator-user"), ("lift", None, "moderator-user")]


@pytest.mark.parametrize(("data", "message"), [({"action": "ban", "reason": ""}, "Give a reason"),
                                               ({"action": "suspend", "reason": "x", "days": "0"}, "1 to 3650 days"),
                                               ({"action": "lift"}, "neither banned nor suspended")])
def test_a_ban_or_suspension_without_what_it_needs_changes_nothing(client, app, staff, history_of_rowan, data, message):
    staff.login()
    response = post_form(client, f"/moderation/commenters/{history_of_rowan}/standing", **data)
    assert message in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(db.select(CommenterAction)).all() == []


def test_trusted_commenters_are_published_at_once_only_when_an_admin_switched_trust_on(
        client, app, staff, article, history_of_rowan):
    assert post_comment(client, article.slug, author="Rowan", email=EMAIL, body="Waits: trust is off.")
    assert latest_comment(app).status is CommentStatus.PENDING
    with app.app_context():
        db.session.execute(db.update(Comment).where(Comment.status == CommentStatus.REJECTED)
                           .values(status=CommentStatus.APPROVED))
        db.session.commit()
        commenters.set_trust_threshold(3)
    post_comment(client, article.slug, author="Rowan", email=EMAIL, body="Published: three approved, none rejected.")
    assert latest_comment(app).status is CommentStatus.APPROVED
    post_comment(client, article.slug, author="New", email="new@example.org", body="A newcomer waits.")
    assert latest_comment(app).status is CommentStatus.PENDING


def test_trust_is_lost_with_a_single_rejection(client, app, article, history_of_rowan):
    with app.app_context():
        commenters.set_trust_threshold(1)
    post_comment(client, article.slug, author="Rowan", email=EMAIL, body="One rejection: still waits.")
    assert latest_comment(app).status is CommentStatus.PENDING


def set_lists(app, banned: str = "", suspect: str = "") -> None:
    with app.app_context():
        admin = db.session.scalar(db.select(User)) or User(username="lists-admin", password_hash="x", role=Role.ADMIN)
        wordlists.replace_list("banned", banned, admin)
        wordlists.replace_list("suspect", suspect, admin)


def test_a_banned_word_rejects_on_arrival_with_the_reason_and_a_neutral_message(client, app, article):
    set_lists(app, banned="cheap pills")
    response = post_comment(client, article.slug, body="Get CHEEEAP P1LLS here")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you. Your comment has been received." in page
    assert "banned" not in page.lower() and "CHEEEAP" not in page
    stored = latest_comment(app)
    assert stored.status is CommentStatus.REJECTED
    with app.app_context():
        reasons = [r.reason for r in db.session.scalars(db.select(ModerationAction).where(
            ModerationAction.comment_id == stored.id, ModerationAction.action == "reject"))]
    assert reasons == ["Banned words: cheap pills"]


def test_the_api_gives_a_banned_word_the_same_neutral_answer_as_the_form(client, app, article):
    set_lists(app, banned="cheap pills")
    response = client.post("/api/v1/comments", json={"article": article.slug, "author": "Bot",
                                                     "body": "cheap pills, cheap pills"})
    assert response.status_code == 201
    assert response.get_json()["message"] == "Thank you. Your comment has been received."
    assert latest_comment(app).status is CommentStatus.REJECTED


def test_a_suspect_word_holds_the_comment_with_the_words_highlighted(client, app, staff, article):
    set_article(app, article.id, premoderated=False)
    set_lists(app, suspect="idiot")
    post_comment(client, article.slug, body="Only an 1d10t would vote for this")
    assert latest_comment(app).status is CommentStatus.PENDING
    staff.login()
    assert '<mark class="suspect">1d10t</mark>' in client.get("/moderation").get_data(as_text=True)


def test_admins_set_the_word_lists_and_trust_on_a_page_and_a_bad_value_saves_nothing(client, app, staff):
    staff.login(Role.ADMIN)
    response = post_form(client, "/settings/moderation", banned="spam\nscam", suspect="idiot", trusted_after="5")
    assert response.status_code == 303
    page = client.get("/settings/moderation").get_data(as_text=True)
    assert "scam\nspam" in page and 'value="5"' in page
    refused = post_form(client, "/settings/moderation", banned="x" * 101, suspect="", trusted_after="5")
    assert refused.status_code == 422 and "at most 100 characters" in refused.get_data(as_text=True)
    with app.app_context():
        assert wordlists.entries() == [("banned", "scam"), ("banned", "spam"), ("suspect", "idiot")]
        assert commenters.trust_threshold() == 5


@pytest.mark.parametrize(("role", "status"), [(Role.MODERATOR, 403), (Role.EDITOR, 403)])
def test_only_admins_see_the_moderation_settings(client, staff, role, status):
    staff.login(role)
    assert client.get("/settings/moderation").status_code == status


def test_editors_open_close_and_premoderate_an_article_on_its_settings_page(client, app, staff, article):
    staff.login(Role.EDITOR)
    response = post_form(client, f"/settings/articles/{article.slug}", premoderated="on")
    assert response.status_code == 303
    with app.app_context():
        row = db.session.get(Article, article.id)
        assert (row.comments_open, row.premoderated) == (False, True)
    assert "Comments are closed on this article." in client.get(article.url).get_data(as_text=True)
    post_form(client, f"/settings/articles/{article.slug}", comments_open="on")
    with app.app_context():
        row = db.session.get(Article, article.id)
        assert (row.comments_open, row.premoderated) == (True, False)


def test_moderators_cannot_change_article_settings(client, staff, article):
    staff.login(Role.MODERATOR)
    assert client.get(f"/settings/articles/{article.slug}").status_code == 403


def test_erasure_also_forgets_the_email_hash(client, app, article):
    post_comment(client, article.slug, author="Rowan", email=EMAIL, body="Forget me.")
    with app.app_context():

        erasure.erase_by_email(EMAIL, None)
        assert db.session.scalar(db.select(Comment.email_hash).where(Comment.body.like("%erased%"))) is None
