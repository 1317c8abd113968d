"""Error pages: a friendly page for every HTTP error, no traceback outside debug.

Before any error page is rendered the database session is rolled back: after a database error
the transaction is unusable, and the page itself (the signed-in user, the demo banner) reads
the database. Values the database cannot hold (too long, out of range) that a form did not
catch become a 400 page instead of a server error.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy.exc import DataError, StatementError
from werkzeug.exceptions import BadRequest, HTTPException

logger = logging.getLogger(__name__)

# Headers of an HTTP error that the error page keeps (405 says what is allowed).
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def _messages():
    return {
        400: _("The request could not be understood. Go back and try again."),
        403: _("You do not have access to this page."),
        404: _("There is nothing here, or it is not yours to see."),
        405: _("This address does not accept that kind of request."),
        413: _("The file is too large."),
        429: _("Too many attempts. Wait a few minutes and try again."),
        500: _("Something went wrong on our side. The error has been logged."),
    }


class ValueOutOfRange(BadRequest):
    """A value reached the database that it cannot hold (too long, too large)."""

    def __init__(self):
        super().__init__(
            _("A value you entered is too long or out of range. Go back, check it and try again.")
        )


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _rollback() -> None:
    from portal.extensions import db

    try:
        db.session.rollback()
    except Exception:
        logger.exception("rollback before the error page failed")


def _kept_headers(error: HTTPException) -> list[tuple[str, str]]:
    try:
        headers = error.get_headers()
    except Exception:  # a header built from a broken request must not hide the error
        return []
    return [(k, v) for k, v in headers if k in KEPT_HEADERS]


def _plain_page(code: int, message) -> str:
    """The last resort when the portal's own page cannot be rendered."""
    return (
        f"<!doctype html><title>{code}</title><h1>{code}</h1>"
        f'<p data-testid="error-message">{escape(str(message))}</p>'
    )


def render_error(error: HTTPException):
    """The error page (or, under /api/, the documented JSON error) for an HTTP error."""
    _rollback()
    code = error.code or 500
    message = _messages().get(code, error.description)
    if isinstance(error, ValueOutOfRange):
        message = error.description
    headers = _kept_headers(error)
    if _wants_json():
        # The API's documented error schema: code, status, message (and errors per field).
        try:
            status = HTTPStatus(code).phrase
        except ValueError:
            status = error.name
        body = {"code": code, "status": status, "message": str(message)}
        return jsonify(body), code, headers
    from portal.core.security import request_id

    try:
        html = render_template(
            "errors/error.html", code=code, message=message, request_id=request_id()
        )
    except Exception:
        logger.exception("the error page could not be rendered")
        _rollback()
        html = _plain_page(code, message)
    return html, code, headers


def init_error_handlers(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    from portal.core import security_log

    @app.errorhandler(CSRFError)
    def _csrf(error):
        _rollback()
        security_log.event("csrf.failure", reason=str(error.description))
        message = _("The form expired or was sent from elsewhere. Reload the page and try again.")
        try:
            return render_template("errors/error.html", code=400, message=message), 400
        except Exception:
            logger.exception("the error page could not be rendered")
            return _plain_page(400, message), 400

    @app.errorhandler(HTTPException)
    def _http(error):
        return render_error(error)

    def _out_of_range(error):
        _rollback()  # first: the message and the log line read the user (and its language)
        logger.warning("refused a value the database cannot hold: %s", error)
        security_log.event("input.refused", reason=type(error).__name__)
        return render_error(ValueOutOfRange())

    # Too long or out of range for its column on PostgreSQL; too large an integer for SQLite.
    app.register_error_handler(DataError, _out_of_range)
    app.register_error_handler(OverflowError, _out_of_range)

    @app.errorhandler(StatementError)
    def _statement(error):
        if isinstance(error.orig, ValueError | OverflowError):
            return _out_of_range(error)
        raise error
