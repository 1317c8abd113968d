"""Browsing the audit trail (the model and record() live in portal.core.audit)."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from portal.audit import views  # noqa: E402,F401
