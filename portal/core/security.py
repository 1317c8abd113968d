"""Sessions, sign-in loading, cookie flags and security headers."""

from __future__ import annotations

import re
import secrets

from flask import Flask, abort, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.core.db import MAX_ID
from portal.core.inputs import PortalRequest, clean_view_args

# A request id passed on by a trusted proxy is kept when it looks like one.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Statuses logged as security events after any response (pages, API, error handlers).
STATUS_EVENTS = {401: "access.unauthenticated", 403: "access.denied", 429: "rate.limited"}

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


class PortalSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def request_id() -> str:
    """This request's id (made on first use): in the security log, the response, error pages.

    A proxy's X-Request-ID is kept only when proxies are trusted (TRUSTED_PROXIES > 0).
    """
    if "request_id" not in g:
        trusted = int(current_app.config.get("TRUSTED_PROXIES") or 0) > 0
        incoming = request.headers.get("X-Request-ID", "") if trusted else ""
        g.request_id = incoming if REQUEST_ID.match(incoming) else secrets.token_hex(8)
    return g.request_id


def init_security(app: Flask) -> None:
    from portal.auth import services as auth_services
    from portal.core.security_log import init_logging
    from portal.extensions import db, login_manager, talisman

    init_logging(app)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        # Behind that many reverse proxies, each appending X-Forwarded-*: trust exactly those
        # hops. With none (the default) the headers are ignored, so a client that sends
        # X-Forwarded-For cannot pick the address the sign-in and sign-up limits count.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.session_interface = PortalSessionInterface()
    # Every query argument, form field and URL part arrives without control characters.
    app.request_class = PortalRequest
    app.url_value_preprocessor(clean_view_args)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = None  # the server-side session row is the protection

    @login_manager.user_loader
    def load_user(token: str):
        config = current_app.config  # login_manager is shared by every app built in a process
        user, touched = auth_services.load_session_user(
            token, config["IDLE_TIMEOUT"], config["SESSION_MAX_AGE"]
        )
        if touched:
            # The only write a plain page view makes; committed now so it is not lost.
            db.session.commit()
        return user

    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        content_security_policy=CSP,
        referrer_policy="same-origin",
        frame_options="DENY",
        x_content_type_options=True,
    )

    @app.after_request
    def _log_refusals(response):
        from portal.core import security_log

        name = STATUS_EVENTS.get(response.status_code)
        if name:
            security_log.event(name, status=response.status_code)
        response.headers["X-Request-ID"] = request_id()
        return response

    @app.before_request
    def _ids_in_range():
        """An id no row can have is simply not found (PostgreSQL refuses such integers)."""
        g.setdefault("demo_mode", None)
        for value in (request.view_args or {}).values():
            if isinstance(value, int) and not 0 <= value <= MAX_ID:
                abort(404)
