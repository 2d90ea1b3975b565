"""The OpenAPI 3.1 document describes the app exactly, and a property-based run finds nothing it breaks."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from moderation.models import Role
from tests.test_api import api_token, new_comment, post_json

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 30


@pytest.fixture
def schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def app_routes(app) -> set[tuple[str, str]]:
    """Every (path, method) the app serves under /api/v1, in OpenAPI's path syntax."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routes |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_the_document_is_valid_openapi_3_1(schema):
    assert schema.raw_schema["openapi"] == "3.1.0"
    schema.validate()
    assert all(result.ok() for result in schema.get_all_operations())


def test_every_api_route_is_documented_and_nothing_else(app, schema):
    documented = {(path, method.upper()) for path, item in schema.raw_schema["paths"].items()
                  for method in item}
    assert app_routes(app) and documented == app_routes(app)


def test_real_answers_match_the_document(app, client, schema, article):
    """Requests a person would send, each answer checked against its operation's schema."""
    moderator, editor = api_token(app, Role.MODERATOR), api_token(app, Role.EDITOR)
    posted = post_json(client, new_comment(article.slug))
    comment_id = posted.get_json()["comment"]["id"]
    answers = {
        ("/comments", "POST"): [posted, post_json(client, new_comment(article.slug, body="")),
                                post_json(client, new_comment(article.slug, website="x"))],
        ("/comments", "GET"): [client.get(f"/api/v1/comments?article={article.slug}"),
                               client.get("/api/v1/comments?article=missing")],
        ("/decisions", "POST"): [client.post("/api/v1/decisions", headers=moderator,
                                             json={"ids": [comment_id], "action": "approve"})],
        ("/comments/{comment_id}/undo", "POST"): [
            client.post(f"/api/v1/comments/{comment_id}/undo", headers=moderator),
            client.post(f"/api/v1/comments/{comment_id}/undo", headers=moderator)],
        ("/queue", "GET"): [client.get("/api/v1/queue?status=all", headers=moderator),
                            client.get("/api/v1/queue")],
        ("/breakdown", "GET"): [client.get("/api/v1/breakdown?statuses=all", headers=editor)],
        ("/trend", "GET"): [client.get("/api/v1/trend?by=week", headers=editor)],
        ("/openapi.json", "GET"): [client.get("/api/v1/openapi.json")],
    }
    assert set(answers) == app_routes(app)
    for (path, method), responses in answers.items():
        for response in responses:
            schema[path][method].validate_response(response)
    assert {r.status_code for rs in answers.values() for r in rs} >= {200, 201, 401, 404, 409, 422}


def test_property_based_run_over_every_operation_finds_no_5xx_and_nothing_off_the_document(app, schema, article):
    """schemathesis generates requests from the document for every operation, with a staff token that
    may do everything, and checks each answer: no server error, a documented status, content type and
    body shape."""
    admin = api_token(app, Role.ADMIN)
    operations = [result.ok() for result in schema.get_all_operations()]
    # schemathesis leaves out the document's own address; every other route is run
    assert {(op.path, op.method.upper()) for op in operations} == app_routes(app) - {("/openapi.json", "GET")}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=admin, checks=CHECKS)

        run()
