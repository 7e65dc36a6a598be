"""Request bodies over the limit are refused with 413, whether or not they are chunked.

Werkzeug refuses a body whose Content-Length is over ``MAX_CONTENT_LENGTH``, but a chunked
body (no Content-Length; gunicorn sets ``wsgi.input_terminated``) is only read up to the
limit and then processed as if it ended there: a child's long text cut silently, or a
crafted body parsed in part. This middleware reads such a body itself, up to one byte past
the limit: over it, the request is answered 413 before the app sees it; within it, the
app gets the whole body with its length set.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_CHUNK = 64 * 1024


class BodyLimit:
    """WSGI middleware: a body without Content-Length is read, and refused past ``limit``."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        declared = environ.get("CONTENT_LENGTH") or ""
        # A declared length over the limit: refused whatever the route would read.
        over = declared.isascii() and declared.isdigit() and int(declared) > int(limit or 0)
        if limit is not None and over:
            return self._too_large(environ, start_response)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        # A body of unknown length: chunked, or a server that ends the stream itself.
        unknown = not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated")
        if limit is not None and (chunked or unknown):
            body = _read_up_to(environ["wsgi.input"], int(limit) + 1)
            if body is not None and len(body) > int(limit):
                return self._too_large(environ, start_response)
            if body is not None:
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
                environ.pop("HTTP_TRANSFER_ENCODING", None)
                environ["wsgi.input_terminated"] = False
        return self.wsgi_app(environ, start_response)

    def _too_large(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        # The app's own 413 page, for this request without its body (see register_body_limit).
        environ["wsgi.input"] = io.BytesIO(b"")
        environ["CONTENT_LENGTH"] = "0"
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        environ[TOO_LARGE] = True
        return self.wsgi_app(environ, start_response)


def _read_up_to(stream: Any, most: int) -> bytes | None:
    """At most ``most`` bytes of the body (None when there is no stream to read)."""
    if stream is None:
        return None
    parts: list[bytes] = []
    size = 0
    while size < most:
        part = stream.read(min(_CHUNK, most - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


TOO_LARGE = "participation.body_too_large"


def register_body_limit(app: Flask) -> None:
    """The middleware, and a first before-request hook that answers 413 for it."""
    from flask import request
    from werkzeug.exceptions import RequestEntityTooLarge

    app.wsgi_app = BodyLimit(app, app.wsgi_app)  # type: ignore[method-assign]

    @app.before_request
    def refuse_too_large_body() -> None:
        if request.environ.get(TOO_LARGE):
            raise RequestEntityTooLarge()
