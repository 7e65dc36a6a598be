"""Error pages that say what to do next and leak nothing."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES: dict[int, tuple[Any, Any]] = {
    400: (_l("Something went wrong with that request"), _l("Please go back and try again.")),
    403: (_l("You cannot open this page"), _l("Your account does not have access to it.")),
    404: (_l("Page not found"), _l("Check the address, or go back to the start.")),
    405: (_l("That did not work"), _l("Please go back and try again.")),
    413: (_l("That was too big to send"), _l("Please make it shorter and try again.")),
    429: (
        _l("Too many tries"),
        _l("Please wait a few minutes, then try again."),
    ),
    500: (
        _l("Sorry, something went wrong on our side"),
        _l("Nothing you did caused this. Please try again in a moment."),
    ),
    503: (
        _l("Sorry, we cannot save right now"),
        _l("Please try again in a moment."),
    ),
}


def render_error(status: int, detail: Any = None) -> tuple[str, int]:
    title, message = MESSAGES.get(status, MESSAGES[500])
    return (
        render_template("errors/error.html", status=status, title=title, message=detail or message),
        status,
    )


def register_error_handlers(app: Flask) -> None:
    from participation.db import db

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> tuple[str, int]:
        db.session.rollback()
        return render_error(
            400,
            _l(
                "This form was open too long or was sent twice. "
                "Please go back, reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        db.session.rollback()
        if error.code is None or error.code < 400:
            return error
        for prefix, handler in app.extensions.get("error_handlers_by_path", ()):
            # A BI tool gets JSON, even for an address or method the API does not have
            # (the reporting layer registers its handler for /api/).
            if request.path.startswith(prefix):
                return handler(error)
        return render_error(error.code)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        app.logger.exception("unhandled error")
        db.session.rollback()
        from sqlalchemy.exc import OperationalError

        if isinstance(error, OperationalError):
            return render_error(503)
        return render_error(500)
