"""Spare-parts pages: stock by station and network, movements, catalogue, imports,
shipments, returns, counts, settings. Thin: load, call one service, commit once via submit()."""

from __future__ import annotations

import io

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.core.db import MAX_ID
from portal.core.errors import DomainError
from portal.core.forms import spend_form_token, submit
from portal.core.i18n import money
from portal.core.pagination import keyset_page
from portal.core.permissions import Permission, can, require, sees_all_stations
from portal.core.regions import province_choices
from portal.core.scoping import get_scoped_or_404
from portal.extensions import db
from portal.settlement.adjustments import Adjustment
from portal.spares import bp, catalogue, excel, forms, returns, rules, shipments, stock
from portal.spares.states import (
    NOT_RETURNED,
    MovementSource,
    ReturnStatus,
    ShipmentStatus,
    StockCondition,
)
from portal.spares.stock_models import Part, ReturnBatch, Shipment, StockCount, StockMovement
from portal.stations.models import Station
from portal.stations.states import StationStatus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_LIMIT = 100_000


def _actor():
    return current_user._get_current_object()


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 <= value <= MAX_ID else None


def _text_arg(name: str, limit: int = 60) -> str:
    return rules.CONTROL_CHARS.sub("", request.args.get(name) or "").strip()[:limit]


def _version(value) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _page(stmt, key):
    """One page of stmt, newest first (keyset on an integer id)."""
    return keyset_page(
        stmt,
        key,
        after=_int_arg("after"),
        before=_int_arg("before"),
        size=current_app.config["PAGE_SIZE"],
        descending=True,
    )


@bp.app_context_processor
def _spares_helpers():
    return {"spares_panel": station_panel, "spares_dashboard": dashboard}


def station_panel(station: Station) -> dict:
    """What the station page shows of its stock (called from the template)."""
    if not can(current_user, Permission.VIEW_STOCK, station):
        return {}
    return {"coverage": stock.coverage(station.id), "totals": stock.station_totals([station.id])}


def dashboard() -> dict:
    """What waits for the signed-in user in spare parts (home page)."""
    if not can(current_user, Permission.VIEW_STOCK):
        return {}
    return {**shipments.waiting_counts(current_user), **returns.waiting_counts(current_user)}


def source_refs(movements) -> dict:
    """(source type, id) -> (label, url or None) for each movement's source."""
    from portal.reports.models import RepairRecord
    from portal.spares.stock_models import StockImport

    by_type: dict = {}
    for m in movements:
        by_type.setdefault(m.source_type, set()).add(m.source_id)
    refs = {}
    repair_ids = sorted(by_type.get(MovementSource.REPAIR, ()))
    tickets = dict(
        db.session.execute(
            select(RepairRecord.id, RepairRecord.ticket_no).where(RepairRecord.id.in_(repair_ids))
        ).all()
    )
    for rid in repair_ids:
        if rid in tickets:
            refs[(MovementSource.REPAIR, rid)] = (
                tickets[rid],
                url_for("reports.record_detail", record_id=rid),
            )
        else:
            refs[(MovementSource.REPAIR, rid)] = (_("a deleted record"), None)
    import_ids = sorted(by_type.get(MovementSource.OPENING, ()))
    names = dict(
        db.session.execute(
            select(StockImport.id, StockImport.filename).where(StockImport.id.in_(import_ids))
        ).all()
    )
    for iid in import_ids:
        refs[(MovementSource.OPENING, iid)] = (names.get(iid, ""), None)
    for sid in by_type.get(MovementSource.SHIPMENT, ()):
        refs[(MovementSource.SHIPMENT, sid)] = (
            f"SH-{sid:06d}",
            url_for("spares.shipment", shipment_id=sid),
        )
    for bid in by_type.get(MovementSource.RETURN, ()):
        refs[(MovementSource.RETURN, bid)] = (
            f"RT-{bid:06d}",
            url_for("spares.return_batch", batch_id=bid),
        )
    for cid in by_type.get(MovementSource.COUNT, ()):
        refs[(MovementSource.COUNT, cid)] = (
            f"SC-{cid:06d}",
            url_for("spares.count_detail", count_id=cid),
        )
    deduction_ids = sorted(by_type.get(MovementSource.DEDUCTION, ()))
    adjustments = {
        a.id: a
        for a in db.session.execute(
            select(Adjustment).where(Adjustment.id.in_(deduction_ids))
        ).scalars()
    }
    for did in deduction_ids:
        adjustment = adjustments.get(did)
        label = f"{adjustment.month:%Y-%m} {money(adjustment.amount)}" if adjustment else ""
        refs[(MovementSource.DEDUCTION, did)] = (label, None)
    return refs


# --- stock -------------------------------------------------------------------------------


@bp.route("/")
@require(Permission.VIEW_STOCK)
def index():
    """The network: every station's stock value and coverage (a station: its own page)."""
    if not sees_all_stations(current_user):
        if current_user.station_id is None:
            abort(404)
        return redirect(url_for("spares.station", station_id=current_user.station_id))
    q = _text_arg("q", 40)
    province = request.args.get("province") or ""
    stmt = select(Station).where(Station.status != StationStatus.REVOKED)
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(Station.code.ilike(like) | Station.name.ilike(like))
    if province in dict(province_choices()):
        stmt = stmt.where(Station.province == province)
    page = keyset_page(
        stmt,
        Station.code,
        after=_text_arg("after", 20) or None,
        before=_text_arg("before", 20) or None,
        size=current_app.config["PAGE_SIZE"],
    )
    ids = [s.id for s in page.items]
    from portal.spares import services as deposits

    balances = deposits.station_balances(ids)
    factor = catalogue.settings_in_force().coverage_factor
    totals = stock.station_totals(ids)
    rows = [
        (
            s,
            totals[s.id],
            rules.Coverage(
                balances[s.id], factor, totals[s.id].good_value, totals[s.id].in_transit_value
            ),
        )
        for s in page.items
    ]
    return render_template(
        "spares/index.html",
        page=page,
        rows=rows,
        network=stock.network_totals(),
        q=q,
        province=province,
        provinces=province_choices(),
        factor=factor,
    )


@bp.route("/network.xlsx")
@require(Permission.VIEW_ALL_STATIONS, Permission.VIEW_STOCK)
def network_export():
    """Every station's stock value, deposit and coverage, as a workbook."""
    from portal.core import excel as xl
    from portal.spares import services as deposits

    stations = list(
        db.session.execute(
            select(Station).where(Station.status != StationStatus.REVOKED).order_by(Station.code)
        ).scalars()
    )
    ids = [s.id for s in stations]
    balances = deposits.station_balances(ids)
    totals = stock.station_totals(ids)
    factor = catalogue.settings_in_force().coverage_factor

    def rows():
        for s in stations:
            t = totals[s.id]
            cov = rules.Coverage(balances[s.id], factor, t.good_value, t.in_transit_value)
            yield (
                s.code,
                s.name,
                str(s.tier.label),
                t.good_units,
                t.good_value,
                t.defective_units,
                t.defective_value,
                t.in_transit_value,
                cov.balance,
                cov.limit,
                cov.used,
                "yes" if cov.over else "",
            )

    buffer = io.BytesIO()
    workbook = xl.new_workbook(buffer)
    xl.write_table(
        workbook,
        "Stations",
        [
            "站点代码 / Station code",
            "站点名称 / Station name",
            "等级 / Tier",
            "良品数量 / Good units",
            "良品价值 / Good stock",
            "坏件数量 / Defective units",
            "坏件价值 / Defective stock",
            "在途 / On its way",
            "保证金 / Deposit",
            "上限 / Limit",
            "已用 / Used",
            "超限 / Over its cap",
        ],
        rows(),
        widths=[14, 28, 14, 10, 14, 10, 14, 14, 14, 14, 14, 10],
        money_columns=[4, 6, 7, 8, 9, 10],
    )
    workbook.close()
    return send_file(
        io.BytesIO(buffer.getvalue()),
        mimetype=XLSX,
        as_attachment=True,
        download_name="spare-parts-by-station.xlsx",
    )


@bp.route("/stations/<int:station_id>")
@require(Permission.VIEW_STOCK)
def station(station_id: int):
    station = get_scoped_or_404(Station, station_id, current_user, Station.id)
    from portal.certification import services as cert_services

    required = cert_services.requirements_for(station.tier).deposit
    state = stock.coverage(station.id)
    recent = db.session.execute(
        select(StockMovement)
        .where(StockMovement.station_id == station.id)
        .order_by(StockMovement.id.desc())
        .limit(10)
    ).scalars()
    recent = list(recent)
    return render_template(
        "spares/station.html",
        station=station,
        rows=stock.station_stock(station.id),
        coverage=state,
        required=required,
        shortfall=rules.shortfall(required, state.balance),
        recent=recent,
        refs=source_refs(recent),
        settings=catalogue.settings_in_force(),
    )


# --- movements ---------------------------------------------------------------------------


def _movement_filter() -> stock.MovementFilter:
    return stock.MovementFilter(
        station_id=_int_arg("station_id") if sees_all_stations(current_user) else None,
        part_no=_text_arg("part_no", 40),
        source=request.args.get("source") or "",
        condition=request.args.get("condition") or "",
    )


@bp.route("/movements")
@require(Permission.VIEW_STOCK)
def movements():
    """Every movement with its source, newest first."""
    flt = _movement_filter()
    page = _page(stock.movement_query(current_user, flt), StockMovement.id)
    station = db.session.get(Station, flt.station_id) if flt.station_id else None
    return render_template(
        "spares/movements.html",
        page=page,
        refs=source_refs(page.items),
        flt=flt,
        station=station,
        sources=MovementSource,
        conditions=StockCondition,
    )


@bp.route("/movements.xlsx")
@require(Permission.VIEW_ALL_STATIONS, Permission.VIEW_STOCK)
def movements_export():
    from portal.core import excel as xl
    from portal.core.dates import local_tz

    flt = _movement_filter()
    stmt = stock.movement_query(current_user, flt).order_by(StockMovement.id.desc())
    tz = local_tz()
    buffer = io.BytesIO()
    workbook = xl.new_workbook(buffer, constant_memory=True)

    def rows():
        for m in db.session.execute(stmt.limit(EXPORT_LIMIT)).scalars():
            yield (
                m.id,
                m.moved_at.astimezone(tz),
                m.station.code,
                m.part.part_no,
                m.part.name,
                str(m.condition.label),
                m.quantity,
                str(m.source_type.label),
                m.source_id,
                m.faulty_serial,
                m.note,
                m.recorded_by_name,
            )

    xl.write_table(
        workbook,
        "Movements",
        [
            "编号 / No.",
            "时间 / When",
            "站点 / Station",
            "备件号 / Part no.",
            "名称 / Name",
            "状态 / Condition",
            "数量 / Quantity",
            "来源 / Source",
            "来源编号 / Source no.",
            "旧件序列号 / Faulty serial",
            "备注 / Note",
            "操作人 / By",
        ],
        rows(),
        widths=[10, 18, 14, 16, 24, 10, 10, 18, 12, 18, 24, 14],
    )
    workbook.close()
    return send_file(
        io.BytesIO(buffer.getvalue()),
        mimetype=XLSX,
        as_attachment=True,
        download_name="stock-movements.xlsx",
    )


@bp.route("/counts/<int:count_id>")
@require(Permission.VIEW_STOCK)
def count_detail(count_id: int):
    count = get_scoped_or_404(StockCount, count_id, current_user)
    return render_template("spares/count_detail.html", count=count)


@bp.route("/stations/<int:station_id>/count", methods=["GET", "POST"])
@require(Permission.RECORD_STOCK_COUNTS)
def count(station_id: int):
    station = get_scoped_or_404(Station, station_id, current_user, Station.id)
    held = {row.part.id: row for row in stock.station_stock(station.id)}
    parts = [row.part for row in held.values()]
    extra = catalogue.find_part(request.values.get("add_part") or "")
    if extra is not None and extra.id not in held:
        parts.append(extra)
    form = forms.count_form(parts, request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        counted = {}
        for part in parts:
            for condition in StockCondition:
                value = getattr(form, f"q_{part.id}_{condition.value}").data
                if value is not None:
                    counted[(part.id, condition)] = value
        ok, result = submit(
            form, lambda: stock.record_count(_actor(), station, counted, form.note.data or "")
        )
        if ok:
            flash(_("The stock count %(no)s is recorded.", no=result.number), "success")
            return redirect(url_for("spares.count_detail", count_id=result.id))
        status = 422
    elif request.method == "POST":
        status = 422
    return (
        render_template(
            "spares/count.html",
            station=station,
            form=form,
            parts=parts,
            held=held,
            conditions=StockCondition,
        ),
        status,
    )


# --- catalogue ---------------------------------------------------------------------------


@bp.route("/parts")
@require(Permission.VIEW_STOCK)
def parts():
    flt = catalogue.PartFilter(
        q=_text_arg("q", 60), model=_text_arg("model", 40), active=request.args.get("active", "")
    )
    page = _page(catalogue.part_query(flt), Part.id)
    return render_template(
        "spares/parts.html",
        page=page,
        flt=flt,
        models=sorted(catalogue.device_model_codes()),
    )


def _part_form(formdata=None, **initial):
    form = forms.PartForm(formdata=formdata, **initial)
    form.model_codes.choices = [(c, c) for c in sorted(catalogue.device_model_codes())]
    return form


def _part_values(form) -> dict:
    return {
        "part_no": form.part_no.data,
        "name": form.name.data,
        "unit_value": form.unit_value.data,
        "model_codes": form.model_codes.data or [],
        "is_standby": form.is_standby.data,
        "active": form.active.data,
    }


@bp.route("/parts/new", methods=["GET", "POST"])
@require(Permission.MANAGE_PARTS)
def part_new():
    form = _part_form(request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        ok, part = submit(form, lambda: catalogue.save_part(_actor(), None, **_part_values(form)))
        if ok:
            flash(_("Part %(no)s added.", no=part.part_no), "success")
            return redirect(url_for("spares.parts"))
    status = 422 if request.method == "POST" else 200
    return render_template("spares/part_form.html", form=form, part=None), status


@bp.route("/parts/<int:part_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_PARTS)
def part_edit(part_id: int):
    part = db.session.get(Part, part_id) if part_id <= MAX_ID else None
    if part is None:
        abort(404)
    if request.method == "GET":
        form = _part_form(
            None,
            part_no=part.part_no,
            name=part.name,
            unit_value=f"{part.unit_value:.2f}",
            model_codes=part.model_codes,
            is_standby=part.is_standby,
            active=part.active,
        )
    else:
        form = _part_form(request.form)
        form.part_no.data = part.part_no
    form.part_no.render_kw = {"readonly": True}
    if form.validate_on_submit():
        ok, _saved = submit(form, lambda: catalogue.save_part(_actor(), part, **_part_values(form)))
        if ok:
            flash(_("Part %(no)s saved.", no=part.part_no), "success")
            return redirect(url_for("spares.parts"))
        part = db.session.get(Part, part_id)
    status = 422 if request.method == "POST" else 200
    return render_template("spares/part_form.html", form=form, part=part), status


def _import_page(kind: str):
    form = forms.ImportForm()
    problems = None
    message = None
    columns = excel.PART_COLUMNS if kind == "parts" else excel.OPENING_COLUMNS
    if form.validate_on_submit():
        data = form.file.data.read()
        filename = form.file.data.filename or "import.xlsx"
        do = excel.import_parts if kind == "parts" else excel.import_opening_stock
        try:
            # A file posted twice (a double click, a reload) is imported once.
            spend_form_token(form.form_token.data)
            result = do(_actor(), filename, data)
            db.session.commit()
        except excel.ImportRejected as exc:
            db.session.rollback()
            problems, message = exc.problems, str(exc.message)
        except DomainError as exc:
            db.session.rollback()
            message = str(exc.message)
        else:
            if kind == "parts":
                flash(
                    _(
                        "%(rows)d rows imported: %(new)d new parts, %(changed)d changed.",
                        rows=result.rows,
                        new=result.created,
                        changed=result.changed,
                    ),
                    "success",
                )
                return redirect(url_for("spares.parts"))
            flash(
                _(
                    "Opening stock imported: %(rows)d rows for %(n)d stations.",
                    rows=result.rows,
                    n=result.stations,
                ),
                "success",
            )
            return redirect(url_for("spares.movements", source=MovementSource.OPENING.value))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "spares/import.html",
            form=form,
            kind=kind,
            problems=problems,
            message=message,
            header=lambda f: excel.column_header(columns, f),
        ),
        status,
    )


@bp.route("/parts/import", methods=["GET", "POST"])
@require(Permission.MANAGE_PARTS)
def parts_import():
    return _import_page("parts")


@bp.route("/opening-stock", methods=["GET", "POST"])
@require(Permission.MANAGE_PARTS)
def opening_import():
    return _import_page("opening")


@bp.route("/parts/template.xlsx")
@require(Permission.MANAGE_PARTS)
def parts_template():
    return send_file(
        io.BytesIO(excel.parts_template()),
        mimetype=XLSX,
        as_attachment=True,
        download_name="parts-catalogue.xlsx",
    )


@bp.route("/opening-stock/template.xlsx")
@require(Permission.MANAGE_PARTS)
def opening_template():
    return send_file(
        io.BytesIO(excel.opening_template()),
        mimetype=XLSX,
        as_attachment=True,
        download_name="opening-stock-template.xlsx",
    )


# --- settings ----------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@require(Permission.VIEW_STOCK, Permission.VIEW_ALL_STATIONS)
def settings():
    current = catalogue.settings_in_force()
    form = forms.SettingForm(
        formdata=request.form if request.method == "POST" else None,
        effective_on=catalogue.local_today(),
        coverage_factor=str(current.coverage_factor.normalize()),
        return_days=current.return_days,
    )
    status = 200
    if request.method == "POST":
        if not can(current_user, Permission.MANAGE_PARTS):
            abort(403)
        if form.validate_on_submit():
            ok, _row = submit(
                form,
                lambda: catalogue.add_setting(
                    _actor(),
                    effective_on=form.effective_on.data,
                    coverage_factor=form.coverage_factor.data,
                    return_days=form.return_days.data,
                    note=form.note.data or "",
                ),
            )
            if ok:
                flash(_("The settings are saved."), "success")
                return redirect(url_for("spares.settings"))
        status = 422
    return (
        render_template(
            "spares/settings.html",
            form=form,
            current=current,
            history=catalogue.settings_history(),
        ),
        status,
    )


# --- shipments ---------------------------------------------------------------------------


@bp.route("/shipments")
@require(Permission.VIEW_STOCK)
def shipment_list():
    status = request.args.get("status") or ""
    station_id = _int_arg("station_id") if sees_all_stations(current_user) else None
    page = _page(shipments.shipment_query(current_user, status, station_id), Shipment.id)
    return render_template(
        "spares/shipments.html",
        page=page,
        status=status,
        statuses=ShipmentStatus,
        station_id=station_id,
    )


@bp.route("/shipments/new", methods=["GET", "POST"])
@require(Permission.MANAGE_PARTS)
def shipment_new():
    form = forms.NewShipmentForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET" and _int_arg("station_id"):
        chosen = db.session.get(Station, _int_arg("station_id"))
        if chosen is not None:
            form.station_code.data = chosen.code
    if form.validate_on_submit():
        code = rules.CONTROL_CHARS.sub("", form.station_code.data or "").strip().upper()
        target = db.session.execute(
            select(Station).where(Station.code == code)
        ).scalar_one_or_none()
        if target is None:
            form.station_code.errors = [_("No station with this code.")]
        else:
            ok, shipment = submit(
                form, lambda: shipments.create(_actor(), target, form.note.data or "")
            )
            if ok:
                return redirect(url_for("spares.shipment", shipment_id=shipment.id))
    codes = db.session.execute(
        select(Station.code, Station.name)
        .where(Station.status == StationStatus.ACTIVE)
        .order_by(Station.code)
        .limit(5000)
    ).all()
    status = 422 if request.method == "POST" else 200
    return render_template("spares/shipment_new.html", form=form, codes=codes), status


def _visible_shipment(shipment_id: int) -> Shipment:
    shipment = shipments.visible(current_user, shipment_id) if shipment_id <= MAX_ID else None
    if shipment is None:
        abort(404)
    return shipment


def _render_shipment(shipment, status=200, **form_overrides):
    context = {
        "shipment": shipment,
        "action": forms.ActionForm(version=str(shipment.version)),
        "line_form": forms.LineForm(),
        "receipt_form": forms.receipt_form(shipment),
        "resolve_form": forms.resolve_form(shipment),
        "coverage": stock.coverage(shipment.station_id)
        if shipment.status == ShipmentStatus.DRAFT and sees_all_stations(current_user)
        else None,
        "value": shipments.shipment_value(shipment),
        "parts": catalogue.active_parts()
        if shipment.status == ShipmentStatus.DRAFT and can(current_user, Permission.MANAGE_PARTS)
        else [],
        "Status": ShipmentStatus,
    }
    context.update(form_overrides)
    return render_template("spares/shipment.html", **context), status


@bp.route("/shipments/<int:shipment_id>")
@require(Permission.VIEW_STOCK)
def shipment(shipment_id: int):
    return _render_shipment(_visible_shipment(shipment_id))


@bp.route("/shipments/<int:shipment_id>/lines", methods=["POST"])
@require(Permission.MANAGE_PARTS)
def shipment_add_line(shipment_id: int):
    shipment = _visible_shipment(shipment_id)
    form = forms.LineForm()
    if form.validate_on_submit():
        ok, _line = submit(
            form,
            lambda: shipments.add_line(_actor(), shipment, form.part_no.data, form.quantity.data),
        )
        if ok:
            return redirect(url_for("spares.shipment", shipment_id=shipment_id))
    return _render_shipment(_visible_shipment(shipment_id), 422, line_form=form)


@bp.route("/shipments/<int:shipment_id>/lines/<int:line_id>/remove", methods=["POST"])
@require(Permission.MANAGE_PARTS)
def shipment_remove_line(shipment_id: int, line_id: int):
    shipment = _visible_shipment(shipment_id)
    submit(
        None, lambda: shipments.remove_line(_actor(), shipment, line_id), once=forms.ActionForm()
    )
    return redirect(url_for("spares.shipment", shipment_id=shipment_id))


@bp.route("/shipments/<int:shipment_id>/send", methods=["POST"])
@require(Permission.MANAGE_PARTS)
def shipment_send(shipment_id: int):
    shipment = _visible_shipment(shipment_id)
    form = forms.ActionForm()
    ok, _sent = submit(
        None, lambda: shipments.send(_actor(), shipment, _version(form.version.data)), once=form
    )
    if ok:
        flash(_("Shipment %(no)s is sent.", no=shipment.number), "success")
        return redirect(url_for("spares.shipment", shipment_id=shipment_id))
    return _render_shipment(_visible_shipment(shipment_id), 422)


@bp.route("/shipments/<int:shipment_id>/cancel", methods=["POST"])
@require(Permission.MANAGE_PARTS)
def shipment_cancel(shipment_id: int):
    shipment = _visible_shipment(shipment_id)
    form = forms.ActionForm()
    ok, _done = submit(
        None, lambda: shipments.cancel(_actor(), shipment, _version(form.version.data)), once=form
    )
    if ok:
        flash(_("Shipment %(no)s is cancelled.", no=shipment.number), "success")
    return redirect(url_for("spares.shipment", shipment_id=shipment_id))


@bp.route("/shipments/<int:shipment_id>/receive", methods=["POST"])
@require(Permission.HANDLE_STATION_STOCK)
def shipment_receive(shipment_id: int):
    shipment = _visible_shipment(shipment_id)
    form = forms.receipt_form(shipment, request.form)
    if form.validate_on_submit():
        received = {line.id: getattr(form, f"line_{line.id}").data for line in shipment.lines}
        ok, _done = submit(form, lambda: shipments.confirm_receipt(_actor(), shipment, received))
        if ok:
            flash(_("The receipt of %(no)s is confirmed.", no=shipment.number), "success")
            return redirect(url_for("spares.shipment", shipment_id=shipment_id))
    return _render_shipment(_visible_shipment(shipment_id), 422, receipt_form=form)


@bp.route("/shipments/<int:shipment_id>/resolve", methods=["POST"])
@require(Permission.MANAGE_PARTS)
def shipment_resolve(shipment_id: int):
    shipment = _visible_shipment(shipment_id)
    form = forms.resolve_form(shipment, request.form)
    if form.validate_on_submit():
        decisions = {
            line.id: (
                getattr(form, f"line_{line.id}").data,
                getattr(form, f"note_{line.id}").data or "",
            )
            for line in shipment.lines
            if line.difference
        }
        ok, _done = submit(form, lambda: shipments.resolve(_actor(), shipment, decisions))
        if ok:
            flash(_("The differences of %(no)s are resolved.", no=shipment.number), "success")
            return redirect(url_for("spares.shipment", shipment_id=shipment_id))
    return _render_shipment(_visible_shipment(shipment_id), 422, resolve_form=form)


# --- returns -----------------------------------------------------------------------------


@bp.route("/returns")
@require(Permission.VIEW_STOCK)
def return_list():
    status = request.args.get("status") or ""
    station_id = _int_arg("station_id") if sees_all_stations(current_user) else None
    page = _page(returns.batch_query(current_user, status, station_id), ReturnBatch.id)
    return render_template(
        "spares/returns.html",
        page=page,
        status=status,
        statuses=ReturnStatus,
        new_form=forms.NewReturnForm(),
    )


@bp.route("/returns/new", methods=["POST"])
@require(Permission.HANDLE_STATION_STOCK)
def return_new():
    form = forms.NewReturnForm()
    if current_user.station_id is None:
        abort(404)
    if form.validate_on_submit():
        ok, batch = submit(
            form, lambda: returns.create(_actor(), current_user.station_id, form.note.data or "")
        )
        if ok:
            return redirect(url_for("spares.return_batch", batch_id=batch.id))
    flash(_("The return batch was not created."), "danger")
    return redirect(url_for("spares.return_list"))


def _visible_batch(batch_id: int) -> ReturnBatch:
    batch = returns.visible(current_user, batch_id) if batch_id <= MAX_ID else None
    if batch is None:
        abort(404)
    return batch


def _render_batch(batch, status=200, **overrides):
    defective = []
    if batch.status == ReturnStatus.DRAFT and can(current_user, Permission.HANDLE_STATION_STOCK):
        defective = [row for row in stock.station_stock(batch.station_id) if row.defective]
    context = {
        "batch": batch,
        "action": forms.ActionForm(version=str(batch.version)),
        "line_form": forms.ReturnLineForm(),
        "ship_form": forms.ShipReturnForm(version=str(batch.version)),
        "confirm_form": forms.confirm_form(batch),
        "defective": defective,
        "serials": returns.recent_faulty_serials(batch.station_id) if defective else [],
        "Status": ReturnStatus,
        "NOT_RETURNED": NOT_RETURNED,
    }
    context.update(overrides)
    return render_template("spares/return_batch.html", **context), status


@bp.route("/returns/<int:batch_id>")
@require(Permission.VIEW_STOCK)
def return_batch(batch_id: int):
    return _render_batch(_visible_batch(batch_id))


@bp.route("/returns/<int:batch_id>/lines", methods=["POST"])
@require(Permission.HANDLE_STATION_STOCK)
def return_add_line(batch_id: int):
    batch = _visible_batch(batch_id)
    form = forms.ReturnLineForm()
    if form.validate_on_submit():
        ok, _line = submit(
            form,
            lambda: returns.add_line(
                _actor(), batch, form.part_no.data, form.quantity.data, form.faulty_serial.data
            ),
        )
        if ok:
            return redirect(url_for("spares.return_batch", batch_id=batch_id))
    return _render_batch(_visible_batch(batch_id), 422, line_form=form)


@bp.route("/returns/<int:batch_id>/lines/<int:line_id>/remove", methods=["POST"])
@require(Permission.HANDLE_STATION_STOCK)
def return_remove_line(batch_id: int, line_id: int):
    batch = _visible_batch(batch_id)
    submit(None, lambda: returns.remove_line(_actor(), batch, line_id), once=forms.ActionForm())
    return redirect(url_for("spares.return_batch", batch_id=batch_id))


@bp.route("/returns/<int:batch_id>/ship", methods=["POST"])
@require(Permission.HANDLE_STATION_STOCK)
def return_ship(batch_id: int):
    batch = _visible_batch(batch_id)
    form = forms.ShipReturnForm()
    if form.validate_on_submit():
        ok, _done = submit(form, lambda: returns.ship(_actor(), batch, form.carrier_ref.data))
        if ok:
            flash(_("Return %(no)s is shipped to HQ.", no=batch.number), "success")
            return redirect(url_for("spares.return_batch", batch_id=batch_id))
    return _render_batch(_visible_batch(batch_id), 422, ship_form=form)


@bp.route("/returns/<int:batch_id>/cancel", methods=["POST"])
@require(Permission.HANDLE_STATION_STOCK)
def return_cancel(batch_id: int):
    batch = _visible_batch(batch_id)
    ok, _done = submit(None, lambda: returns.cancel(_actor(), batch), once=forms.ActionForm())
    if ok:
        flash(_("Return %(no)s is cancelled.", no=batch.number), "success")
    return redirect(url_for("spares.return_batch", batch_id=batch_id))


@bp.route("/returns/<int:batch_id>/confirm", methods=["POST"])
@require(Permission.MANAGE_PARTS)
def return_confirm(batch_id: int):
    batch = _visible_batch(batch_id)
    form = forms.confirm_form(batch, request.form)
    if form.validate_on_submit():
        outcomes = {
            line.id: (
                getattr(form, f"line_{line.id}").data,
                getattr(form, f"note_{line.id}").data or "",
            )
            for line in batch.lines
        }
        ok, _done = submit(form, lambda: returns.confirm(_actor(), batch, outcomes))
        if ok:
            flash(_("Return %(no)s is confirmed.", no=batch.number), "success")
            return redirect(url_for("spares.return_batch", batch_id=batch_id))
    return _render_batch(_visible_batch(batch_id), 422, confirm_form=form)
