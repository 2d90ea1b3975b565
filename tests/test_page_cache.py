"""The article page every reader without a session state shares: cached per article state, never stale,
never holding one reader's tokens or waiting comment for another."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import pytest
from sqlalchemy import event

from moderation.extensions import cache, db
from moderation.models import ActionKind, Role
from moderation.services import comments as service
from tests.conftest import csrf_from, set_article
from tests.helpers import count_comments, form_for, latest_comment, post_comment, run_worker

SUBMISSION_TOKEN = re.compile(r'name="submission_token" type="hidden" value="([^"]*)"')


def decide_in(app, comment_id: int, action: ActionKind) -> None:
    with app.app_context():
        service.decide([comment_id], action, None)


def page_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def cached_pages(app) -> list[str]:
    """Every rendered page or fragment this process's cache holds."""
    with app.app_context():
        store = cache.cache
        return [value for key in list(store._cache) if isinstance(value := store.get(key), str)]


def statements_for(app, client, url: str) -> list[str]:
    """The SQL statements one GET runs."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def note(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        page_of(client, url)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def test_a_reader_never_sees_a_stale_page_after_a_decision(app, article, second_server):
    post_comment(app.test_client(), article.slug, body="Decided on the other server.")
    comment_id = latest_comment(app).id
    reader = app.test_client()
    assert "Latest Comments (6)" in page_of(reader, article.url)  # the shared page is cached now
    decide_in(second_server, comment_id, ActionKind.APPROVE)
    page = page_of(reader, article.url)
    assert "Latest Comments (7)" in page and "Decided on the other server." in page
    decide_in(second_server, comment_id, ActionKind.REJECT)
    page = page_of(reader, article.url)
    assert "Latest Comments (6)" in page and "Decided on the other server." not in page
    with second_server.app_context():
        service.undo(comment_id, None)
    assert "Decided on the other server." not in page_of(app.test_client(), article.url)


def test_closing_comments_shows_at_once_on_the_cached_page(app, client, article):
    assert "Post comment" in page_of(client, article.url)
    set_article(app, article.id, comments_open=False)
    page = page_of(client, article.url)
    assert "Comments are closed on this article." in page and "Post comment" not in page


def test_each_reader_gets_fresh_tokens_and_the_cache_holds_none_of_them(app, article):
    readers = [app.test_client() for _ in range(3)]
    pages = [page_of(reader, article.url) for reader in readers]
    csrf_tokens = {csrf_from(page) for page in pages}
    submission_tokens = {SUBMISSION_TOKEN.search(page).group(1) for page in pages}
    assert len(csrf_tokens) == len(submission_tokens) == 3
    stored = "\n".join(cached_pages(app))
    assert "Leave a Comment" in stored  # the whole page is cached ...
    assert not any(token in stored for token in csrf_tokens | submission_tokens)  # ... without tokens


def test_a_second_reader_costs_at_most_one_query_and_gets_the_same_comments(app, article):
    first = page_of(app.test_client(), article.url)
    statements = statements_for(app, app.test_client(), article.url)
    if db_is_sqlite(app):  # the article row is kept until something is committed (fresh_rows)
        assert statements == []
    else:
        assert len(statements) == 1 and "FROM articles" in statements[0]
    second = page_of(app.test_client(), article.url)
    assert SUBMISSION_TOKEN.sub("", first).replace(csrf_from(first), "") == \
        SUBMISSION_TOKEN.sub("", second).replace(csrf_from(second), "")


def test_a_kept_article_row_gives_way_to_any_commit_even_one_from_outside_the_app(app, article):
    if not db_is_sqlite(app):
        pytest.skip("rows are kept on SQLite only")
    reader = app.test_client()
    assert "Outside edit" not in page_of(reader, article.url)
    assert statements_for(app, reader, article.url) == []  # kept
    with app.app_context():
        path = db.engine.url.database
    with closing(sqlite3.connect(path)) as outside:  # another program: not a connection the app knows
        outside.execute("UPDATE articles SET title = 'Outside edit' WHERE id = ?", (article.id,))
        outside.commit()
    assert "Outside edit" in page_of(reader, article.url)
    assert len(statements_for(app, reader, article.url)) == 0  # kept again, at the new count
    set_article(app, article.id, comments_open=False)  # a commit through the app's own pool
    assert "Comments are closed on this article." in page_of(reader, article.url)


def db_is_sqlite(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "sqlite"


def test_a_readers_waiting_comment_is_theirs_alone(app, article):
    author, other = app.test_client(), app.test_client()
    page_of(other, article.url)  # the shared page is cached before the comment exists
    post_comment(author, article.slug, body="Mine, still waiting.")
    assert "Mine, still waiting." in page_of(author, article.url)
    assert "Mine, still waiting." in page_of(author, article.url)  # still theirs after the message
    assert "Mine, still waiting." not in page_of(other, article.url)
    assert "Mine, still waiting." not in page_of(app.test_client(), article.url)
    assert not any("Mine, still waiting." in page for page in cached_pages(app))


def test_the_message_after_posting_shows_once_then_the_shared_page(app, article):
    reader = app.test_client()
    post_comment(reader, article.slug, website="a bot filled the trap")  # a message, no comment
    assert "awaiting moderation" in page_of(reader, article.url)
    assert "awaiting moderation" not in page_of(reader, article.url)
    assert not any("awaiting moderation" in page for page in cached_pages(app))


def test_a_readers_form_posts_with_the_tokens_the_cached_page_gave_them(app, article):
    reader = app.test_client()
    page_of(app.test_client(), article.url)  # filled by someone else
    data = form_for(reader, article.url) | {"author": "Reader", "email": "", "body": "Posted from the cache.",
                                            "website": ""}
    assert reader.post(f"{article.url}/comments", data=data).status_code == 303
    assert latest_comment(app).body == "Posted from the cache."


def test_staff_get_their_own_page_and_the_shared_page_never_shows_staff_parts(app, article, staff):
    page_of(app.test_client(), article.url)
    staff.login(Role.EDITOR)
    staff_page = page_of(staff.client, article.url)
    assert "Log out" in staff_page
    reader_page = page_of(app.test_client(), article.url)
    assert "Log out" not in reader_page and "Staff log in" in reader_page
    assert not any("Log out" in page for page in cached_pages(app))


def test_a_token_from_another_readers_page_is_refused_and_nothing_is_stored(app, article):
    first, second = app.test_client(), app.test_client()
    theirs = form_for(first, article.url)
    form_for(second, article.url)  # the second reader has a session (and a CSRF secret) of their own
    response = second.post(f"{article.url}/comments", data=theirs | {"author": "Reader", "email": "",
                                                                       "body": "With a borrowed token.",
                                                                       "website": ""})
    assert response.status_code == 400
    assert count_comments(app, body="With a borrowed token.") == 0


def test_the_api_list_is_never_stale_after_a_decision_or_an_edit(app, client, article, second_server):
    url = f"/api/v1/comments?article={article.slug}"
    assert client.get(url).get_json()["total"] == 6  # cached now
    post_comment(app.test_client(), article.slug, body="Seen through the API.")
    decide_in(second_server, latest_comment(app).id, ActionKind.APPROVE)
    listed = client.get(url).get_json()
    assert listed["total"] == 7 and listed["comments"][0]["body"] == "Seen through the API."
    set_article(app, article.id, comments_open=False)  # closing does not change the comments' version
    assert client.get(url).get_json()["article"]["comments_open"] is False


def test_a_classification_after_approval_reaches_the_cached_lists(app, client, article):
    post_comment(app.test_client(), article.slug, body="Approved before the worker read it: bus fares again.")
    comment_id = latest_comment(app).id
    decide_in(app, comment_id, ActionKind.APPROVE)
    url = f"/api/v1/comments?article={article.slug}"
    first = client.get(url).get_json()["comments"][0]  # cached now, unclassified
    assert first["id"] == comment_id and first["topic"] is None
    run_worker(app)
    classified = client.get(url).get_json()["comments"][0]
    assert classified["id"] == comment_id and classified["topic"] is not None
    assert classified["sentiment"] is not None
