"""Attacks on the comment form and staff pages: XSS, headers, cookies, injection, limits."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import ActionKind, Comment, Role
from moderation.services import comments as service
from tests.conftest import csrf_from
from tests.helpers import count_comments, form_for, post_comment, run_worker

pytestmark = pytest.mark.engine_agnostic  # escaping, CSRF and roles: the SQLite pass covers them

XSS = [
    "<script>alert(1)</script>", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", "<svg><script>alert(1)</script></svg>",
    "<a href=\"javascript:alert(1)\">click</a>", "<a href='jav&#x09;ascript:alert(1)'>x</a>",
    "<iframe src=javascript:alert(1)>", "<body onload=alert(1)>", "<div style=\"background:url(javascript:alert(1))\">",
    "\"><script>alert(1)</script>", "'><img src=x onerror=alert(1)>", "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>", "<math><mtext><script>alert(1)</script>", "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>", "<video><source onerror=alert(1)>", "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>", "<form action=javascript:alert(1)><button>x</button></form>",
    "<meta http-equiv=refresh content=0;url=javascript:alert(1)>", "<base href=//evil.example/>",
    "<link rel=stylesheet href=//evil.example/x.css>", "<style>@import '//evil.example';</style>",
    "{{ 7*7 }}<b>ssti</b>", "<scr<script>ipt>alert(1)</script>", "\u003cscript\u003ealert(1)\u003c/script\u003e",
    "<img src=x onerror=\"&#97;lert(1)\">", "<svg><a xlink:href=javascript:alert(1)><text>x</text></a></svg>",
    "<marquee onstart=alert(1)>", "<!--<script>-->alert(1)", "<x onpointerover=alert(1)>hover",
]
SAFE_TAGS = {"html", "head", "meta", "title", "link", "body", "header", "nav", "a", "span", "form",
             "input", "button", "main", "p", "article", "h1", "h2", "h3", "h4", "section", "div", "strong",
             "time", "small", "label", "textarea", "select", "option", "ol", "li", "ul", "table", "thead",
             "tbody", "tr", "th", "td", "caption", "figure", "svg", "text", "rect", "line", "polyline",
             "aside", "code", "circle", "figcaption", "fieldset", "legend", "kbd", "dl", "dt", "dd",
             "dialog", "mark", "g", "noscript", "template", "details", "summary"}


class TagCollector(HTMLParser):
    """Collect what a browser would treat as markup, so escaped text cannot fool the check."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script" and dict(attrs).get("src", "").startswith("/static/"):
            return  # our own script file: CSP forbids inline script, so nothing else could run
        if tag not in SAFE_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript"):
                self.problems.append(f"<{tag} {name}={value}>")


def assert_escaped(page: str) -> None:
    collector = TagCollector()
    collector.feed(page)
    assert collector.problems == []


@pytest.fixture
def hostile(client, app, article):
    """Every payload posted as both author and body, then approved for readers to see."""
    for payload in XSS:
        post_comment(client, article.slug, author=payload[:80], body=f"{payload} tail")
    run_worker(app)
    with app.app_context():
        admin = service.create_user("xss-admin", "long enough pw", Role.ADMIN)
        service.decide(db.session.scalars(select(Comment.id)).all(), ActionKind.APPROVE, admin)
    return article


@pytest.mark.parametrize(("role", "url"), [
    (None, "/articles/ai-multi-cloud-strategy"), (None, "/articles/ai-multi-cloud-strategy?page=2"),
    (Role.ADMIN, "/moderation?status=all"), (Role.ADMIN, "/moderation/history"),
    (Role.ADMIN, "/editor?statuses=all"),
])
def test_stored_xss_never_renders_unescaped(client, staff, hostile, role, url):
    if role:
        staff.login(role)
    page = client.get(url).get_data(as_text=True)
    # The dashboard shows only a few representative comments: some payload, escaped, must be there.
    shown = "&lt;" if url.startswith("/editor") else "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert shown in page
    assert_escaped(page)


def test_exports_carry_payloads_as_data_not_markup(client, staff, hostile):
    staff.login(Role.ADMIN)
    with client.get("/editor/export/comments.json?statuses=all") as response:
        assert response.mimetype == "application/json"
    with client.get("/editor/export/comments.csv") as response:
        assert response.mimetype == "text/csv"


def test_security_headers_forbid_inline_script(client, article):
    response = client.get(article.url)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(client, staff):
    response = staff.login()
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_is_secure_when_configured(app, client, staff):
    app.config["SESSION_COOKIE_SECURE"] = True
    assert "Secure" in staff.login().headers.get("Set-Cookie", "")


@pytest.mark.parametrize("value", ["1' OR '1'='1", "1; DROP TABLE comments;--", "' UNION SELECT password_hash FROM users--"])
def test_sql_injection_in_filters_is_harmless(client, app, staff, article, value):
    staff.login(Role.ADMIN)
    for url in (f"/moderation?topic={value}", f"/moderation?article={value}", f"/editor?article={value}",
                f"/articles/{value}", f"/moderation?status={value}", f"/editor?start={value}"):
        assert client.get(url).status_code in (400, 404), url
    assert count_comments(app) == 6


def test_client_address_is_stored_only_as_a_salted_hash(client, app, article):
    post_comment(client, article.slug, body="hash me")
    with app.app_context():
        comment = db.session.scalar(select(Comment).where(Comment.body == "hash me"))
        assert comment.client_hash and len(comment.client_hash) == 64
        assert "127.0.0.1" not in comment.client_hash
        import hashlib

        assert comment.client_hash != hashlib.sha256(b"127.0.0.1").hexdigest()


def test_erase_email_anonymises_and_audits(client, app, article, runner):
    post_comment(client, article.slug, body="Mine", email="Reader@Example.org")
    post_comment(client, article.slug, body="Someone else's", email="other@example.org")
    result = runner.invoke(args=["erase-email", "reader@example.org", "--yes"])
    assert "Anonymised 1 comments" in result.output
    with app.app_context():
        erased = db.session.scalar(select(Comment).where(Comment.author == "[erased]"))
        assert erased.email is None and "Mine" not in erased.body and erased.client_hash is None
        assert erased.actions[-1].action.value == "erase"
    assert count_comments(app, body="Someone else's") == 1


# Bad input ---------------------------------------------------------------------------------

def test_oversized_request_gets_a_friendly_413(client, app, article):
    data = form_for(client, article.url) | {"author": "Big", "body": "x" * 70_000}
    response = client.post(f"{article.url}/comments", data=data)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert count_comments(app) == 6


def test_control_characters_and_nul_bytes_are_removed(client, app, article):
    post_comment(client, article.slug, author="Nul\x00 Name", body="bad\x00 bytes\x07 and \u202e bidi")
    with app.app_context():
        comment = db.session.scalar(select(Comment).order_by(Comment.id.desc()))
        assert (comment.author, comment.body) == ("Nul Name", "bad bytes and  bidi")


def test_invalid_utf8_is_a_form_error_not_a_500(client, app, article):
    data = form_for(client, article.url) | {"author": "Bytes", "body": "@BODY@"}
    parts = [f'--XX\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in data.items()]
    body = ("".join(parts) + "--XX--\r\n").encode().replace(b"@BODY@", b"caf\xe9 \xff")
    response = client.post(f"{article.url}/comments", data=body,
                           content_type="multipart/form-data; boundary=XX")
    assert response.status_code == 422
    assert "could not be read" in response.get_data(as_text=True)
    assert count_comments(app) == 6


class TestRateLimits:
    @pytest.fixture
    def app_settings(self):
        return {"RATELIMIT_ENABLED": True, "COMMENT_RATE_LIMIT": "3 per minute",
                "LOGIN_RATE_LIMIT": "2 per minute"}

    def test_posting_too_fast_gets_429_with_retry_after(self, client, app, article):
        codes = [post_comment(client, article.slug, body=f"quick {n}").status_code for n in range(4)]
        assert codes == [303, 303, 303, 429]
        response = post_comment(client, article.slug, body="again")
        assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
        assert "going a little fast" in response.get_data(as_text=True)
        assert count_comments(app) == 9

    def test_login_guessing_is_throttled(self, client, app):
        token = csrf_from(client.get("/login").get_data(as_text=True))
        codes = [client.post("/login", data={"username": "x", "password": "guess", "csrf_token": token}).status_code
                 for _ in range(3)]
        assert codes == [200, 200, 429]
