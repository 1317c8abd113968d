"""Daily-report verbs and queries: the form, the Excel upload and the API all come here.

Every verb takes an explicit actor (a user, the API's token actor, or the system actor for the
demo data and jobs) and audits every field it changes, in the same transaction.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from portal.core import audit, versioning
from portal.core.actors import is_system, require_actor
from portal.core.audit import AuditEntry
from portal.core.dates import local_today, local_tz
from portal.core.db import now_utc
from portal.core.errors import ConcurrentChange, DomainError, PermissionDenied
from portal.core.permissions import Permission, can, sees_all_stations
from portal.core.regions import PROVINCES
from portal.core.scoping import scope_to_user
from portal.extensions import db
from portal.reports import rules
from portal.reports.messages import message
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
from portal.settlement.locks import ensure_month_open
from portal.settlement.models import month_is_locked_for_reports
from portal.spares import stock
from portal.stations.models import Station
from portal.stations.states import StationStatus

MAX_BATCH_ROWS = 5000
# Stored upload errors are bounded: a file full of problems cannot fill the database or a page.
MAX_STORED_PROBLEMS = 1000
MAX_PROBLEM_VALUE = 100
COUNT_FIELDS = (
    "received_count",
    "completed_count",
    "pending_count",
    "returned_count",
    "complaint_count",
)
DEFAULT_DEADLINE = (1, dt.time(10, 0))  # the day after, 10:00 local time


class RecordsRejected(DomainError):
    """One or more records are bad; problems lists every one (row, field, value, reason)."""

    def __init__(self, message, problems: list[dict]):
        super().__init__(message)
        self.problems = problems


class ReportSubmitted(DomainError):
    """The report is submitted: it must be reopened (in the portal) before it changes."""


@dataclass
class BatchResult:
    records: list[int]
    warnings: list[dict] = field(default_factory=list)


def _record_parts(record: RepairRecord) -> str:
    return rules.format_parts(record.parts)


# --- catalogues --------------------------------------------------------------------------


def load_catalogues(day: dt.date | None = None) -> rules.Catalogues:
    """The active catalogue entries, as plain values for rules.clean_record; each model's
    serial pattern and warranty as in force on `day` (today by default)."""
    from portal.reports.facts import load_history

    day = day or local_today()
    history = load_history()
    models = {}
    for code in db.session.execute(
        select(DeviceModel.code).where(DeviceModel.active.is_(True))
    ).scalars():
        _pattern, compiled, months = history.model_rule(code, day)
        models[code] = rules.ModelRule(compiled, months)
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


FACT_FIELDS = {"models": ("serial_pattern", "warranty_months"), "faults": ("category",)}


def save_catalogue_entry(actor, kind: str, entry=None, effective_on=None, **values):
    """Create or edit a catalogue entry (HQ); a code is fixed once records may use it.

    A model's serial pattern and warranty and a fault's category are facts the settlement
    judges by: changing one of an existing entry adds a version effective on `effective_on`
    (today or later), and the days before keep the facts they had (SPEC 8.2).
    """
    if not can(require_actor(actor), Permission.MANAGE_CATALOGUES):
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
    if entry is None:
        entry = model(**values)
        db.session.add(entry)
        audit.record_created(f"catalogue.{kind}.saved", entry, actor=actor)
        return entry
    facts = {name: values.pop(name) for name in FACT_FIELDS.get(kind, ()) if name in values}
    if facts:
        _add_fact_version(actor, kind, entry, facts, effective_on)
    changes = audit.track(entry)
    for key, value in values.items():
        setattr(entry, key, value)
    audit.record_changes(f"catalogue.{kind}.saved", changes, actor=actor)
    return entry


def _add_fact_version(actor, kind: str, entry, facts: dict, effective_on) -> None:
    from portal.reports.facts import load_history
    from portal.reports.models import DeviceModelFact, FaultCategoryFact

    history = load_history()
    if kind == "models":
        _pattern, _compiled, months = history.model_rule(entry.code, dt.date.max)
        current = {"serial_pattern": _pattern, "warranty_months": months}
    else:
        current = {"category": history.fault_category(entry.code, dt.date.max)}
    if all(current[name] == value for name, value in facts.items()):
        return  # the facts stay as they are: no new version
    if effective_on is None:
        raise DomainError(_l("Enter the date it takes effect."), field="effective_on")
    versioning.require_not_past(effective_on)
    if kind == "models":
        row = DeviceModelFact(
            model_code=entry.code,
            effective_on=effective_on,
            serial_pattern=facts.get("serial_pattern", current["serial_pattern"]),
            warranty_months=int(facts.get("warranty_months", current["warranty_months"])),
            created_by_id=getattr(actor, "id", None),
        )
    else:
        row = FaultCategoryFact(
            fault_code=entry.code,
            effective_on=effective_on,
            category=facts["category"],
            created_by_id=getattr(actor, "id", None),
        )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise DomainError(
            _l("A version with this effective date already exists."), field="effective_on"
        ) from None
    audit.record_created(f"catalogue.{kind}.fact_versioned", row, actor=actor)


# --- deadline settings -------------------------------------------------------------------


def setting_for(day: dt.date, settings: list[ReportSetting] | None = None) -> ReportSetting:
    """The deadline setting in force for a report day (from settings_list() when given)."""
    if settings is None:
        setting = versioning.in_force(ReportSetting, day)
    else:
        setting = versioning.pick_in_force(settings, day)
    if setting is None:
        days_after, at = DEFAULT_DEADLINE
        return ReportSetting(effective_on=day, due_days_after=days_after, due_time=at)
    return setting


def settings_list() -> list[ReportSetting]:
    """Every deadline setting, newest effective date first (the history)."""
    return list(
        db.session.execute(
            select(ReportSetting).order_by(ReportSetting.effective_on.desc())
        ).scalars()
    )


def add_setting(
    actor, effective_on: dt.date, due_days_after: int, due_time: dt.time
) -> ReportSetting:
    """A new deadline from effective_on (today or later) on; the days before keep theirs."""
    if not can(require_actor(actor), Permission.MANAGE_CATALOGUES):
        raise PermissionDenied(_l("You may not change the report deadline."))
    versioning.require_not_past(effective_on)
    if not 0 <= due_days_after <= 31:
        raise DomainError(_l("Between 0 and 31 days."), field="due_days_after")
    existing = db.session.execute(
        select(ReportSetting).where(ReportSetting.effective_on == effective_on)
    ).scalar_one_or_none()
    if existing is None:
        setting = ReportSetting(
            effective_on=effective_on,
            due_days_after=due_days_after,
            due_time=due_time,
            created_by_id=getattr(actor, "id", None),
        )
        db.session.add(setting)
        audit.record_created("report_setting.saved", setting, actor=actor)
        return setting
    changes = audit.track(existing)
    existing.due_days_after = due_days_after
    existing.due_time = due_time
    existing.created_by_id = getattr(actor, "id", None)
    audit.record_changes("report_setting.saved", changes, actor=actor)
    return existing


def due_for(day: dt.date, settings: list[ReportSetting] | None = None) -> dt.datetime:
    """When the report of day is due (UTC)."""
    setting = setting_for(day, settings)
    return rules.due_at(day, setting.due_days_after, setting.due_time, local_tz())


# --- reports -----------------------------------------------------------------------------


def check_station_user(actor, station_id: int) -> None:
    """Only the station's own users report for it (the system actor for the demo and jobs)."""
    if is_system(require_actor(actor)):
        return
    if not can(actor, Permission.SUBMIT_REPORTS) or actor.station_id != station_id:
        raise PermissionDenied(_l("Only the station's own users report for it."))


def check_month_open(station_id: int, day: dt.date) -> None:
    """Refuse changing a day whose month's settlement has left draft (its reports are final)."""
    ensure_month_open(station_id, day)
    if month_is_locked_for_reports(station_id, day):
        raise DomainError(
            _l(
                "The settlement of %(month)s has left draft; its reports can no longer be changed.",
                month=day.strftime("%Y-%m"),
            )
        )


def check_editable(report: DailyReport) -> None:
    """Refuse any change once the report is submitted or its month is settled."""
    check_month_open(report.station_id, report.report_on)
    if report.status not in EDITABLE_STATUSES:
        raise ReportSubmitted(_l("The report is submitted. Reopen it to amend it."))


def earliest_report_day(station: Station) -> dt.date:
    """The first day a new report may be made for: REPORT_MAX_DAYS_BACK, the agreement start."""
    earliest = local_today() - dt.timedelta(days=current_app.config["REPORT_MAX_DAYS_BACK"])
    if station.agreement_start_on is not None:
        earliest = max(earliest, station.agreement_start_on)
    return earliest


def check_report_day(station: Station, day: dt.date) -> None:
    """Refuse a new report for a day in the future, before the agreement or too long ago."""
    if day > local_today():
        raise DomainError(_l("A report cannot be made for a future day."), field="report_on")
    if day.year < rules.MIN_YEAR:
        raise DomainError(_l("Not a date; write it like 2026-11-20."), field="report_on")
    start = station.agreement_start_on
    if start is not None and day < start:
        raise DomainError(
            _l(
                "The station's agreement starts on %(start)s; there are no reports before it.",
                start=start.isoformat(),
            ),
            field="report_on",
        )
    earliest = earliest_report_day(station)
    if day < earliest:
        raise DomainError(
            _l(
                "A report more than %(n)d days back cannot be made; the earliest day is %(day)s.",
                n=current_app.config["REPORT_MAX_DAYS_BACK"],
                day=earliest.isoformat(),
            ),
            field="report_on",
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
    report = find_report(station.id, day)
    if report is not None:
        return report
    check_report_day(station, day)
    if station.status != StationStatus.ACTIVE:
        raise DomainError(_l("Only active stations report."))
    check_month_open(station.id, day)
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
    audit.record_created("daily_report.opened", report, actor=actor)
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
        raise DomainError(message(problems[0].message), field=problems[0].field)
    changes = audit.track(report)
    for key, value in clean.items():
        setattr(report, key, value)
    audit.record_changes("daily_report.counts", changes, actor=actor)
    return report


def submit_report(actor, report: DailyReport, expected_version: int | None = None) -> DailyReport:
    """Submit (or resubmit after an amendment); the first submission decides lateness."""
    check_station_user(actor, report.station_id)
    _expect_version(report, expected_version)
    check_editable(report)
    changes = audit.track(report)
    report.status = REPORT_FLOW.target(report.status, "submit")
    report.submitted_at = now_utc()
    if report.first_submitted_at is None:
        report.first_submitted_at = report.submitted_at
    report.submitted_by_id = getattr(actor, "id", None)
    audit.record_changes(
        "daily_report.submitted", changes, actor=actor, comment=f"records: {len(report.records)}"
    )
    return report


def reopen_report(
    actor, report: DailyReport, reason: str = "", expected_version: int | None = None
) -> DailyReport:
    """Reopen a submitted report for amendment, while its month's settlement is a draft."""
    check_station_user(actor, report.station_id)
    _expect_version(report, expected_version)
    check_month_open(report.station_id, report.report_on)
    target = REPORT_FLOW.target(report.status, "reopen")
    reason = rules.CONTROL_CHARS.sub(" ", reason or "").strip()[:500]
    if not reason:
        raise DomainError(_l("Give the reason for reopening the report."), field="reason")
    changes = audit.track(report)
    report.status = target
    audit.record_changes("daily_report.reopened", changes, actor=actor, comment=reason)
    return report


def file_day_report(
    actor,
    station: Station,
    day: dt.date,
    rows: list[tuple[int | None, dict]],
    source: RecordSource,
    *,
    counts: dict | None = None,
    submit: bool = False,
) -> tuple[DailyReport, BatchResult | None]:
    """Open the day's report, set its counts, add records and submit it: all or nothing.

    The one sequence behind the API and the Excel upload. ReportSubmitted when the day's report
    is submitted, RecordsRejected with every problem when a record is bad; either way nothing
    of this call stays (not even a newly opened report).
    """
    with db.session.begin_nested():
        report = open_report(actor, station, day)
        check_editable(report)
        if counts:
            update_counts(actor, report, counts)
        result = import_records(actor, report, rows, source) if rows else None
        if submit:
            submit_report(actor, report)
    return report, result


# --- records -----------------------------------------------------------------------------


def allowed_types(station_id: int, day: dt.date) -> frozenset[str]:
    """The repair types the station's tier on the day may do (versioned, SPEC 3.3)."""
    from portal.settlement.catalogue import tier_allows
    from portal.stations.services import tier_on

    tier = tier_on(station_id, day)
    if tier is None:
        tier = db.session.execute(select(Station.tier).where(Station.id == station_id)).scalar_one()
    codes = db.session.execute(select(RepairType.code)).scalars()
    return frozenset(code for code in codes if tier_allows(tier.value, code, day))


def _problem_dict(row: int | None, problem: rules.Problem) -> dict:
    """A problem as kept and shown: personal values masked, long values cut."""
    value = rules.mask_personal(problem.field, problem.value)
    if value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)
    if isinstance(value, str) and len(value) > MAX_PROBLEM_VALUE:
        value = value[:MAX_PROBLEM_VALUE] + "…"
    return {
        "row": row,
        "field": problem.field,
        "value": value,
        "message": message(problem.message, problem.params),
    }


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
    catalogues = load_catalogues(report_on)
    tz = local_tz()
    allowed = allowed_types(station_id, report_on)
    errors: list[dict] = []
    warnings: list[dict] = []
    cleaned: list[rules.CleanRecord] = []
    seen: dict[str, int | None] = {}
    for row, raw in rows:
        result = rules.clean_record(
            raw, catalogues, report_on=report_on, tz=tz, allowed_types=allowed
        )
        ticket = result.values.get("ticket_no")
        if ticket:
            if ticket in seen:
                first = seen[ticket]
                problem = (
                    rules.Problem("ticket_no", "ticket_twice_row", ticket, {"row": first})
                    if first is not None
                    else rules.Problem("ticket_no", "ticket_twice", ticket)
                )
                errors.append(_problem_dict(row, problem))
            else:
                seen[ticket] = row
        errors.extend(_problem_dict(row, p) for p in result.errors)
        warnings.extend(_problem_dict(row, p) for p in result.warnings)
        cleaned.append(result)
    taken = _existing_tickets(station_id, list(seen))
    for ticket in sorted(taken):
        errors.append(
            _problem_dict(seen[ticket], rules.Problem("ticket_no", "ticket_taken", ticket))
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
    result = rules.clean_record(
        raw,
        load_catalogues(record.report.report_on),
        report_on=record.report.report_on,
        tz=local_tz(),
        allowed_types=allowed_types(record.station_id, record.report.report_on),
    )
    return [_problem_dict(None, p) for p in result.warnings]


def record_raw(record: RepairRecord) -> dict:
    """A stored record's values, unmasked, in the raw shape clean_record reads (edit, copy)."""
    return rules.record_fields(record, local_tz(), masked=False)


def update_record(actor, record: RepairRecord, raw: dict) -> RepairRecord:
    """Change a record of an editable report; the same checks as a new one."""
    report = record.report
    check_station_user(actor, report.station_id)
    check_editable(report)
    result = rules.clean_record(
        raw,
        load_catalogues(report.report_on),
        report_on=report.report_on,
        tz=local_tz(),
        allowed_types=allowed_types(report.station_id, report.report_on),
    )
    problems = [_problem_dict(None, p) for p in result.errors]
    ticket = result.values.get("ticket_no")
    if ticket and _existing_tickets(report.station_id, [ticket], exclude_id=record.id):
        problems.append(_problem_dict(None, rules.Problem("ticket_no", "ticket_taken", ticket)))
    if problems:
        raise RecordsRejected(_l("The record was not saved."), problems)
    changes = audit.track(record, parts=_record_parts)
    old_parts = [(p.part_no, p.quantity, p.faulty_serial) for p in record.parts]
    values = dict(result.values)
    parts = values.pop("parts", [])
    for key, value in values.items():
        setattr(record, key, value)
    if old_parts != parts:
        record.parts = [PartUsed(part_no=no, quantity=qty, faulty_serial=s) for no, qty, s in parts]
    db.session.flush()
    stock.apply_record_parts(actor, report.station_id, [record.id], previous={record.id: old_parts})
    audit.record_changes("repair_record.updated", changes, actor=actor)
    return record


def log_personal_data_shown(actor, record: RepairRecord) -> None:
    """Record that a user saw a customer's name and phone unmasked."""
    audit.record(
        "repair_record.personal_data_shown",
        record,
        actor=require_actor(actor),
        comment="customer_name, customer_phone",
    )


def delete_record(actor, record: RepairRecord) -> None:
    """Remove a record from an editable report."""
    report = record.report
    check_station_user(actor, report.station_id)
    check_editable(report)
    audit.record_deleted(
        "repair_record.deleted", record, actor=actor, extra={"parts": _record_parts}
    )
    stock.apply_record_parts(actor, report.station_id, [record.id], removing=True)
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


def _bounded(problems: list | None) -> list | None:
    """At most MAX_STORED_PROBLEMS problems, values masked and cut (also for older callers)."""
    if problems is None:
        return None
    kept = []
    for problem in problems[:MAX_STORED_PROBLEMS]:
        value = rules.mask_personal(problem.get("field") or "", problem.get("value"))
        if isinstance(value, str) and len(value) > MAX_PROBLEM_VALUE:
            value = value[:MAX_PROBLEM_VALUE] + "…"
        kept.append({**problem, "value": value})
    return kept


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
    """Keep what happened to an uploaded file (its errors, for the error workbook).

    At most MAX_STORED_PROBLEMS errors and warnings are kept, personal values masked.
    """
    check_station_user(actor, station_id)
    filename = rules.CONTROL_CHARS.sub("", filename or "") or "upload.xlsx"
    if errors and len(errors) > MAX_STORED_PROBLEMS:
        message = " ".join(
            [
                message,
                str(
                    _l(
                        "The first %(n)d problems are kept; correct them and upload the file "
                        "again to see the rest.",
                        n=MAX_STORED_PROBLEMS,
                    )
                ),
            ]
        )
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
        errors=_bounded(errors),
        warnings=_bounded(warnings),
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
            "report_on": report_on,
            "sha256": digest,
            "rows": row_count,
            "errors": len(errors or []),
            "warnings": len(warnings or []),
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
    serial = rules.normalize_serial(rules.CONTROL_CHARS.sub("", serial or ""))[:40]
    if not serial:
        return []
    # Two lookups, each on its own index (an OR of the two columns scans the table).
    found = {}
    for column in (RepairRecord.serial_no, RepairRecord.standby_serial):
        for record in db.session.execute(select(RepairRecord).where(column == serial)).scalars():
            found[record.id] = record
    return sorted(found.values(), key=lambda r: (r.received_at, r.id))


@dataclass
class CalendarDay:
    day: dt.date
    status: DayStatus
    report: DailyReport | None
    due: dt.datetime


def month_calendar(
    station_id: int, month: dt.date, station: Station | None = None
) -> list[CalendarDay]:
    """Each day of the month with the station's standing (on time, late, missing, ...).

    Days before the station's agreement start are not due.
    """
    station = station or db.session.get(Station, station_id)
    first_due = station.agreement_start_on if station is not None else None
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
            first_due,
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


_LIFE_EVENTS = ("station.suspend", "station.reinstate", "station.revoke")


def last_due_day(now: dt.datetime | None = None) -> dt.date:
    """The last day whose report deadline has passed (yesterday once 10:00 today is past)."""
    now = now or now_utc()
    day = now.astimezone(local_tz()).date() - dt.timedelta(days=1)
    settings = settings_list()
    while due_for(day, settings) > now:
        day -= dt.timedelta(days=1)
    return day


def _day_end_utc(day: dt.date) -> dt.datetime:
    local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=local_tz())
    return local.astimezone(dt.UTC)


def _status_overrides(day: dt.date) -> dict[int, str]:
    """Stations whose status changed after day: the status they had on it (few rows)."""
    rows = db.session.execute(
        select(AuditEntry.object_id, AuditEntry.before)
        .where(
            AuditEntry.action.in_(_LIFE_EVENTS),
            AuditEntry.object_type == "Station",
            AuditEntry.at >= _day_end_utc(day),
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    ).all()
    found: dict[int, str] = {}
    for object_id, before in rows:  # the earliest change after the day comes last and wins
        if object_id.isdigit() and before and before.get("status"):
            found[int(object_id)] = before["status"]
    return found


def due_conditions(day: dt.date) -> list:
    """WHERE clauses for the stations that owed a report for day: those active on that day.

    Active that day means authorized by then (agreement start, else creation, on or before
    the day) and neither suspended nor revoked on it (the status it had then, read from the
    station-life events after the day).
    """
    started = or_(
        Station.agreement_start_on <= day,
        and_(Station.agreement_start_on.is_(None), Station.created_at < _day_end_utc(day)),
    )
    overrides = _status_overrides(day)
    was_active = {sid for sid, status in overrides.items() if status == StationStatus.ACTIVE}
    now_active = Station.status == StationStatus.ACTIVE
    if overrides:
        now_active = and_(now_active, Station.id.not_in(set(overrides)))
    return [started, or_(now_active, Station.id.in_(was_active)) if was_active else now_active]


def _submitted_on(day: dt.date):
    return select(DailyReport.station_id).where(
        DailyReport.report_on == day, DailyReport.first_submitted_at.is_not(None)
    )


def missing_count(day: dt.date) -> int:
    """How many stations that owed day's report have not submitted it (one query)."""
    return db.session.execute(
        select(func.count())
        .select_from(Station)
        .where(*due_conditions(day), Station.id.not_in(_submitted_on(day)))
    ).scalar_one()


def coverage(day: dt.date, province: str = "") -> list[CoverageRow]:
    """Stations that were active on day and have not submitted its report, by province."""
    if province not in PROVINCES:
        province = ""
    due = due_conditions(day)
    stmt = select(Station).where(*due)
    if province:
        stmt = stmt.where(Station.province == province)
    active_counts = dict(
        db.session.execute(
            select(Station.province, func.count()).where(*due).group_by(Station.province)
        ).all()
    )
    missing_by_province: dict[str, list[Station]] = defaultdict(list)
    missing_stmt = stmt.where(Station.id.not_in(_submitted_on(day)))
    for station in db.session.execute(
        missing_stmt.order_by(Station.province, Station.code)
    ).scalars():
        missing_by_province[station.province].append(station)
    provinces = [province] if province else sorted(active_counts)
    rows = []
    for code in provinces:
        active = active_counts.get(code, 0)
        missing = missing_by_province.get(code, [])
        rows.append(CoverageRow(code, active, active - len(missing), missing))
    return rows


# --- record warnings in lists ----------------------------------------------------------------


WARNING_DAYS = 31


def warnings_for(records) -> dict[int, list[str]]:
    """Each record's warnings as sentences (bad serial, out of warranty, tier scope), by id.

    One catalogue read, and one tier-scope read per station and day.
    """
    catalogues_by_day: dict[dt.date, rules.Catalogues] = {}
    tz = local_tz()
    scopes: dict[tuple[int, dt.date], frozenset[str]] = {}
    found: dict[int, list[str]] = {}
    for record in records:
        day = record.completed_at.astimezone(tz).date()  # the day of its report
        key = (record.station_id, day)
        if key not in scopes:
            scopes[key] = allowed_types(record.station_id, day)
        if day not in catalogues_by_day:
            catalogues_by_day[day] = load_catalogues(day)
        result = rules.clean_record(
            rules.record_fields(record, tz, masked=False),
            catalogues_by_day[day],
            report_on=day,
            tz=tz,
            allowed_types=scopes[key],
        )
        if result.warnings:
            found[record.id] = [_problem_dict(None, p)["message"] for p in result.warnings]
    return found


def recent_warning_records(station_id: int, today: dt.date | None = None) -> list:
    """The station's records of the last WARNING_DAYS days that carry a warning, newest first."""
    today = today or local_today()
    since = dt.datetime.combine(
        today - dt.timedelta(days=WARNING_DAYS - 1), dt.time.min, tzinfo=local_tz()
    )
    records = list(
        db.session.execute(
            select(RepairRecord)
            .where(RepairRecord.station_id == station_id, RepairRecord.received_at >= since)
            .order_by(RepairRecord.received_at.desc(), RepairRecord.id.desc())
        ).scalars()
    )
    warned = warnings_for(records)
    return [(r, warned[r.id]) for r in records if r.id in warned]
