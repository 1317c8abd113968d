"""Spare parts and deposits (SPEC 7): the deposit ledger, the parts catalogue, consignment
stock as a ledger of movements, shipments, consumption by repairs, defective returns."""

from flask import Blueprint

bp = Blueprint("spares", __name__, url_prefix="/spares")

from portal.spares import views  # noqa: E402,F401
