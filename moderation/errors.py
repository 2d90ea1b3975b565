"""One error helper: JSON for API clients, a friendly HTML page for browsers; never a trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from moderation.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "There is nothing at this address.",
    405: "That action is not allowed here.",
    413: "What you sent is too large. Comments can be at most 5,000 characters.",
    422: "The request was understood but its content is not valid.",
    429: "You are going a little fast. Please wait a moment and try again.",
    500: "Something went wrong on our side. Nothing you had already posted was lost.",
    503: "The comment database is unreachable right now. Please try again in a minute.",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, message: str | None = None) -> tuple[Response | str, int]:
    """Answer an error in the format the client reads."""
    message = message or MESSAGES.get(status, "Error")
    if wants_json():
        return jsonify(error=message, status=status), status
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(Exception, _unexpected)


def _csrf_error(error: CSRFError):
    return error_response(400, f"The form had expired or was not sent from this site "
                               f"({error.description}) Please reload the page and try again.")


def _http_error(error: HTTPException):
    body, status = error_response(error.code or 500, _message_for(error))
    retry_after = dict(error.get_headers()).get("Retry-After")
    return body, status, {"Retry-After": retry_after} if retry_after else {}


def _message_for(error: HTTPException) -> str:
    if error.code == 429:
        return MESSAGES[429]
    if error.description and error.description != type(error).description:
        return error.description  # a message our own code wrote for a person
    return MESSAGES.get(error.code or 500, error.description or "Error")


def _database_down(error: OperationalError):
    db.session.rollback()
    log.error("database unreachable: %s", error.orig)
    return error_response(503)


def _database_error(error: DBAPIError):
    db.session.rollback()
    if error.connection_invalidated:
        return error_response(503)
    log.exception("database error")
    return error_response(500)


def _unexpected(error: Exception):
    db.session.rollback()
    log.exception("unhandled error")
    return error_response(500)
