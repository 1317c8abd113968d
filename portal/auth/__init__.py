"""Sign-in, sessions, passwords and users."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
users_bp = Blueprint("users", __name__, url_prefix="/users")

from portal.auth import views  # noqa: E402,F401
