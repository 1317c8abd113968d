"""Daily-report verbs and queries: the form, the Excel upload and the API all come here."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from portal.core import audit
from portal.core.db import now_utc
from portal.core.errors import ConcurrentChange, DomainError, PermissionDenied
from portal.core.permissions import Permission, can, sees_all_stations
from portal.core.regions import PROVINCES
from portal.core.scoping import scope_to_user
from portal.extensions import db
from portal.reports import rules
from portal.reports.models import (
    DailyReport,
    DeviceModel,
    FaultCode,
    PartUsed,
    RepairRecord,
    RepairResult,
    RepairType,
    ReportSetting,
    UploadBatch,
)
from portal.reports.states import (
    EDITABLE_STATUSES,
    REPORT_FLOW,
    DayStatus,
    RecordSource,
    ReportStatus,
    UploadOutcome,
)
from portal.settlement.models import month_is_locked_for_reports
from portal.spares import stock
from portal.stations.models import Station
from portal.stations.states import StationStatus, Tier

MAX_BATCH_ROWS = 5000
COUNT_FIELDS = (
    "received_count",
    "completed_count",
    "pending_count",
    "returned_count",
    "complaint_count",
)
RECORD_AUDIT_FIELDS = (
    "ticket_no",
    "received_at",
    "completed_at",
    "device_model",
    "serial_no",
    "warranty",
    "fault_code",
    "repair_type",
    "on_site",
    "result",
    "satisfaction",
    "return_visit_on",
)


class RecordsRejected(DomainError):
    """One or more records are bad; problems lists every one (row, field, value, reason)."""

    def __init__(self, message, problems: list[dict]):
        super().__init__(message)
        self.problems = problems


@dataclass
class BatchResult:
    records: list[int]
    warnings: list[dict] = field(default_factory=list)


def local_tz() -> ZoneInfo:
    """The portal's time zone (Asia/Shanghai by default)."""
    name = current_app.config["BABEL_DEFAULT_TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def local_today() -> dt.date:
    return now_utc().astimezone(local_tz()).date()


# --- catalogues --------------------------------------------------------------------------


def load_catalogues() -> rules.Catalogues:
    """The active catalogue entries, as plain values for rules.clean_record."""
    models = {
        code: rules.ModelRule(rules.compile_serial_pattern(pattern), months)
        for code, pattern, months in db.session.execute(
            select(DeviceModel.code, DeviceModel.serial_pattern, DeviceModel.warranty_months).where(
                DeviceModel.active.is_(True)
            )
        )
    }
    faults = set(
        db.session.execute(select(FaultCode.code).where(FaultCode.active.is_(True))).scalars()
    )
    types = dict(
        db.session.execute(
            select(RepairType.code, RepairType.centers_only).where(RepairType.active.is_(True))
        ).all()
    )
    results = set(
        db.session.execute(select(RepairResult.code).where(RepairResult.active.is_(True))).scalars()
    )
    return rules.Catalogues(models=models, faults=faults, types=types, results=results)


CATALOGUE_KINDS = {
    "models": (DeviceModel, ("code", "name", "serial_pattern", "warranty_months", "active")),
    "faults": (FaultCode, ("code", "name_zh", "name_en", "category", "active")),
    "types": (RepairType, ("code", "name_zh", "name_en", "centers_only", "active", "sort_order")),
    "results": (RepairResult, ("code", "name_zh", "name_en", "active", "sort_order")),
}


def catalogue_entries(kind: str, active_only: bool = False) -> list:
    model, _fields = CATALOGUE_KINDS[kind]
    stmt = select(model)
    if active_only:
        stmt = stmt.where(model.active.is_(True))
    order = (model.sort_order, model.code) if hasattr(model, "sort_order") else (model.code,)
    return list(db.session.execute(stmt.order_by(*order)).scalars())


def save_catalogue_entry(actor, kind: str, entry=None, **values):
    """Create or edit a catalogue entry (HQ); a code is fixed once records may use it."""
    if actor is not None and not can(actor, Permission.MANAGE_CATALOGUES):
        raise PermissionDenied(_l("You may not edit the catalogues."))
    model, fields = CATALOGUE_KINDS[kind]
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items() if k in fields}
    for key, value in values.items():
        if isinstance(value, str) and rules.CONTROL_CHARS.search(value):
            raise DomainError(
                _l("Contains control characters (such as line breaks or tabs)."), field=key
            )
    if entry is None:
        code = (values.get("code") or "").strip()
        code = code.upper() if kind in ("models", "faults") else code.lower()
        if not code:
            raise DomainError(_l("A code is required."), field="code")
        if db.session.execute(select(model.id).where(model.code == code)).first():
            raise DomainError(_l("The code %(code)s is taken.", code=code), field="code")
        values["code"] = code
    else:
        values.pop("code", None)
    if kind == "models":
        if rules.compile_serial_pattern(values.get("serial_pattern") or "") is None or not (
            values.get("serial_pattern") or ""
        ):
            raise DomainError(
                _l("Not a valid pattern (a regular expression such as ^[A-Z]{2}\\d{8}$)."),
                field="serial_pattern",
            )
        months = values.get("warranty_months")
        if months is None or not 0 <= int(months) <= 120:
            raise DomainError(_l("Between 0 and 120 months."), field="warranty_months")
    before = audit.snapshot(entry, fields) if entry is not None else None
    if entry is None:
        entry = model(**values)
        db.session.add(entry)
    else:
        for key, value in values.items():
            setattr(entry, key, value)
    db.session.flush()
    audit.record(
        f"catalogue.{kind}.saved",
        entry,
        actor=actor,
        before=before,
        after=audit.snapshot(entry, fields),
    )
    return entry


# --- deadline settings -------------------------------------------------------------------


def setting_for(day: dt.date) -> ReportSetting:
    """The deadline setting in force for a report day."""
    setting = db.session.execute(
        select(ReportSetting)
        .where(ReportSetting.effective_on <= day)
        .order_by(ReportSetting.effective_on.desc())
        .limit(1)
    ).scalar_one_or_none()
    if setting is None:
        return ReportSetting(effective_on=day, due_days_after=1, due_time=dt.time(10, 0))
    return setting


def settings_list() -> list[ReportSetting]:
    return list(
        db.session.execute(
            select(ReportSetting).order_by(ReportSetting.effective_on.desc())
        ).scalars()
    )


def add_setting(
    actor, effective_on: dt.date, due_days_after: int, due_time: dt.time
) -> ReportSetting:
    """A new deadline from effective_on on; the days before keep theirs."""
    if actor is not None and not can(actor, Permission.MANAGE_CATALOGUES):
        raise PermissionDenied(_l("You may not change the report deadline."))
    if not 0 <= due_days_after <= 31:
        raise DomainError(_l("Between 0 and 31 days."), field="due_days_after")
    existing = db.session.execute(
        select(ReportSetting).where(ReportSetting.effective_on == effective_on)
    ).scalar_one_or_none()

    def snap(row):
        return {
            "effective_on": row.effective_on,
            "due_days_after": row.due_days_after,
            "due_time": row.due_time.strftime("%H:%M"),
        }

    before = snap(existing) if existing else None
    setting = existing or ReportSetting(effective_on=effective_on)
    setting.due_days_after = due_days_after
    setting.due_time = due_time
    setting.created_by_id = getattr(actor, "id", None)
    db.session.add(setting)
    db.session.flush()
    audit.record(
        "report_setting.saved",
        setting,
        actor=actor,
        before=before,
        after=snap(setting),
    )
    return setting


def due_for(day: dt.date, settings: list[ReportSetting] | None = None) -> dt.datetime:
    """When the report of day is due (UTC)."""
    if settings is None:
        setting = setting_for(day)
    else:
        setting = next((s for s in settings if s.effective_on <= day), None) or ReportSetting(
            due_days_after=1, due_time=dt.time(10, 0)
        )
    return rules.due_at(day, setting.due_days_after, setting.due_time, local_tz())


# --- reports -----------------------------------------------------------------------------


def check_station_user(actor, station_id: int) -> None:
    if actor is None:
        return
    if not can(actor, Permission.SUBMIT_REPORTS) or actor.station_id != station_id:
        raise PermissionDenied(_l("Only the station's own users report for it."))


def check_editable(report: DailyReport) -> None:
    """Refuse any change once the report is submitted or its month is settled."""
    if month_is_locked_for_reports(report.station_id, report.report_on):
        raise DomainError(
            _l(
                "The settlement of %(month)s has left draft; its reports can no longer be changed.",
                month=report.report_on.strftime("%Y-%m"),
            )
        )
    if report.status not in EDITABLE_STATUSES:
        raise DomainError(
            _l("The report is submitted. Reopen it to amend it."),
        )


def find_report(station_id: int, day: dt.date) -> DailyReport | None:
    return db.session.execute(
        select(DailyReport).where(
            DailyReport.station_id == station_id, DailyReport.report_on == day
        )
    ).scalar_one_or_none()


def open_report(actor, station: Station, day: dt.date) -> DailyReport:
    """The station's report for day, created as a draft if there is none yet."""
    check_station_user(actor, station.id)
    if day > local_today():
        raise DomainError(_l("A report cannot be made for a future day."), field="report_on")
    if day.year < rules.MIN_YEAR:
        raise DomainError(_l("Not a date; write it like 2026-11-20."), field="report_on")
    report = find_report(station.id, day)
    if report is not None:
        return report
    if station.status != StationStatus.ACTIVE:
        raise DomainError(_l("Only active stations report."))
    if month_is_locked_for_reports(station.id, day):
        raise DomainError(
            _l(
                "The settlement of %(month)s has left draft; its reports can no longer be changed.",
                month=day.strftime("%Y-%m"),
            )
        )
    report = DailyReport(station_id=station.id, report_on=day, status=ReportStatus.DRAFT)
    try:
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError:
        # Opened by another request at the same moment: the database kept one; use it.
        existing = find_report(station.id, day)
        if existing is None:
            raise
        return existing
    audit.record("daily_report.opened", report, actor=actor)
    return report


def _expect_version(report: DailyReport, expected_version: int | None) -> None:
    if expected_version is not None and report.version != expected_version:
        raise ConcurrentChange(
            _l("Someone else changed this report meanwhile. Reload it and try again.")
        )


def update_counts(
    actor, report: DailyReport, values: dict, expected_version: int | None = None
) -> DailyReport:
    """Set the day's counts (received, completed, pending, returned, complaints)."""
    check_station_user(actor, report.station_id)
    _expect_version(report, expected_version)
    check_editable(report)
    clean, problems = rules.check_counts(values)
    if problems:
        raise DomainError(problems[0].message, field=problems[0].field)
    before = audit.snapshot(report, COUNT_FIELDS)
    for key, value in clean.items():
        setattr(report, key, value)
    db.session.flush()
    audit.record(
        "daily_report.counts",
        report,
        actor=actor,
        before=before,
        after=audit.snapshot(report, COUNT_FIELDS),
    )
    return report


def submit_report(actor, report: DailyReport, expected_version: int | None = None) -> DailyReport:
    """Submit (or resubmit after an amendment); the first submission decides lateness."""
    check_station_user(actor, report.station_id)
    _expect_version(report, expected_version)
    check_editable(report)
    before = report.status
    report.status = REPORT_FLOW.target(report.status, "submit")
    report.submitted_at = now_utc()
    if report.first_submitted_at is None:
        report.first_submitted_at = report.submitted_at
    report.submitted_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record(
        "daily_report.submitted",
        report,
        actor=actor,
        before={"status": before},
        after={"status": report.status, "records": len(report.records)},
    )
    return report


def reopen_report(
    actor, report: DailyReport, reason: str = "", expected_version: int | None = None
) -> DailyReport:
    """Reopen a submitted report for amendment, while its month's settlement is a draft."""
    check_station_user(actor, report.station_id)
    _expect_version(report, expected_version)
    if month_is_locked_for_reports(report.station_id, report.report_on):
        raise DomainError(
            _l(
                "The settlement of %(month)s has left draft; its reports can no longer be changed.",
                month=report.report_on.strftime("%Y-%m"),
            )
        )
    reason = rules.CONTROL_CHARS.sub(" ", reason or "").strip()
    before = report.status
    report.status = REPORT_FLOW.target(report.status, "reopen")
    db.session.flush()
    audit.record(
        "daily_report.reopened",
        report,
        actor=actor,
        before={"status": before},
        after={"status": report.status},
        comment=reason,
    )
    return report


# --- records -----------------------------------------------------------------------------


def _station_is_center(station_id: int) -> bool:
    tier = db.session.execute(select(Station.tier).where(Station.id == station_id)).scalar_one()
    return tier == Tier.SERVICE_CENTER


def _problem_dict(row: int | None, problem: rules.Problem) -> dict:
    value = problem.value
    if value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)
    return {"row": row, "field": problem.field, "value": value, "message": str(problem.message)}


def _existing_tickets(station_id: int, tickets: list[str], exclude_id: int | None = None) -> set:
    found: set[str] = set()
    for start in range(0, len(tickets), 500):
        chunk = tickets[start : start + 500]
        stmt = select(RepairRecord.ticket_no).where(
            RepairRecord.station_id == station_id, RepairRecord.ticket_no.in_(chunk)
        )
        if exclude_id is not None:
            stmt = stmt.where(RepairRecord.id != exclude_id)
        found.update(db.session.execute(stmt).scalars())
    return found


def validate_batch(
    station_id: int, report_on: dt.date, rows: list[tuple[int | None, dict]]
) -> tuple[list[dict], list[dict], list[rules.CleanRecord]]:
    """Check every row (row number, raw values): all problems, all warnings, clean values."""
    catalogues = load_catalogues()
    tz = local_tz()
    center = _station_is_center(station_id)
    errors: list[dict] = []
    warnings: list[dict] = []
    cleaned: list[rules.CleanRecord] = []
    seen: dict[str, int | None] = {}
    for row, raw in rows:
        result = rules.clean_record(
            raw, catalogues, report_on=report_on, tz=tz, is_service_center=center
        )
        ticket = result.values.get("ticket_no")
        if ticket:
            if ticket in seen:
                first = seen[ticket]
                errors.append(
                    _problem_dict(
                        row,
                        rules.Problem(
                            "ticket_no",
                            _l("The ticket number appears twice (also row %(row)s).", row=first)
                            if first is not None
                            else _l("The ticket number appears twice."),
                            ticket,
                        ),
                    )
                )
            else:
                seen[ticket] = row
        errors.extend(_problem_dict(row, p) for p in result.errors)
        warnings.extend(_problem_dict(row, p) for p in result.warnings)
        cleaned.append(result)
    taken = _existing_tickets(station_id, list(seen))
    for ticket in sorted(taken):
        errors.append(
            _problem_dict(
                seen[ticket],
                rules.Problem(
                    "ticket_no",
                    _l("This ticket number is already reported by the station."),
                    ticket,
                ),
            )
        )
    errors.sort(key=lambda e: (e["row"] or 0, rules.RECORD_FIELDS.index(e["field"])))
    return errors, warnings, cleaned


def _record_row(report: DailyReport, values: dict, source: RecordSource) -> dict:
    now = now_utc()
    row = {k: v for k, v in values.items() if k != "parts"}
    row.setdefault("standby_serial", "")
    row.setdefault("return_visit_outcome", "")
    row.update(
        report_id=report.id,
        station_id=report.station_id,
        source=source,
        created_at=now,
        updated_at=now,
    )
    return row


def import_records(
    actor, report: DailyReport, rows: list[tuple[int | None, dict]], source: RecordSource
) -> BatchResult:
    """Add a batch of records to a report: all of them, or none with every problem listed."""
    check_station_user(actor, report.station_id)
    check_editable(report)
    if not rows:
        raise DomainError(_l("There are no records to import."))
    if len(rows) > MAX_BATCH_ROWS:
        raise DomainError(
            _l("At most %(n)d records at once; this has %(m)d.", n=MAX_BATCH_ROWS, m=len(rows))
        )
    errors, warnings, cleaned = validate_batch(report.station_id, report.report_on, rows)
    if errors:
        raise RecordsRejected(
            _l(
                "Nothing was imported: %(n)d problems in %(r)d records.",
                n=len(errors),
                r=len({e["row"] for e in errors}),
            ),
            errors,
        )
    record_rows = [_record_row(report, c.values, source) for c in cleaned]
    # A savepoint: if the insert fails half-way (a ticket taken meanwhile), nothing stays.
    try:
        ids = _insert_records(record_rows, cleaned)
    except IntegrityError as exc:
        raise DomainError(
            _l(
                "Some of these ticket numbers were stored by another upload meanwhile; nothing "
                "was imported. Send the records again to see which."
            )
        ) from exc
    stock.apply_record_parts(actor, report.station_id, ids)
    db.session.expire(report, ["records"])
    audit.record(
        "daily_report.records_imported",
        report,
        actor=actor,
        after={"records": len(ids), "source": source, "first_id": ids[0], "last_id": ids[-1]},
    )
    return BatchResult(records=ids, warnings=warnings)


def _insert_records(record_rows: list[dict], cleaned: list[rules.CleanRecord]) -> list[int]:
    """Insert records and their parts in one savepoint; their ids in row order."""
    with db.session.begin_nested():
        # RETURNING without a parameter order batches the insert on every database; ticket
        # numbers are unique per station, so they map the ids back to the rows.
        returned = db.session.execute(
            insert(RepairRecord).returning(RepairRecord.id, RepairRecord.ticket_no), record_rows
        )
        by_ticket = {ticket: rid for rid, ticket in returned}
        ids = [by_ticket[row["ticket_no"]] for row in record_rows]
        part_rows = [
            {"record_id": rid, "part_no": no, "quantity": qty, "faulty_serial": serial}
            for rid, clean in zip(ids, cleaned, strict=True)
            for no, qty, serial in clean.values.get("parts", [])
        ]
        if part_rows:
            db.session.execute(insert(PartUsed), part_rows)
    return ids


def add_record(actor, report: DailyReport, raw: dict, source=RecordSource.FORM) -> RepairRecord:
    """Add one record to an editable report (the form and the API)."""
    result = import_records(actor, report, [(None, raw)], source)
    return db.session.get(RepairRecord, result.records[0])


def record_warnings(record: RepairRecord) -> list[dict]:
    """What the settlement will question about a stored record (bad serial, warranty, tier)."""
    raw = record_raw(record)
    center = _station_is_center(record.station_id)
    result = rules.clean_record(
        raw,
        load_catalogues(),
        report_on=record.report.report_on,
        tz=local_tz(),
        is_service_center=center,
    )
    return [_problem_dict(None, p) for p in result.warnings]


def record_raw(record: RepairRecord) -> dict:
    """A stored record's values in the raw shape clean_record reads (for copy and edit)."""
    tz = local_tz()
    return {
        "ticket_no": record.ticket_no,
        "received_at": record.received_at.astimezone(tz).replace(tzinfo=None),
        "completed_at": record.completed_at.astimezone(tz).replace(tzinfo=None),
        "customer_name": record.customer_name,
        "customer_phone": record.customer_phone,
        "device_model": record.device_model,
        "serial_no": record.serial_no,
        "purchase_on": record.purchase_on,
        "warranty": "warranty" if record.warranty else "paid",
        "fault_code": record.fault_code,
        "repair_type": record.repair_type,
        "on_site": "onsite" if record.on_site else "instore",
        "parts": rules.format_parts(record.parts),
        "standby_serial": record.standby_serial,
        "result": record.result,
        "satisfaction": record.satisfaction,
        "return_visit_on": record.return_visit_on,
        "return_visit_outcome": record.return_visit_outcome,
    }


def update_record(actor, record: RepairRecord, raw: dict) -> RepairRecord:
    """Change a record of an editable report; the same checks as a new one."""
    report = record.report
    check_station_user(actor, report.station_id)
    check_editable(report)
    result = rules.clean_record(
        raw,
        load_catalogues(),
        report_on=report.report_on,
        tz=local_tz(),
        is_service_center=_station_is_center(report.station_id),
    )
    problems = [_problem_dict(None, p) for p in result.errors]
    ticket = result.values.get("ticket_no")
    if ticket and _existing_tickets(report.station_id, [ticket], exclude_id=record.id):
        problems.append(
            _problem_dict(
                None,
                rules.Problem(
                    "ticket_no",
                    _l("This ticket number is already reported by the station."),
                    ticket,
                ),
            )
        )
    if problems:
        raise RecordsRejected(_l("The record was not saved."), problems)
    before = audit.snapshot(record, RECORD_AUDIT_FIELDS)
    old_parts = [(p.part_no, p.quantity, p.faulty_serial) for p in record.parts]
    values = dict(result.values)
    parts = values.pop("parts", [])
    for key, value in values.items():
        setattr(record, key, value)
    record.parts = [PartUsed(part_no=no, quantity=qty, faulty_serial=s) for no, qty, s in parts]
    db.session.flush()
    stock.apply_record_parts(actor, report.station_id, [record.id], previous={record.id: old_parts})
    audit.record(
        "repair_record.updated",
        record,
        actor=actor,
        before=before,
        after=audit.snapshot(record, RECORD_AUDIT_FIELDS),
    )
    return record


def log_personal_data_shown(actor, record: RepairRecord) -> None:
    """Record that a user saw a customer's name and phone unmasked."""
    audit.record(
        "repair_record.personal_data_shown",
        record,
        actor=actor,
        comment="customer_name, customer_phone",
    )


def delete_record(actor, record: RepairRecord) -> None:
    """Remove a record from an editable report."""
    report = record.report
    check_station_user(actor, report.station_id)
    check_editable(report)
    before = audit.snapshot(record, RECORD_AUDIT_FIELDS)
    stock.apply_record_parts(actor, report.station_id, [record.id], removing=True)
    audit.record("repair_record.deleted", record, actor=actor, before=before)
    db.session.delete(record)  # its parts go with it (cascade)
    db.session.flush()
    db.session.expire(report, ["records"])


# --- uploads -----------------------------------------------------------------------------


def imported_upload(station_id: int, digest: str) -> UploadBatch | None:
    """The earlier import of the same file by the station, if any."""
    return db.session.execute(
        select(UploadBatch).where(
            UploadBatch.station_id == station_id, UploadBatch.imported_digest == digest
        )
    ).scalar_one_or_none()


def record_upload(
    actor,
    station_id: int,
    report_on: dt.date,
    filename: str,
    digest: str,
    outcome: UploadOutcome,
    *,
    report: DailyReport | None = None,
    row_count: int = 0,
    message: str = "",
    errors: list | None = None,
    warnings: list | None = None,
) -> UploadBatch:
    """Keep what happened to an uploaded file (its errors, for the error workbook)."""
    filename = rules.CONTROL_CHARS.sub("", filename or "") or "upload.xlsx"
    batch = UploadBatch(
        station_id=station_id,
        report_on=report_on,
        report_id=report.id if report is not None else None,
        filename=filename[:200],
        sha256=digest,
        imported_digest=digest if outcome == UploadOutcome.IMPORTED else None,
        outcome=outcome,
        row_count=row_count,
        message=message[:500],
        errors=errors,
        warnings=warnings,
        uploaded_by_id=getattr(actor, "id", None),
        uploaded_at=now_utc(),
    )
    db.session.add(batch)
    db.session.flush()
    audit.record(
        f"report_upload.{outcome.value}",
        batch,
        actor=actor,
        after={
            "filename": batch.filename,
            "sha256": digest,
            "rows": row_count,
            "errors": len(errors or []),
        },
    )
    return batch


# --- queries -----------------------------------------------------------------------------


@dataclass
class RecordFilter:
    station_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    serial: str = ""
    ticket: str = ""
    device_model: str = ""
    fault_code: str = ""
    repair_type: str = ""
    result: str = ""
    province: str = ""


def record_query(user, flt: RecordFilter) -> Select:
    """Repair records visible to the user, filtered (order and paging are the caller's)."""
    stmt = scope_to_user(select(RepairRecord), RepairRecord.station_id, user)
    tz = local_tz()
    for name in ("serial", "ticket", "device_model", "fault_code", "repair_type", "result"):
        setattr(flt, name, rules.CONTROL_CHARS.sub("", getattr(flt, name) or "")[:40])
    if flt.station_id:
        stmt = stmt.where(RepairRecord.station_id == flt.station_id)
    # Dates outside the years records can have are clamped (a year-1 date would overflow UTC).
    low, high = dt.date(rules.MIN_YEAR, 1, 1), dt.date(rules.MAX_YEAR, 12, 31)
    if flt.date_from:
        flt.date_from = min(max(flt.date_from, low), high)
    if flt.date_to:
        flt.date_to = min(max(flt.date_to, low), high)
    if flt.date_from:
        start = dt.datetime.combine(flt.date_from, dt.time(0), tzinfo=tz)
        stmt = stmt.where(RepairRecord.received_at >= start)
    if flt.date_to:
        end = dt.datetime.combine(flt.date_to + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
        stmt = stmt.where(RepairRecord.received_at < end)
    if flt.serial:
        stmt = stmt.where(RepairRecord.serial_no == flt.serial.strip().upper())
    if flt.ticket:
        stmt = stmt.where(RepairRecord.ticket_no == flt.ticket.strip())
    for name in ("device_model", "fault_code", "repair_type", "result"):
        value = getattr(flt, name)
        if value:
            stmt = stmt.where(getattr(RepairRecord, name) == value)
    if flt.province in PROVINCES:
        stmt = stmt.where(
            RepairRecord.station_id.in_(select(Station.id).where(Station.province == flt.province))
        )
    return stmt


def serial_history(user, serial: str) -> list[RepairRecord]:
    """Every repair of a serial number across the network, oldest first (HQ)."""
    if not sees_all_stations(user):
        raise PermissionDenied(_l("Only HQ looks serial numbers up across the network."))
    serial = rules.CONTROL_CHARS.sub("", serial or "").strip().upper()[:40]
    if not serial:
        return []
    return list(
        db.session.execute(
            select(RepairRecord)
            .where(or_(RepairRecord.serial_no == serial, RepairRecord.standby_serial == serial))
            .order_by(RepairRecord.received_at, RepairRecord.id)
        ).scalars()
    )


@dataclass
class CalendarDay:
    day: dt.date
    status: DayStatus
    report: DailyReport | None
    due: dt.datetime


def month_calendar(station_id: int, month: dt.date) -> list[CalendarDay]:
    """Each day of the month with the station's standing (on time, late, missing, ...)."""
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    reports = {
        r.report_on: r
        for r in db.session.execute(
            select(DailyReport).where(
                DailyReport.station_id == station_id,
                DailyReport.report_on >= first,
                DailyReport.report_on <= last,
            )
        ).scalars()
    }
    settings = settings_list()
    now = now_utc()
    today = local_today()
    days = []
    for n in range(last.day):
        day = first + dt.timedelta(days=n)
        report = reports.get(day)
        due = due_for(day, settings)
        status = rules.day_status(
            day,
            today,
            now,
            due,
            report.status if report else None,
            report.first_submitted_at if report else None,
        )
        days.append(CalendarDay(day, status, report, due))
    return days


def report_standing(report: DailyReport, settings: list[ReportSetting] | None = None) -> DayStatus:
    """The standing of one report's day: on time, late, missing or not due yet."""
    return rules.day_status(
        report.report_on,
        local_today(),
        now_utc(),
        due_for(report.report_on, settings),
        report.status,
        report.first_submitted_at,
    )


@dataclass
class CoverageRow:
    province: str
    active: int
    reported: int
    missing: list[Station]


def coverage(day: dt.date, province: str = "") -> list[CoverageRow]:
    """Active stations that have not submitted the day's report, by province."""
    if province not in PROVINCES:
        province = ""
    submitted = select(DailyReport.station_id).where(
        DailyReport.report_on == day, DailyReport.first_submitted_at.is_not(None)
    )
    stmt = select(Station).where(Station.status == StationStatus.ACTIVE)
    if province:
        stmt = stmt.where(Station.province == province)
    active_counts = dict(
        db.session.execute(
            select(Station.province, func.count())
            .where(Station.status == StationStatus.ACTIVE)
            .group_by(Station.province)
        ).all()
    )
    missing_by_province: dict[str, list[Station]] = defaultdict(list)
    for station in db.session.execute(
        stmt.where(Station.id.not_in(submitted)).order_by(Station.province, Station.code)
    ).scalars():
        missing_by_province[station.province].append(station)
    provinces = [province] if province else sorted(active_counts)
    rows = []
    for code in provinces:
        active = active_counts.get(code, 0)
        missing = missing_by_province.get(code, [])
        rows.append(CoverageRow(code, active, active - len(missing), missing))
    return rows
