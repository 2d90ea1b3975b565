"""What real readers write is accepted, and the page stays readable (issue 15, finding 8)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import ActionKind, Comment, Role
from moderation.services import comments as service
from moderation.services import demo
from tests.browsing import visit
from tests.conftest import release_database
from tests.helpers import count_comments, latest_comment, post_comment
from tests.livesite import DEMO_SLUG, gunicorn

LONG_URL = ("http://news.bbc.co.uk/2/hi/uk_news/politics/8157164.stm?source=comment-thread"
            "&utm_campaign=reader-shares&utm_medium=referral&ref=a-long-tracking-value-0123456789")
REAL = [
    f"The original report is here:{LONG_URL} and it says the opposite.",
    f"Same story in the UK.{LONG_URL.replace('news.bbc.co.uk', 'www.theguardian.com')}",
    "We will get through this together......................................................."
    "...................................................................... or not at all",
    "Nooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo"
    "oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo!!! Not again.",
]


@pytest.mark.parametrize("body", REAL)
def test_comments_with_glued_links_and_long_runs_are_accepted_as_written(client, app, article, body):
    assert max(len(word) for word in body.split()) > 120
    response = post_comment(client, article.slug, body=body)
    assert response.status_code == 303
    assert latest_comment(app).body == body


@pytest.mark.browser
def test_long_words_wrap_instead_of_widening_the_page(app, database_url, model_dir, tmp_path, browser):  # noqa: F811
    with app.app_context():
        demo.load_demo()
    client = app.test_client()
    for body in REAL:
        post_comment(client, DEMO_SLUG, author="Reader" + "x" * 70, body=body)
    with app.app_context():
        admin = service.create_user("wrap-admin", "long enough pw", Role.ADMIN)
        ids = db.session.scalars(select(Comment.id).where(Comment.author.like("Readerx%"))).all()
        service.decide(ids, ActionKind.APPROVE, admin)
    assert count_comments(app, status="approved") == 6 + len(REAL)
    release_database(app)
    with gunicorn(database_url, model_dir, tmp_path, workers=1) as (base, _):
        browser.set_window_size(420, 900)
        # Waits for the loaded page: once, on a busy machine, the page source was read before it came.
        visit(browser, f"{base}/articles/{DEMO_SLUG}", expect="together......")
        overflow = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];")
    assert overflow[0] <= overflow[1], f"the page is {overflow[0]}px wide in a {overflow[1]}px window"
