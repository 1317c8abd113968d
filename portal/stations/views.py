"""Station list, detail, create and edit."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.core.audit import AuditEntry
from portal.core.forms import submit
from portal.core.pagination import keyset_page
from portal.core.permissions import Permission, can, require, require_any
from portal.core.regions import province_choices
from portal.core.scoping import get_scoped_or_404
from portal.extensions import db
from portal.stations import bp, services
from portal.stations.forms import NewStationForm, StationForm
from portal.stations.models import Station
from portal.stations.states import StationStatus, Tier


@bp.route("/")
@require_any(Permission.VIEW_ALL_STATIONS, Permission.VIEW_OWN_STATION)
def index():
    if not can(current_user, Permission.VIEW_ALL_STATIONS):
        if current_user.station_id is None:
            abort(404)
        return redirect(url_for("stations.detail", station_id=current_user.station_id))
    flt = services.StationFilter(
        q=(request.args.get("q") or "").strip(),
        province=request.args.get("province") or "",
        tier=request.args.get("tier") or "",
        status=request.args.get("status") or "",
    )
    stmt = services.station_query(current_user, flt)
    page = keyset_page(
        stmt,
        Station.code,
        after=request.args.get("after") or None,
        before=request.args.get("before") or None,
        size=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "stations/index.html",
        page=page,
        flt=flt,
        total=services.count_stations(stmt),
        provinces=province_choices(),
        tiers=Tier,
        statuses=StationStatus,
    )


@bp.route("/<int:station_id>")
@require_any(Permission.VIEW_ALL_STATIONS, Permission.VIEW_OWN_STATION)
def detail(station_id: int):
    station = get_scoped_or_404(Station, station_id, current_user, Station.id)
    return render_detail(station)


def render_detail(station: Station, status: int = 200):
    """The station page; a refused action form of another module re-renders it (422)."""
    history = []
    if can(current_user, Permission.VIEW_AUDIT):
        history = (
            db.session.execute(
                select(AuditEntry)
                # The station's own life (tier, status, compliance, master data); daily
                # reports and other rows of the station are in the full audit trail.
                .where(
                    AuditEntry.object_type == "Station",
                    AuditEntry.object_id == str(station.id),
                )
                .order_by(AuditEntry.id.desc())
                .limit(20)
            )
            .scalars()
            .all()
        )
    return render_template(
        "stations/detail.html",
        station=station,
        history=history,
        tier_periods=services.tier_history(station.id),
    ), status


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.MANAGE_STATIONS)
def create():
    form = NewStationForm()
    if form.validate_on_submit():
        ok, station = submit(
            form,
            lambda: services.create_station(
                current_user._get_current_object(),
                code=form.code.data,
                tier=form.tier.data,
                status=form.status.data,
                **form.values(),
            ),
        )
        if ok:
            flash(_("Station %(code)s created.", code=station.code), "success")
            return redirect(url_for("stations.detail", station_id=station.id))
    return _form_page(form, None)


@bp.route("/<int:station_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_STATIONS)
def edit(station_id: int):
    station = get_scoped_or_404(Station, station_id, current_user, Station.id)
    form = StationForm(obj=station)
    form.code.render_kw = {"readonly": True}
    if request.method == "GET":
        form.city_class.data = station.city_class.value
        form.version.data = str(station.version)
    form.code.data = station.code
    if form.validate_on_submit():
        version = str(form.version.data or "")
        expected = int(version) if version.isdigit() else None
        ok, _result = submit(
            form,
            lambda: services.update_station(
                current_user._get_current_object(),
                station,
                expected_version=expected,
                **form.values(),
            ),
        )
        if ok:
            flash(_("Station %(code)s saved.", code=station.code), "success")
            return redirect(url_for("stations.detail", station_id=station.id))
    return _form_page(form, station)


def _form_page(form, station):
    """The station form; 422 when a posted form was refused (its errors are next to fields)."""
    status = 422 if request.method == "POST" else 200
    return render_template("stations/form.html", form=form, station=station), status
