"""Session cookies stay Flask's signed cookies while their serializer is built once per set of keys."""

from __future__ import annotations

from tests.conftest import make_app, release_database
from tests.helpers import form_for, post_comment


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_session_signed_before_a_key_rotation_still_opens_with_the_old_key_as_fallback(
        database_url, model_dir, tmp_path, article):
    before = make_app(database_url, model_dir, tmp_path, SECRET_KEY="old-key")
    reader = before.test_client()
    post_comment(reader, article.slug, body="Waiting through a key rotation.")  # kept in the session
    reader.get(article.url)  # the message after posting is shown and gone
    cookie = session_cookie(reader)
    release_database(before)
    rotated = make_app(database_url, model_dir, tmp_path, SECRET_KEY="new-key", SECRET_KEY_FALLBACKS=["old-key"])
    same_reader = rotated.test_client()
    same_reader.set_cookie("session", cookie)
    assert "Waiting through a key rotation." in same_reader.get(article.url).get_data(as_text=True)
    stranger = rotated.test_client()
    assert "Waiting through a key rotation." not in stranger.get(article.url).get_data(as_text=True)
    release_database(rotated)


def test_a_session_signed_with_another_key_is_not_trusted(app, database_url, model_dir, tmp_path, article):
    other = make_app(database_url, model_dir, tmp_path, SECRET_KEY="someone-elses-key")
    forger = other.test_client()
    form = form_for(forger, article.url)
    cookie = session_cookie(forger)
    release_database(other)
    reader = app.test_client()
    reader.set_cookie("session", cookie)
    response = reader.post(f"{article.url}/comments", data=form | {"author": "Reader", "body": "Forged",
                                                                     "email": "", "website": ""})
    assert response.status_code == 400  # CSRF: the session did not open, so its token cannot match
