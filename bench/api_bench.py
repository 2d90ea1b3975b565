"""Requests per second: the API's comment list and post beside the article page and the form post.

Run: .venv/bin/python bench/api_bench.py [--n 200] [--rounds 5]. Uses the real app through Flask's
test client on a fresh, migrated SQLite file with the demo article (rate limits off, no worker).
Every post stores a comment with its audit row and classify job. Workloads run in turns, round after
round, each keeping its best round, and the ratios compare figures measured in this same run:
API post / form post is the issue's check that posting through the API costs no more.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import click
from flask.testing import FlaskClient
from flask_migrate import upgrade

from moderation import create_app
from moderation.services import demo

Workload = Callable[[], int]


def build_app(folder: Path):  # type: ignore[no-untyped-def]
    database = f"sqlite:///{folder / 'bench.sqlite3'}"
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": database,
                      "RATELIMIT_ENABLED": False, "MODEL_AUTO_TRAIN": False})
    app.instance_path = str(folder)
    with app.app_context():
        upgrade()
        slug = demo.load_demo().article.slug
    return app, slug


def workloads(client: FlaskClient, slug: str, n: int) -> dict[str, Workload]:
    """Each workload sends n requests and returns how many answered as expected."""
    page = client.get(f"/articles/{slug}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def html_page() -> int:
        return sum(client.get(f"/articles/{slug}").status_code == 200 for _ in range(n))

    def api_list() -> int:
        return sum(client.get(f"/api/v1/comments?article={slug}").status_code == 200 for _ in range(n))

    def form_post() -> int:
        return sum(client.post(f"/articles/{slug}/comments", data={
            "csrf_token": csrf, "submission_token": secrets.token_hex(16), "author": "Bench",
            "email": "", "body": "Who pays for the egress fees?", "website": ""}).status_code == 303
            for _ in range(n))

    def api_post() -> int:
        return sum(client.post("/api/v1/comments", json={
            "article": slug, "submission_token": secrets.token_hex(16), "author": "Bench",
            "body": "Who pays for the egress fees?"}).status_code == 201 for _ in range(n))

    return {"article page (HTML)": html_page, "comment list (API)": api_list,
            "form post": form_post, "API post": api_post}


def best_rates(work: dict[str, Workload], n: int, rounds: int) -> dict[str, float]:
    """Best requests/s of each workload over `rounds` interleaved rounds (after one warm-up round)."""
    best = dict.fromkeys(work, 0.0)
    with click.progressbar(range(rounds + 1), label="timing workloads", file=sys.stderr) as bar:
        for round_number in bar:
            for name, run in work.items():
                start = time.perf_counter()
                answered = run()
                elapsed = time.perf_counter() - start
                if answered != n:
                    raise SystemExit(f"{name}: only {answered} of {n} requests answered as expected")
                if round_number:
                    best[name] = max(best[name], n / elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200, help="requests per workload per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app, slug = build_app(Path(folder))
        rates = best_rates(workloads(app.test_client(), slug, args.n), args.n, args.rounds)
        with app.app_context():
            from moderation.extensions import db

            db.engine.dispose()
    for name, rate in rates.items():
        print(f"{name:<24} {rate:8.0f} requests/s")
    print(f"API list / HTML page:    {rates['comment list (API)'] / rates['article page (HTML)']:.2f}x")
    print(f"API post / form post:    {rates['API post'] / rates['form post']:.2f}x "
          "(1.00 or more: posting through the API costs no more than the form)")


if __name__ == "__main__":
    main()
