"""The embed: /embed.js for news pages, and a plain link target for readers without JavaScript."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, redirect, request, send_from_directory, url_for

from moderation import article_service

bp = Blueprint("embed", __name__)
STATIC = Path(__file__).resolve().parent / "static"


@bp.get("/embed.js")
def script():
    """The embed script; any page may load it, only allowed sites may then call the API."""
    response = send_from_directory(STATIC, "embed.js", mimetype="text/javascript", max_age=300)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/embed/comments")
def comments_page():
    """Where the snippet's fallback link leads: the article's comments page on this service."""
    article = article_service.find_article(request.args.get("article"))
    if article is None:
        abort(404, "There is no article with this slug or address here.")
    return redirect(url_for("comments.article", slug=article.slug, _anchor="comments"), 303)
