"""Station applications and tiered certification (SPEC 3)."""

from flask import Blueprint

bp = Blueprint("certification", __name__, url_prefix="/certification")

from portal.certification import views  # noqa: E402,F401
