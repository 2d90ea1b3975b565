"""Readers in a real browser, at desktop and phone sizes: posting, errors, times and links."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from moderation.config import MAX_COMMENT_CHARS
from tests.browsing import (
    DESKTOP,
    PHONE,
    brand_lines,
    focused,
    fresh,
    in_view,
    page_width,
    screenshot,
    scripts_off,
    small_targets,
    unlabelled_controls,
    visit,
    wait_for,
)
from tests.helpers import count_comments

pytestmark = pytest.mark.browser
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])


def body_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def fill(driver, author: str, body: str) -> None:
    driver.find_element(By.NAME, "author").send_keys(author)
    driver.find_element(By.NAME, "body").send_keys(body)


@SIZES
def test_after_posting_the_reader_sees_the_confirmation_and_their_waiting_comment(site, browser, size):
    fresh(browser, site, size)
    article = site.new_article()
    visit(browser, site.url(f"/articles/{article.slug}"), "Leave a Comment")
    fill(browser, "Rosa", "The lanes should reach the station.")
    browser.find_element(By.NAME, "submit").click()

    box = wait_for(browser, lambda d: d.find_elements(By.ID, "your-comment"))[0]
    assert "awaiting moderation" in box.text
    assert in_view(browser, box.find_element(By.CSS_SELECTOR, "[role=status]"))
    waiting = box.find_element(By.CSS_SELECTOR, ".comment.waiting")
    assert "The lanes should reach the station." in waiting.text
    assert "Awaiting moderation" in waiting.text
    assert "Latest Comments (0)" in body_text(browser)
    screenshot(browser, f"article-{'phone' if size == PHONE else 'desktop'}")

    browser.delete_all_cookies()  # another reader, or the same one in another browser
    visit(browser, site.url(f"/articles/{article.slug}"), "Leave a Comment")
    assert "The lanes should reach the station." not in body_text(browser)
    assert "Awaiting moderation" not in body_text(browser)


@SIZES
def test_a_refused_post_keeps_the_text_and_puts_the_errors_in_view_with_focus(site, browser, size):
    fresh(browser, site, size)
    article = site.new_article()
    visit(browser, site.url(f"/articles/{article.slug}"), "Leave a Comment")
    fill(browser, "", "Kept, even though I forgot my name.")
    browser.find_element(By.NAME, "submit").click()

    summary = wait_for(browser, lambda d: d.find_elements(By.ID, "error-summary"))[0]
    assert "Please enter your name." in summary.text
    assert in_view(browser, summary)
    assert focused(browser) == summary, focused(browser).get_attribute("outerHTML")[:200]
    author = browser.find_element(By.NAME, "author")
    assert author.get_attribute("aria-invalid") == "true"
    assert "Please enter your name." in browser.find_element(
        By.ID, author.get_attribute("aria-describedby").split()[-1]).text
    assert browser.find_element(By.NAME, "body").get_attribute("value") == "Kept, even though I forgot my name."
    assert browser.current_url == site.url(f"/articles/{article.slug}#leave-comment")

    summary.find_element(By.LINK_TEXT, "Name: Please enter your name.").click()
    assert focused(browser) == author
    browser.refresh()  # must not post the form again
    wait_for(browser, lambda d: "Leave a Comment" in body_text(d))
    assert not browser.find_elements(By.ID, "error-summary")
    assert count_comments(site.app, article_id=article.id) == 0


def test_without_scripts_a_refused_post_still_opens_at_the_errors(site, browser):
    fresh(browser, site, PHONE)
    article = site.new_article()
    with scripts_off(browser):
        visit(browser, site.url(f"/articles/{article.slug}"), "Leave a Comment")
        fill(browser, "Tom", "")
        browser.find_element(By.NAME, "submit").click()
        summary = wait_for(browser, lambda d: d.find_elements(By.ID, "error-summary"))[0]
        assert "Please write a comment." in summary.text
        assert in_view(browser, summary)
        assert focused(browser) == summary  # autofocus, no script needed


def test_the_counter_counts_live_and_says_clearly_when_a_comment_is_too_long(site, browser):
    fresh(browser, site)
    article = site.new_article()
    visit(browser, site.url(f"/articles/{article.slug}"), "Leave a Comment")
    body = browser.find_element(By.NAME, "body")
    counter = browser.find_element(By.ID, "body-count")
    body.send_keys("Twelve chars")
    assert counter.text == f"{MAX_COMMENT_CHARS - 12:,} of {MAX_COMMENT_CHARS:,} characters left"

    browser.execute_script("arguments[0].value = 'x'.repeat(arguments[1]);", body, MAX_COMMENT_CHARS + 10)
    body.send_keys("y")  # a real key press on top of a long paste
    assert counter.text == f"Too long by 11 characters: comments can be at most {MAX_COMMENT_CHARS:,} characters"
    assert body.get_attribute("aria-invalid") == "true"
    assert len(body.get_attribute("value")) == MAX_COMMENT_CHARS + 11  # nothing cut silently
    assert body.get_attribute("maxlength") is None

    browser.find_element(By.NAME, "author").send_keys("Long Writer")
    browser.find_element(By.NAME, "submit").click()
    summary = wait_for(browser, lambda d: d.find_elements(By.ID, "error-summary"))[0]
    assert f"at most {MAX_COMMENT_CHARS} characters (yours has {MAX_COMMENT_CHARS + 11})" in summary.text
    assert len(browser.find_element(By.NAME, "body").get_attribute("value")) == MAX_COMMENT_CHARS + 11


def test_times_show_in_the_readers_time_zone_and_each_comment_has_a_permalink(site, browser):
    fresh(browser, site)
    browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Tokyo"})
    try:
        visit(browser, site.url("/articles/ai-multi-cloud-strategy"), "Latest Comments")
        first = browser.find_element(By.CSS_SELECTOR, ".comment time")
        shown = browser.execute_script(
            "return new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short',"
            " timeZone: 'Asia/Tokyo'}).format(new Date(arguments[0]))", first.get_attribute("datetime"))
        assert first.text == shown
        assert first.get_attribute("title").endswith("UTC")
    finally:
        browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "UTC"})
    with scripts_off(browser):
        visit(browser, site.url("/articles/ai-multi-cloud-strategy"), "Latest Comments")
        assert browser.find_element(By.CSS_SELECTOR, ".comment time").text.endswith("UTC")

    last = browser.find_elements(By.CSS_SELECTOR, ".comment")[-1]
    anchor = last.get_attribute("id")
    link = last.find_element(By.CSS_SELECTOR, "a.permalink")
    assert link.accessible_name.endswith("(link to this comment)")
    link.click()
    wait_for(browser, lambda d: d.current_url.endswith("#" + anchor))
    assert in_view(browser, browser.find_element(By.ID, anchor))


@SIZES
def test_the_article_page_fits_the_screen_with_a_skip_link_and_labelled_fields(site, browser, size):
    fresh(browser, site, size)
    visit(browser, site.url("/articles/ai-multi-cloud-strategy"), "Leave a Comment")
    assert page_width(browser) <= size[0]
    assert brand_lines(browser) == 1
    assert unlabelled_controls(browser) == []
    if size == PHONE:
        assert small_targets(browser) == []

    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    skip = focused(browser)
    assert skip.text == "Skip to main content"
    skip.send_keys(Keys.ENTER)
    assert focused(browser).get_attribute("id") == "main"
