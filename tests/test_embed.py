"""The embed: a plain page on another origin shows the comments and posts one; staff approve it by API."""

from __future__ import annotations

import json
import threading
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from moderation.extensions import db
from moderation.models import Role, User
from moderation.services import demo, origins, tokens
from tests.conftest import PASSWORD, release_database
from tests.livesite import DEMO_SLUG, gunicorn

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Host story</title>
<style>p {{ color: rgb(255, 0, 0); }} h2 {{ font-size: 40px; }} button {{ display: none; }}</style></head>
<body><h1>A story on the newsroom's own site</h1><p id="host-text">The host's paragraph.</p>
<div id="comments"><a id="fallback" href="{base}/embed/comments?article={slug}">Comments</a></div>
<script src="{base}/embed.js" data-article="{slug}" async></script>
</body></html>"""


@contextmanager
def host_site(html: str):
    """Serve one HTML page from its own port on 127.0.0.1: a second origin, like a news site."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def api_call(url: str, token: str, payload: dict | None = None) -> dict:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {token}",
                                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def test_the_embed_route_and_fallback_link_lead_to_the_comments_page(client, article):
    script = client.get("/embed.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert "attachShadow" in script.get_data(as_text=True)
    link = client.get(f"/embed/comments?article={article.slug}")
    assert link.status_code == 303 and link.headers["Location"].endswith(f"/articles/{article.slug}#comments")
    assert client.get("/embed/comments?article=unknown").status_code == 404


def test_the_embed_script_has_no_inline_html_from_reader_text():
    from pathlib import Path

    source = (Path(__file__).resolve().parent.parent / "moderation" / "static" / "embed.js").read_text()
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source and "eval(" not in source


def test_admins_allow_sites_on_a_page(app, client, staff):
    from tests.conftest import csrf_from

    staff.login(Role.ADMIN)
    token = csrf_from(client.get("/integrations/origins").get_data(as_text=True))
    client.post("/integrations/origins", data={"csrf_token": token, "origin": "https://News.example/any/path"})
    bad = client.post("/integrations/origins", data={"csrf_token": token, "origin": "news.example"})
    page = client.get("/integrations/origins").get_data(as_text=True)
    assert "https://news.example" in page and bad.status_code == 422
    with app.app_context():
        row = origins.stored_origin("https://news.example")
        assert origins.is_allowed("https://news.example") and not row.auto_register
        row_id = row.id
    client.post(f"/integrations/origins/{row_id}/auto-register", data={"csrf_token": token})
    with app.app_context():
        assert origins.stored_origin("https://news.example").auto_register
    client.post(f"/integrations/origins/{row_id}/remove", data={"csrf_token": token})
    with app.app_context():
        assert not origins.is_allowed("https://news.example")


@pytest.mark.browser
def test_a_page_on_an_allowed_site_shows_comments_takes_one_and_shows_it_once_approved(
        app, database_url, model_dir, tmp_path, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    body = "Egress fees <b>will</b> decide this, from the embed."
    with app.app_context():
        demo.load_demo()
        moderator = User(username="mia", role=Role.MODERATOR)
        moderator.set_password(PASSWORD)
        db.session.add(moderator)
        db.session.commit()
        _, token = tokens.create_token(moderator, "browser test")
    with gunicorn(database_url, model_dir, tmp_path, workers=1) as (base, _), \
            host_site(HOST_PAGE.format(base=base, slug=DEMO_SLUG)) as site, \
            host_site(HOST_PAGE.format(base=base, slug=DEMO_SLUG)) as stranger:
        with app.app_context():
            origins.add_origin(site)
        release_database(app)

        def embed_text(driver):
            root = driver.find_element(By.ID, "comments").shadow_root
            return root.find_element(By.CSS_SELECTOR, ".cm").text

        browser.get(stranger)  # a site nobody allowed: the browser refuses the API's answer
        WebDriverWait(browser, 15).until(lambda d: "could not be loaded" in embed_text(d))

        browser.get(site)
        WebDriverWait(browser, 15).until(lambda d: "Latest Comments (6)" in embed_text(d))
        root = browser.find_element(By.ID, "comments").shadow_root
        root.find_element(By.CSS_SELECTOR, "#cm-author").send_keys("Embed Reader")
        root.find_element(By.CSS_SELECTOR, "#cm-body").send_keys(body)
        root.find_element(By.CSS_SELECTOR, "button[name=submit]").click()
        WebDriverWait(browser, 15).until(lambda d: "awaiting moderation" in embed_text(d))

        color = "return getComputedStyle(arguments[0]).color"
        assert browser.execute_script(color, browser.find_element(By.ID, "host-text")) == "rgb(255, 0, 0)"
        embed_meta = root.find_element(By.CSS_SELECTOR, ".comment .meta")
        assert browser.execute_script(color, embed_meta) != "rgb(255, 0, 0)"  # the host's CSS stays out
        assert root.find_element(By.CSS_SELECTOR, "button[name=submit]").is_displayed()

        queue = api_call(f"{base}/api/v1/queue", token)
        assert [c["body"] for c in queue["comments"]] == [body]
        decided = api_call(f"{base}/api/v1/decisions", token, {"ids": [queue["comments"][0]["id"]],
                                                               "action": "approve"})
        assert decided["changed"] == 1

        browser.get(site)
        WebDriverWait(browser, 15).until(lambda d: "Latest Comments (7)" in embed_text(d))
        root = browser.find_element(By.ID, "comments").shadow_root
        first = root.find_element(By.CSS_SELECTOR, ".comment .body")
        assert first.text == body and not root.find_elements(By.CSS_SELECTOR, ".comment .body b")
