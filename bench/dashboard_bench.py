"""How long the editors' dashboard takes over 100,000 and 1,000,000 classified comments.

Run: .venv/bin/python bench/dashboard_bench.py [--sizes 100000,1000000]
On SQLite by default (a temporary file); on PostgreSQL when DATABASE_URL points at one (its tables
are emptied first). Prints seconds per dashboard query and for the whole page, each also as a ratio
to a plain `SELECT count(*)` measured in the same run, so the figures travel between machines.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers import TOPICS  # noqa: E402
from moderation import create_app  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.models import Article, Comment, CommentStatus, Role  # noqa: E402
from moderation.services import comments as service  # noqa: E402
from moderation.services import dashboard  # noqa: E402

CHUNK = 20_000
SENTIMENTS = ("positive", "neutral", "negative")
STATUSES = (CommentStatus.APPROVED, CommentStatus.APPROVED, CommentStatus.PENDING, CommentStatus.REJECTED)


def make_app(url: str):
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "MODEL_AUTO_TRAIN": False,
                      "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False, "TESTING": True})
    with app.app_context():
        upgrade()
    return app


def synthetic_rows(article_ids: list[int], count: int, rng: random.Random):
    start = datetime(2026, 1, 1)
    for n in range(count):
        created = start + timedelta(seconds=rng.randrange(0, 330 * 86400))
        status = STATUSES[n % len(STATUSES)]
        score = round(rng.uniform(-1, 1), 4)
        compound = round(max(-1.0, min(1.0, score + rng.uniform(-0.5, 0.5))), 4)  # VADER disagrees a little
        minutes = None if status is CommentStatus.PENDING else rng.randrange(1, 600)
        yield {"article_id": article_ids[n % len(article_ids)], "author": f"reader{n % 5000}",
               "body": f"synthetic comment {n}", "created_at": created, "status": status,
               "decided_at": None if minutes is None else created + timedelta(minutes=minutes),
               "decision_minutes": minutes,
               "topic": TOPICS[rng.randrange(len(TOPICS))], "topic_confidence": rng.random(),
               "sentiment": SENTIMENTS[0 if score > 0.1 else 2 if score < -0.1 else 1],
               "sentiment_score": score, "sentiment_compound": compound, "model_version": "bench"}


def fill(app, count: int) -> None:
    """Empty the tables, then insert `count` comments over 20 articles in chunks, with progress."""
    rng = random.Random(1)
    with app.app_context():
        for table in ("moderation_actions", "comments", "users", "articles"):
            db.session.execute(text(f"DELETE FROM {table}"))
        articles = [Article(slug=f"a{i}", title=f"Article {i}", published=datetime(2026, 1, 1).date())
                    for i in range(20)]
        db.session.add_all(articles)
        db.session.commit()
        service.create_user("bench-editor", "bench-password", Role.EDITOR)
        ids = [a.id for a in articles]
        rows = synthetic_rows(ids, count, rng)
        with click.progressbar(length=count, label=f"inserting {count:,} comments", file=sys.stderr) as bar:
            while batch := [row for _, row in zip(range(CHUNK), rows, strict=False)]:
                db.session.execute(insert(Comment), batch)
                db.session.commit()
                bar.update(len(batch))
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text("ANALYZE"))
        else:
            db.session.execute(text("ANALYZE comments"))
        db.session.commit()


def timed(work: Callable[[], object], repeat: int = 3) -> float:
    """Best of `repeat` runs: the figure least disturbed by the rest of the machine."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def measure(app, count: int) -> None:
    filters = dashboard.DashboardFilters()
    with app.app_context():
        baseline = timed(lambda: db.session.scalar(select(func.count(Comment.id))))
        figures = {
            "topic_breakdown": timed(lambda: dashboard.topic_breakdown(filters)),
            "sentiment_by_topic": timed(lambda: dashboard.sentiment_by_topic(filters)),
            "trend (by day)": timed(lambda: dashboard.trend(filters)),
            "moderation_by_topic (+ medians)": timed(lambda: dashboard.moderation_by_topic(filters)),
            "representatives": timed(lambda: dashboard.representatives(filters)),
        }
    client = app.test_client()
    client.post("/login", data={"username": "bench-editor", "password": "bench-password"})
    assert client.get("/editor").status_code == 200
    figures["whole /editor page"] = timed(lambda: client.get("/editor"))
    with app.app_context():
        dialect = db.engine.dialect.name
    print(f"\n{count:,} comments on {dialect}")
    print(f"  {'baseline: SELECT count(*)':<36} {baseline:8.3f} s")
    for name, seconds in figures.items():
        print(f"  {name:<36} {seconds:8.3f} s   {seconds / baseline:8.1f}x baseline")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    workdir = tempfile.mkdtemp(prefix="dashboard-bench-")
    try:
        app = make_app(url or f"sqlite:///{workdir}/bench.sqlite3")
        app.instance_path = workdir
        for count in sizes:
            fill(app, count)
            measure(app, count)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the 1M database is about 500 MB


if __name__ == "__main__":
    main()
