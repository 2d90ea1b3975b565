"""Readers: the article page, Leave a Comment, post/redirect/get and what becomes visible."""

from __future__ import annotations

import re

import pytest

from moderation.config import MAX_AUTHOR_CHARS, MAX_COMMENT_CHARS
from moderation.models import CommentStatus
from tests.conftest import set_article
from tests.helpers import count_comments, form_for, latest_comment, post_comment, run_worker


def test_index_lists_the_demo_article(client, article):
    page = client.get("/").get_data(as_text=True)
    assert "Why the biggest AI lab is spreading its bets across clouds" in page
    assert article.url in page


def test_article_shows_approved_demo_comments_and_the_form(client, article):
    page = client.get(article.url).get_data(as_text=True)
    assert "Latest Comments (6)" in page
    assert "Leave a Comment" in page
    for field in ('name="author"', 'name="email"', 'name="body"', 'name="csrf_token"'):
        assert field in page
    assert "up to 5000 characters" in page


def test_unknown_article_is_404(client):
    assert client.get("/articles/no-such-story").status_code == 404


def test_valid_comment_redirects_and_waits_for_moderation(client, app, article):
    response = post_comment(client, article.slug, author="Ana", body="Who pays for the egress?")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{article.url}#your-comment")
    page = client.get(article.url).get_data(as_text=True)
    assert "awaiting moderation" in page
    assert "Latest Comments (6)" in page
    assert "Who pays for the egress?" in page  # to the reader who wrote it, marked as waiting
    someone_else = app.test_client().get(article.url).get_data(as_text=True)
    assert "Who pays for the egress?" not in someone_else
    assert "Awaiting moderation" not in someone_else
    stored = latest_comment(app)
    assert (stored.author, stored.status) == ("Ana", CommentStatus.PENDING)


def test_stored_comment_is_classified_with_all_scores(client, app, article):
    post_comment(client, article.slug, body="My hospital shares patient records without consent.")
    assert latest_comment(app).topic is None  # the request only stores; the worker classifies
    run_worker(app)
    stored = latest_comment(app)
    assert stored.topic == "privacy"
    assert set(stored.topic_scores) == {"privacy", "cost", "opportunity", "fairness", "other"}
    assert stored.sentiment in {"positive", "neutral", "negative"}
    assert -1 <= stored.sentiment_compound <= 1
    assert stored.model_version.startswith("topic-")


def test_post_moderated_article_publishes_at_once(client, app, article):
    set_article(app, article.id, premoderated=False)
    response = post_comment(client, article.slug, body="Published straight away, nice.")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your comment is published" in page
    assert "Latest Comments (7)" in page and "Published straight away, nice." in page


def test_closed_article_refuses_comments_and_stores_nothing(client, app, article):
    set_article(app, article.id, comments_open=False)
    response = post_comment(client, article.slug, body="Late to the party")
    assert response.status_code == 422
    assert "Comments are closed" in response.get_data(as_text=True)
    assert count_comments(app) == 6


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"author": ""}, "author", "Please enter your name."),
    ({"author": "   "}, "author", "Please enter your name."),
    ({"author": "x" * (MAX_AUTHOR_CHARS + 1)}, "author", f"at most {MAX_AUTHOR_CHARS} characters"),
    ({"body": ""}, "body", "Please write a comment."),
    ({"body": " \n\t "}, "body", "Please write a comment."),
    ({"body": "y" * (MAX_COMMENT_CHARS + 1)}, "body", f"at most {MAX_COMMENT_CHARS} characters"),
    ({"email": "not-an-email"}, "email", "valid email address"),
])
def test_invalid_comment_shows_error_beside_field_and_keeps_text(
    client, app, article, fields, field, message
):
    sent = {"author": "Kept Name", "body": "Kept body text"} | fields
    response = post_comment(client, article.slug, **sent)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    if field != "body":
        assert "Kept body text" in page
    assert count_comments(app) == 6


def test_honeypot_filled_stores_nothing_but_looks_normal(client, app, article):
    response = post_comment(client, article.slug, website="http://spam.example")
    assert response.status_code == 303
    assert count_comments(app) == 6
    assert "awaiting moderation" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_form_address_opened_directly_goes_to_the_form(client, article):
    response = client.get(f"{article.url}/comments")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{article.url}#leave-comment")


def test_a_comment_permalink_opens_the_page_that_shows_it(client, app, article):
    set_article(app, article.id, premoderated=False)
    app.config["COMMENTS_PER_PAGE"] = 4
    oldest_demo = client.get(article.url + "?page=2").get_data(as_text=True)
    comment_id = int(re.findall(r'id="comment-(\d+)"', oldest_demo)[-1])
    response = client.get(f"{article.url}/comments/{comment_id}")
    assert response.headers["Location"].endswith(f"{article.url}?page=2#comment-{comment_id}")
    assert client.get(f"{article.url}/comments/999999").status_code == 404


def test_a_pending_comment_has_no_permalink_for_other_readers(client, app, article):
    post_comment(client, article.slug, body="Still waiting here.")
    comment_id = latest_comment(app).id
    assert client.get(f"{article.url}/comments/{comment_id}").status_code == 302
    assert app.test_client().get(f"{article.url}/comments/{comment_id}").status_code == 404


def test_missing_csrf_token_is_refused(client, app, article):
    response = client.post(f"{article.url}/comments",
                           data={"author": "Bot", "body": "no token here"})
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)
    assert count_comments(app) == 6


def test_line_breaks_are_kept_and_html_is_escaped(client, app, article):
    set_article(app, article.id, premoderated=False)
    post_comment(client, article.slug, body="first line\nsecond <b>bold</b> line")
    page = client.get(article.url).get_data(as_text=True)
    assert "first line\nsecond &lt;b&gt;bold&lt;/b&gt; line" in page
    assert "<b>bold</b>" not in page


def test_comments_are_paginated_newest_first(client, app, article):
    set_article(app, article.id, premoderated=False)
    app.config["COMMENTS_PER_PAGE"] = 4
    for n in range(3):
        post_comment(client, article.slug, body=f"Numbered comment {n}")
    first = client.get(article.url).get_data(as_text=True)
    assert "Latest Comments (9)" in first and "Page 1 of 3" in first
    assert first.index("Numbered comment 2") < first.index("Numbered comment 1")
    third = client.get(f"{article.url}?page=3").get_data(as_text=True)
    assert "Numbered comment" not in third


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1e9", "99999999999"])
def test_bad_page_number_is_a_clear_400(client, article, page):
    response = client.get(f"{article.url}?page={page}")
    assert response.status_code == 400
    assert "page number" in response.get_data(as_text=True)


def test_double_submit_of_the_same_form_stores_one_comment(client, app, article):
    from tests.helpers import form_for

    data = form_for(client, article.url) | {"author": "Quick", "body": "Clicked twice", "website": ""}
    first = client.post(f"{article.url}/comments", data=data)
    second = client.post(f"{article.url}/comments", data=data)
    assert first.status_code == second.status_code == 303
    assert count_comments(app, body="Clicked twice") == 1


def test_each_reader_gets_their_own_tokens_from_the_cached_page_and_both_can_post(app, article):
    first, second = app.test_client(), app.test_client()
    forms = [form_for(reader, article.url) for reader in (first, second)]
    assert forms[0]["csrf_token"] != forms[1]["csrf_token"]
    assert forms[0]["submission_token"] != forms[1]["submission_token"]
    for reader, form, body in ((first, forms[0], "First reader"), (second, forms[1], "Second reader")):
        response = reader.post(f"{article.url}/comments",
                               data=form | {"author": "Reader", "body": body, "website": ""})
        assert response.status_code == 303
    assert count_comments(app, body="First reader") == count_comments(app, body="Second reader") == 1


def test_an_edited_article_shows_at_once_on_the_cached_page(client, app, article):
    client.get(article.url)  # fills the page cache
    set_article(app, article.id, title="A corrected headline")
    page = client.get(article.url).get_data(as_text=True)
    assert "A corrected headline" in page
    assert "Why the biggest AI lab is spreading its bets across clouds" not in page


def test_an_oversized_submission_token_is_ignored_not_a_database_error(client, app, article):
    response = post_comment(client, article.slug, body="Token from a tampered form.", submission_token="x" * 500)
    assert response.status_code == 303
    stored = latest_comment(app)
    assert (stored.body, stored.submission_token) == ("Token from a tampered form.", None)
