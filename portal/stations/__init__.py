"""The station registry."""

from flask import Blueprint

bp = Blueprint("stations", __name__, url_prefix="/stations")

from portal.stations import import_views, views  # noqa: E402,F401
