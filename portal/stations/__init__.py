"""The station registry."""

from flask import Blueprint

bp = Blueprint("stations", __name__, url_prefix="/stations")

from portal.stations import views  # noqa: E402,F401
