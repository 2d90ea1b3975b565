"""This app's side of `bench/run.py`: fill its database, then read back what the load left there.

Everything goes through the app's own models and service, in the benchmark's process, against
the same SQLite file the servers use (WAL lets both read and write at once).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from moderation import create_app
from moderation.extensions import db
from moderation.jobs import queue as jobs
from moderation.models import (
    ActionKind,
    Article,
    Comment,
    CommentStatus,
    Job,
    JobState,
    ModerationAction,
    User,
)
from moderation.services import comments as service
from moderation.services import demo

APPROVED_ON_PAGE = 20
OPEN = (JobState.QUEUED, JobState.RUNNING)


def make_app(env: dict[str, str]) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "SECRET_KEY": env["SECRET_KEY"],
                       "MODEL_AUTO_TRAIN": False, "RATELIMIT_ENABLED": False})


def prepare(app: Flask, texts: list[str]) -> None:
    """Migrate, load the demo, and approve reader comments until the article shows 20."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        result = demo.load_demo()
        article = db.session.get(Article, result.article.id)
        moderator = db.session.scalar(select(User).where(User.username == "demo-moderator"))
        missing = APPROVED_ON_PAGE - approved_count(article.id)
        ids = [service.submit_comment(article, f"reader{n}", text).comment_id
               for n, text in enumerate(texts[:missing])]
        service.decide(ids, ActionKind.APPROVE, moderator)
        db.session.remove()


def approved_count(article_id: int) -> int:
    return db.session.scalar(select(func.count(Comment.id)).where(
        Comment.article_id == article_id, Comment.status == CommentStatus.APPROVED)) or 0


def open_jobs(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(Job.id)).where(Job.state.in_(OPEN))) or 0
        db.session.remove()
        return count


def wait_for_worker(app: Flask, timeout: float, poll: float = 0.1) -> float | None:
    """Wait until no job is queued or running; return when that happened (monotonic), None on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if open_jobs(app) == 0:
            return time.monotonic()
        time.sleep(poll)
    return None


def stored_bodies(app: Flask, marker: str) -> Counter[str]:
    """How many times each comment whose body holds `marker` is stored."""
    with app.app_context():
        bodies = Counter(db.session.scalars(select(Comment.body).where(Comment.body.contains(marker))))
        db.session.remove()
        return bodies


def unclassified(app: Flask, marker: str) -> int:
    """Comments holding `marker` that have neither labels nor a recorded model error."""
    with app.app_context():
        count = db.session.scalar(select(func.count(Comment.id)).where(
            Comment.body.contains(marker), Comment.topic.is_(None))) or 0
        db.session.remove()
        return count


def classified_twice(app: Flask, marker: str) -> int:
    """Comments holding `marker` that more than one classification was stored for (two workers, one job)."""
    with app.app_context():
        twice = (select(ModerationAction.comment_id).join(Comment, Comment.id == ModerationAction.comment_id)
                 .where(Comment.body.contains(marker), ModerationAction.action == ActionKind.CLASSIFY)
                 .group_by(ModerationAction.comment_id).having(func.count() > 1))
        count = db.session.scalar(select(func.count()).select_from(twice.subquery())) or 0
        db.session.remove()
        return count


def last_job_id(app: Flask) -> int:
    with app.app_context():
        value = db.session.scalar(select(func.max(Job.id))) or 0
        db.session.remove()
        return value


def classify_seconds(app: Flask, after_job_id: int) -> list[float]:
    """For each classify job newer than `after_job_id`: seconds from the comment's commit to its labels."""
    with app.app_context():
        rows = db.session.execute(select(Job.created_at, Job.finished_at).where(
            Job.id > after_job_id, Job.kind == jobs.CLASSIFY, Job.state == JobState.DONE)).all()
        db.session.remove()
    return [(finished - created) / timedelta(seconds=1) for created, finished in rows]


def insert_backlog(app: Flask, texts: list[str], count: int, marker: str) -> None:
    """Store `count` pending comments with their classify jobs in one transaction: a burst at once."""
    with app.app_context():
        article = db.session.scalar(select(Article).where(Article.slug == demo.parse_article()["slug"]))
        comments = [Comment(article=article, author="backlog", status=CommentStatus.PENDING,
                            body=f"{texts[n % len(texts)]} [{marker} {n}]") for n in range(count)]
        db.session.add_all(comments)
        db.session.flush()
        for comment in comments:
            jobs.enqueue(jobs.CLASSIFY, comment.id)
        db.session.commit()
        db.session.remove()
