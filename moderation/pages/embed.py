"""The embed: /embed.js for news pages, and a plain link target for readers without JavaScript."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, abort, redirect, request, url_for

from moderation.services import articles as article_service

bp = Blueprint("embed", __name__)
SCRIPT = Path(__file__).resolve().parent.parent / "static" / "embed.js"


@cache
def script_bytes() -> tuple[bytes, str]:
    """The script and its ETag, read once per process."""
    source = SCRIPT.read_bytes()
    return source, hashlib.sha256(source).hexdigest()[:16]


@bp.get("/embed.js")
def script():
    """The embed script; any page may load it, only allowed sites may then call the API."""
    source, etag = script_bytes()
    response = Response(source, mimetype="text/javascript")
    response.set_etag(etag)
    response.cache_control.public, response.cache_control.max_age = True, 300
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response.make_conditional(request)


@bp.get("/embed/comments")
def comments_page():
    """Where the snippet's fallback link leads: the article's comments page on this service."""
    article = article_service.find_article(request.args.get("article"))
    if article is None:
        abort(404, "There is no article with this slug or address here.")
    return redirect(url_for("comments.article", slug=article.slug, _anchor="comments"), 303)
