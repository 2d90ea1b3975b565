"""Importers: Disqus, WordPress (WXR) and Isso exports come in with dates and states, once."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime
from pathlib import Path

import click
import pytest
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import Article, Comment, CommentStatus, Job
from moderation.services import origins
from tests.helpers import actions_for, run_worker

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"


def build_isso_db(folder: Path) -> Path:
    """An Isso database built from the SQL written for these tests."""
    path = folder / "comments.db"
    connection = sqlite3.connect(path)
    connection.executescript((FIXTURES / "isso.sql").read_text())
    connection.close()
    return path


@pytest.fixture
def isso_db(tmp_path: Path) -> Path:
    return build_isso_db(tmp_path)


def import_args(kind: str, folder: Path) -> list[str]:
    """The command line that imports the test export of this kind."""
    if kind == "isso":
        return ["import", "isso", str(build_isso_db(folder)), "--site", "https://news.example"]
    return ["import", kind, str(FIXTURES / f"{kind}.xml")]


def imported(app) -> dict[str, tuple]:
    """external id -> (article URL, author, email, body, created_at, status), as stored."""
    with app.app_context():
        rows = db.session.execute(select(Comment, Article.canonical_url).join(Article)
                                  .where(Comment.external_id.is_not(None)))
        return {c.external_id: (url, c.author, c.email, c.body, c.created_at, c.status) for c, url in rows}


def articles(app) -> dict[str, tuple]:
    with app.app_context():
        return {a.canonical_url: (a.title, a.slug, a.published)
                for a in db.session.scalars(select(Article))}


def test_disqus_export_brings_in_threads_and_posts_with_dates_and_states(app, runner):
    result = runner.invoke(args=["import", "disqus", str(FIXTURES / "disqus.xml")])
    assert result.exit_code == 0, result.output
    assert "2 articles and 5 comments imported; 0 comments were already here." in result.output
    assert articles(app) == {
        "https://news.example/2026/11/cloud-bills": ("Cloud bills: who pays?", "cloud-bills-who-pays",
                                                     date(2026, 11, 2)),
        "https://news.example/2026/11/school-laptops": ("Every pupil gets a laptop", "every-pupil-gets-a-laptop",
                                                        date(2026, 11, 3))}
    rows = imported(app)
    assert rows["disqus:9001"] == ("https://news.example/2026/11/cloud-bills", "Ann Reader", "ann@example.org",
                                   "Who pays for the egress fees when we leave?\n\nNobody said.",
                                   datetime(2026, 11, 2, 9, 15), CommentStatus.APPROVED)
    assert rows["disqus:9002"][3] == "Cheap laptops & expensive licences, as ever."
    assert {k: v[5] for k, v in rows.items()} == {
        "disqus:9001": CommentStatus.APPROVED, "disqus:9002": CommentStatus.APPROVED,
        "disqus:9003": CommentStatus.REJECTED, "disqus:9004": CommentStatus.APPROVED,
        "disqus:9005": CommentStatus.REJECTED}


@pytest.mark.parametrize(("kind", "comments"), [("disqus", 5), ("wordpress", 4), ("isso", 4)])
def test_running_an_import_again_adds_nothing(app, runner, tmp_path, kind, comments):
    args = import_args(kind, tmp_path)
    first = runner.invoke(args=args)
    assert f"2 articles and {comments} comments imported" in first.output, first.output
    stored = imported(app)
    again = runner.invoke(args=args)
    assert again.exit_code == 0, again.output
    assert f"0 articles and 0 comments imported; {comments} comments were already here." in again.output
    assert imported(app) == stored and len(articles(app)) == 2
    with app.app_context():
        assert len(db.session.scalars(select(Job.kind)).all()) == comments  # no second classify job either


def progress_states(output: str, label: str) -> list[str]:
    """Each state a progress bar drew (it redraws its line after a carriage return)."""
    return [part.strip() for part in re.split(r"[\r\n]", output) if part.startswith(label)]


def test_an_import_shows_its_progress_comment_by_comment(app, runner, monkeypatch):
    # click draws the bar only on a terminal; make the runner's captured stderr count as one.
    monkeypatch.setattr(click._termui_impl, "isatty", lambda _stream: True)
    result = runner.invoke(args=["import", "disqus", str(FIXTURES / "disqus.xml")])
    assert result.exit_code == 0, result.output
    states = progress_states(result.output, "Importing comments")
    assert [re.search(r"\d+/5", state).group() for state in states] == ["0/5", "1/5", "2/5", "3/5", "4/5", "5/5"]
    assert re.fullmatch(r"Importing comments  \[#+\]  5/5", click.unstyle(states[-1]))  # a full bar


def test_without_a_terminal_an_import_still_names_what_it_is_doing(app, runner):
    result = runner.invoke(args=["import", "disqus", str(FIXTURES / "disqus.xml")])
    assert result.output.startswith("Importing comments\n")


def test_imported_comments_are_classified_in_batches_by_the_worker_and_shown(app, runner, client):
    result = runner.invoke(args=["import", "disqus", str(FIXTURES / "disqus.xml")])
    assert "5 comments wait for the background worker" in result.output
    with app.app_context():
        assert sorted(db.session.scalars(select(Job.kind))) == ["classify"] * 5
    assert run_worker(app) == 5
    with app.app_context():
        assert all(c.topic and c.sentiment for c in db.session.scalars(select(Comment)))
    listed = client.get("/api/v1/comments", query_string={
        "article": "https://news.example/2026/11/cloud-bills", "order": "oldest"}).get_json()
    assert [c["author"] for c in listed["comments"]] == ["Ann Reader", "Bo"]


def test_imports_leave_an_audit_row_and_decision_times_of_their_own(app, runner):
    runner.invoke(args=["import", "disqus", str(FIXTURES / "disqus.xml")])
    with app.app_context():
        comment = db.session.scalar(select(Comment).where(Comment.external_id == "disqus:9003"))
        assert (comment.decided_at, comment.decision_minutes) == (comment.created_at, None)
        comment_id = comment.id
    assert actions_for(app, comment_id) == [("submit", "rejected", None)]


def test_wordpress_export_brings_in_posts_and_comments_without_pingbacks(app, runner):
    result = runner.invoke(args=["import", "wordpress", str(FIXTURES / "wordpress.xml")])
    assert "2 articles and 4 comments imported" in result.output
    rows = imported(app)
    assert rows["wordpress:7"] == ("https://news.example/2026/11/your-data/", "Eve", "eve@example.org",
                                   "Who reads my messages once they sit on a server abroad?",
                                   datetime(2026, 11, 2, 10, 30), CommentStatus.APPROVED)
    assert rows["wordpress:8"][1:4] == ("Anonymous", None, "Still waiting for a moderator, politely.")
    assert rows["wordpress:8"][5] is CommentStatus.PENDING
    assert (rows["wordpress:10"][5], rows["wordpress:11"][5]) == (CommentStatus.REJECTED, CommentStatus.REJECTED)
    assert "wordpress:9" not in rows  # the pingback
    assert articles(app)["https://news.example/2026/11/your-data/"][2] == date(2026, 11, 2)


def test_isso_database_comes_in_with_the_site_address(app, runner, isso_db):
    result = runner.invoke(args=["import", "isso", str(isso_db), "--site", "https://news.example"])
    assert "2 articles and 4 comments imported" in result.output, result.output
    rows = imported(app)
    assert rows["isso:1"] == ("https://news.example/2026/11/fair-fares/", "Gus", "gus@example.org",
                              "The same fare for everyone is only fair.", datetime(2026, 11, 5, 10, 0),
                              CommentStatus.APPROVED)
    assert [rows[f"isso:{n}"][5] for n in (2, 3, 4)] == [
        CommentStatus.PENDING, CommentStatus.REJECTED, CommentStatus.APPROVED]
    assert rows["isso:2"][1] == "Anonymous"
    assert articles(app)["https://news.example/2026/11/night-buses/"][0] == (
        "https://news.example/2026/11/night-buses/")


def test_isso_import_uses_the_one_allowed_site_or_asks_for_it(app, runner, isso_db):
    refused = runner.invoke(args=["import", "isso", str(isso_db)])
    assert refused.exit_code != 0 and "--site https://news.example" in refused.output
    assert imported(app) == {}
    with app.app_context():
        origins.add_origin("https://news.example")
    result = runner.invoke(args=["import", "isso", str(isso_db)])
    assert result.exit_code == 0 and "4 comments imported" in result.output


@pytest.mark.parametrize(("command", "content", "message"), [
    ("disqus", "<disqus><post", "is not well-formed XML"),
    ("disqus", (FIXTURES / "wordpress.xml").read_text(), "is not a Disqus export"),
    ("wordpress", (FIXTURES / "disqus.xml").read_text(), "is not a WordPress export"),
    ("isso", "not a database at all " * 100, "is not an Isso database"),
])
def test_a_broken_or_wrong_file_is_refused_with_a_message_and_nothing_stored(app, runner, tmp_path, command,
                                                                             content, message):
    path = tmp_path / "export.file"
    path.write_text(content)
    result = runner.invoke(args=["import", command, str(path), *(["--site", "https://x.example"]
                                                                 if command == "isso" else [])])
    assert message in result.output and "Traceback" not in result.output
    assert imported(app) == {} and articles(app) == {}


def test_a_comment_over_the_length_limit_is_reported_not_stored(app, runner, tmp_path):
    long_body = "word " * 1200
    path = tmp_path / "long.xml"
    path.write_text((FIXTURES / "disqus.xml").read_text().replace("I take this back.", long_body))
    result = runner.invoke(args=["import", "disqus", str(path)])
    assert "Skipped disqus:9005: Comments can be at most 5000 characters" in result.output
    assert "disqus:9005" not in imported(app) and len(imported(app)) == 4
