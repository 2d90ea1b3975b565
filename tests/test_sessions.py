"""Log-in that does not tell which names exist, and sessions that really end (issue 15, 2 and 3)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from moderation import config
from moderation.extensions import db
from moderation.models import Role, User
from moderation.pages.auth import SEEN_KEY
from moderation.services import accounts
from tests.conftest import PASSWORD, create_staff, csrf_from, make_app, release_database

NEW_PASSWORD = "a brand new passphrase"
ROOT = Path(__file__).resolve().parent.parent


def log_in(client: FlaskClient, username: str, password: str = PASSWORD):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def copy_of(app, client: FlaskClient) -> FlaskClient:
    """A second browser holding a copy of this browser's session cookie."""
    name = app.config["SESSION_COOKIE_NAME"]
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def post_button(client: FlaskClient, url: str, page: str = "/account/password"):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token})


def can_open_queue(client: FlaskClient) -> bool:
    return client.get("/moderation").status_code == 200


@pytest.fixture
def moderator(app, client):
    create_staff(app, "mod", Role.MODERATOR)
    assert log_in(client, "mod").status_code == 302
    return client


# 2. Log-in timing ----------------------------------------------------------------------------

def count_scrypt_calls(monkeypatch) -> list[int]:
    calls = [0]
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    return calls


def test_unknown_usernames_cost_the_same_password_hash_check_as_known_ones(app, client, monkeypatch):
    create_staff(app, "mod", Role.MODERATOR)
    calls = count_scrypt_calls(monkeypatch)
    for username in ("mod", "nobody-by-this-name", "mod", "another-stranger"):
        before = calls[0]
        page = log_in(client, username, "wrong password").get_data(as_text=True)
        assert "Unknown username or wrong password." in page
        assert calls[0] - before == 1, username


FIRST_LOG_INS_IN_A_NEW_PROCESS = """
import hashlib, json, sys
from moderation import create_app
app = create_app(json.loads(sys.argv[1]))
real, calls = hashlib.scrypt, []
hashlib.scrypt = lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs)
for username in sys.argv[2:]:
    before = len(calls)
    page = app.test_client().post("/login", data={"username": username, "password": "wrong password"})
    assert "Unknown username or wrong password." in page.get_data(as_text=True), page.status
    print(len(calls) - before)
"""


def test_the_first_unknown_name_after_a_fresh_start_costs_one_hash_check_too(app):
    create_staff(app, "mod", Role.MODERATOR)
    names = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "MODEL_DIR", "MODEL_AUTO_TRAIN",
             "RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI", "INSTANCE_PATH")
    settings = {**{name: app.config[name] for name in names}, "WTF_CSRF_ENABLED": False}
    result = subprocess.run([sys.executable, "-c", FIRST_LOG_INS_IN_A_NEW_PROCESS, json.dumps(settings),
                             "nobody-by-this-name", "mod", "another-stranger"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1", "1"]  # scrypt runs per log-in: the check alone


def test_staff_passwords_are_hashed_with_full_strength_scrypt_unless_configured(database_url, model_dir, tmp_path):
    """The suite hashes at a lower cost (TEST_PASSWORD_HASH); what ships is Werkzeug's scrypt."""
    default = config.defaults(Flask("defaults", instance_path=str(tmp_path)))["PASSWORD_HASH_METHOD"]
    shipped = make_app(database_url, model_dir, tmp_path, PASSWORD_HASH_METHOD=default)
    create_staff(shipped, "strong", Role.MODERATOR)
    with shipped.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.username == "strong"))
    release_database(shipped)
    assert stored.startswith("scrypt:32768:8:1$")
    assert config.from_environment({"PASSWORD_HASH_METHOD": "scrypt:65536:8:1"})["PASSWORD_HASH_METHOD"] == (
        "scrypt:65536:8:1")  # operators may raise the cost
    with pytest.raises(ValueError):
        make_app(database_url, model_dir, tmp_path, PASSWORD_HASH_METHOD="rot13")


def test_a_disabled_user_cannot_log_in_even_with_the_right_password(app, client, runner):
    create_staff(app, "mod", Role.MODERATOR)
    runner.invoke(args=["disable-user", "mod"])
    assert "Unknown username or wrong password." in log_in(client, "mod").get_data(as_text=True)
    assert not can_open_queue(client)


# 3. Sessions that end ------------------------------------------------------------------------

def test_a_copied_session_cookie_stops_working_after_logout(app, moderator):
    thief = copy_of(app, moderator)
    assert can_open_queue(thief)
    post_button(moderator, "/logout", "/moderation")
    assert not can_open_queue(moderator)
    assert not can_open_queue(thief)


def test_changing_the_password_ends_other_sessions_and_keeps_this_one(app, moderator):
    elsewhere = app.test_client()
    log_in(elsewhere, "mod")
    thief = copy_of(app, moderator)
    page = moderator.get("/account/password").get_data(as_text=True)
    response = moderator.post("/account/password", data={
        "csrf_token": csrf_from(page), "current_password": PASSWORD,
        "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}, follow_redirects=True)
    assert "Your password is changed" in response.get_data(as_text=True)
    assert can_open_queue(moderator)
    assert not can_open_queue(elsewhere) and not can_open_queue(thief)
    assert log_in(app.test_client(), "mod", PASSWORD).status_code == 200  # refused: the form again
    assert log_in(app.test_client(), "mod", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(("fields", "message"), [
    ({"current_password": "not it"}, "That is not your current password."),
    ({"new_password": "short", "confirm_password": "short"}, "Passwords need at least 8 characters."),
    ({"confirm_password": "something else"}, "The two new passwords do not match."),
])
def test_a_refused_password_change_says_why_and_changes_nothing(app, moderator, fields, message):
    page = moderator.get("/account/password").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "current_password": PASSWORD,
            "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD} | fields
    response = moderator.post("/account/password", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert can_open_queue(moderator)
    assert log_in(app.test_client(), "mod", PASSWORD).status_code == 302


def test_an_admin_disabling_a_user_ends_their_sessions_at_once(app, moderator):
    create_staff(app, "boss", Role.ADMIN)
    admin = app.test_client()
    log_in(admin, "boss")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "mod" in page and "active" in page
    with app.app_context():
        mod_id = accounts.by_username("mod").id
    response = post_button(admin, f"/admin/users/{mod_id}/disable", "/admin/users")
    assert response.status_code == 303
    assert not can_open_queue(moderator)
    assert "disabled" in admin.get("/admin/users").get_data(as_text=True)
    post_button(admin, f"/admin/users/{mod_id}/enable", "/admin/users")
    assert log_in(app.test_client(), "mod").status_code == 302


def test_an_admin_cannot_disable_their_own_account(app, client):
    create_staff(app, "boss", Role.ADMIN)
    log_in(client, "boss")
    with app.app_context():
        boss_id = accounts.by_username("boss").id
    response = post_button(client, f"/admin/users/{boss_id}/disable", "/admin/users")
    assert "You cannot disable your own account." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/admin/users").status_code == 200


def test_only_admins_see_the_user_list(app, moderator):
    assert moderator.get("/admin/users").status_code == 403


def test_the_command_line_sets_passwords_and_disables_users(app, moderator, runner):
    result = runner.invoke(args=["set-password", "mod"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert "New password set for 'mod'" in result.output
    assert not can_open_queue(moderator)
    log_in(moderator, "mod", NEW_PASSWORD)
    assert can_open_queue(moderator)
    assert "Disabled 'mod'" in runner.invoke(args=["disable-user", "mod"]).output
    assert not can_open_queue(moderator)
    assert "Enabled 'mod'" in runner.invoke(args=["enable-user", "mod"]).output
    assert "there is no user 'ghost'" in runner.invoke(args=["disable-user", "ghost"]).output
    assert "at least 8" in runner.invoke(args=["set-password", "mod"], input="short\nshort\n").output


class TestIdleTimeout:
    @pytest.fixture
    def app_settings(self):
        return {"STAFF_IDLE_MINUTES": 30}

    def idle_for(self, client: FlaskClient, minutes: float) -> None:
        with client.session_transaction() as session:
            session[SEEN_KEY] = int(time.time() - minutes * 60)

    def test_a_staff_session_ends_after_the_configured_idle_time(self, app, moderator):
        self.idle_for(moderator, 31)
        response = moderator.get("/moderation", follow_redirects=True)
        assert response.request.path == "/login"
        assert "without activity" in response.get_data(as_text=True)
        self.idle_for(moderator, 0)  # even a fresh clock cannot revive the ended session
        assert not can_open_queue(moderator)

    def test_a_session_in_use_stays_open_and_its_clock_restarts(self, app, moderator):
        self.idle_for(moderator, 29)
        assert can_open_queue(moderator)
        with moderator.session_transaction() as session:
            assert time.time() - session[SEEN_KEY] < 60


def test_the_csrf_secret_is_renewed_at_log_in(app, client):
    create_staff(app, "mod", Role.MODERATOR)
    before = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "mod", "password": PASSWORD, "csrf_token": before})
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400
    assert can_open_queue(client)


class TestSecureCookies:
    @pytest.fixture
    def app_settings(self):
        return {"SESSION_COOKIE_SECURE": True}

    def test_secure_cookies_carry_the_host_prefix(self, app, client):
        create_staff(app, "mod", Role.MODERATOR)
        response = log_in(client, "mod")
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("__Host-session=")
        assert "Secure" in cookie and "Path=/" in cookie and "Domain=" not in cookie
        assert can_open_queue(client)
