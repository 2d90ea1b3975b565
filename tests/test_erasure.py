"""Erasure erases: the person's data leaves every file the service keeps (issue 15, finding 5)."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import ActionKind, Comment, ModerationAction, Role
from moderation.services import comments as service
from moderation.services import demo
from tests.conftest import make_app, postgres_url, release_database
from tests.helpers import post_comment, run_worker

MARKER = "Quixbelmora"
EMAIL = f"{MARKER.lower()}@example.org"
PHONE = "+44 20 7946 0958"
ADDRESS = f"14 {MARKER} Crescent"
FRAGMENTS = [MARKER, MARKER.lower(), "7946 0958", "79460958"]


def post_the_persons_comment(client, app, slug: str) -> int:
    post_comment(client, slug, author=f"Ada {MARKER}", email=EMAIL,
                 body=f"Cloud bills doubled for us. Call me on {PHONE}, I live at {ADDRESS}.")
    post_comment(client, slug, author="Someone Else", email="else@example.org",
                 body="The same cloud bills worry me too.")
    run_worker(app)
    with app.app_context():
        moderator = service.create_user("mia", "long enough pw", Role.MODERATOR)
        mine, other = db.session.scalars(select(Comment.id).where(Comment.email.is_not(None))
                                         .order_by(Comment.id)).all()
        service.decide([mine], ActionKind.REJECT, moderator,
                       service.reason_text("personal_data", f"Gives {PHONE} and {ADDRESS}, Ada {MARKER}"))
        # A rejection's note (approvals keep no reason) that quotes the person on another comment.
        service.decide([other], ActionKind.REJECT, moderator,
                       service.reason_text(None, f"Fine; not the {PHONE} person ({EMAIL})"))
        return mine


def files_holding(folder: Path, fragments: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [f for f in fragments if f.encode() in data]
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found


def test_erase_email_scrubs_notes_terms_and_jobs_in_the_database(client, app, article, runner):
    mine = post_the_persons_comment(client, app, article.slug)
    with app.app_context():
        assert db.session.get(Comment, mine).topic_terms
    result = runner.invoke(args=["erase-email", EMAIL, "--yes"])
    assert "Anonymised 1 comments" in result.output
    with app.app_context():
        comment = db.session.get(Comment, mine)
        assert (comment.author, comment.email, comment.topic_terms) == ("[erased]", None, None)
        assert comment.topic is not None  # still counted in the editors' figures
        reasons = list(db.session.scalars(select(ModerationAction.reason)
                                          .where(ModerationAction.reason.is_not(None))))
    assert "Shares personal data: [erased]" in reasons
    assert [r for r in reasons if r.startswith("Fine")] == ["Fine; not the [erased] person ([erased])"]
    assert not [r for r in reasons if any(f in r for f in FRAGMENTS)]


@pytest.mark.skipif(bool(postgres_url()), reason="searches the SQLite files of the instance folder")
def test_after_erasure_no_file_in_the_instance_folder_holds_the_person(migrated_database, model_dir, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    instance.chmod(0o755)
    database = instance / "comments.sqlite3"
    shutil.copy(migrated_database.removeprefix("sqlite:///"), database)
    database.chmod(0o644)  # as an earlier version left it
    app = make_app(f"sqlite:///{database}", model_dir, instance)
    with app.app_context():
        slug = demo.load_demo().article.slug
    # A web worker's connection stays open throughout, as it would in production: closing the last
    # connection would checkpoint the WAL by itself and hide a missing checkpoint.
    reader = sqlite3.connect(database)
    try:
        post_the_persons_comment(app.test_client(), app, slug)
        assert files_holding(instance, FRAGMENTS), "the marker should be on disk before erasure"
        assert "Anonymised 1" in app.test_cli_runner().invoke(args=["erase-email", EMAIL, "--yes"]).output
        assert files_holding(instance, FRAGMENTS) == {}
        assert_private(instance)
    finally:
        reader.close()
        release_database(app)


def assert_private(folder: Path) -> None:
    """The instance folder and everything in it: its owner's alone."""
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path.name
