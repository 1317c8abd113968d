"""The month's settlement workbook (SPEC 8.5), written as a stream, and the record of each export.

Each finished file is kept (EXPORT_FOLDER) with its SHA-256, who made it and when, so a file
handed around can be checked against what finance approved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import audit, files, jobs
from portal.core.actors import actor_name, require_actor
from portal.core.dates import local_tz
from portal.core.db import UTCDateTime, now_utc, reading_only
from portal.core.errors import DomainError, PermissionDenied
from portal.core.excel import EXCEL_MAX_ROWS, new_workbook, xlsx_col
from portal.core.permissions import Permission, can, sees_all_stations
from portal.extensions import db


class SettlementExport(db.Model):
    """One exported workbook of a month (all stations, or one station's)."""

    __tablename__ = "settlement_exports"
    __table_args__ = (
        Index("ix_settlement_exports_month_id", "month", "id"),
        Index("ix_settlement_exports_station_id_month", "station_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    record_rows: Mapped[int] = mapped_column(default=0)
    invalid_rows: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_name: Mapped[str] = mapped_column(String(80), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    station = relationship("Station")

    def __str__(self) -> str:
        return self.filename


# --- the streaming workbook writer -------------------------------------------------------------

TEXT, COUNT, MONEY, DATETIME, DATE = "text", "count", "money", "datetime", "date"
MONEY_FORMAT = "#,##0.00"
WIDTH_SAMPLE_ROWS = 1000  # rows measured per sheet to size its columns
MAX_WIDTH = 60
PROGRESS_EVERY = 5000


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT


def display_width(text: str) -> int:
    """Columns a text takes on screen: Chinese (wide) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class SheetStream:
    """Rows appended in order to a sheet with a frozen, filtered header and sized columns; past
    `max_rows` (Excel's limit by default) the rows continue on "<name> (2)", "<name> (3)", ...

    Every value is written with its column's type: text with write_string, so user text is never
    read as a formula, number or link whatever it starts with.
    """

    def __init__(self, workbook, name: str, columns, formats: dict, *, max_rows: int, tz):
        self.workbook = workbook
        self.name = name
        self.columns = list(columns)
        self.formats = formats
        self.per_sheet = max_rows - 1  # the header takes a row
        self.tz = tz
        self.sheets: list = []
        self.sheet = None
        self.row = 0
        self.rows_written = 0
        self.widths: list[int] = []
        self._writers = [self._writer(column.kind) for column in self.columns]
        self._new_sheet()

    def _writer(self, kind: str):
        formats, tz = self.formats, self.tz

        def text(sheet, row, col, value):
            if value is not None and value != "":
                sheet.write_string(row, col, str(value))

        def count(sheet, row, col, value):
            if value is not None:
                sheet.write_number(row, col, value)

        def money(sheet, row, col, value):
            if value is not None:
                sheet.write_number(row, col, float(value), formats["money"])

        def datetime_(sheet, row, col, value):
            if value is not None:
                if value.tzinfo is not None:
                    value = value.astimezone(tz).replace(tzinfo=None)
                sheet.write_datetime(row, col, value, formats["datetime"])

        def date_(sheet, row, col, value):
            if value is not None:
                sheet.write_datetime(row, col, value, formats["date"])

        return {TEXT: text, COUNT: count, MONEY: money, DATETIME: datetime_, DATE: date_}[kind]

    def _new_sheet(self):
        if self.sheet is not None:
            self._finish_sheet()
        number = len(self.sheets) + 1
        self.sheet = self.workbook.add_worksheet(
            self.name if number == 1 else f"{self.name} ({number})"
        )
        self.sheets.append(self.sheet)
        self.widths = [display_width(column.header) for column in self.columns]
        for col, column in enumerate(self.columns):
            self.sheet.write_string(0, col, column.header, self.formats["header"])
        self.sheet.freeze_panes(1, 0)
        self.row = 0

    def append(self, values) -> None:
        if self.row >= self.per_sheet:
            self._new_sheet()
        self.row += 1
        sheet, row = self.sheet, self.row
        for col, value in enumerate(values):
            self._writers[col](sheet, row, col, value)
        if row <= WIDTH_SAMPLE_ROWS:
            self._measure(values)
        self.rows_written += 1

    def _measure(self, values) -> None:
        for col, value in enumerate(values):
            if value is None:
                continue
            kind = self.columns[col].kind
            if kind == TEXT:
                width = display_width(str(value))
            elif kind == MONEY:
                width = len(f"{value:,.2f}")
            elif kind == DATETIME:
                width = 16
            elif kind == DATE:
                width = 10
            else:
                width = len(str(value))
            if width > self.widths[col]:
                self.widths[col] = width

    def _finish_sheet(self):
        sheet = self.sheet
        for col, width in enumerate(self.widths):
            sheet.set_column(col, col, min(width + 2, MAX_WIDTH))
        sheet.autofilter(0, 0, max(self.row, 1), len(self.columns) - 1)

    def close(self) -> None:
        self._finish_sheet()


def workbook_formats(workbook) -> dict:
    return {
        "header": workbook.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1}),
        "money": workbook.add_format({"num_format": MONEY_FORMAT}),
        "money_total": workbook.add_format({"num_format": MONEY_FORMAT, "bold": True, "top": 1}),
        "total": workbook.add_format({"bold": True, "top": 1}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
    }


@dataclass
class MonthData:
    """What one workbook holds, as iterables read once, in order (a stream from the database).

    summary: one tuple per station in SUMMARY_COLUMNS order; records, invalid, adjustments:
    tuples in the order of their columns. totals: the portal's totals of the summary's count and
    money columns (column index -> value), written under the summary as SUM formulas whose
    stored result is the portal's own total.
    """

    summary: Iterable[tuple]
    records: Iterable[tuple]
    invalid: Iterable[tuple]
    adjustments: Iterable[tuple]
    totals: dict[int, Any]
    line_count: int = 0  # records + invalid, for progress


def summary_columns() -> list[Column]:
    return [
        Column(_("Station code")),
        Column(_("Station name")),
        Column(_("Tier")),
        Column(_("Region")),
        Column(_("Valid records"), COUNT),
        Column(_("Invalid records"), COUNT),
        Column(_("Labour fees"), MONEY),
        Column(_("Travel allowances"), MONEY),
        Column(_("Rewards"), MONEY),
        Column(_("Penalties"), MONEY),
        Column(_("Deductions"), MONEY),
        Column(_("Carried from last month"), MONEY),
        Column(_("Carried to next month"), MONEY),
        Column(_("Net payable"), MONEY),
        Column(_("Status")),
        Column(_("Revision"), COUNT),
    ]


def record_columns() -> list[Column]:
    return [
        Column(_("Station code")),
        Column(_("Ticket")),
        Column(_("Serial number")),
        Column(_("Device model")),
        Column(_("Received at"), DATETIME),
        Column(_("Repair type")),
        Column(_("Labour fee"), MONEY),
        Column(_("Travel allowance"), MONEY),
    ]


def invalid_columns() -> list[Column]:
    return [
        Column(_("Station code")),
        Column(_("Ticket")),
        Column(_("Serial number")),
        Column(_("Device model")),
        Column(_("Received at"), DATETIME),
        Column(_("Repair type")),
        Column(_("Reason code")),
        Column(_("Reason")),
    ]


def adjustment_columns() -> list[Column]:
    return [
        Column(_("Station code")),
        Column(_("Rule")),
        Column(_("Amount"), MONEY),
        Column(_("Source")),
        Column(_("Reason")),
        Column(_("Recorded at"), DATETIME),
        Column(_("Recorded by")),
    ]


def write_workbook(
    target,
    data: MonthData,
    *,
    max_rows: int = EXCEL_MAX_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write the month's workbook to target (a path or a binary file) as a stream.

    XlsxWriter's constant-memory mode keeps one row in memory; the sheets are written one after
    the other. Returns the rows written per sheet kind.
    """
    workbook = new_workbook(target, constant_memory=True)
    try:
        counts = _write_sheets(workbook, data, max_rows=max_rows, progress=progress)
    except BaseException:
        _discard(workbook)
        raise
    workbook.close()
    return counts


def _discard(workbook) -> None:
    """Close the temporary files a constant-memory workbook holds (it is not written)."""
    for sheet in workbook.worksheets():
        handle = getattr(sheet, "row_data_fh", None)
        if handle is not None and not handle.closed:
            handle.close()


def _write_sheets(workbook, data: MonthData, *, max_rows: int, progress) -> dict[str, int]:
    formats = workbook_formats(workbook)
    tz = local_tz()
    counts = {}
    done = 0
    total = data.line_count

    def tick():
        nonlocal done
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, max(total, done))

    summary = SheetStream(workbook, "Summary", summary_columns(), formats, max_rows=max_rows, tz=tz)
    for values in data.summary:
        summary.append(values)
    _write_totals(summary, data.totals, formats)
    summary.close()
    counts["summary"] = summary.rows_written

    for key, name, columns, rows in (
        ("records", "Records", record_columns(), data.records),
        ("invalid", "Invalid", invalid_columns(), data.invalid),
    ):
        stream = SheetStream(workbook, name, columns, formats, max_rows=max_rows, tz=tz)
        for values in rows:
            stream.append(values)
            tick()
        stream.close()
        counts[key] = stream.rows_written

    stream = SheetStream(
        workbook, "Adjustments", adjustment_columns(), formats, max_rows=max_rows, tz=tz
    )
    for values in data.adjustments:
        stream.append(values)
    stream.close()
    counts["adjustments"] = stream.rows_written
    if progress is not None:
        progress(max(done, total), max(done, total))
    return counts


def _write_totals(summary: SheetStream, totals: dict[int, Any], formats: dict) -> None:
    """A totals row under the stations: SUM formulas, each with the portal's total as its
    stored result, so the file shows the portal's figure and recalculates to it."""
    if summary.row >= summary.per_sheet:
        summary._new_sheet()
    row = summary.row + 1
    sheet = summary.sheet
    sheet.write_string(row, 0, _("Total"), formats["total"])
    first, last = 2, summary.row + 1  # 1-based spreadsheet rows of the stations
    for col, value in totals.items():
        kind = summary.columns[col].kind
        letter = xlsx_col(col)
        formula = f"=SUM({letter}{first}:{letter}{last})" if summary.row else "=0"
        if kind == MONEY:
            sheet.write_formula(row, col, formula, formats["money_total"], float(value))
        else:
            sheet.write_formula(row, col, formula, formats["total"], int(value))


# --- the month's data, streamed from the database ----------------------------------------------

STREAM_BATCH = 5000


def month_data(month: dt.date, station_id: int | None = None) -> MonthData:
    """The workbook's rows of a month's current settlements (one station's, or all), read as a
    stream in station-code order."""
    from sqlalchemy import func, select

    from portal.core.regions import province_label
    from portal.reports.models import RepairType
    from portal.settlement.models import Settlement, SettlementLine
    from portal.settlement.rules import reason_label
    from portal.stations.models import Station

    current = [Settlement.month == month, Settlement.superseded_at.is_(None)]
    if station_id is not None:
        current.append(Settlement.station_id == station_id)
    settlements = (
        select(Settlement, Station.code, Station.name, Station.tier, Station.province, Station.city)
        .join(Station, Station.id == Settlement.station_id)
        .where(*current)
        .order_by(Station.code)
    )
    money_fields = (
        "labour",
        "travel",
        "rewards",
        "penalties",
        "deductions",
        "carried_in",
        "carried_out",
        "net",
    )
    totals: dict[int, Any] = {4: 0, 5: 0}
    totals.update({6 + i: Decimal("0.00") for i in range(len(money_fields))})
    summary = []
    for settlement, code, name, tier, province, city in db.session.execute(settlements):
        values = [settlement.valid_count, settlement.invalid_count] + [
            getattr(settlement, field) or Decimal("0.00") for field in money_fields
        ]
        for offset, value in enumerate(values):
            totals[4 + offset] += value
        summary.append(
            (
                code,
                name,
                str(tier.label),
                f"{province_label(province)} {city}".strip(),
                *values,
                str(settlement.status.label),
                settlement.revision,
            )
        )
    repair_types = {
        code: (name_zh if _locale_is_chinese() else name_en)
        for code, name_zh, name_en in db.session.execute(
            select(RepairType.code, RepairType.name_zh, RepairType.name_en)
        )
    }

    def lines(valid: bool):
        # The line keeps the record as it was judged (serial, model): the file shows what was
        # paid, even if the record was edited after an amendment.
        stmt = (
            select(
                Station.code,
                SettlementLine.ticket_no,
                SettlementLine.serial_no,
                SettlementLine.device_model,
                SettlementLine.received_at,
                SettlementLine.repair_type,
                SettlementLine.fee,
                SettlementLine.travel,
                SettlementLine.reason_code,
            )
            .join(Settlement, Settlement.id == SettlementLine.settlement_id)
            .join(Station, Station.id == Settlement.station_id)
            .where(*current, SettlementLine.valid.is_(valid))
            .order_by(Station.code, SettlementLine.received_at, SettlementLine.id)
            .execution_options(yield_per=STREAM_BATCH)
        )
        labels: dict[str, str] = {}
        for code, ticket, serial, model, received, rtype, fee, travel, reason in db.session.execute(
            stmt
        ):
            kind = repair_types.get(rtype, rtype)
            if valid:
                yield (code, ticket, serial, model, received, kind, fee, travel)
            else:
                if reason not in labels:
                    labels[reason] = str(reason_label(reason))
                yield (code, ticket, serial, model, received, kind, reason, labels[reason])

    def adjustments():
        from portal.settlement.adjustments import Adjustment, rule_label

        stmt = (
            select(
                Station.code,
                Adjustment.rule_code,
                Adjustment.amount,
                Adjustment.source_type,
                Adjustment.source_id,
                Adjustment.reason,
                Adjustment.created_at,
                Adjustment.created_by_name,
            )
            .join(Station, Station.id == Adjustment.station_id)
            .where(Adjustment.month == month)
            .order_by(Station.code, Adjustment.id)
            .execution_options(yield_per=STREAM_BATCH)
        )
        if station_id is not None:
            stmt = stmt.where(Adjustment.station_id == station_id)
        for code, rule, amount, source_type, source_id, reason, at, by in db.session.execute(stmt):
            yield (
                code,
                str(rule_label(rule)),
                amount,
                f"{source_type} {source_id}",
                reason,
                at,
                by,
            )

    count = select(func.count(SettlementLine.id)).join(
        Settlement, Settlement.id == SettlementLine.settlement_id
    )
    line_count = db.session.execute(count.where(*current)).scalar() or 0
    return MonthData(
        summary=summary,
        records=lines(True),
        invalid=lines(False),
        adjustments=adjustments(),
        totals=totals,
        line_count=line_count,
    )


def _locale_is_chinese() -> bool:
    from flask_babel import get_locale

    locale = get_locale()
    return locale is not None and locale.language == "zh"


# --- exporting: the service, the stored file, the job ------------------------------------------

EXPORT_FIELDS = ("month", "station_id", "filename", "sha256", "size_bytes", "record_rows")


def export_folder() -> str:
    from flask import current_app

    return current_app.config["EXPORT_FOLDER"]


def export_path(export: SettlementExport) -> str:
    return os.path.join(export_folder(), export.stored_name)


def check_export_scope(actor, station_id: int | None) -> int | None:
    """The station the actor may export: a station user only its own; None means every station."""
    if not can(actor, Permission.EXPORT_SETTLEMENTS):
        raise PermissionDenied(_l("You may not export settlements."))
    if sees_all_stations(actor):
        return station_id
    own = getattr(actor, "station_id", None)
    if own is None or (station_id is not None and station_id != own):
        raise PermissionDenied(_l("A station exports only its own settlement."))
    return own


@dataclass
class WrittenFile:
    """A workbook written under its temporary name, not yet recorded."""

    month: dt.date
    station_id: int | None
    stored_name: str
    temp: str
    final: str
    counts: dict[str, int]


def write_export_file(
    month: dt.date,
    actor,
    *,
    station_id: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_rows: int = EXCEL_MAX_ROWS,
) -> WrittenFile:
    """Write the month's workbook under a temporary name (reading only)."""
    require_actor(actor)
    station_id = check_export_scope(actor, station_id)
    month = month.replace(day=1)
    folder = export_folder()
    os.makedirs(folder, exist_ok=True)
    stored_name = f"{uuid.uuid4().hex}.xlsx"
    final = os.path.join(folder, stored_name)
    temp = final + files.PART_SUFFIX
    try:
        with reading_only():
            data = month_data(month, station_id)
            counts = write_workbook(temp, data, max_rows=max_rows, progress=progress)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    return WrittenFile(month, station_id, stored_name, temp, final, counts)


def record_export(written: WrittenFile, actor, *, job_id: int | None = None) -> SettlementExport:
    """Keep a written workbook: its row with SHA-256 and who made it; the file takes its place
    when the transaction commits (and is removed if it rolls back)."""
    from portal.stations.models import Station

    try:
        digest = hashlib.sha256()
        with open(written.temp, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        station_code = None
        if written.station_id is not None:
            station_code = db.session.get(Station, written.station_id).code
        record = SettlementExport(
            month=written.month,
            station_id=written.station_id,
            job_id=job_id,
            filename=download_name(written.month, station_code),
            stored_name=written.stored_name,
            sha256=digest.hexdigest(),
            size_bytes=os.path.getsize(written.temp),
            record_rows=written.counts["records"],
            invalid_rows=written.counts["invalid"],
            created_by_id=getattr(actor, "id", None),
            created_by_name=actor_name(actor),
            created_at=now_utc(),
        )
        db.session.add(record)
        db.session.flush()
    except BaseException:
        os.remove(written.temp)
        raise
    files.stage_written(db.session(), written.temp, written.final)
    audit.record(
        "settlement.exported",
        record,
        actor=actor,
        station_id=written.station_id,
        after=audit.snapshot(record, EXPORT_FIELDS),
    )
    return record


def export_month(month: dt.date, actor, **options) -> SettlementExport:
    """Write and keep the month's workbook in the caller's transaction (see the job for the
    way that ends the long read first)."""
    job_id = options.pop("job_id", None)
    return record_export(write_export_file(month, actor, **options), actor, job_id=job_id)


def download_name(month: dt.date, station_code: str | None) -> str:
    scope = station_code or "all"
    return f"settlement-{month:%Y-%m}-{scope}.xlsx"


def exports_of(month: dt.date, user, limit: int = 50) -> list[SettlementExport]:
    """The month's exports the user may download, newest first."""
    from sqlalchemy import select

    stmt = select(SettlementExport).where(SettlementExport.month == month.replace(day=1))
    if not sees_all_stations(user):
        stmt = stmt.where(SettlementExport.station_id == getattr(user, "station_id", -1))
    return list(
        db.session.execute(stmt.order_by(SettlementExport.id.desc()).limit(limit)).scalars()
    )


def parse_month(text: str) -> dt.date:
    """The first day of a month given as YYYY-MM (DomainError otherwise)."""
    try:
        return dt.datetime.strptime((text or "").strip(), "%Y-%m").date()  # noqa: DTZ007
    except ValueError:
        raise DomainError(_l("Give the month as YYYY-MM."), field="month") from None


EXPORT_JOB = "settlement.export"


def _export_result_url(job) -> str | None:
    from flask import url_for

    export_id = (job.result or {}).get("export_id")
    return url_for("settlement.export_download", export_id=export_id) if export_id else None


@jobs.register(
    EXPORT_JOB,
    _l("Settlement workbook"),
    Permission.EXPORT_SETTLEMENTS,
    result_url=_export_result_url,
)
def _export_job(ctx: jobs.JobContext) -> dict:
    from flask_babel import force_locale

    month = parse_month(ctx.params["month"])
    with force_locale(ctx.params.get("locale") or "zh"):
        written = write_export_file(
            month,
            ctx.actor,
            station_id=ctx.params.get("station_id"),
            progress=lambda done, total: ctx.progress(done, total),
        )
    # End the long read before writing: on SQLite a reading transaction may not start writing
    # once another connection has committed.
    db.session.commit()
    record = record_export(written, ctx.actor, job_id=ctx.job_id)
    return {"export_id": record.id, "sha256": record.sha256, "filename": record.filename}


def start_export(month: dt.date, actor, *, station_id=None, locale="zh", here=False):
    """Queue the month's export as a job (the station's own, for a station user)."""
    from portal.stations.models import Station

    station_id = check_export_scope(actor, station_id)
    if station_id is not None and db.session.get(Station, station_id) is None:
        raise DomainError(_l("No such station."), field="station_id")
    params = {"month": f"{month:%Y-%m}", "station_id": station_id, "locale": locale}
    return jobs.enqueue(EXPORT_JOB, params, actor, station_id=station_id, here=here)


def _stored_export_names():
    from sqlalchemy import select

    return db.session.execute(select(SettlementExport.stored_name)).scalars()


files.register_store("settlement exports", export_folder, _stored_export_names)
