"""Moderators in a real browser: decisions in place, undo that does what it says, phones."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from moderation.extensions import db
from moderation.models import Comment, CommentStatus, ModerationAction
from tests.browsing import (
    PHONE,
    brand_lines,
    focused,
    fresh,
    log_in,
    page_width,
    scripts_off,
    small_targets,
    unlabelled_controls,
    visit,
    wait_for,
)

pytestmark = pytest.mark.browser


def queue_with(site, browser, bodies: list[str], size=None):
    """An article of its own with these comments waiting, and mia looking at its queue."""
    article = site.new_article()
    ids = [site.comment(article, f"Reader {n}", body) for n, body in enumerate(bodies)]
    fresh(browser, site, *([size] if size else []))
    log_in(browser, site, "mia")
    visit(browser, site.url(f"/moderation?article={article.id}"), "Moderation queue")
    return article, ids


def status_of(site, comment_id: int) -> CommentStatus:
    with site.app.app_context():
        return db.session.get(Comment, comment_id).status


def decisions_of(site, comment_id: int) -> list[tuple[str, str | None, str | None]]:
    with site.app.app_context():
        rows = db.session.scalars(db.select(ModerationAction).where(ModerationAction.comment_id == comment_id)
                                  .order_by(ModerationAction.id))
        return [(r.action.value, r.reason, r.user.username if r.user else None) for r in rows]


def item(browser, comment_id: int):
    return browser.find_element(By.ID, f"comment-{comment_id}")


def test_decisions_apply_in_place_and_focus_moves_to_the_next_comment(site, browser):
    _, ids = queue_with(site, browser, ["First in line.", "Second in line.", "Third in line."])
    browser.execute_script("window.stillTheSamePage = true;")
    assert "Pending (3)" in browser.find_element(By.CSS_SELECTOR, ".tabs [aria-current=page]").text

    item(browser, ids[0]).find_element(By.CSS_SELECTOR, "button.approve").click()
    wait_for(browser, lambda d: not d.find_elements(By.ID, f"comment-{ids[0]}"))
    assert browser.execute_script("return window.stillTheSamePage === true")  # no reload
    assert focused(browser).get_attribute("id") == f"comment-{ids[1]}"
    assert "1 comment approved." in browser.find_element(By.ID, "queue-status").text
    assert browser.find_element(By.CSS_SELECTOR, '.tabs [data-tab="pending"]').text == "Pending (2)"
    assert status_of(site, ids[0]) is CommentStatus.APPROVED

    browser.find_element(By.CSS_SELECTOR, "#queue-status button.undo").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, f"comment-{ids[0]}"))
    assert status_of(site, ids[0]) is CommentStatus.PENDING
    assert [i.get_attribute("id") for i in browser.find_elements(By.CSS_SELECTOR, ".queue-item")] == [
        f"comment-{i}" for i in ids]


def test_select_all_and_every_control_is_named_after_its_comment(site, browser):
    _, ids = queue_with(site, browser, ["Bus fares first.", "Lanes are fine."])
    select_all = browser.find_element(By.ID, "select-all")
    assert select_all.is_displayed()
    select_all.click()
    boxes = browser.find_elements(By.CSS_SELECTOR, "input[name=ids]")
    assert all(box.is_selected() for box in boxes)
    names = [box.accessible_name.strip() for box in boxes]
    assert names == ["Select comment by Reader 0: “Bus fares first.”",
                     "Select comment by Reader 1: “Lanes are fine.”"]
    approve_names = [b.accessible_name for b in browser.find_elements(By.CSS_SELECTOR, ".queue-item button.approve")]
    assert approve_names == ["Approve comment by Reader 0: “Bus fares first.”",
                             "Approve comment by Reader 1: “Lanes are fine.”"]
    assert unlabelled_controls(browser) == []


def test_bulk_approve_records_no_reject_reason(site, browser):
    _, ids = queue_with(site, browser, ["One for bulk.", "Two for bulk."])
    browser.find_element(By.ID, "select-all").click()
    Select(browser.find_element(By.ID, "bulk-reason")).select_by_visible_text("Spam or advertising")
    browser.find_element(By.CSS_SELECTOR, "#bulk-form button.approve").click()
    wait_for(browser, lambda d: "2 comments approved." in d.find_element(By.ID, "queue-status").text,
             message=lambda d: d.find_element(By.ID, "queue-status").text)
    for comment_id in ids:
        assert decisions_of(site, comment_id)[-1] == ("approve", None, "mia")


def test_undo_in_the_history_is_offered_only_where_it_does_what_it_says(site, browser):
    article, [comment_id] = queue_with(site, browser, ["Approve me, then change your mind."])
    item(browser, comment_id).find_element(By.CSS_SELECTOR, "button.approve").click()
    wait_for(browser, lambda d: status_of(site, comment_id) is CommentStatus.APPROVED)
    visit(browser, site.url(f"/moderation?status=approved&article={article.id}"), "Approved by")
    Select(item(browser, comment_id).find_element(By.NAME, "reason")).select_by_visible_text("Off topic")
    item(browser, comment_id).find_element(By.CSS_SELECTOR, "button.reject").click()
    wait_for(browser, lambda d: status_of(site, comment_id) is CommentStatus.REJECTED)

    visit(browser, site.url("/moderation/history"), "Moderation history")
    rows = [row for row in browser.find_elements(By.CSS_SELECTOR, "tbody tr")
            if "Approve me, then change your mind." in row.text]
    reject_row, approve_row = rows
    assert "Replaced by a later decision" in approve_row.text
    assert not approve_row.find_elements(By.TAG_NAME, "button")
    button = reject_row.find_element(By.CSS_SELECTOR, "button.undo")
    assert button.text.startswith("Undo rejection")
    assert "Moves it back to the pending queue." in reject_row.text
    button.click()
    wait_for(browser, lambda d: "back in the queue" in d.find_element(By.TAG_NAME, "body").text)
    assert status_of(site, comment_id) is CommentStatus.PENDING


def test_the_rejected_tab_shows_the_reason_and_who_rejected(site, browser):
    article, [comment_id] = queue_with(site, browser, ["Buy cheap watches here."])
    Select(item(browser, comment_id).find_element(By.NAME, "reason")).select_by_visible_text("Spam or advertising")
    item(browser, comment_id).find_element(By.NAME, "note").send_keys("watch shop")
    item(browser, comment_id).find_element(By.CSS_SELECTOR, "button.reject").click()
    wait_for(browser, lambda d: "1 comment rejected." in d.find_element(By.ID, "queue-status").text)
    visit(browser, site.url(f"/moderation?status=rejected&article={article.id}"), "Rejected by")
    decided = item(browser, comment_id).find_element(By.CSS_SELECTOR, ".decided").text
    assert "Rejected by mia" in decided and "Reason: Spam or advertising: watch shop" in decided


def test_every_decision_still_works_as_a_plain_form_without_scripts(site, browser):
    _, ids = queue_with(site, browser, ["No scripts here.", "Nor here."])
    with scripts_off(browser):
        browser.refresh()
        wait_for(browser, lambda d: d.find_elements(By.ID, f"comment-{ids[0]}"))
        assert not browser.find_element(By.ID, "select-all").is_displayed()
        item(browser, ids[0]).find_element(By.CSS_SELECTOR, "button.approve").click()
        wait_for(browser, lambda d: "1 comment approved." in d.find_element(By.TAG_NAME, "body").text)
        assert status_of(site, ids[0]) is CommentStatus.APPROVED
        browser.find_element(By.LINK_TEXT, "Select all on this page").click()
        wait_for(browser, lambda d: d.find_elements(By.ID, f"comment-{ids[1]}"))
        assert item(browser, ids[1]).find_element(By.NAME, "ids").is_selected()


@pytest.mark.parametrize("path", ["/moderation", "/moderation/history", "/moderation?status=approved"])
def test_queue_and_history_fit_a_phone_with_large_targets(site, browser, path):
    queue_with(site, browser, ["A phone-sized check."], PHONE)
    visit(browser, site.url(path), "The Daily Ledger")
    assert page_width(browser) <= PHONE[0]
    assert brand_lines(browser) == 1
    assert small_targets(browser) == []
    assert unlabelled_controls(browser) == []
