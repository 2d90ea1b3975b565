"""The benchmark's baseline (bench/bare_app.py) must keep working, or bench/run.py measures nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from bench.bare_app import create_app


@pytest.fixture
def bare(tmp_path) -> Iterator[Flask]:
    app = create_app(str(tmp_path / "bare.sqlite3"))
    yield app
    app.extensions["bare_close"]()


def test_bare_app_stores_a_post_and_serves_it_on_the_thread_page(bare):
    client = bare.test_client()
    posted = client.post("/threads/news/comments", data={"author": "Ann", "body": "Costs <b>matter</b>"})
    page = client.get("/threads/news")
    assert posted.status_code == 201
    assert page.status_code == 200
    assert "Costs &lt;b&gt;matter&lt;/b&gt;" in page.get_data(as_text=True)


def test_bare_app_refuses_a_post_without_a_body(bare):
    client = bare.test_client()
    assert client.post("/threads/news/comments", data={"author": "Ann"}).status_code == 422
    assert "Comments (0)" in client.get("/threads/news").get_data(as_text=True)


def test_the_benchmarks_api_posts_are_accepted_by_this_apps_api(app, article, tmp_path):
    from bench import load
    from bench.run import write_bodies

    bodies = write_bodies(tmp_path, ['Who pays for "egress" when we leave?'])
    target = load.Target("http://127.0.0.1:1", "/api/v1/comments", "api-json", 201, bodies["api-json"],
                         "apibench1", (article.slug,))
    body, headers = load.Connection(target, 1).post_body()
    response = app.test_client().post("/api/v1/comments", data=body, headers=headers)
    assert response.status_code == 201
    assert response.get_json()["comment"]["body"] == 'Who pays for "egress" when we leave? [apibench1 t1-1]'
