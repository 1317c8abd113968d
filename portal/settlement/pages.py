"""Settlement pages: exports (and, with the workflow, the month list and a settlement's page).
Thin: load, call one service, commit once."""

from __future__ import annotations

import datetime as dt
import os

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.core import jobs
from portal.core.errors import DomainError
from portal.core.inputs import int_arg
from portal.core.permissions import Permission, require, sees_all_stations
from portal.extensions import db
from portal.settlement import bp, export
from portal.stations.models import Station

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _actor():
    return current_user._get_current_object()


def _month_arg() -> dt.date:
    """The month of ?month=YYYY-MM, else last month (the one usually being settled)."""
    text = request.args.get("month") or request.form.get("month") or ""
    try:
        return export.parse_month(text)
    except DomainError:
        first = dt.date.today().replace(day=1)  # noqa: DTZ011 - a default for a page
        return (first - dt.timedelta(days=1)).replace(day=1)


def _station_choices():
    if not sees_all_stations(current_user):
        return []
    return db.session.execute(
        select(Station.id, Station.code, Station.name).order_by(Station.code)
    ).all()


@bp.route("/exports", methods=["GET", "POST"])
@require(Permission.EXPORT_SETTLEMENTS)
def exports():
    month = _month_arg()
    if request.method == "POST":
        station_id = int_arg(request.form, "station_id", minimum=1)
        try:
            job = export.start_export(
                month, _actor(), station_id=station_id, locale=str(get_locale() or "zh")
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            return redirect(url_for("settlement.exports", month=f"{month:%Y-%m}"))
        flash(_("The export has started; the file appears here when it is ready."), "info")
        return redirect(url_for("settlement.exports", month=f"{month:%Y-%m}", job=job.id))
    job = None
    job_id = int_arg(request.args, "job", minimum=1)
    if job_id:
        try:
            job = jobs.get_visible(job_id, current_user)
        except DomainError:
            job = None
    return render_template(
        "settlement/exports.html",
        month=month,
        exports=export.exports_of(month, current_user),
        stations=_station_choices(),
        job=job,
        job_progress=jobs.progress_of(job, current_user) if job else None,
    )


@bp.route("/exports/<int:export_id>/download")
@require(Permission.EXPORT_SETTLEMENTS)
def export_download(export_id: int):
    record = db.session.get(export.SettlementExport, export_id)
    if record is None:
        abort(404)
    if not sees_all_stations(current_user) and record.station_id != current_user.station_id:
        abort(404)
    path = export.export_path(record)
    if not os.path.isfile(path):
        abort(404)
    response = Response(_chunks(path), mimetype=XLSX)
    response.headers.set("Content-Disposition", "attachment", filename=record.filename)
    response.headers["Content-Length"] = str(os.path.getsize(path))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-SHA256"] = record.sha256
    return response


def _chunks(path: str):
    """The file in pieces, opened only while it is sent (a network workbook is large)."""
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 16):
            yield chunk
