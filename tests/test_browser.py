"""A real headless Chromium: a reader posts, a moderator approves, the comment appears."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.browsing import DESKTOP, log_in, set_size, visit, wait_for

pytestmark = pytest.mark.browser


def test_reader_posts_moderator_approves_comment_appears(site, browser):
    set_size(browser, DESKTOP)
    visit(browser, site.url("/articles/ai-multi-cloud-strategy"), "Latest Comments (6)")
    browser.find_element(By.NAME, "author").send_keys("Browser Reader")
    browser.find_element(By.NAME, "body").send_keys("Egress fees <b>will</b> decide this.")
    browser.find_element(By.NAME, "submit").click()
    wait_for(browser, lambda d: "awaiting moderation" in d.find_element(By.TAG_NAME, "body").text)

    log_in(browser, site, "mia")
    item = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".queue-item"))[0]
    assert "Egress fees <b>will</b> decide this." in item.find_element(By.CSS_SELECTOR, ".body").text
    item.find_element(By.CSS_SELECTOR, "button.approve").click()
    wait_for(browser, lambda d: "1 comment approved." in d.find_element(By.TAG_NAME, "body").text)

    visit(browser, site.url("/articles/ai-multi-cloud-strategy"), "Latest Comments (7)")
    bodies = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".comment .body")]
    assert bodies[0] == "Egress fees <b>will</b> decide this."
    shot = os.environ.get("SCREENSHOT_TO")
    if shot:
        browser.save_screenshot(str(Path(shot)))
