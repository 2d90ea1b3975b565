"""The JSON API under /api/v1: readers list and post comments; staff with a token work the queue.

It parses and answers JSON and calls the same services as the pages: no second way to write.
Readers' endpoints answer browsers on allowed sites (CORS) and take posts only as JSON from this
site or an allowed one (no cookies are used, so a page elsewhere cannot post in a visitor's name).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from sqlalchemy import Row

from moderation.api import openapi
from moderation.extensions import cache, csrf, limiter
from moderation.models import ActionKind, Article, Comment, Role, User
from moderation.params import MAX_ID, dashboard_filters, page_arg, queue_filters
from moderation.ratelimits import comment_limit
from moderation.services import articles as article_service
from moderation.services import comments as service
from moderation.services import dashboard, origins, queries, tokens

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookie authenticates an API call: tokens travel in a header, readers are anonymous

MODERATORS = (Role.MODERATOR, Role.ADMIN)
EDITORS = (Role.EDITOR, Role.ADMIN)
READER_PATHS = {"/api/v1/comments"}
POST_FIELDS = ("article", "author", "body", "email", "website", "submission_token", "title")
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_BULK = 500
ACTIONS = {"approve": ActionKind.APPROVE, "reject": ActionKind.REJECT}


def iso(value) -> str | None:  # type: ignore[no-untyped-def]
    return value.isoformat() + "Z" if value is not None else None


def public_comment(comment: Comment) -> dict[str, Any]:
    """What any reader may see of a comment (never the email or the client hash)."""
    return {"id": comment.id, "article": comment.article.slug, "author": comment.author,
            "body": comment.body, "created_at": iso(comment.created_at), "status": comment.status.value,
            "topic": comment.topic, "topic_uncertain": comment.topic_uncertain,
            "sentiment": comment.sentiment, "sentiment_score": comment.sentiment_score}


def staff_comment(comment: Comment) -> dict[str, Any]:
    """A comment as the queue shows it to moderators."""
    return {**public_comment(comment), "article_id": comment.article_id,
            "topic_confidence": comment.topic_confidence, "topic_terms": comment.topic_terms,
            "classification_error": comment.classification_error, "decided_at": iso(comment.decided_at)}


def article_info(article: Article | Row[Any]) -> dict[str, Any]:
    return {"slug": article.slug, "title": article.title, "url": article.canonical_url,
            "comments_open": article.comments_open, "premoderated": article.premoderated}


def invalid(errors: dict[str, str]) -> tuple[Response, int]:
    """422 with a message per field, as the form shows them beside each field."""
    return jsonify(error="Some fields need attention.", status=422, errors=errors), 422


def unauthorized(message: str) -> None:
    response = jsonify(error=message, status=401)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="comments-api"'
    abort(response)


def token_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let through a request with a live token whose owner has one of `roles`; 401 or 403 otherwise."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not raw.strip():
                unauthorized("Send your API token as 'Authorization: Bearer <token>' "
                             "(create one on the API tokens page).")
            user = tokens.user_for(raw.strip())
            if user is None:
                unauthorized("This API token is unknown or has been revoked.")
            if not user.has_role(*roles):
                abort(403, f"Your role ({user.role.value}) cannot use this part of the API.")
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator


def api_user() -> User:
    return g.api_user


# ----- readers ---------------------------------------------------------------------------------

def per_page_arg(default_setting: str) -> int:
    raw = request.args.get("per_page", str(current_app.config[default_setting]))
    limit = current_app.config["API_MAX_PER_PAGE"]
    if not raw.isdigit() or not 1 <= int(raw) <= limit:
        abort(400, f"per_page must be a whole number from 1 to {limit}.")
    return int(raw)


def article_arg_or_404() -> Row[Any]:
    reference = request.args.get("article")
    if not reference:
        abort(400, "Say which article: ?article= its slug or its address on your site.")
    article = article_service.find_article_row(reference)
    if article is None:
        abort(404, "There is no article with this slug or address.")
    return article


@bp.get("/comments")
def list_comments():
    """An article's approved comments, newest (or oldest) first, with topic and sentiment."""
    article = article_arg_or_404()
    page, per_page = page_arg(), per_page_arg("COMMENTS_PER_PAGE")
    order = request.args.get("order", "newest")
    if order not in ("newest", "oldest"):
        abort(400, "order must be 'newest' or 'oldest'.")
    # The article's fields are in the answer: their digest is in the key, so an edit shows at once.
    key = (f"api-comments:{article.id}:{article.comments_version}:{page}:{per_page}:{order}:"
           f"{queries.article_digest(article)}")
    text = cache.get(key)
    if text is None:
        found = queries.approved_comments_ordered(article, page, per_page, order == "oldest")
        text = current_app.json.dumps({
            "article": article_info(article), "comments": [public_comment(c) for c in found.items],
            "page": page, "per_page": per_page, "pages": found.pages, "total": found.total, "order": order})
        cache.set(key, text)  # the JSON text itself: serialising 20 comments was a third of a request
    return current_app.response_class(f"{text}\n", mimetype="application/json")


def own_origin() -> str:
    return request.host_url.rstrip("/")


def refuse_foreign_origin() -> None:
    """Browsers name the page's origin on every POST: only this site and allowed ones may post."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != own_origin() and not origins.is_allowed(origin):
        abort(403, "Comments cannot be posted from this site: an administrator has not allowed it.")


def text_fields(data: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The posted fields as text (missing ones empty) and an error for each that is not text."""
    fields, errors = {}, {}
    for name in POST_FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = "This must be text."
        fields[name] = value or ""
    token = fields["submission_token"]
    if token and not TOKEN_SHAPE.fullmatch(token):
        errors["submission_token"] = "The submission token is 1 to 64 letters, digits, '-' or '_'."
    if not fields["article"]:
        errors["article"] = "Say which article the comment is for (its slug or address)."
    return fields, errors


def article_for_post(reference: str, title: str) -> Article | None:
    """The article named; an unknown page of a site allowed to auto-register is registered now."""
    article = article_service.find_article(reference)
    if article is not None or not origins.may_auto_register(request.headers.get("Origin"), reference):
        return article
    try:
        return article_service.register_from_page(reference, title)
    except service.InvalidComment:  # another first comment registered it a moment ago, or a bad URL
        return article_service.find_article(reference)


@bp.post("/comments")
@limiter.limit(comment_limit, methods=["POST"])
def post_comment():
    """Post a reader's comment: the form's rules, limits, honeypot and double-submit protection."""
    if not request.is_json:
        abort(415, "Send the comment as JSON (Content-Type: application/json).")
    refuse_foreign_origin()
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "The request body must be a JSON object.")
    fields, errors = text_fields(data)
    if errors:
        return invalid(errors)
    if fields["website"]:  # a bot filled the hidden field: store nothing, say nothing
        return jsonify(message=service.AWAITING, comment=None), 201
    article = article_for_post(fields["article"], fields["title"])
    if article is None:
        abort(404, "There is no article with this slug or address.")
    slug = article.slug  # read now: the commit expires the article
    try:
        submitted = service.submit_comment(article, fields["author"], fields["body"], fields["email"],
                                           client_address=request.remote_addr,
                                           submission_token=fields["submission_token"] or None)
    except service.InvalidComment as refused:
        return invalid(refused.errors)
    except service.NotAllowed as refused:
        return invalid({"article": str(refused)})
    message = service.reader_message(submitted.status)
    if submitted.duplicate:  # the earlier comment as it is now (it may be classified or decided)
        return jsonify(message=message, comment=public_comment(submitted.comment)), 200
    return jsonify(message=message, comment=new_comment(submitted, slug)), 201


def new_comment(submitted: service.Submission, slug: str) -> dict[str, Any]:
    """`public_comment` of a comment just stored, from what was stored: no query after the commit."""
    return {"id": submitted.comment_id, "article": slug, "author": submitted.author, "body": submitted.body,
            "created_at": iso(submitted.created_at), "status": submitted.status.value, "topic": None,
            "topic_uncertain": None, "sentiment": None, "sentiment_score": None}


@bp.after_request
def allow_embedding_sites(response: Response) -> Response:
    """CORS for the readers' endpoints, only towards origins an admin allowed."""
    if request.path in READER_PATHS:
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if origin and origins.is_allowed(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
    return response


# ----- staff -----------------------------------------------------------------------------------

@bp.get("/queue")
@token_required(*MODERATORS)
def queue_list():
    """The moderation queue with the page's filters (status, article, topic, sentiment)."""
    filters = queue_filters()
    page = queries.queue_page(filters, page_arg(), per_page_arg("QUEUE_PER_PAGE"))
    return jsonify(comments=[staff_comment(c) for c in page.items], page=page.page,
                   per_page=page.per_page, pages=page.pages, total=page.total,
                   counts=queries.status_counts(filters))


def decision_fields(data: Any) -> tuple[list[int], ActionKind | None, str | None, dict[str, str]]:
    """Read {ids, action, reason, note}; return them with an error per bad field."""
    errors: dict[str, str] = {}
    data = data if isinstance(data, dict) else {}
    ids = data.get("ids")
    if (not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BULK
            or not all(type(i) is int and 1 <= i <= MAX_ID for i in ids)):
        errors["ids"] = f"Give 1 to {MAX_BULK} comment numbers, e.g. [12, 15]."
        ids = []
    raw_action = data.get("action")
    action = ACTIONS.get(raw_action) if isinstance(raw_action, str) else None
    if action is None:
        errors["action"] = "The action is 'approve' or 'reject'."
    reason, note = data.get("reason"), data.get("note")
    if reason is not None and (not isinstance(reason, str) or reason not in service.REJECT_REASONS):
        errors["reason"] = f"The reason is one of: {', '.join(service.REJECT_REASONS)}."
    if note is not None and (not isinstance(note, str) or len(note) > 300):
        errors["note"] = "The note is text of at most 300 characters."
    if errors:
        return [], None, None, errors
    return ids, action, service.reason_text(reason, note), errors


@bp.post("/decisions")
@token_required(*MODERATORS)
def decide():
    """Approve or reject one or many comments, with an optional reason and note."""
    if not request.is_json:
        abort(415, "Send the decision as JSON (Content-Type: application/json).")
    ids, action, reason, errors = decision_fields(request.get_json(silent=True))
    if errors or action is None:
        return invalid(errors)
    changed = service.decide(ids, action, api_user(), reason)
    return jsonify(changed=changed, action=action.value)


@bp.post("/comments/<int:comment_id>/undo")
@token_required(*MODERATORS)
def undo(comment_id: int):
    """Send a decided comment back to the queue."""
    if comment_id > MAX_ID:
        abort(404, "There is no comment with this number.")
    try:
        comment = service.undo(comment_id, api_user())
    except LookupError:
        abort(404, "There is no comment with this number.")
    except service.NotAllowed as refused:
        abort(409, str(refused))
    return jsonify(comment=staff_comment(comment))


@bp.get("/breakdown")
@token_required(*EDITORS)
def breakdown():
    """Topic and sentiment breakdowns, trends and moderation figures, with the dashboard's filters."""
    return jsonify(dashboard.summary(dashboard_filters()))


@bp.get("/trend")
@token_required(*EDITORS)
def trend():
    """Comments per topic and mean sentiment per day or week."""
    filters = dashboard_filters()
    return jsonify(granularity=filters.granularity, trend=dashboard.trend(filters))


@bp.get("/openapi.json")
def openapi_document():
    """This API's OpenAPI 3.1 description."""
    return jsonify(openapi.document())
