"""Monthly labour-fee settlement (SPEC 8): the settlement of each station and month, the one
adjustments table of rewards, penalties and deductions (`adjustments.record_adjustment`), the
workbook export (`export`) and the pages of the workflow (`pages`)."""

from flask import Blueprint

bp = Blueprint("settlement", __name__, url_prefix="/settlement")

from portal.settlement import pages, rules_views  # noqa: E402,F401
