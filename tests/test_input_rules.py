"""Names, spreadsheet cells, form encodings, exports and who may export what (issue 15, finding 7)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Role
from moderation.services import names
from tests.helpers import count_comments, form_for, latest_comment, post_comment

EXPORTS = ["/editor/export/comments.csv", "/editor/export/comments.json",
           "/editor/export/breakdown.csv", "/editor/export/breakdown.json"]


@pytest.mark.parametrize(("typed", "stored"), [
    ("adm\u061cin", "admin"),                         # Arabic letter mark: looked like "admin"
    ("Eve\U000e0041\U000e0042\U000e007f", "Eve"),     # tag characters carry hidden text
    ("\uff41\uff44\uff4d\uff49\uff4e", "admin"),      # fullwidth letters
    ("Ju\u0308rgen", "Jürgen"),                       # decomposed accent, composed
    ("Zo\u00eb \u00a0\u3000 Li\u200b", "Zoë Li"),     # odd spaces and a zero-width space
    ("Владимир Putin", "Владимир Putin"),             # one script per word is fine
    ("山田 太郎", "山田 太郎"), ("やまだタロウ", "やまだタロウ"), ("José 🙂", "José 🙂"),
])
def test_author_names_are_stored_by_the_documented_rule(client, app, article, typed, stored):
    assert post_comment(client, article.slug, author=typed).status_code == 303
    assert latest_comment(app).author == stored


@pytest.mark.parametrize(("typed", "message"), [
    ("\u3164", "Please enter your name."),             # Hangul filler: looks blank
    ("\u2800\u200b\u00ad", "Please enter your name."),
    ("\u0430dmin", "mixes Cyrillic and Latin letters"),  # Cyrillic a
    ("P\u0430yP\u0430l", "mixes Cyrillic and Latin letters"),
    ("\u03bfk Ok", "mixes Greek and Latin letters"),
])
def test_invisible_or_look_alike_names_are_refused_with_a_reason(client, app, article, typed, message):
    response = post_comment(client, article.slug, author=typed)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count_comments(app) == 6


def test_the_name_rule_is_documented_where_it_is_applied():
    assert "UTS #39" in names.__doc__ and "Default_Ignorable_Code_Point" in names.__doc__


@pytest.mark.parametrize("lead", ["\ufeff", "\u2060", "\u00ad", " ", "\u200b\ufeff"])
def test_formula_guard_sees_through_invisible_leading_characters(client, app, staff, article, lead):
    post_comment(client, article.slug, author=f"{lead}=HYPERLINK(\"http://x\")", body=f"{lead}@SUM(1+1)")
    staff.login(Role.ADMIN)
    rows = list(csv.reader(io.StringIO(client.get("/editor/export/comments.csv?statuses=all")
                                       .get_data(as_text=True))))
    row = rows[-1]
    assert row[2].startswith("'") and row[3].startswith("'")
    records = json.loads(client.get("/editor/export/comments.json?statuses=all").get_data(as_text=True))
    assert records[-1]["body"].startswith("'")


@pytest.mark.parametrize("encoded", ["caf%C3", "%FF%FE", "ok%E2%82"])
def test_invalid_utf8_in_a_normal_form_post_is_a_form_error(client, app, article, encoded):
    fields = form_for(client, article.url)
    body = "&".join([f"{k}={v}" for k, v in fields.items()] + [f"author=Bytes&body={encoded}&website="])
    response = client.post(f"{article.url}/comments", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert "could not be read (invalid UTF-8)" in response.get_data(as_text=True)
    assert count_comments(app) == 6


def test_invalid_utf8_in_the_name_or_email_is_refused_too(client, app, article):
    fields = form_for(client, article.url)
    body = "&".join([f"{k}={v}" for k, v in fields.items()] + ["author=Jo%C3&body=Fine&email=a%C3@b.org"])
    page = client.post(f"{article.url}/comments", data=body,
                       content_type="application/x-www-form-urlencoded").get_data(as_text=True)
    assert "Your name contains characters that could not be read." in page
    assert "Please enter a valid email address" in page
    assert count_comments(app) == 6


@pytest.mark.parametrize("url", EXPORTS)
def test_exports_are_never_kept_by_browsers_or_proxies(client, staff, article, url):
    staff.login(Role.ADMIN)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


# The role rule: who may read the text of pending and rejected comments -------------------

@pytest.fixture
def pending_comment(client, app, article):
    post_comment(client, article.slug, body="Unpublished words, waiting for a moderator.")
    return latest_comment(app)


def test_editors_cannot_export_the_text_of_unpublished_comments(client, staff, pending_comment):
    staff.login(Role.EDITOR)
    for url in ("/editor/export/comments.csv?statuses=all", "/editor/export/comments.json?statuses=all"):
        response = client.get(url)
        assert response.status_code == 403
        assert "Editors can export the text of published (approved) comments only" in response.get_data(as_text=True)
    published = client.get("/editor/export/comments.csv").get_data(as_text=True)
    assert "Unpublished words" not in published
    assert client.get("/editor/export/breakdown.csv?statuses=all").status_code == 200  # figures only


def test_admins_may_export_every_comment_with_its_text(client, app, staff, pending_comment):
    staff.login(Role.ADMIN)
    exported = client.get("/editor/export/comments.csv?statuses=all").get_data(as_text=True)
    assert "Unpublished words, waiting for a moderator." in exported
    with app.app_context():
        statuses = set(db.session.scalars(select(Comment.status)))
    assert CommentStatus.PENDING in statuses
