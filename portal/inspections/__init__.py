"""On-site inspections, checklists and rectifications (SPEC 4)."""

from flask import Blueprint

bp = Blueprint("inspections", __name__, url_prefix="/inspections")

from portal.inspections import views  # noqa: E402,F401
