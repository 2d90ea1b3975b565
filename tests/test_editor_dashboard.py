"""Editors: figures checked against hand-computed values on a small known database."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta

import pytest

from moderation.extensions import db
from moderation.models import Article, Comment, CommentStatus, Role

A, R, P = CommentStatus.APPROVED, CommentStatus.REJECTED, CommentStatus.PENDING
# (day, status, topic, sentiment, score, minutes to decision, body). VADER's compound is stored with the
# opposite sign, as when it misreads sarcasm: a figure built on it would come out reversed.
KNOWN = [
    ("2026-11-01", A, "cost", "negative", -0.5, 30, "=HYPERLINK(\"http://x\")"),
    ("2026-11-01", A, "cost", "positive", 0.5, 10, "Cheap at last"),
    ("2026-11-02", A, "privacy", "negative", -0.8, 60, "+1 they track us"),
    ("2026-11-03", R, "privacy", "negative", -0.9, 20, "-rude"),
    ("2026-11-03", P, "fairness", "neutral", 0.0, None, "@everyone equal pay"),
    ("2026-11-10", A, "other", "positive", 0.2, 5, "Nice"),
]


@pytest.fixture
def known(app):
    """A small database whose figures are worked out by hand below."""
    with app.app_context():
        article = Article(slug="known", title="Known", published=date(2026, 11, 1))
        db.session.add(article)
        for day, status, topic, sentiment, score, minutes, body in KNOWN:
            created = datetime.fromisoformat(f"{day}T12:00:00")
            decided = None if minutes is None else created + timedelta(minutes=minutes)
            comment = Comment(article=article, author="Reader", body=body, created_at=created,
                              decided_at=decided, decision_minutes=minutes, status=status, topic=topic, topic_confidence=0.9,
                              sentiment=sentiment, sentiment_score=score, sentiment_compound=-score)
            db.session.add(comment)
        db.session.commit()
        return article.id


@pytest.fixture
def editor(staff):
    staff.login(Role.EDITOR)


def get_json(client, query: str = "") -> dict:
    response = client.get(f"/editor/export/breakdown.json{query}")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def test_topic_breakdown_counts_approved_only_by_default(client, known, editor):
    topics = {r["topic"]: (r["count"], r["share"]) for r in get_json(client)["topics"]}
    assert topics == {"privacy": (1, 0.25), "cost": (2, 0.5), "opportunity": (0, 0.0),
                      "fairness": (0, 0.0), "other": (1, 0.25)}


def test_all_received_counts_every_status(client, known, editor):
    topics = {r["topic"]: r["count"] for r in get_json(client, "?statuses=all")["topics"]}
    assert topics == {"privacy": 2, "cost": 2, "opportunity": 0, "fairness": 1, "other": 1}


def test_sentiment_per_topic_and_mean_score(client, known, editor):
    rows = {r["topic"]: r for r in get_json(client)["sentiment_by_topic"]}
    assert (rows["cost"]["positive"], rows["cost"]["negative"], rows["cost"]["mean_score"]) == (1, 1, 0.0)
    assert rows["privacy"]["mean_score"] == -0.8
    assert rows["opportunity"]["total"] == 0 and rows["opportunity"]["mean_score"] is None


def test_date_range_boundaries_are_inclusive(client, known, editor):
    topics = {r["topic"]: r["count"] for r in get_json(client, "?start=2026-11-02&end=2026-11-03&statuses=all")["topics"]}
    assert topics == {"privacy": 2, "cost": 0, "opportunity": 0, "fairness": 1, "other": 0}


def test_trend_by_day_and_week(client, known, editor):
    days = {r["period"]: r["total"] for r in get_json(client)["trend"]}
    assert days == {"2026-11-01": 2, "2026-11-02": 1, "2026-11-10": 1}
    weeks = {r["period"]: r["total"] for r in get_json(client, "?by=week")["trend"]}
    assert weeks == {"2026-10-26": 2, "2026-11-02": 1, "2026-11-09": 1}


def test_moderation_figures_and_median_time_to_decision(client, known, editor):
    rows = {r["topic"]: r for r in get_json(client)["moderation"]}
    assert (rows["privacy"]["approved"], rows["privacy"]["rejected"]) == (1, 1)
    assert rows["privacy"]["median_minutes_to_decision"] == pytest.approx(40, abs=0.1)
    assert rows["cost"]["median_minutes_to_decision"] == pytest.approx(20, abs=0.1)
    assert rows["fairness"]["pending"] == 1 and rows["fairness"]["median_minutes_to_decision"] is None


def test_empty_database_shows_zeros_not_errors(client, editor):
    page = client.get("/editor")
    assert page.status_code == 200
    assert "No comments in this range." in page.get_data(as_text=True)
    assert all(r["count"] == 0 for r in get_json(client)["topics"])


def test_dashboard_page_has_charts_with_tables(client, known, editor):
    page = client.get("/editor").get_data(as_text=True)
    assert page.count("<svg") == 3 and "<title" in page
    assert 'id="topic-table"' in page and 'id="trend-table"' in page
    assert "Clearest examples of the topic" in page
    assert "Mean compound" not in page and "Average tone" in page
    assert "x: number of comments" not in page


def test_representative_comments_show_only_what_fits_once_with_sample_sizes(app, known):
    from moderation.services import dashboard

    with app.app_context():
        found = dashboard.representatives(dashboard.DashboardFilters())
    privacy = found["privacy"]
    assert privacy["approved"] == 1
    assert privacy["kinds"]["positive"] == {"rows": [], "pool": 0}
    assert [r["body"] for r in privacy["kinds"]["negative"]["rows"]] == ["+1 they track us"]
    assert privacy["kinds"]["confident"]["rows"] == []  # already shown as most negative
    cost = found["cost"]["kinds"]
    assert [r["sentiment_score"] for r in cost["positive"]["rows"]] == [0.5]
    assert [r["sentiment_score"] for r in cost["negative"]["rows"]] == [-0.5]
    assert found["fairness"]["approved"] == 0  # its one comment is pending


def test_one_day_of_data_draws_a_dot_per_topic_on_the_trend_chart():
    from moderation.pages import charts

    chart = charts.line_chart([{"period": "2026-11-01", "privacy": 2, "cost": 0}], ("privacy", "cost"), "Trend")
    assert [len(line["points"]) for line in chart["lines"]] == [1, 1]
    assert chart["lines"][0]["points"][0]["x"] == (chart["left"] + chart["right"]) / 2


def test_topic_colours_are_never_sentiment_colours():
    from moderation.pages import charts

    assert not set(charts.TOPIC_COLOURS.values()) & set(charts.SENTIMENT_COLOURS.values())


@pytest.mark.parametrize("query", ["start=yesterday", "end=2026-13-01", "start=2026-11-05&end=2026-11-01",
                                   "statuses=deleted", "by=hour", "article=1;DROP TABLE comments", "article=99999999999999999999",
                                   "start=1900-01-01&end=2026-01-01"])
def test_bad_filters_are_a_clear_400(client, known, editor, query):
    response = client.get(f"/editor?{query}")
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_comments_csv_round_trips_and_neutralises_formulas(client, known, staff):
    staff.login(Role.ADMIN)  # the text of unpublished comments: admins only (test_input_rules.py)
    response = client.get("/editor/export/comments.csv?statuses=all")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 6
    bodies = {r["body"] for r in rows}
    assert {"'=HYPERLINK(\"http://x\")", "'+1 they track us", "'-rude", "'@everyone equal pay"} <= bodies
    assert {r["topic"] for r in rows} == {"cost", "privacy", "fairness", "other"}


def test_comments_json_export_matches_filters(client, known, editor):
    data = json.loads(client.get("/editor/export/comments.json?start=2026-11-10").get_data(as_text=True))
    assert [(r["body"], r["status"]) for r in data] == [("Nice", "approved")]
    assert (data[0]["sentiment_score"], data[0]["sentiment_compound"]) == (0.2, -0.2)


def test_breakdown_csv_matches_json(client, known, editor):
    rows = list(csv.DictReader(io.StringIO(client.get("/editor/export/breakdown.csv").get_data(as_text=True))))
    assert {r["topic"]: int(r["count"]) for r in rows} == {t["topic"]: t["count"] for t in get_json(client)["topics"]}


def test_editor_sees_breakdown_on_article_page_readers_do_not(client, app, known, staff):
    assert "For editors" not in client.get("/articles/known").get_data(as_text=True)
    staff.login(Role.EDITOR)
    assert "For editors" in client.get("/articles/known").get_data(as_text=True)


def test_moderator_cannot_open_dashboard(client, staff):
    staff.login(Role.MODERATOR)
    assert client.get("/editor").status_code == 403
    assert client.get("/editor/export/comments.csv").status_code == 403


def test_unclassified_comments_count_but_do_not_dilute_mean_sentiment(client, app, known, editor):
    with app.app_context():
        db.session.add(Comment(article_id=known, author="Reader", body="stored while the model was down",
                               created_at=datetime(2026, 11, 2, 15), status=A))
        db.session.commit()
    day = {r["period"]: r for r in get_json(client)["trend"]}["2026-11-02"]
    assert (day["total"], day["unclassified"], day["privacy"]) == (2, 1, 1)
    assert day["mean_score"] == -0.8
    topics = {r["topic"]: r["count"] for r in get_json(client)["topics"]}
    assert topics["unclassified"] == 1
