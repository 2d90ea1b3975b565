"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json and checked by the tests."""

from __future__ import annotations

from typing import Any

from classifiers import SENTIMENTS, TOPICS
from moderation.config import MAX_AUTHOR_CHARS, MAX_COMMENT_CHARS
from moderation.params import MAX_ID, MAX_PAGE
from moderation.services.comments import REJECT_REASONS

STATUSES = ["pending", "approved", "rejected"]
JSON = "application/json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


def query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def responses(ok: dict[str, Any], **errors: str) -> dict[str, Any]:
    """Success answers, the errors this operation names (r404="..."), and the error shape for others."""
    named = {code.removeprefix("r"): answer(text, ref("Error")) for code, text in errors.items()}
    return {**ok, **named, "default": {"$ref": "#/components/responses/Error"}}


PAGE = query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "Page number.")
PER_PAGE = query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Items per page.")
ARTICLE_ID = query("article", {"type": "integer", "minimum": 0, "maximum": MAX_ID}, "Only this article (id).")
DASHBOARD_FILTERS = [
    query("start", {"type": "string", "format": "date"}, "First day (inclusive), e.g. 2026-11-03."),
    query("end", {"type": "string", "format": "date"}, "Last day (inclusive)."),
    ARTICLE_ID,
    query("statuses", {"type": "string", "enum": ["approved", "all"], "default": "approved"},
          "Count approved comments only, or every status."),
    query("by", {"type": "string", "enum": ["day", "week"], "default": "day"}, "Trend periods."),
]
STAFF = [{"bearer": []}]

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "status"], "properties": {
        "error": {"type": "string", "description": "What went wrong, for a person."},
        "status": {"type": "integer"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "A message per field that needs attention (422)."}}},
    "Article": {"type": "object", "required": ["slug", "title", "url", "comments_open", "premoderated"],
                "properties": {"slug": {"type": "string"}, "title": {"type": "string"},
                               "url": nullable("string", description="The canonical URL on the news site."),
                               "comments_open": {"type": "boolean"}, "premoderated": {"type": "boolean"}}},
    "Comment": {"type": "object",
                "required": ["id", "article", "author", "body", "created_at", "status", "topic",
                             "topic_uncertain", "sentiment", "sentiment_score"],
                "properties": {
                    "id": {"type": "integer"}, "article": {"type": "string", "description": "The slug."},
                    "author": {"type": "string"}, "body": {"type": "string", "description": "Plain text."},
                    "created_at": {"type": "string", "format": "date-time"},
                    "status": {"type": "string", "enum": STATUSES},
                    "topic": {"type": ["string", "null"], "enum": [*TOPICS, None],
                              "description": "Null until the background worker has classified it."},
                    "topic_uncertain": nullable("boolean"),
                    "sentiment": {"type": ["string", "null"], "enum": [*SENTIMENTS, None]},
                    "sentiment_score": nullable("number", minimum=-1, maximum=1)}},
    "StaffComment": {"allOf": [ref("Comment"), {"type": "object", "required": ["article_id"], "properties": {
        "article_id": {"type": "integer"}, "topic_confidence": nullable("number"),
        "topic_terms": nullable("array", items={"type": "array"},
                                description="[[term, weight], ...]: the words that pushed the model."),
        "classification_error": nullable("string"),
        "decided_at": nullable("string", format="date-time")}}]},
    "CommentPage": {"type": "object",
                    "required": ["article", "comments", "page", "per_page", "pages", "total", "order"],
                    "properties": {"article": ref("Article"),
                                   "comments": {"type": "array", "items": ref("Comment")},
                                   "page": {"type": "integer"}, "per_page": {"type": "integer"},
                                   "pages": {"type": "integer"}, "total": {"type": "integer"},
                                   "order": {"type": "string", "enum": ["newest", "oldest"]}}},
    "NewComment": {"type": "object", "required": ["article", "author", "body"], "properties": {
        "article": {"type": "string", "description": "The article's slug or canonical URL."},
        "author": {"type": "string", "maxLength": MAX_AUTHOR_CHARS},
        "body": {"type": "string", "maxLength": MAX_COMMENT_CHARS},
        "email": {"type": "string", "description": "Optional, never shown."},
        "website": {"type": "string", "description": "Leave empty (a trap for bots)."},
        "submission_token": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$",
                             "description": "A random value per form: sending it twice stores one comment."},
        "title": {"type": "string", "description": "The page's title, for auto-registration."}}},
    "Posted": {"type": "object", "required": ["message", "comment"], "properties": {
        "message": {"type": "string"}, "comment": {"anyOf": [ref("Comment"), {"type": "null"}]}}},
    "QueuePage": {"type": "object", "required": ["comments", "page", "per_page", "pages", "total", "counts"],
                  "properties": {"comments": {"type": "array", "items": ref("StaffComment")},
                                 "page": {"type": "integer"}, "per_page": {"type": "integer"},
                                 "pages": {"type": "integer"}, "total": {"type": "integer"},
                                 "counts": {"type": "object", "additionalProperties": {"type": "integer"}}}},
    "Decision": {"type": "object", "required": ["ids", "action"], "properties": {
        "ids": {"type": "array", "minItems": 1, "maxItems": 500,
                "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
        "action": {"type": "string", "enum": ["approve", "reject"]},
        "reason": {"type": ["string", "null"], "enum": [*REJECT_REASONS, None]},
        "note": nullable("string", maxLength=300)}},
    "Decided": {"type": "object", "required": ["changed", "action"], "properties": {
        "changed": {"type": "integer", "description": "How many comments changed status."},
        "action": {"type": "string", "enum": ["approve", "reject"]}}},
    "Breakdown": {"type": "object",
                  "required": ["filters", "topics", "sentiment_by_topic", "trend", "moderation"],
                  "properties": {"filters": {"type": "object"},
                                 "topics": {"type": "array", "items": {"type": "object", "required": [
                                     "topic", "count", "share"]}},
                                 "sentiment_by_topic": {"type": "array", "items": {"type": "object"}},
                                 "trend": {"type": "array", "items": ref("TrendPoint")},
                                 "moderation": {"type": "array", "items": {"type": "object"}}}},
    "TrendPoint": {"type": "object", "required": ["period", "total", "mean_score"], "properties": {
        "period": {"type": "string", "format": "date"}, "total": {"type": "integer"},
        "mean_score": nullable("number")}},
    "Trend": {"type": "object", "required": ["granularity", "trend"], "properties": {
        "granularity": {"type": "string", "enum": ["day", "week"]},
        "trend": {"type": "array", "items": ref("TrendPoint")}}},
}

PATHS: dict[str, Any] = {
    "/comments": {
        "get": {"operationId": "listComments", "tags": ["readers"],
                "summary": "An article's approved comments, with topic and sentiment",
                "parameters": [query("article", {"type": "string", "minLength": 1},
                                     "The article's slug or canonical URL.", required=True),
                               PAGE, PER_PAGE,
                               query("order", {"type": "string", "enum": ["newest", "oldest"]},
                                     "Newest (default) or oldest first.")],
                "responses": responses({"200": answer("One page of comments.", ref("CommentPage"))},
                                       r400="A bad parameter.", r404="No such article.")},
        "post": {"operationId": "postComment", "tags": ["readers"],
                 "summary": "Post a comment (it waits for a moderator when the article is pre-moderated)",
                 "requestBody": {"required": True, "content": {JSON: {"schema": ref("NewComment")}}},
                 "responses": responses(
                     {"201": answer("Stored (or, when the trap field was filled, silently dropped).",
                                    ref("Posted")),
                      "200": answer("The same submission token was sent before: the first comment.",
                                    ref("Posted"))},
                     r400="Not a JSON object.", r403="Posted from a site that is not allowed.",
                     r404="No such article.", r413="Too large.", r415="Not JSON.",
                     r422="Field errors, one message per field.",
                     r429="Too many comments from this client.")},
    },
    "/queue": {"get": {
        "operationId": "listQueue", "tags": ["moderators"], "security": STAFF,
        "summary": "The moderation queue (oldest first) with its filters",
        "parameters": [query("status", {"type": "string", "enum": [*STATUSES, "all"], "default": "pending"},
                             "Which comments."),
                       ARTICLE_ID,
                       query("topic", {"type": "string", "enum": [*TOPICS, "unclassified"]}, "This topic."),
                       query("sentiment", {"type": "string", "enum": list(SENTIMENTS)}, "This sentiment."),
                       PAGE, PER_PAGE],
        "responses": responses({"200": answer("One page of the queue.", ref("QueuePage"))},
                               r400="A bad filter.", r401="No or a bad token.", r403="Not a moderator.")}},
    "/decisions": {"post": {
        "operationId": "decide", "tags": ["moderators"], "security": STAFF,
        "summary": "Approve or reject one or many comments",
        "requestBody": {"required": True, "content": {JSON: {"schema": ref("Decision")}}},
        "responses": responses({"200": answer("Done.", ref("Decided"))},
                               r401="No or a bad token.", r403="Not a moderator.", r415="Not JSON.",
                               r422="Field errors.")}},
    "/comments/{comment_id}/undo": {"post": {
        "operationId": "undoDecision", "tags": ["moderators"], "security": STAFF,
        "summary": "Send a decided comment back to the queue",
        "parameters": [{"name": "comment_id", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 1}}],
        "responses": responses(
            {"200": answer("Back in the queue.", {"type": "object", "required": ["comment"],
                                                  "properties": {"comment": ref("StaffComment")}})},
            r401="No or a bad token.", r403="Not a moderator.", r404="No such comment.",
            r409="The comment is already waiting.")}},
    "/breakdown": {"get": {
        "operationId": "breakdown", "tags": ["editors"], "security": STAFF,
        "summary": "Topic and sentiment breakdowns, trend and moderation figures",
        "parameters": DASHBOARD_FILTERS,
        "responses": responses({"200": answer("The figures.", ref("Breakdown"))},
                               r400="A bad filter.", r401="No or a bad token.", r403="Not an editor.")}},
    "/trend": {"get": {
        "operationId": "trend", "tags": ["editors"], "security": STAFF,
        "summary": "Comments per topic and mean sentiment per day or week",
        "parameters": DASHBOARD_FILTERS,
        "responses": responses({"200": answer("The trend.", ref("Trend"))},
                               r400="A bad filter.", r401="No or a bad token.", r403="Not an editor.")}},
    "/openapi.json": {"get": {
        "operationId": "openapi", "tags": ["meta"], "summary": "This document",
        "responses": {"200": answer("OpenAPI 3.1.", {"type": "object"})}}},
}


def document() -> dict[str, Any]:
    """The whole description, as plain values."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Comment moderation API", "version": "1",
                 "description": "Readers list and post comments; staff with a personal token "
                                "(`Authorization: Bearer ...`) work the queue and read the figures. "
                                "Errors are JSON: {\"error\": message, \"status\": code}."},
        "servers": [{"url": "/api/v1"}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "responses": {"Error": answer("An error, with a message for a person.", ref("Error"))},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A personal API token (API tokens page)."}},
        },
    }
