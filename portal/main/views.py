"""The home dashboard and the health check."""

from __future__ import annotations

from flask import jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select, text

from portal.core.permissions import Permission, can
from portal.extensions import csrf, db, limiter
from portal.main import bp
from portal.main.home import items_for
from portal.stations.models import Station
from portal.stations.services import stations_by_tier
from portal.stations.states import StationStatus


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    context = {"next_items": items_for(current_user)}
    if can(current_user, Permission.VIEW_ALL_STATIONS):
        context["by_tier"] = stations_by_tier()
        context["by_status"] = dict(
            db.session.execute(select(Station.status, func.count()).group_by(Station.status)).all()
        )
        context["by_province"] = db.session.execute(
            select(Station.province, func.count())
            .where(Station.status == StationStatus.ACTIVE)
            .group_by(Station.province)
            .order_by(func.count().desc(), Station.province)
            .limit(10)
        ).all()
    elif current_user.station_id:
        context["station"] = db.session.get(Station, current_user.station_id)
    return render_template("main/index.html", StationStatus=StationStatus, **context)


@bp.route("/healthz")
@csrf.exempt
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any database failure makes the check fail
        db.session.rollback()
        return jsonify(status="error", database="error", detail=exc.__class__.__name__), 503
    return jsonify(status="ok", database="ok")
