"""Sessions, sign-in loading, cookie flags and security headers."""

from __future__ import annotations

from flask import Flask, abort, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.core.db import MAX_ID

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


def init_security(app: Flask) -> None:
    from portal.auth import services as auth_services
    from portal.extensions import db, login_manager, talisman

    if app.config.get("PROXY_FIX", True):
        # Behind a reverse proxy, trust one hop for the scheme and client address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    app.session_interface = PortalSessionInterface()

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = None  # the server-side session row is the protection

    @login_manager.user_loader
    def load_user(token: str):
        user, touched = auth_services.load_session_user(token, app.config["IDLE_TIMEOUT"])
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

    @app.before_request
    def _ids_in_range():
        """An id no row can have is simply not found (PostgreSQL refuses such integers)."""
        g.setdefault("demo_mode", None)
        for value in (request.view_args or {}).values():
            if isinstance(value, int) and not 0 <= value <= MAX_ID:
                abort(404)
