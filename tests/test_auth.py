"""Log-in, log-out, roles on every staff route, and the `next` redirect."""

from __future__ import annotations

import re

import pytest

from moderation.models import Role
from tests.conftest import PASSWORD, create_staff, csrf_from

STAFF_ONLY = {"queue", "editor", "articles", "integrations"}


def staff_routes(app) -> list[tuple[str, str, tuple[Role, ...]]]:
    """Every URL rule whose view declares required roles: a new route cannot slip through."""
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "required_roles", None)
        if rule.endpoint.split(".")[0] in STAFF_ONLY:
            assert roles, f"{rule.rule} is a staff route without a role check"
        if roles:
            url = re.sub(r"<(?:int:)?\w+>", "1",
                         rule.rule.replace("<slug>", "x").replace("<any(disable, enable):change>", "enable"))
            method = "POST" if "POST" in rule.methods else "GET"
            found.append((url, method, roles))
    return found


def test_every_staff_route_refuses_anonymous_users(app, client):
    routes = staff_routes(app)
    assert len(routes) >= 6
    for url, method, _ in routes:
        response = client.open(url, method=method)
        assert response.status_code in (302, 400), url  # to login (POSTs may fail CSRF first)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_route_refuses_wrong_roles(app, client, role):
    create_staff(app, "someone", role)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "someone", "password": PASSWORD, "csrf_token": token})
    token = csrf_from(client.get("/login").get_data(as_text=True))
    for url, method, roles in staff_routes(app):
        response = client.open(url, method=method, data={"csrf_token": token})
        if role in roles:
            assert response.status_code != 403, url
        else:
            assert response.status_code == 403, url


def test_login_with_wrong_password_shows_error(client, app):
    create_staff(app, "mod", Role.MODERATOR)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    page = client.post("/login", data={"username": "mod", "password": "nope", "csrf_token": token})
    assert "Unknown username or wrong password" in page.get_data(as_text=True)
    assert client.get("/moderation").status_code == 302


def test_login_then_logout(client, staff):
    assert staff.login().headers["Location"] == "/moderation"
    assert client.get("/moderation").status_code == 200
    token = csrf_from(client.get("/moderation").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/moderation").status_code == 302


@pytest.mark.parametrize(("target", "expected"), [
    ("/moderation/history", "/moderation/history"),
    ("https://evil.example/phish", "/moderation"),
    ("//evil.example/phish", "/moderation"),
    ("/\\evil.example", "/moderation"),
    ("javascript:alert(1)", "/moderation"),
])
def test_login_next_cannot_leave_the_site(client, app, target, expected):
    create_staff(app, "mod", Role.MODERATOR)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", query_string={"next": target},
                           data={"username": "mod", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == expected
