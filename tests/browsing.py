"""A real headless Chromium against the real app under gunicorn, shared by a whole test module.

Why every navigation waits for the page: ChromeDriver 150 answers `get()` and a click that
submits a form as soon as the new document is *committed*, before it is parsed. On a busy machine
`page_source` then reads the still-empty new document ("" instead of the page), which made the
first browser test fail about half of the time here. `visit()` and `wait_for()` wait until the
document is complete and shows what the test expects, so no test reads a page mid-navigation.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from moderation.config import normalise_database_url
from moderation.extensions import db
from moderation.models import Article, Role
from moderation.services import comments as service
from moderation.services import demo
from tests.conftest import PASSWORD, TABLES, ArticleRef, make_app, postgres_url, release_database
from tests.helpers import run_worker
from tests.livesite import gunicorn

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic")
DESKTOP, PHONE = (1280, 800), (390, 844)
STAFF = {"mia": Role.MODERATOR, "eddie": Role.EDITOR, "ada": Role.ADMIN}
TIMEOUT = 15


def require_chromium() -> None:
    if CHROMIUM and DRIVER:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium is missing in CI: bin/test should have installed it")
    pytest.skip("Chromium/chromedriver not installed (bin/test installs them as root)")


@contextmanager
def chromium() -> Iterator[Any]:
    """Start one headless Chromium with a fresh profile; always quit it."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def set_size(driver: Any, size: tuple[int, int]) -> None:
    """Emulate a screen of exactly this many CSS pixels (phones as touch screens, no scrollbar)."""
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


@dataclass
class LiveSite:
    """The app served by gunicorn, and the same database seen from the test for set-up."""

    base: str
    app: Flask

    def url(self, path: str) -> str:
        return self.base + path

    def new_article(self, premoderated: bool = True, comments_open: bool = True,
                    title: str = "Council votes on the new cycle lanes") -> ArticleRef:
        """An article of its own for one test, so tests sharing the site never see each other."""
        slug = f"story-{secrets.token_hex(4)}"
        with self.app.app_context():
            article = Article(slug=slug, title=title, standfirst="What readers think.",
                              body="The council met on Tuesday.\n\nThe vote is next week.",
                              published=date(2026, 11, 2), premoderated=premoderated,
                              comments_open=comments_open)
            db.session.add(article)
            db.session.commit()
            return ArticleRef(article.id, article.slug)

    def comment(self, article: ArticleRef, author: str, body: str, email: str | None = None) -> int:
        """Store a reader's comment through the service, as the form would."""
        with self.app.app_context():
            article_row = db.session.get(Article, article.id)
            return service.submit_comment(article_row, author, body, email).comment.id


def live_database(tmp: Path, template: str) -> str:
    """A database for one module: a copy of the migrated template, or the emptied PostgreSQL."""
    if postgres_url():
        engine = create_engine(normalise_database_url(template))
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return template
    copy = tmp / "live.sqlite3"
    shutil.copy(template.removeprefix("sqlite:///"), copy)
    return f"sqlite:///{copy}"


@contextmanager
def live_site(template: str, model_dir: Path, tmp: Path) -> Iterator[LiveSite]:
    """Demo data and staff users (mia, eddie, ada), then gunicorn with one worker."""
    url = live_database(tmp, template)
    instance = tmp / "instance"
    instance.mkdir()
    app = make_app(url, model_dir, instance)
    with app.app_context():
        demo.load_demo()
        for name, role in STAFF.items():
            service.create_user(name, PASSWORD, role)
    run_worker(app)
    release_database(app)
    try:
        with gunicorn(url, model_dir, tmp, workers=1) as (base, _):
            yield LiveSite(base, app)
    finally:
        release_database(app)


def wait_for(driver: Any, condition: Callable[[Any], Any], timeout: float = TIMEOUT,
             message: Callable[[Any], str] | None = None) -> Any:
    """Wait until the page is fully loaded and `condition(driver)` holds; return its value.

    On a time-out, `message(driver)` (or the page's text) says what the page showed instead.
    """
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        TimeoutException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d: Any) -> Any:
        if d.execute_script("return document.readyState") != "complete":
            return False
        return condition(d)

    try:
        # A page replaced mid-check (a form posting, a redirect) is simply checked again.
        return WebDriverWait(driver, timeout, ignored_exceptions=(
            StaleElementReferenceException, NoSuchElementException)).until(ready)
    except TimeoutException as error:
        shown = message(driver) if message else driver.find_element("tag name", "body").text[:1500]
        raise AssertionError(f"the page never got there; it shows: {shown}") from error


def visit(driver: Any, url: str, expect: str | None = None) -> None:
    """Open `url` and wait for the loaded page (and for `expect` in its text, when given)."""
    driver.get(url)
    wait_for(driver, lambda d: expect is None or expect in d.find_element("tag name", "body").text)


def log_in(driver: Any, site: LiveSite, username: str) -> None:
    """Log in through the real form (after logging out whoever was logged in)."""
    driver.delete_all_cookies()
    visit(driver, site.url("/login"))
    driver.find_element("name", "username").send_keys(username)
    driver.find_element("name", "password").send_keys(PASSWORD)
    driver.find_element("name", "submit").click()
    wait_for(driver, lambda d: "/login" not in d.current_url)


def page_width(driver: Any) -> int:
    """How wide the page is, scrolled content included."""
    return driver.execute_script(
        "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def in_view(driver: Any, element: Any) -> bool:
    """Whether the element is inside the visible part of the page (top at least in view)."""
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.height > 0 && r.top >= 0 && r.top < window.innerHeight && r.left >= 0"
        " && r.right <= window.innerWidth;", element)


def focused(driver: Any) -> Any:
    return driver.switch_to.active_element


TARGETS_SCRIPT = """
const small = [];
const seen = (el) => { const s = getComputedStyle(el); const r = el.getBoundingClientRect();
  return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0 && r.height > 0; };
document.querySelectorAll('button, input, select, textarea, header a, .tabs a, .pager a, .actions a')
  .forEach((el) => {
    if (el.type === 'hidden' || el.closest('.trap') || !seen(el)) { return; }
    const box = (el.type === 'checkbox' || el.type === 'radio') && el.closest('label') ? el.closest('label') : el;
    const r = box.getBoundingClientRect();
    if (r.height < 43.5 || r.width < 43.5) {
      small.push(`${el.tagName.toLowerCase()}[${el.name || el.id || el.textContent.trim().slice(0, 20)}] `
                 + `${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  });
return small;
"""

UNLABELLED_SCRIPT = """
return [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => !['hidden', 'submit', 'button', 'reset'].includes(el.type) && !el.closest('.trap'))
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !el.getAttribute('aria-labelledby'))
  .map((el) => el.name || el.id);
"""


def small_targets(driver: Any) -> list[str]:
    """Visible controls smaller than 44 x 44 CSS pixels (a checkbox counts with its label)."""
    return driver.execute_script(TARGETS_SCRIPT)


def unlabelled_controls(driver: Any) -> list[str]:
    """Form controls with no label element and no ARIA label (a placeholder is not a label)."""
    return driver.execute_script(UNLABELLED_SCRIPT)


def brand_lines(driver: Any) -> int:
    """How many lines the site name wraps onto."""
    return driver.execute_script(
        "const range = document.createRange();"
        "range.selectNodeContents(document.querySelector('.brand'));"
        "const r = range.getClientRects();"
        "return new Set([...r].map((x) => Math.round(x.top))).size;")


@contextmanager
def scripts_off(driver: Any) -> Iterator[None]:
    """Run a block with JavaScript disabled in the page, as for a reader who turned it off."""
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def fresh(driver: Any, site: LiveSite, size: tuple[int, int] = DESKTOP) -> None:
    """Start a test logged out, at this screen size, with JavaScript on."""
    visit(driver, site.url("/login"))
    driver.delete_all_cookies()
    set_size(driver, size)


AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def axe_problems(driver: Any) -> list[str]:
    """Serious and critical axe-core violations on the page (axe is injected by the test only)."""
    if not AXE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("axe-core is missing in CI: bin/test should have installed it (npm)")
        pytest.skip("axe-core not installed (bin/test runs npm ci in tests/axe)")
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations),"
        " (e) => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result if v["impact"] in SERIOUS]


def screenshot(driver: Any, name: str) -> None:
    """Save the visible page as docs/<name>.png when SCREENSHOTS_TO names a folder (README pictures)."""
    folder = os.environ.get("SCREENSHOTS_TO")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))
