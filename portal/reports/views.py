"""Daily-report pages: the day's report and its records, upload, calendar, HQ views."""

from __future__ import annotations

import datetime as dt
import io

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.core.dates import local_today
from portal.core.db import MAX_ID
from portal.core.forms import submit as submit_form
from portal.core.pagination import keyset_page, keyset_page_by_time
from portal.core.permissions import Permission, can, require
from portal.core.regions import province_choices
from portal.core.scoping import get_scoped_or_404, scope_to_user
from portal.extensions import db, limiter
from portal.reports import bp, excel, rules, services
from portal.reports.forms import (
    CATALOGUE_FORMS,
    ActionForm,
    CountsForm,
    OpenDayForm,
    RecordForm,
    SettingForm,
    UploadForm,
)
from portal.reports.models import DailyReport, RepairRecord, UploadBatch
from portal.reports.states import DayStatus, ReportStatus, UploadOutcome
from portal.settlement.models import month_is_locked_for_reports
from portal.stations.models import Station

EXPORT_LIMIT = 100_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.context_processor
def _record_helpers():
    """Masking and formatting helpers every reports template uses."""
    return {
        "mask_phone": rules.mask_phone,
        "mask_name": rules.mask_name,
        "mask_personal": rules.mask_personal,
        "format_parts": rules.format_parts,
        "ReportStatus": ReportStatus,
    }


def _int_arg(name: str) -> int | None:
    """A whole-number query argument within the range of an id, else None."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 <= value <= MAX_ID else None


def _actor():
    return current_user._get_current_object()


def _own_station() -> Station:
    if current_user.station_id is None:
        abort(404)
    return db.session.get(Station, current_user.station_id)


def _catalogues() -> dict:
    return {kind: services.catalogue_entries(kind, True) for kind in services.CATALOGUE_KINDS}


def _parse_day(text: str | None, default: dt.date) -> dt.date:
    """A day from a query argument; the default when it is absent, bad or out of range."""
    try:
        day = dt.date.fromisoformat(text) if text else default
    except ValueError:
        return default
    if day is not None and not rules.MIN_YEAR <= day.year <= rules.MAX_YEAR:
        return default
    return day


# --- reports of a station ----------------------------------------------------------------


@bp.route("/")
@require(Permission.VIEW_REPORTS)
def index():
    """Recent reports: a station its own, HQ all (newest day first)."""
    stmt = scope_to_user(select(DailyReport), DailyReport.station_id, current_user)
    station_id = _int_arg("station_id")
    if station_id:
        stmt = stmt.where(DailyReport.station_id == station_id)
    page = keyset_page(
        stmt,
        DailyReport.id,
        after=_int_arg("after"),
        before=_int_arg("before"),
        size=current_app.config["PAGE_SIZE"],
        descending=True,
    )
    open_form = OpenDayForm(report_on=local_today())
    return render_template(
        "reports/index.html",
        page=page,
        open_form=open_form,
        today=local_today(),
        due=services.due_for,
    )


@bp.route("/open", methods=["POST"])
@require(Permission.SUBMIT_REPORTS)
def open_day():
    """The station's report for a day (created as a draft when missing)."""
    station = _own_station()
    form = OpenDayForm()
    if not form.validate_on_submit():
        flash(_("Choose a day."), "danger")
        return redirect(url_for("reports.index"))
    ok, report = submit_form(
        None, lambda: services.open_report(_actor(), station, form.report_on.data)
    )
    if not ok:
        return redirect(url_for("reports.index"))
    return redirect(url_for("reports.detail", report_id=report.id))


def _counts_form(report: DailyReport, formdata=None) -> CountsForm:
    form = CountsForm(formdata=formdata, obj=report)
    if formdata is None:
        form.version.data = str(report.version)
    return form


@bp.route("/<int:report_id>")
@require(Permission.VIEW_REPORTS)
def detail(report_id: int):
    report = get_scoped_or_404(DailyReport, report_id, current_user)
    return _render_detail(report, _counts_form(report))


def _render_detail(report: DailyReport, counts_form: CountsForm, status=200):
    editable = report.status in {ReportStatus.DRAFT, ReportStatus.REOPENED}
    locked = month_is_locked_for_reports(report.station_id, report.report_on)
    action = ActionForm(version=str(report.version))
    return (
        render_template(
            "reports/detail.html",
            report=report,
            counts_form=counts_form,
            action=action,
            editable=editable and not locked,
            locked=locked,
            may_submit=can(current_user, Permission.SUBMIT_REPORTS, report),
            due=services.due_for(report.report_on),
            # What the settlement will question, shown where the station looks before submitting.
            record_warnings=services.warnings_for(report.records),
            counts_disagree=report.completed_count != len(report.records),
        ),
        status,
    )


def _version(value) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@bp.route("/<int:report_id>/counts", methods=["POST"])
@require(Permission.SUBMIT_REPORTS)
def update_counts(report_id: int):
    report = get_scoped_or_404(DailyReport, report_id, current_user)
    form = _counts_form(report, request.form)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in services.COUNT_FIELDS}
        ok, _result = submit_form(
            form,
            lambda: services.update_counts(_actor(), report, values, _version(form.version.data)),
        )
        if ok:
            flash(_("Counts saved."), "success")
            return redirect(url_for("reports.detail", report_id=report.id))
        report = db.session.get(DailyReport, report_id)
    return _render_detail(report, form, 422)


@bp.route("/<int:report_id>/submit", methods=["POST"])
@require(Permission.SUBMIT_REPORTS)
def submit(report_id: int):
    report = get_scoped_or_404(DailyReport, report_id, current_user)
    form = ActionForm()
    ok, _result = submit_form(
        None, lambda: services.submit_report(_actor(), report, _version(form.version.data))
    )
    if ok:
        flash(_("Report for %(day)s submitted.", day=report.report_on.isoformat()), "success")
    return redirect(url_for("reports.detail", report_id=report_id))


@bp.route("/<int:report_id>/reopen", methods=["POST"])
@require(Permission.SUBMIT_REPORTS)
def reopen(report_id: int):
    report = get_scoped_or_404(DailyReport, report_id, current_user)
    form = ActionForm()
    ok, _result = submit_form(
        None,
        lambda: services.reopen_report(
            _actor(), report, form.reason.data or "", _version(form.version.data)
        ),
    )
    if ok:
        flash(_("Report reopened: amend it, then submit it again."), "success")
    return redirect(url_for("reports.detail", report_id=report_id))


# --- records -----------------------------------------------------------------------------


def _record_form(formdata=None, **initial) -> RecordForm:
    form = RecordForm(formdata=formdata, **initial)
    form.set_choices(_catalogues(), str(get_locale() or "zh"))
    return form


def _initial_from(raw: dict, *, copy: bool) -> dict:
    out = {}
    for name, value in raw.items():
        if isinstance(value, dt.datetime):
            value = value.strftime("%Y-%m-%d %H:%M")
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif value is None:
            value = ""
        out[name] = str(value) if name == "satisfaction" else value
    if copy:
        # A copy keeps the repetitive fields; the customer and the device are new.
        for name in (
            "ticket_no",
            "customer_name",
            "customer_phone",
            "serial_no",
            "standby_serial",
            "purchase_on",
            "satisfaction",
            "return_visit_on",
            "return_visit_outcome",
        ):
            out[name] = ""
    return out


@bp.route("/<int:report_id>/records/new", methods=["GET", "POST"])
@require(Permission.SUBMIT_REPORTS)
def record_new(report_id: int):
    report = get_scoped_or_404(DailyReport, report_id, current_user)
    if request.method == "GET":
        initial = {}
        copy_id = _int_arg("copy")
        if copy_id:
            source = get_scoped_or_404(RepairRecord, copy_id, current_user)
            initial = _initial_from(services.record_raw(source), copy=True)
        else:
            day = report.report_on.isoformat()
            initial = {"received_at": f"{day} 09:00", "completed_at": f"{day} 17:00"}
        form = _record_form(None, **initial)
    else:
        form = _record_form(request.form)
    if form.validate_on_submit():
        ok, record = submit_form(form, lambda: services.add_record(_actor(), report, form.raw()))
        if ok:
            flash(_("Record %(ticket)s added.", ticket=record.ticket_no), "success")
            if request.form.get("then") == "copy":
                return redirect(url_for("reports.record_new", report_id=report_id, copy=record.id))
            if request.form.get("then") == "new":
                return redirect(url_for("reports.record_new", report_id=report_id))
            return redirect(url_for("reports.detail", report_id=report_id))
    report = db.session.get(DailyReport, report_id)
    return render_template("reports/record_form.html", form=form, report=report, record=None)


@bp.route("/records/<int:record_id>/edit", methods=["GET", "POST"])
@require(Permission.SUBMIT_REPORTS)
def record_edit(record_id: int):
    record = get_scoped_or_404(RepairRecord, record_id, current_user)
    report = record.report
    if request.method == "GET":
        form = _record_form(None, **_initial_from(services.record_raw(record), copy=False))
        # The edit form shows the customer's name and phone whole: that is logged (SPEC 10).
        services.log_personal_data_shown(_actor(), record)
        db.session.commit()
    else:
        form = _record_form(request.form)
    if form.validate_on_submit():
        ok, _result = submit_form(
            form, lambda: services.update_record(_actor(), record, form.raw())
        )
        if ok:
            flash(_("Record %(ticket)s saved.", ticket=record.ticket_no), "success")
            return redirect(url_for("reports.detail", report_id=report.id))
        record = db.session.get(RepairRecord, record_id)
        report = record.report
    return render_template("reports/record_form.html", form=form, report=report, record=record)


@bp.route("/records/<int:record_id>/delete", methods=["POST"])
@require(Permission.SUBMIT_REPORTS)
def record_delete(record_id: int):
    record = get_scoped_or_404(RepairRecord, record_id, current_user)
    report_id = record.report_id
    ticket = record.ticket_no
    ok, _result = submit_form(None, lambda: services.delete_record(_actor(), record))
    if ok:
        flash(_("Record %(ticket)s deleted.", ticket=ticket), "success")
    return redirect(url_for("reports.detail", report_id=report_id))


@bp.route("/records/<int:record_id>")
@require(Permission.VIEW_REPORTS)
def record_detail(record_id: int):
    record = get_scoped_or_404(RepairRecord, record_id, current_user)
    return render_template(
        "reports/record_detail.html",
        record=record,
        warnings=services.record_warnings(record),
    )


# --- Excel -------------------------------------------------------------------------------


@bp.route("/template.xlsx")
@require(Permission.VIEW_REPORTS)
def template():
    return send_file(
        io.BytesIO(excel.build_template()),
        mimetype=XLSX,
        as_attachment=True,
        download_name="daily-report-template.xlsx",
    )


def _upload_key() -> str:
    """Uploads are counted per station (all its users together)."""
    if current_user.is_authenticated and current_user.station_id is not None:
        return f"report-upload:station:{current_user.station_id}"
    return f"report-upload:address:{request.remote_addr or ''}"


@bp.route("/upload", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["UPLOAD_RATE_LIMIT"], key_func=_upload_key, methods=["POST"]
)
@require(Permission.SUBMIT_REPORTS)
def upload():
    station = _own_station()
    form = UploadForm()
    if request.method == "GET":
        form.report_on.data = _parse_day(request.args.get("day"), local_today())
    if form.validate_on_submit():
        data = form.file.data.read()
        filename = form.file.data.filename or "upload.xlsx"
        try:
            ok, batch = submit_form(
                form,
                lambda: excel.upload(
                    _actor(), station, form.report_on.data, filename, data, form.submit_after.data
                ),
            )
        except IntegrityError:
            db.session.rollback()
            flash(_("This file was imported by another upload at the same moment."), "danger")
            ok = False
        if ok:
            return redirect(url_for("reports.upload_result", batch_id=batch.id))
    recent = db.session.execute(
        select(UploadBatch)
        .where(UploadBatch.station_id == station.id)
        .order_by(UploadBatch.id.desc())
        .limit(10)
    ).scalars()
    status = 422 if request.method == "POST" else 200  # a refused upload keeps the form
    return render_template("reports/upload.html", form=form, recent=list(recent)), status


@bp.route("/uploads/<int:batch_id>")
@require(Permission.VIEW_REPORTS)
def upload_result(batch_id: int):
    batch = get_scoped_or_404(UploadBatch, batch_id, current_user)
    return render_template(
        "reports/upload_result.html",
        batch=batch,
        Outcome=UploadOutcome,
        header=excel.field_header,
        shown=500,
    )


@bp.route("/uploads/<int:batch_id>/errors.xlsx")
@require(Permission.VIEW_REPORTS)
def upload_errors(batch_id: int):
    batch = get_scoped_or_404(UploadBatch, batch_id, current_user)
    if batch.outcome != UploadOutcome.REJECTED:
        abort(404)
    return send_file(
        io.BytesIO(excel.error_workbook(batch)),
        mimetype=XLSX,
        as_attachment=True,
        download_name=f"upload-{batch.id}-errors.xlsx",
    )


# --- calendar, records list, HQ views ----------------------------------------------------


def _station_for_view() -> Station:
    if can(current_user, Permission.VIEW_ALL_STATIONS):
        station_id = _int_arg("station_id")
        code = (request.args.get("station") or "").strip().upper()[:20]
        if not station_id and code:
            # A station picked by its code: a search box, not a list of 3,000 stations.
            station_id = db.session.execute(
                select(Station.id).where(Station.code == code)
            ).scalar_one_or_none()
            if station_id is None:
                flash(_("No station with the code %(code)s.", code=code), "warning")
                return None
        if not station_id:
            return None
        return get_scoped_or_404(Station, station_id, current_user, Station.id)
    return _own_station()


@bp.route("/calendar")
@require(Permission.VIEW_REPORTS)
def month_calendar():
    station = _station_for_view()
    today = local_today()
    month_arg = request.args.get("month") or ""
    month = _parse_day(f"{month_arg}-01" if month_arg else None, today.replace(day=1))
    days = services.month_calendar(station.id, month, station=station) if station else []
    picker = can(current_user, Permission.VIEW_ALL_STATIONS)
    prev_month = (month - dt.timedelta(days=1)).replace(day=1)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    counts = {s: sum(1 for d in days if d.status == s) for s in DayStatus}
    return render_template(
        "reports/calendar.html",
        station=station,
        picker=picker,
        month=month,
        days=days,
        counts=counts,
        prev_month=prev_month,
        next_month=next_month,
        DayStatus=DayStatus,
    )


def _record_filter() -> services.RecordFilter:
    args = request.args
    return services.RecordFilter(
        station_id=_int_arg("station_id"),
        date_from=_parse_day(args.get("date_from"), None),
        date_to=_parse_day(args.get("date_to"), None),
        serial=(args.get("serial") or "").strip(),
        ticket=(args.get("ticket") or "").strip(),
        device_model=args.get("device_model") or "",
        fault_code=args.get("fault_code") or "",
        repair_type=args.get("repair_type") or "",
        result=args.get("result") or "",
        province=args.get("province") or "",
    )


@bp.route("/records")
@require(Permission.VIEW_REPORTS)
def records():
    flt = _record_filter()
    stmt = services.record_query(current_user, flt)
    # Newest received first, keyed on (received_at, id): the list's order is the index's, so a
    # date filter or a station filter reads one index range (issue 12).
    page = keyset_page_by_time(
        stmt,
        RepairRecord.received_at,
        RepairRecord.id,
        after=request.args.get("after"),
        before=request.args.get("before"),
        size=current_app.config["PAGE_SIZE"],
    )
    stations = {}
    if page.items:
        ids = {r.station_id for r in page.items}
        stations = dict(
            db.session.execute(select(Station.id, Station.code).where(Station.id.in_(ids))).all()
        )
    return render_template(
        "reports/records.html",
        page=page,
        flt=flt,
        stations=stations,
        catalogues=_catalogues(),
        provinces=province_choices(),
        export_limit=EXPORT_LIMIT,
    )


@bp.route("/records/export.xlsx")
@require(Permission.VIEW_REPORTS)
def records_export():
    stmt = services.record_query(current_user, _record_filter()).limit(EXPORT_LIMIT)
    buffer = io.BytesIO()
    excel.export_records(stmt, buffer)
    buffer.seek(0)
    stamp = local_today().isoformat()
    return send_file(
        buffer, mimetype=XLSX, as_attachment=True, download_name=f"repair-records-{stamp}.xlsx"
    )


@bp.route("/warnings")
@require(Permission.VIEW_REPORTS)
def warnings():
    """A station's records of the last weeks that the settlement will question."""
    station = _station_for_view()
    rows = services.recent_warning_records(station.id) if station else []
    return render_template(
        "reports/warnings.html", station=station, rows=rows, days=services.WARNING_DAYS
    )


@bp.route("/coverage")
@require(Permission.VIEW_REPORTS, Permission.VIEW_ALL_STATIONS)
def coverage():
    # By default the last day whose deadline has passed: today's reports are not due yet.
    day = _parse_day(request.args.get("day"), None) or services.last_due_day()
    province = request.args.get("province") or ""
    rows = services.coverage(day, province)
    return render_template(
        "reports/coverage.html",
        rows=rows,
        day=day,
        province=province,
        provinces=province_choices(),
        due=services.due_for(day),
        total_missing=sum(len(r.missing) for r in rows),
    )


@bp.route("/serial")
@require(Permission.VIEW_REPORTS, Permission.VIEW_ALL_STATIONS)
def serial_lookup():
    serial = (request.args.get("serial") or "").strip()
    history = services.serial_history(current_user, serial) if serial else []
    stations = {}
    if history:
        ids = {r.station_id for r in history}
        stations = {
            s.id: s
            for s in db.session.execute(select(Station).where(Station.id.in_(ids))).scalars()
        }
    return render_template(
        "reports/serial.html",
        serial=serial,
        history=history,
        stations=stations,
    )


# --- catalogues and the deadline (HQ) ----------------------------------------------------


@bp.route("/catalogues")
@require(Permission.MANAGE_CATALOGUES)
def catalogues():
    from portal.reports.facts import load_history

    return render_template(
        "reports/catalogues.html",
        facts=load_history(),
        today=local_today(),
        entries={kind: services.catalogue_entries(kind) for kind in services.CATALOGUE_KINDS},
    )


@bp.route("/catalogues/<kind>/new", methods=["GET", "POST"])
@bp.route("/catalogues/<kind>/<int:entry_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_CATALOGUES)
def catalogue_edit(kind: str, entry_id: int | None = None):
    if kind not in services.CATALOGUE_KINDS:
        abort(404)
    model, fields = services.CATALOGUE_KINDS[kind]
    entry = None
    if entry_id is not None:
        entry = db.session.get(model, entry_id) or abort(404)
    form = CATALOGUE_FORMS[kind](obj=entry)
    if entry is not None:
        form.code.render_kw = {"readonly": True}
        form.code.data = entry.code
        if request.method == "GET" and kind in services.FACT_FIELDS:
            # The facts as they will be (the latest version), from today on by default.
            from portal.reports.facts import load_history

            history = load_history()
            if kind == "models":
                pattern, _compiled, months = history.model_rule(entry.code, dt.date.max)
                form.serial_pattern.data, form.warranty_months.data = pattern, months
            else:
                form.category.data = history.fault_category(entry.code, dt.date.max)
            form.effective_on.data = local_today()
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in fields if hasattr(form, name)}
        if "sort_order" in values and values["sort_order"] is None:
            values["sort_order"] = 0
        ok, _result = submit_form(
            form,
            lambda: services.save_catalogue_entry(
                _actor(),
                kind,
                entry,
                effective_on=getattr(getattr(form, "effective_on", None), "data", None),
                **values,
            ),
        )
        if ok:
            flash(_("Catalogue saved."), "success")
            return redirect(url_for("reports.catalogues", _anchor=kind))
    return render_template("reports/catalogue_form.html", form=form, kind=kind, entry=entry)


@bp.route("/settings", methods=["GET", "POST"])
@require(Permission.MANAGE_CATALOGUES)
def settings():
    form = SettingForm()
    if request.method == "GET":
        current = services.setting_for(local_today())
        form.effective_on.data = local_today() + dt.timedelta(days=1)
        form.due_days_after.data = current.due_days_after
        form.due_time.data = current.due_time
    if form.validate_on_submit():
        ok, _result = submit_form(
            form,
            lambda: services.add_setting(
                _actor(), form.effective_on.data, form.due_days_after.data, form.due_time.data
            ),
        )
        if ok:
            flash(_("Deadline saved."), "success")
            return redirect(url_for("reports.settings"))
    return render_template("reports/settings.html", form=form, settings=services.settings_list())


@bp.app_template_global("report_standing")
def report_standing(report: DailyReport):
    """The standing of a report's day (on time, late, ...), for lists."""
    if "report_settings" not in g:
        g.report_settings = services.settings_list()  # one query per page, not per row
    return services.report_standing(report, g.report_settings)
