"""Classification off the request path: jobs, workers (many, killed, broken model) and the cached list."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from classifiers import Analyzer
from moderation.extensions import db
from moderation.jobs import classification
from moderation.jobs import queue as jobs
from moderation.jobs.worker import Worker
from moderation.models import ActionKind, Comment, Job, JobState, ModerationAction, Role, utcnow
from moderation.services import comments as service
from moderation.services import erasure
from tests.conftest import csrf_from, postgres_url
from tests.helpers import (
    background_worker,
    count_comments,
    latest_comment,
    post_comment,
    run_worker,
    wait_until,
)


def job_states(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(select(Job.state, func.count(Job.id)).group_by(Job.state))
        return {JobState(state).value: n for state, n in rows}


def classify_actions_per_comment(app) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(select(ModerationAction.comment_id, func.count(ModerationAction.id))
                                  .where(ModerationAction.action == ActionKind.CLASSIFY)
                                  .group_by(ModerationAction.comment_id))
        return dict(rows.all())


def add_comments(app, article, count: int, text: str = "Reader comment number {n} about the fees.") -> None:
    """Store comments through the service, as the form does (each with its classify job)."""
    with app.app_context():
        from moderation.models import Article

        row = db.session.get(Article, article.id)
        for n in range(count):
            service.submit_comment(row, "Reader", text.format(n=n))


def test_posting_stores_the_comment_and_its_job_without_touching_the_model(client, app, article):
    response = post_comment(client, article.slug, body="Who pays for the egress fees?")
    assert response.status_code == 303
    stored = latest_comment(app)
    assert stored.topic is None and stored.classification_error is None
    assert "analyzer" not in app.extensions  # the web app never loads the model
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.subject_id == stored.id))
        assert (job.kind, job.state) == (jobs.CLASSIFY, JobState.QUEUED)


def test_worker_classifies_in_batches_and_marks_jobs_done(app, article):
    add_comments(app, article, 10)
    assert run_worker(app) == 16  # the six demo comments and ten new ones
    assert count_comments(app, topic=None) == 0
    assert job_states(app) == {"done": 16}
    assert set(classify_actions_per_comment(app).values()) == {1}
    stored = latest_comment(app)
    assert isinstance(stored.topic_uncertain, bool) and -1 <= stored.sentiment_score <= 1
    assert all(isinstance(term, str) and weight > 0 for term, weight in stored.topic_terms)


def test_queue_shows_classifying_until_the_worker_runs_and_moderators_can_act(client, app, staff, article):
    post_comment(client, article.slug, body="Fresh comment, not classified yet.")
    staff.login(Role.MODERATOR)
    page = client.get("/moderation").get_data(as_text=True)
    assert "classifying" in page
    comment_id = latest_comment(app).id
    token = csrf_from(page)
    client.post(f"/moderation/{comment_id}/approve", data={"csrf_token": token})
    run_worker(app)
    approved = latest_comment(app)
    assert approved.status.value == "approved" and approved.topic is not None


def test_many_workers_classify_every_comment_exactly_once(app, article):
    add_comments(app, article, 120)

    def work(name: str) -> None:
        with app.app_context():
            worker = Worker(app, name=name, batch_size=8)
            while worker.run_once():
                pass
            db.session.remove()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    per_comment = classify_actions_per_comment(app)
    assert len(per_comment) == 126 and set(per_comment.values()) == {1}
    assert job_states(app) == {"done": 126}


def test_jobs_of_a_killed_worker_are_claimed_again_after_their_lease(app, article):
    with app.app_context():
        lost = jobs.claim(jobs.CLASSIFY, 4, lease=timedelta(seconds=2))  # then the worker dies
        assert len(lost) == 4 and all(j.state is JobState.RUNNING for j in lost)
        assert len(jobs.claim(jobs.CLASSIFY, 10)) == 2  # leased rows are not handed out twice
        db.session.rollback()
    time.sleep(2.2)
    run_worker(app)
    assert count_comments(app, topic=None) == 2  # the two claimed by the second call stay leased
    with app.app_context():
        db.session.execute(Job.__table__.update().values(lease_until=None, state="queued")
                           .where(Job.state == JobState.RUNNING))
        db.session.commit()
    run_worker(app)
    assert count_comments(app, topic=None) == 0
    assert set(classify_actions_per_comment(app).values()) == {1}


class BreaksOnMarker(Analyzer):
    """The real model, except that it fails on one text: a comment the model cannot handle."""

    MARKER = "\u2603 breaks the model"

    def analyze_many(self, texts):
        if any(self.MARKER in text for text in texts):
            raise ValueError("cannot encode this text")
        return super().analyze_many(texts)


def test_a_comment_the_model_cannot_handle_is_marked_and_does_not_block_the_others(client, app, staff, article):
    add_comments(app, article, 3)
    post_comment(client, article.slug, body=f"Odd one: {BreaksOnMarker.MARKER}")
    broken = latest_comment(app).id
    add_comments(app, article, 3)
    with app.app_context():
        worker = Worker(app, name="fragile")
        real = classification.load(app).analyzer
        worker.model = classification.LoadedModel(BreaksOnMarker(real.model, real.sentiment), None)
        worker.drain()
    assert count_comments(app, topic=None) == 1
    with app.app_context():
        comment = db.session.get(Comment, broken)
        assert comment.topic is None and "could not classify" in comment.classification_error
        job = db.session.scalar(select(Job).where(Job.subject_id == broken))
        assert job.state is JobState.FAILED and "ValueError" in job.last_error
    staff.login(Role.MODERATOR)
    assert "could not classify" in client.get("/moderation").get_data(as_text=True)


def test_classify_pending_finds_comments_that_lost_their_job(app, article, runner):
    with app.app_context():
        db.session.execute(Job.__table__.delete())
        db.session.commit()
    result = runner.invoke(args=["classify-pending"])
    assert result.exit_code == 0, result.output
    assert "Classified 6 comments." in result.output
    assert count_comments(app, topic=None) == 0


# --- the cached comment list -------------------------------------------------------------


def approve_in(app, comment_id: int) -> None:
    with app.app_context():
        service.decide([comment_id], ActionKind.APPROVE, None)


def test_a_decision_on_another_server_shows_at_once(client, app, article, second_server):
    post_comment(client, article.slug, body="Approved elsewhere, seen here.")
    comment_id = latest_comment(app).id
    assert "Latest Comments (6)" in client.get(article.url).get_data(as_text=True)  # cached now
    approve_in(second_server, comment_id)
    page = client.get(article.url).get_data(as_text=True)
    assert "Latest Comments (7)" in page and "Approved elsewhere, seen here." in page


def test_undo_and_erasure_never_leave_a_stale_list(client, app, article, second_server):
    post_comment(client, article.slug, body="Soon undone.", email="undo@example.org")
    comment_id = latest_comment(app).id
    client = app.test_client()  # another reader: the author sees their own waiting comment anyway
    approve_in(second_server, comment_id)
    assert "Soon undone." in client.get(article.url).get_data(as_text=True)
    with second_server.app_context():
        service.undo(comment_id, None)
    assert "Soon undone." not in client.get(article.url).get_data(as_text=True)
    approve_in(second_server, comment_id)
    assert "Soon undone." in client.get(article.url).get_data(as_text=True)
    with second_server.app_context():
        erasure.erase_by_email("undo@example.org", None)
    page = client.get(article.url).get_data(as_text=True)
    assert "Soon undone." not in page and "This comment was erased at the author" in page


def test_cached_list_holds_nothing_of_the_reader(client, app, article):
    first = client.get(article.url).get_data(as_text=True)
    other_reader = app.test_client().get(article.url).get_data(as_text=True)
    assert csrf_from(first) != csrf_from(other_reader)
    assert first.count("Latest Comments (6)") == other_reader.count("Latest Comments (6)") == 1


def test_the_worker_deletes_jobs_finished_longer_ago_than_the_retention(app, article):
    add_comments(app, article, 4)
    run_worker(app)
    comments_before = count_comments(app)
    with app.app_context():
        ids = list(db.session.scalars(select(Job.id).order_by(Job.id)))
        days_ago = {ids[0]: 8, ids[1]: 8, ids[2]: 6.9}  # the others finished just now
        for job in db.session.scalars(select(Job)):
            job.finished_at = utcnow() - timedelta(days=days_ago.get(job.id, 0))
        db.session.get_one(Job, ids[1]).state = JobState.FAILED
        jobs.enqueue("classify", None, run_after=utcnow() - timedelta(days=30))  # waiting: never deleted
        db.session.commit()
        assert Worker(app).purge_old_jobs() == 2  # JOB_RETENTION_DAYS: 7
        left = dict(db.session.execute(select(Job.id, Job.state)).all())
    assert ids[0] not in left and ids[1] not in left
    assert set(ids[2:]) <= set(left) and list(left.values()).count(JobState.QUEUED) == 1
    assert count_comments(app) == comments_before  # the comments themselves stay


@pytest.mark.skipif(bool(postgres_url()), reason="SQLite's write-ahead log")
def test_readers_commits_leave_the_log_to_the_worker_which_copies_it_into_the_database_file(app, article):
    marker = "Checkpoint marker 7f3a9c about the fees."
    add_comments(app, article, 1, text=marker)
    with app.app_context():
        path = Path(db.engine.url.database)
        assert db.session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 10_000
        assert marker.encode() not in path.read_bytes()  # only in the log: no reader's commit copied it
    with background_worker(app, "checkpoint-test-worker"):
        wait_until(lambda: marker.encode() in path.read_bytes(), timeout=10)
