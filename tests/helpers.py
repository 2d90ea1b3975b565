"""Small helpers shared by tests: posting comments through the real form."""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from classifiers import sentiment_model
from classifiers import topic as topic_model
from moderation.extensions import db
from moderation.jobs.worker import Worker
from moderation.models import Comment, ModerationAction
from tests.conftest import csrf_from

DEMO_CSV = Path(__file__).resolve().parent.parent / "moderation" / "demo" / "comments.csv"
TOPIC_MODEL_FILES = (topic_model.ARTIFACT_NAME, topic_model.CARD_NAME)
SENTIMENT_MODEL_FILES = (sentiment_model.ARTIFACT_NAME, sentiment_model.CARD_NAME)


def copy_models(model_dir: Path, target: Path,
                names: tuple[str, ...] = TOPIC_MODEL_FILES + SENTIMENT_MODEL_FILES) -> Path:
    """Copy the built models' artifacts and cards (or only `names`) into a new folder a test may break."""
    target.mkdir()
    for name in names:
        (target / name).write_bytes((model_dir / name).read_bytes())
    return target


def demo_rows() -> list[dict[str, str]]:
    """The shipped demo comments with the topic and sentiment a person gave them."""
    with DEMO_CSV.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def form_for(client: FlaskClient, url: str) -> dict[str, str]:
    """GET the article and return the hidden fields a browser would send back."""
    html = client.get(url).get_data(as_text=True)
    import re

    token = re.search(r'name="submission_token" type="hidden" value="([^"]*)"', html)
    if token is None:  # no form on the page (comments closed): any page's token will do
        html = client.get("/login").get_data(as_text=True)
    return {"csrf_token": csrf_from(html), "submission_token": token.group(1) if token else ""}


def post_comment(client: FlaskClient, slug: str, headers: dict[str, str] | None = None,
                 environ_base: dict[str, str] | None = None, **fields: str):
    """Post the Leave a Comment form as a browser would (CSRF and token included)."""
    data = form_for(client, f"/articles/{slug}")
    data.update({"author": "Reader", "email": "", "body": "A fair point about budgets.", "website": ""})
    data.update(fields)
    return client.post(f"/articles/{slug}/comments", data=data, headers=headers, environ_base=environ_base or {})


def count_comments(app: Flask, **where: object) -> int:
    with app.app_context():
        query = select(func.count(Comment.id))
        for name, value in where.items():
            query = query.where(getattr(Comment, name) == value)
        return db.session.scalar(query)


def latest_comment(app: Flask) -> Comment:
    with app.app_context():
        comment = db.session.scalar(select(Comment).order_by(Comment.id.desc()))
        db.session.expunge(comment)
        return comment


def actions_for(app: Flask, comment_id: int) -> list[tuple[str, str | None, str | None]]:
    with app.app_context():
        rows = db.session.scalars(select(ModerationAction)
                                  .where(ModerationAction.comment_id == comment_id)
                                  .order_by(ModerationAction.id))
        return [(r.action.value, r.to_status, r.user.username if r.user else None) for r in rows]


def run_worker(app: Flask, name: str = "test-worker") -> int:
    """Let a real background worker classify everything that is due, as `flask worker` would."""
    with app.app_context():
        return Worker(app, name=name).drain()


def write_sentiment_sample(path: Path, per_stratum: int) -> Path:
    """The first rows of each source and sentiment of the shipped sentiment data: a model trains in seconds."""
    from classifiers import sentiment_model

    with sentiment_model.SENTIMENT_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    seen: dict[tuple[str, str], int] = {}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            stratum = (row["source"], row["sentiment"])
            seen[stratum] = seen.get(stratum, 0) + 1
            if seen[stratum] <= per_stratum:
                writer.writerow(row)
    return path


@contextmanager
def background_worker(app: Flask, name: str = "test-worker") -> Iterator[None]:
    """A real worker loop in a thread, as `flask worker` runs it; stopped (and joined) on exit."""
    stop = threading.Event()

    def loop() -> None:
        with app.app_context():
            Worker(app, name=name).run_forever(stop, poll=0.05)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def wait_until(condition: Callable[[], object], timeout: float = 30.0) -> None:
    """Poll `condition` until it holds; fail the test if it does not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
