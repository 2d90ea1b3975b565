"""Every page in a real browser: accessibility (axe-core), phone width, an editor's journey, pictures."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from werkzeug.exceptions import NotFound

from moderation.extensions import db
from moderation.models import User
from moderation.services import commenters, origins, tokens, webhooks, wordlists
from tests.browsing import (
    DESKTOP,
    PHONE,
    axe_problems,
    fresh,
    log_in,
    page_width,
    screenshot,
    small_targets,
    visit,
    wait_for,
)
from tests.helpers import run_worker

pytestmark = pytest.mark.browser
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
ARTICLE = "/articles/ai-multi-cloud-strategy"
PICTURES = {"/moderation": "queue", "/editor": "dashboard"}  # the article: test_browser_reader.py
READER_PAGES = ["/", ARTICLE, "/login", "/no-such-page"]
# GET routes that answer with something other than a page of their own; every other GET route must
# be among the pages the accessibility test visits (test_the_page_check_visits_every_html_page_the_app_serves).
NOT_PAGES = {
    "static": "stylesheets and scripts",
    "embed.script": "the embed's JavaScript",
    "embed.comments_page": "a redirect to the article page",
    "comments.comments_form": "a redirect to the article page's form",
    "comments.permalink": "a redirect to the article page at the comment",
    "editor.export_breakdown": "a CSV or JSON download",
    "editor.export_comments": "a CSV or JSON download",
    "operations.status_json": "JSON for monitoring",
}
NOT_PAGE_BLUEPRINTS = {"api": "the JSON API (tests/test_openapi.py checks every operation)"}
DEAD_ENDPOINT = "http://127.0.0.1:9/hooks"  # nothing listens: deliveries wait with an error


@pytest.fixture(scope="module")
def busy_site(site):
    """The site with comments waiting (one with a suspect word), a banned word and a commenter."""
    with site.app.app_context():
        admin = db.session.scalar(db.select(User).where(User.username == "ada"))
        wordlists.replace_list("suspect", "idiot", admin)
        wordlists.replace_list("banned", "cheap pills", admin)
        site.hashed = commenters.email_hash("sam@example.org")
        origins.add_origin("https://news.example.org", auto_register=True)
        webhooks.add_endpoint(DEAD_ENDPOINT, [webhooks.CREATED])
        tokens.create_token(admin, "Newsroom CMS sync")
    article = site.new_article(title="Cycle lanes: the council decides")
    for author, body in [("Sam", "Only an idiot would cut the bus lane to make room for bikes."),
                         ("Priya", "Who pays for the new lanes? The parking fees will rise again."),
                         ("Lee", "Great news for kids cycling to school, finally safe routes.")]:
        site.comment(article, author, body, email=f"{author.lower()}@example.org")
    run_worker(site.app)
    site.busy_article = article
    return site


def pages(site) -> list[str]:
    """Every page as the admin (who may open them all), with the queue's views and the article form."""
    slug, article_id = site.busy_article.slug, site.busy_article.id
    return ["/", ARTICLE, f"/articles/{slug}", "/login", "/no-such-page", "/moderation",
            "/moderation?status=approved", "/moderation?status=all&sort=uncertain", "/moderation/history",
            f"/moderation/commenters/{site.hashed}", "/editor", "/operations", "/settings/moderation",
            f"/settings/articles/{slug}", "/account/password", "/admin/users", "/manage/articles",
            "/manage/articles/new", f"/manage/articles/{article_id}/edit", "/integrations/origins",
            "/integrations/tokens", "/integrations/webhooks", "/integrations/webhooks/deliveries"]


def test_the_page_check_visits_every_html_page_the_app_serves(busy_site):
    rules = list(busy_site.app.url_map.iter_rules())
    adapter = busy_site.app.url_map.bind("localhost")
    visited = set()
    for path in READER_PAGES + pages(busy_site):
        try:
            visited.add(adapter.match(path.partition("?")[0], method="GET")[0])
        except NotFound:
            assert path == "/no-such-page"
    html_pages = {rule.endpoint for rule in rules if "GET" in rule.methods and rule.endpoint not in NOT_PAGES
                  and rule.endpoint.partition(".")[0] not in NOT_PAGE_BLUEPRINTS}
    assert html_pages - visited == set(), "add these pages to pages() or, if they are not pages, to NOT_PAGES"
    assert set(NOT_PAGES) - {rule.endpoint for rule in rules} == set(), "NOT_PAGES names routes that are gone"


@SIZES
def test_every_page_passes_axe_and_fits_the_screen(busy_site, browser, size):
    site = busy_site
    fresh(browser, site, size)
    problems: dict[str, list[str]] = {}
    for path in READER_PAGES:  # as a reader
        visit(browser, site.url(path))
        check_page(browser, f"{path} as a reader", size, problems)
    log_in(browser, site, "ada")  # an admin may open every staff page
    for path in pages(site):
        visit(browser, site.url(path))
        check_page(browser, path, size, problems)
        picture = PICTURES.get(path)
        if picture:
            screenshot(browser, f"{picture}-{'phone' if size == PHONE else 'desktop'}")
    assert problems == {}, "\n".join(f"{page}: {found}" for page, found in problems.items())


def check_page(browser, page: str, size, problems: dict[str, list[str]]) -> None:
    """Record the page's serious axe violations, its overflow and (on a phone) its small targets."""
    found = axe_problems(browser)
    if page_width(browser) > size[0]:
        found.append(f"the page is {page_width(browser)} px wide on a {size[0]} px screen")
    if size == PHONE:
        found += [f"smaller than 44 px: {target}" for target in small_targets(browser)]
    if found:
        problems[f"{page} at {size[0]} px"] = found


def test_an_editor_switches_off_premoderation_and_a_readers_comment_appears_at_once(busy_site, browser):
    site = busy_site
    article = site.new_article(title="Library opening hours")
    fresh(browser, site)
    log_in(browser, site, "eddie")
    visit(browser, site.url(f"/articles/{article.slug}"), "For editors")
    browser.find_element(By.LINK_TEXT, "Comment settings for this article").click()
    premoderated = wait_for(browser, lambda d: d.find_elements(By.NAME, "premoderated"))[0]
    assert premoderated.is_selected()
    premoderated.click()
    browser.find_element(By.CSS_SELECTOR, "button[type=submit].button").click()
    wait_for(browser, lambda d: "settings are saved" in d.find_element(By.TAG_NAME, "body").text)
    assert axe_problems(browser) == []

    browser.delete_all_cookies()  # a reader now
    visit(browser, site.url(f"/articles/{article.slug}"), "Leave a Comment")
    browser.find_element(By.NAME, "author").send_keys("June")
    browser.find_element(By.NAME, "body").send_keys("Open on Sundays, please.")
    browser.find_element(By.NAME, "submit").click()
    wait_for(browser, lambda d: "Your comment is published" in d.find_element(By.TAG_NAME, "body").text)
    assert "Latest Comments (1)" in browser.find_element(By.ID, "comments").text
    assert browser.find_element(By.CSS_SELECTOR, ".comment .body").text == "Open on Sundays, please."

    run_worker(site.app)
    log_in(browser, site, "eddie")
    visit(browser, site.url(f"/editor?article={article.id}"), "Editors' dashboard")
    assert "1 approved comment" in browser.find_element(By.CSS_SELECTOR, "section.representatives").text


def test_the_accessibility_check_does_find_a_serious_problem(busy_site, browser):
    fresh(browser, busy_site)
    visit(browser, busy_site.url("/"))
    browser.execute_script("document.querySelector('main').append(document.createElement('button'));")
    assert any(problem.startswith("button-name (critical)") for problem in axe_problems(browser))
