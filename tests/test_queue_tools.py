"""The queue's tools: why the model chose a topic, label corrections, sorting, search and counts."""

from __future__ import annotations

import re

import pytest

from moderation.extensions import db
from moderation.models import Comment, LabelCorrection, Role, User
from moderation.pages.highlight import term_segments
from moderation.services import corrections
from moderation.services.comments import NotAllowed
from tests.conftest import csrf_from
from tests.helpers import post_comment, run_worker


@pytest.mark.parametrize(("text", "terms", "marked"), [
    ("Egress fees again", ["egress"], ["Egress"]),
    ("the egress  fees and egress", ["egress fees"], ["egress  fees"]),
    ("regress is not egress", ["egress"], ["egress"]),
    ("no match here", ["cloud"], []),
    ("a <b>cloud</b> & co", ["cloud", "b"], ["b", "cloud", "b"]),
])
def test_highlights_mark_whole_words_and_phrases_and_keep_every_character(text, terms, marked):
    pieces = term_segments(text, terms)
    assert "".join(piece for piece, _ in pieces) == text
    assert [piece for piece, hit in pieces if hit] == marked


@pytest.fixture
def waiting(client, app, article) -> int:
    post_comment(client, article.slug, author="Mallory", body="My <b>patient records</b> & privacy matter.")
    run_worker(app)
    with app.app_context():
        return db.session.scalar(db.select(Comment.id).where(Comment.author == "Mallory"))


def test_the_words_that_decided_the_topic_are_highlighted_and_user_text_stays_escaped(client, app, staff, waiting):
    with app.app_context():
        comment = db.session.get(Comment, waiting)
        comment.topic_terms = [["patient records", 0.9], ["b", 0.1]]
        db.session.commit()
    staff.login()
    page = client.get("/moderation").get_data(as_text=True)
    body = re.search(rf'id="comment-{waiting}".*?<div class="body">(.*?)</div>', page, re.S).group(1)
    assert body == ('My &lt;<mark class="term">b</mark>&gt;<mark class="term">patient records</mark>'
                    '&lt;/<mark class="term">b</mark>&gt; &amp; privacy matter.')
    assert "<b>" not in page


def test_a_correction_is_stored_apart_with_who_when_old_new_and_model_version(client, app, staff, waiting):
    staff.login()
    with app.app_context():
        model_topic, version = db.session.execute(
            db.select(Comment.topic, Comment.model_version).where(Comment.id == waiting)).one()
    new_topic = "cost" if model_topic != "cost" else "fairness"
    token = csrf_from(client.get("/moderation").get_data(as_text=True))
    response = client.post(f"/moderation/{waiting}/labels", headers={"Accept": "application/json"},
                           data={"csrf_token": token, "topic": new_topic, "sentiment": ""})
    assert response.get_json()["message"] == f"Labels corrected: topic {model_topic} → {new_topic}."
    with app.app_context():
        [row] = db.session.scalars(db.select(LabelCorrection)).all()
        assert (row.field, row.old_label, row.new_label, row.model_version, row.user.username) == (
            "topic", model_topic, new_topic, version, "moderator-user")
        assert row.created_at is not None
        assert db.session.get(Comment, waiting).topic == model_topic  # the model's label is kept
    page = client.get("/moderation").get_data(as_text=True)
    assert f"{new_topic} · corrected by moderator-user (model: {model_topic}" in page


def test_correcting_to_the_current_label_records_nothing_and_unknown_labels_are_refused(app, staff, waiting):
    staff.login()
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.role == Role.MODERATOR))
        comment = db.session.get(Comment, waiting)
        assert corrections.correct_labels(waiting, user, topic=comment.topic, sentiment=comment.sentiment) == []
        with pytest.raises(NotAllowed):
            corrections.correct_labels(waiting, user, topic="sports")
        assert db.session.scalars(db.select(LabelCorrection)).all() == []


@pytest.fixture
def three(client, app, article) -> list[int]:
    for author, body in [("Ann", "Old cloud thoughts"), ("Ben", "Middle 100% sure"), ("Cy", "Newest view")]:
        post_comment(client, article.slug, author=author, body=body)
    run_worker(app)
    with app.app_context():
        ids = db.session.scalars(db.select(Comment.id).where(Comment.author.in_(["Ann", "Ben", "Cy"]))
                                 .order_by(Comment.id)).all()
        for comment_id, confidence in zip(ids, [0.9, 0.3, 0.6], strict=True):
            db.session.get(Comment, comment_id).topic_confidence = confidence
        db.session.commit()
    return ids


def queue_order(client, query: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="queue-item" id="comment-(\d+)"', client.get(
        f"/moderation?{query}").get_data(as_text=True))]


@pytest.mark.parametrize(("sort", "order"), [("oldest", [0, 1, 2]), ("newest", [2, 1, 0]),
                                             ("uncertain", [1, 2, 0])])
def test_the_queue_sorts_oldest_newest_or_least_confident_first(client, staff, three, sort, order):
    staff.login()
    assert queue_order(client, f"sort={sort}") == [three[i] for i in order]


@pytest.mark.parametrize(("q", "found"), [("CLOUD", [0]), ("ben", [1]), ("100%", [1]), ("%", [1]),
                                          ("_", []), ("nobody", [])])
def test_search_finds_words_in_the_text_or_the_author_name(client, staff, three, q, found):
    staff.login()
    assert queue_order(client, f"q={q.replace('%', '%25')}") == [three[i] for i in found]


def test_every_tab_has_a_count_and_the_active_tab_is_marked(client, staff, three):
    staff.login()
    page = client.get("/moderation?status=approved&q=view").get_data(as_text=True)
    tabs = dict(re.findall(r'data-tab="(\w+)"[^>]*>\s*\w+ \((\d+)\)', page))
    assert tabs == {"pending": "1", "approved": "0", "rejected": "0", "all": "1"}
    assert re.search(r'data-tab="approved"\s+aria-current="page"', page)


def test_a_bad_sort_or_an_overlong_search_is_a_clear_400(client, staff):
    staff.login()
    assert client.get("/moderation?sort=random").status_code == 400
    assert client.get("/moderation?q=" + "x" * 201).status_code == 400
