"""Editors and admins create, edit and close articles on a page; operators add them from the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import Article, Role
from tests.conftest import csrf_from
from tests.helpers import post_comment


def article_row(app, **where) -> Article | None:
    with app.app_context():
        query = select(Article)
        for name, value in where.items():
            query = query.where(getattr(Article, name) == value)
        row = db.session.scalar(query)
        if row is not None:
            db.session.expunge(row)
        return row


def submit_article_form(client, url: str, **fields):
    token = csrf_from(client.get(url).get_data(as_text=True))
    data = {"csrf_token": token, "title": "Cloud bills: who pays?",
            "canonical_url": "https://news.example/2026/cloud-bills", "slug": "",
            "comments_open": "y", "premoderated": "y"}
    data.update(fields)
    return client.post(url, data={k: v for k, v in data.items() if v is not None})


@pytest.mark.parametrize("role", [Role.EDITOR, Role.ADMIN])
def test_editors_and_admins_create_an_article_that_takes_comments(app, client, staff, role):
    staff.login(role)
    response = submit_article_form(client, "/manage/articles/new")
    assert response.status_code == 303
    article = article_row(app, canonical_url="https://news.example/2026/cloud-bills")
    assert article.slug == "cloud-bills-who-pays" and article.comments_open and article.premoderated
    assert "Cloud bills: who pays?" in client.get("/manage/articles").get_data(as_text=True)
    assert post_comment(client, article.slug).status_code == 303


def test_moderators_cannot_manage_articles(client, staff):
    staff.login(Role.MODERATOR)
    assert client.get("/manage/articles").status_code == 403


@pytest.mark.parametrize(("fields", "field_message"), [
    ({"title": ""}, "Please give the article a title."),
    ({"canonical_url": "news.example/story"}, "starting with https://"),
    ({"canonical_url": "javascript:alert(1)"}, "starting with https://"),
    ({"slug": "Not A Slug!"}, "Slugs are lower-case letters"),
])
def test_bad_article_fields_are_shown_beside_the_field_and_nothing_is_stored(app, client, staff, fields,
                                                                            field_message):
    staff.login(Role.EDITOR)
    response = submit_article_form(client, "/manage/articles/new", **fields)
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert article_row(app) is None


def test_a_second_article_cannot_take_the_same_address_or_slug(app, client, staff):
    staff.login(Role.EDITOR)
    submit_article_form(client, "/manage/articles/new", slug="cloud")
    same_url = submit_article_form(client, "/manage/articles/new", slug="other")
    same_slug = submit_article_form(client, "/manage/articles/new", slug="cloud",
                                    canonical_url="https://news.example/elsewhere")
    assert "Another article already has this address." in same_url.get_data(as_text=True)
    assert "Another article already has this slug." in same_slug.get_data(as_text=True)


def test_editing_changes_title_slug_and_switches(app, client, staff, article):
    staff.login(Role.EDITOR)
    response = submit_article_form(client, f"/manage/articles/{article.id}/edit", title="New title",
                                   slug="new-slug", canonical_url="https://news.example/new",
                                   comments_open=None, premoderated=None)
    assert response.status_code == 303
    row = article_row(app, id=article.id)
    assert (row.title, row.slug, row.comments_open, row.premoderated) == ("New title", "new-slug", False, False)
    assert client.get("/articles/new-slug").status_code == 200
    assert "Comments are closed on this article." in client.get("/articles/new-slug").get_data(as_text=True)


def test_closing_an_article_stops_new_comments_but_keeps_approved_ones(app, client, staff, article):
    staff.login(Role.ADMIN)
    token = csrf_from(client.get("/manage/articles").get_data(as_text=True))
    assert client.post(f"/manage/articles/{article.id}/close", data={"csrf_token": token}).status_code == 303
    page = client.get(article.url).get_data(as_text=True)
    assert "Comments are closed on this article." in page and "Latest Comments (6)" in page
    assert post_comment(client, article.slug).status_code == 422


def test_closing_needs_the_csrf_token(app, client, staff, article):
    staff.login(Role.ADMIN)
    assert client.post(f"/manage/articles/{article.id}/close").status_code == 400
    assert article_row(app, id=article.id).comments_open


def test_add_article_command_prints_the_slug(app, runner, client):
    result = runner.invoke(args=["add-article", "--url", "https://news.example/a/b?x=1#top",
                                 "--title", "Ünïcode & Clouds"])
    assert result.exit_code == 0 and result.output == "unicode-clouds\n"
    assert article_row(app, slug="unicode-clouds").canonical_url == "https://news.example/a/b?x=1"
    again = runner.invoke(args=["add-article", "--url", "https://news.example/c", "--title", "Ünïcode & Clouds"])
    assert again.output == "unicode-clouds-2\n"
    assert client.get("/articles/unicode-clouds-2").status_code == 200


def test_add_article_command_refuses_a_duplicate_address(app, runner):
    runner.invoke(args=["add-article", "--url", "https://news.example/a", "--title", "A"])
    result = runner.invoke(args=["add-article", "--url", "https://NEWS.example/a", "--title", "B"])
    assert result.exit_code != 0 and "Another article already has this address." in result.output


def add_article(runner, url: str = "https://news.example/a", title: str = "A story") -> str:
    result = runner.invoke(args=["add-article", "--url", url, "--title", title])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_edit_article_command_changes_every_field_the_page_edits_and_says_what_changed(app, runner, client):
    slug = add_article(runner)
    version = article_row(app, slug=slug).comments_version
    result = runner.invoke(args=["edit-article", slug, "--title", "New title", "--url", "https://news.example/b",
                                 "--slug", "new-slug", "--closed", "--no-premoderation"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "title: 'A story' -> 'New title'",
        "canonical_url: 'https://news.example/a' -> 'https://news.example/b'",
        "slug: 'a-story' -> 'new-slug'",
        "comments_open: True -> False",
        "premoderated: True -> False",
    ]
    row = article_row(app, slug="new-slug")
    assert (row.title, row.canonical_url, row.comments_open, row.premoderated) == (
        "New title", "https://news.example/b", False, False)
    assert row.comments_version == version + 1  # the page's edit renews readers' cached lists; so does this
    assert "Comments are closed on this article." in client.get("/articles/new-slug").get_data(as_text=True)


def test_edit_article_command_changes_only_what_it_is_given(app, runner):
    slug = add_article(runner)
    runner.invoke(args=["close-article", slug])
    result = runner.invoke(args=["edit-article", slug, "--open"])
    assert result.exit_code == 0 and result.output == "comments_open: False -> True\n"
    row = article_row(app, slug=slug)
    assert (row.title, row.canonical_url, row.comments_open, row.premoderated) == (
        "A story", "https://news.example/a", True, True)
    unchanged = runner.invoke(args=["edit-article", slug, "--title", "A story"])
    assert unchanged.exit_code == 0 and unchanged.output == f"Nothing changed on /articles/{slug}.\n"


@pytest.mark.parametrize(("arguments", "message"), [
    (["edit-article", "no-such-story", "--title", "T"], "there is no article with the slug or address 'no-such-story'"),
    (["close-article", "no-such-story"], "there is no article with the slug or address 'no-such-story'"),
    (["edit-article", "a-story", "--url", "https://NEWS.example/taken"],
     "--url: Another article already has this address."),
    (["edit-article", "a-story", "--slug", "taken"], "--slug: Another article already has this slug."),
    (["edit-article", "a-story", "--slug", "Not A Slug!"], "--slug: Slugs are lower-case letters"),
    (["edit-article", "a-story", "--url", "news.example/x"], "--url: Please enter the article's full address"),
    (["edit-article", "a-story", "--title", " "], "--title: Please give the article a title."),
    (["edit-article", "a-story"], "say what to change: --title, --url, --slug"),
])
def test_article_commands_refuse_bad_requests_clearly_and_change_nothing(app, runner, arguments, message):
    add_article(runner)
    add_article(runner, url="https://news.example/taken", title="Taken")
    before = article_row(app, slug="a-story")
    result = runner.invoke(args=arguments)
    assert result.exit_code != 0 and message in result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    after = article_row(app, slug="a-story")
    assert (after.title, after.canonical_url, after.comments_open, after.comments_version) == (
        before.title, before.canonical_url, before.comments_open, before.comments_version)


def test_close_article_command_stops_new_comments_like_the_pages_button(app, runner, client, article):
    result = runner.invoke(args=["close-article", article.slug])
    assert result.exit_code == 0 and result.output == f"Comments are closed on /articles/{article.slug}.\n"
    page = client.get(article.url).get_data(as_text=True)
    assert "Comments are closed on this article." in page and "Latest Comments (6)" in page
    assert post_comment(client, article.slug).status_code == 422
    again = runner.invoke(args=["close-article", article.slug])
    assert again.exit_code == 0 and again.output == f"Comments were already closed on /articles/{article.slug}.\n"
