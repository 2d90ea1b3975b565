"""Topic shares editors can trust: corrected for the model's confusion, uncertain comments apart."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pytest

from classifiers import TOPICS
from classifiers.evaluation import adjusted_share_intervals, adjusted_shares
from moderation.extensions import db
from moderation.models import Article, Comment, CommentStatus, Role

# The model finds only half of the privacy comments and files the rest as `other`; every other
# topic it gets right. Worked by hand: observed privacy = 0.5 x true privacy, observed other =
# 0.5 x true privacy + true other.
HALF_PRIVACY_MISSED = np.eye(len(TOPICS))
HALF_PRIVACY_MISSED[0] = [0.5, 0, 0, 0, 0.5]


def test_adjusted_shares_undo_a_known_confusion():
    counts = [10, 0, 0, 0, 90]  # privacy, cost, opportunity, fairness, other as predicted
    assert adjusted_shares(counts, HALF_PRIVACY_MISSED) == pytest.approx([0.2, 0, 0, 0, 0.8])
    assert adjusted_shares(counts, np.eye(len(TOPICS))) == pytest.approx([0.1, 0, 0, 0, 0.9])


def test_share_interval_brackets_the_estimate_and_narrows_with_more_comments():
    point, low, high = adjusted_share_intervals([10, 0, 0, 0, 90], HALF_PRIVACY_MISSED)
    assert all(lo <= p <= hi for p, lo, hi in zip(point, low, high, strict=True))
    _, big_low, big_high = adjusted_share_intervals([1000, 0, 0, 0, 9000], HALF_PRIVACY_MISSED)
    assert big_high[0] - big_low[0] < high[0] - low[0]


@pytest.fixture
def card_dir(tmp_path):
    folder = tmp_path / "card"
    folder.mkdir()
    (folder / "model_card.json").write_text(json.dumps({"confusion_rates": {
        "labels": list(TOPICS), "rows_true_cols_predicted": HALF_PRIVACY_MISSED.tolist()}}))
    return folder


@pytest.fixture
def app_settings(card_dir):
    return {"MODEL_DIR": str(card_dir)}


def add(app, topic: str, count: int, uncertain: bool = False) -> None:
    with app.app_context():
        article = db.session.query(Article).first() or Article(slug="s", title="S", published=date(2026, 11, 1))
        for _ in range(count):
            db.session.add(Comment(article=article, author="R", body="x", status=CommentStatus.APPROVED,
                                   created_at=datetime(2026, 11, 2), topic=topic, topic_confidence=0.9,
                                   topic_uncertain=uncertain, sentiment="neutral", sentiment_compound=0.0))
        db.session.commit()


def breakdown(client) -> dict[str, dict]:
    response = client.get("/editor/export/breakdown.json")
    assert response.status_code == 200
    return {row["topic"]: row for row in json.loads(response.get_data(as_text=True))["topics"]}


def test_dashboard_shows_corrected_shares_beside_raw_counts(client, app, staff):
    add(app, "privacy", 10)
    add(app, "other", 90)
    staff.login(Role.EDITOR)
    rows = breakdown(client)
    assert (rows["privacy"]["count"], rows["privacy"]["share"]) == (10, 0.1)
    assert rows["privacy"]["corrected_share"] == pytest.approx(0.2, abs=1e-4)
    assert rows["other"]["corrected_share"] == pytest.approx(0.8, abs=1e-4)
    low, high = rows["privacy"]["corrected_ci95"]
    assert low < 0.2 < high and rows["privacy"]["few"] is False
    page = client.get("/editor").get_data(as_text=True)
    assert "Estimated true share" in page and "20.0%" in page
    csv_text = client.get("/editor/export/breakdown.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("topic,count,share,corrected_share,corrected_ci95_low")
    assert any(line.startswith("privacy,10,0.1,0.2,") for line in csv_text.splitlines())


def test_shares_from_fewer_than_thirty_comments_are_flagged(client, app, staff):
    add(app, "cost", 12)
    staff.login(Role.EDITOR)
    assert breakdown(client)["cost"]["few"] is True
    assert "few comments" in client.get("/editor").get_data(as_text=True)


def test_uncertain_comments_are_counted_apart_never_under_their_topic(client, app, staff):
    add(app, "fairness", 3)
    add(app, "fairness", 2, uncertain=True)
    staff.login(Role.EDITOR)
    rows = breakdown(client)
    assert rows["fairness"]["count"] == 3 and rows["uncertain"]["count"] == 2
    assert rows["fairness"]["share"] == 0.6 and rows["uncertain"]["share"] == 0.4
    assert rows["fairness"]["corrected_share"] == pytest.approx(1.0)  # every best guess counts here


def test_without_a_model_card_the_raw_shares_stand_alone(client, app, staff, card_dir):
    (card_dir / "model_card.json").unlink()
    add(app, "cost", 40)
    staff.login(Role.EDITOR)
    assert breakdown(client)["cost"]["corrected_share"] is None


def test_queue_marks_uncertain_topics(client, app, staff):
    add(app, "privacy", 1, uncertain=True)
    with app.app_context():
        db.session.query(Comment).update({"status": CommentStatus.PENDING})
        db.session.commit()
    staff.login(Role.MODERATOR)
    page = client.get("/moderation").get_data(as_text=True)
    assert "uncertain · best guess privacy" in page
