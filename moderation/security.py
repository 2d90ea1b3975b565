"""Security headers on every response (the CSP allows no inline script at all), form parsing
that turns bytes which are not UTF-8 into U+FFFD, so validation refuses them, and signed-cookie
sessions that build their signing serializer once."""

from __future__ import annotations

from typing import IO
from urllib.parse import parse_qsl

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.formparser import FormDataParser

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class ReadableFormParser(FormDataParser):
    """Werkzeug keeps a percent-escape that is not UTF-8 ("caf%C3") as literal text, which would
    be stored as written; decoding it as U+FFFD lets the form say it could not be read."""

    def _parse_urlencoded(self, stream: IO[bytes], mimetype: str, content_length: int | None,
                          options: dict[str, str]):  # type: ignore[no-untyped-def]
        text = stream.read().decode("utf-8", "replace")
        items = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace")
        return stream, self.cls(items), self.cls()


class ReadableRequest(Request):
    form_data_parser_class = ReadableFormParser


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per set of keys.

    Flask builds a new one when it opens and again when it saves each session: a tenth of a
    reader's page view. The serializer holds only the keys and settings, so sharing it is safe; a
    changed SECRET_KEY or fallback list gets a serializer of its own.
    """

    def __init__(self) -> None:
        self.serializers: dict[tuple[object, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self.serializers:
            self.serializers[keys] = super().get_signing_serializer(app)
        return self.serializers[keys]


def init_app(app: Flask) -> None:
    app.request_class = ReadableRequest
    app.session_interface = SignedCookieSessions()
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """Set the headers unless a view chose its own (one pass: this runs on every request); nothing but
    static files is cached."""
    present = {name.lower() for name in response.headers.keys()}
    for name, value in HEADERS.items():
        if name.lower() not in present:
            response.headers.add(name, value)
    if "cache-control" not in present and request.endpoint != "static":
        response.headers.add("Cache-Control", "no-store")
    return response
