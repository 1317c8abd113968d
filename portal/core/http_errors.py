"""Error pages: a friendly page for every HTTP error, no traceback outside debug."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException


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


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def render_error(error: HTTPException):
    code = error.code or 500
    message = _messages().get(code, error.description)
    if _wants_json():
        return jsonify(error={"code": code, "message": str(message)}), code
    return render_template("errors/error.html", code=code, message=message), code


def init_error_handlers(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf(error):
        message = _("The form expired or was sent from elsewhere. Reload the page and try again.")
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http(error):
        return render_error(error)
