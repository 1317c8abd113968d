"""Station scoping: the one place where station-owned rows are filtered for a user."""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, select

from portal.core.permissions import sees_all_stations
from portal.extensions import db


def scope_to_user(stmt: Select, station_column, user) -> Select:
    """Limit a query on station-owned rows to what the user may see."""
    if sees_all_stations(user):
        return stmt
    station_id = getattr(user, "station_id", None)
    if station_id is None:
        return stmt.where(False)
    return stmt.where(station_column == station_id)


def get_scoped_or_404(model, object_id, user, station_column=None):
    """Load one station-owned row by id; 404 if absent or outside the user's stations."""
    column = station_column if station_column is not None else model.station_id
    stmt = scope_to_user(select(model).where(model.id == object_id), column, user)
    obj = db.session.execute(stmt).scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj
