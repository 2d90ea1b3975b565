"""A real headless Chromium: a reader posts, a moderator approves, the comment appears."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from moderation import demo, service
from moderation.models import Role
from tests.conftest import PASSWORD, release_database
from tests.livesite import gunicorn

pytestmark = pytest.mark.browser
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def browser():
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing in CI: bin/test should have installed it")
        pytest.skip("Chromium/chromedriver not installed (bin/test installs them as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1200,1800", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_reader_posts_moderator_approves_comment_appears(app, database_url, model_dir, tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with app.app_context():
        demo.load_demo()
        service.create_user("mia", PASSWORD, Role.MODERATOR)
    release_database(app)
    with gunicorn(database_url, model_dir, tmp_path, workers=1) as (base, _):
        browser.get(f"{base}/articles/ai-multi-cloud-strategy")
        assert "Latest Comments (6)" in browser.page_source
        browser.find_element(By.NAME, "author").send_keys("Browser Reader")
        browser.find_element(By.NAME, "body").send_keys("Egress fees <b>will</b> decide this.")
        browser.find_element(By.NAME, "submit").click()
        WebDriverWait(browser, 15).until(lambda d: "awaiting moderation" in d.page_source)

        browser.get(f"{base}/login")
        browser.find_element(By.NAME, "username").send_keys("mia")
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.NAME, "submit").click()
        WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".queue-item"))
        item = browser.find_element(By.CSS_SELECTOR, ".queue-item")
        assert "Egress fees <b>will</b> decide this." in item.find_element(By.CSS_SELECTOR, ".body").text
        item.find_element(By.CSS_SELECTOR, "button.approve").click()
        WebDriverWait(browser, 15).until(
            lambda d: "1 comment approved." in d.page_source)

        browser.get(f"{base}/articles/ai-multi-cloud-strategy")
        assert "Latest Comments (7)" in browser.page_source
        bodies = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".comment .body")]
        assert bodies[0] == "Egress fees <b>will</b> decide this."
        shot = os.environ.get("SCREENSHOT_TO")
        if shot:
            browser.save_screenshot(str(Path(shot)))
