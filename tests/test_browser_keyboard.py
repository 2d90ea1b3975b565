"""A moderator works the queue with the keyboard only, in a real browser."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from moderation.extensions import db
from moderation.models import Comment, CommentStatus, ModerationAction
from tests.browsing import PASSWORD, focused, fresh, visit, wait_for

pytestmark = pytest.mark.browser


def press(browser, *keys: str) -> None:
    for key in keys:
        focused(browser).send_keys(key)


def state(site, comment_id: int) -> tuple[CommentStatus, str | None]:
    with site.app.app_context():
        comment = db.session.get(Comment, comment_id)
        last = db.session.scalar(db.select(ModerationAction).where(ModerationAction.comment_id == comment_id)
                                 .order_by(ModerationAction.id.desc()).limit(1))
        return comment.status, last.reason


def test_a_moderator_clears_the_queue_from_the_keyboard_alone(site, browser):
    elsewhere = site.new_article()
    site.comment(elsewhere, "Someone else", "Waiting under another article.")  # not in the counts below
    article = site.new_article()
    ids = [site.comment(article, f"Reader {n}", body) for n, body in enumerate(
        ["Bus lanes help everyone.", "Buy cheap watches at example.org", "Cyclists pay no road tax.",
         "Parking will cost more."])]
    fresh(browser, site)
    visit(browser, site.url("/login"))
    press(browser, Keys.TAB)  # the skip link first, then on to the form
    while focused(browser).get_attribute("name") != "username":
        press(browser, Keys.TAB)
    press(browser, "mia", Keys.TAB, PASSWORD, Keys.ENTER)
    wait_for(browser, lambda d: "Moderation queue" in d.title)
    visit(browser, site.url(f"/moderation?article={article.id}"), "Keyboard:")
    browser.execute_script("window.stillTheSamePage = true;")

    press(browser, "j")
    assert focused(browser).get_attribute("id") == f"comment-{ids[0]}"
    press(browser, "a")  # approve: the item goes, focus moves to the next
    wait_for(browser, lambda d: focused(d).get_attribute("id") == f"comment-{ids[1]}")
    assert state(site, ids[0]) == (CommentStatus.APPROVED, None)

    press(browser, "r")  # reject with a reason from the picker
    picker = browser.find_element(By.ID, "reason-picker")
    assert picker.is_displayed() and "the comment by Reader 1" in picker.text
    press(browser, "1", Keys.ENTER)  # 1 = Spam or advertising
    wait_for(browser, lambda d: focused(d).get_attribute("id") == f"comment-{ids[2]}")
    assert state(site, ids[1]) == (CommentStatus.REJECTED, "Spam or advertising")

    press(browser, "u")  # undo the last decision: the comment is back where it was
    wait_for(browser, lambda d: d.find_elements(By.ID, f"comment-{ids[1]}"))
    assert state(site, ids[1])[0] is CommentStatus.PENDING
    assert focused(browser).get_attribute("id") == f"comment-{ids[1]}"

    press(browser, "j", "k", "x")
    assert browser.find_element(By.CSS_SELECTOR, f"#comment-{ids[1]} input[name=ids]").is_selected()
    press(browser, "x")
    assert not browser.find_element(By.CSS_SELECTOR, f"#comment-{ids[1]} input[name=ids]").is_selected()

    press(browser, "?")
    shortcuts = browser.find_element(By.ID, "shortcuts")
    assert shortcuts.is_displayed() and "Undo your last decision" in shortcuts.text
    press(browser, Keys.ESCAPE)
    assert not shortcuts.is_displayed()

    press(browser, "r", Keys.ESCAPE)  # a cancelled picker changes nothing
    assert state(site, ids[1])[0] is CommentStatus.PENDING
    assert browser.execute_script("return window.stillTheSamePage === true")
    assert browser.find_element(By.CSS_SELECTOR, '.tabs [data-tab="pending"]').text == "Pending (3)"
