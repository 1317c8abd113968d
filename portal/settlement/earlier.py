"""Earlier repairs: repairs done before the portal, imported by HQ for the repeat rule.

SPEC 8.2 rule 4 counts an earlier repaired record of the same serial and fault category at any
station, and rule 7 a ticket used twice at one station; repairs from before the portal count
for both. HQ imports them from a spreadsheet (station, ticket, serial, model, fault code,
completed time, result): all or nothing with every bad row listed, and importing the same rows
again changes nothing (a station's ticket is its key).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import audit
from portal.core.actors import require_actor
from portal.core.dates import local_tz
from portal.core.db import UTCDateTime, now_utc
from portal.core.errors import PermissionDenied
from portal.core.imports import ImportColumn, ImportRefused, problem, read_rows, template
from portal.core.permissions import Permission, can
from portal.extensions import db
from portal.reports import rules as report_rules

SHEET = "Repairs"
COLUMNS = (
    ImportColumn("station_code", "网点编码", "Station code", width=14),
    ImportColumn("ticket_no", "工单号", "Ticket no.", width=16),
    ImportColumn("serial_no", "序列号", "Serial no.", width=18),
    ImportColumn("device_model", "机型", "Device model", width=12),
    ImportColumn("fault_code", "故障代码", "Fault code", width=12),
    ImportColumn("completed_at", "完成时间", "Completed at", width=18),
    ImportColumn("result", "维修结果", "Result", width=14),
)
BY_FIELD = {c.field: c for c in COLUMNS}
RESULTS = {"repaired", "returned_to_factory", "no_fault_found", "unrepairable"}
RESULT_WORDS = {
    "已修复": "repaired",
    "修复": "repaired",
    "返厂": "returned_to_factory",
    "无故障": "no_fault_found",
    "无法修复": "unrepairable",
}


class EarlierRepairImport(db.Model):
    """One imported file of earlier repairs: who, when, its SHA-256 and what it added."""

    __tablename__ = "earlier_repair_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    added_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(Integer)
    created_by_name: Mapped[str] = mapped_column(String(80), default="")

    def __str__(self) -> str:
        return self.filename


class EarlierRepair(db.Model):
    """A repair from before the portal (never paid by it; it only makes later ones repeats)."""

    __tablename__ = "earlier_repairs"
    __table_args__ = (UniqueConstraint("station_id", "ticket_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    ticket_no: Mapped[str] = mapped_column(String(40))
    serial_no: Mapped[str] = mapped_column(String(40), index=True)
    device_model: Mapped[str] = mapped_column(String(40))
    fault_code: Mapped[str] = mapped_column(String(20))
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    result: Mapped[str] = mapped_column(String(30))
    import_id: Mapped[int] = mapped_column(
        ForeignKey("earlier_repair_imports.id", ondelete="RESTRICT")
    )

    def __str__(self) -> str:
        return self.ticket_no


def template_bytes() -> bytes:
    return template(
        SHEET,
        COLUMNS,
        {
            "station_code": "HA-ZZ-0001",
            "ticket_no": "OLD-2025-0001",
            "serial_no": "P30000000001",
            "device_model": "P30",
            "fault_code": "D01",
            "completed_at": "2025-12-30 16:00",
            "result": "repaired",
        },
    )


def _check_row(number: int, raw: dict, stations: dict[str, int], tz):
    """(problems, clean values) of one row."""
    problems = []

    def refuse(field, message):
        problems.append(problem(number, BY_FIELD[field], message))

    for column in COLUMNS:
        value = raw.get(column.field)
        text = str(value or "").strip()
        if not text:
            refuse(column.field, _l("Required."))
        elif report_rules.CONTROL_CHARS.search(text):
            refuse(column.field, _l("Contains control characters."))
        elif len(text) > 40:
            refuse(column.field, _l("At most %(n)d characters.", n=40))
    if problems:
        return problems, None
    code = str(raw["station_code"]).strip().upper()
    if code not in stations:
        refuse("station_code", _l("No station with this code."))
    completed = None
    try:
        completed = report_rules.parse_datetime(raw["completed_at"], tz)
    except ValueError:
        refuse("completed_at", _l("Write a date and time like 2025-12-30 16:00."))
    result = str(raw["result"]).strip()
    result = RESULT_WORDS.get(result, result.lower())
    if result not in RESULTS:
        refuse(
            "result",
            _l("Write repaired, returned_to_factory, no_fault_found or unrepairable."),
        )
    if problems:
        return problems, None
    return [], {
        "station_id": stations[code],
        "ticket_no": str(raw["ticket_no"]).strip(),
        "serial_no": report_rules.normalize_serial(raw["serial_no"]),
        "device_model": str(raw["device_model"]).strip().upper(),
        "fault_code": str(raw["fault_code"]).strip().upper(),
        "completed_at": completed,
        "result": result,
    }


def _check(rows, stations: dict[str, int], tz) -> tuple[list[dict], list[tuple[int, dict]]]:
    problems, clean = [], []
    seen: dict[tuple[int, str], int] = {}
    for number, raw in rows:
        found, values = _check_row(number, raw, stations, tz)
        problems.extend(found)
        if values is None:
            continue
        key = (values["station_id"], values["ticket_no"])
        if key in seen:
            problems.append(
                problem(
                    number,
                    BY_FIELD["ticket_no"],
                    _l("The same ticket is on row %(row)d.", row=seen[key]),
                )
            )
            continue
        seen[key] = number
        clean.append((number, values))
    return problems, clean


def import_earlier_repairs(actor, filename: str, data: bytes) -> EarlierRepairImport:
    """Check every row, then add the new ones; ImportRefused lists every bad row.

    A row whose station and ticket are already imported with the same facts is skipped; with
    different facts it is refused (an earlier repair is not edited by importing it again).
    """
    from portal.stations.models import Station

    actor = require_actor(actor)
    if not can(actor, Permission.MANAGE_STATIONS):
        raise PermissionDenied(_l("Only HQ imports earlier repairs."))
    rows = read_rows(data, SHEET, COLUMNS)
    stations = dict(db.session.execute(select(Station.code, Station.id)).all())
    problems, clean = _check(rows, stations, local_tz())
    existing = {}
    if clean:
        for row in db.session.execute(
            select(EarlierRepair).where(
                EarlierRepair.station_id.in_({v["station_id"] for _n, v in clean}),
                EarlierRepair.ticket_no.in_({v["ticket_no"] for _n, v in clean}),
            )
        ).scalars():
            existing[(row.station_id, row.ticket_no)] = row
    new = []
    for number, values in clean:
        old = existing.get((values["station_id"], values["ticket_no"]))
        if old is None:
            new.append(values)
        elif any(getattr(old, k) != v for k, v in values.items()):
            problems.append(
                problem(
                    number,
                    BY_FIELD["ticket_no"],
                    _l("This ticket was imported before with other facts."),
                )
            )
    if problems:
        raise ImportRefused(
            _l(
                "Nothing was imported: %(n)d rows have problems.",
                n=len({p["row"] for p in problems}),
            ),
            problems,
        )
    batch = EarlierRepairImport(
        filename=(filename or "import.xlsx")[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        row_count=len(rows),
        added_count=len(new),
        created_by_id=getattr(actor, "id", None)
        if isinstance(getattr(actor, "id", None), int)
        else None,
        created_by_name=getattr(actor, "username", "") or "system",
    )
    db.session.add(batch)
    db.session.flush()
    if new:
        db.session.execute(
            EarlierRepair.__table__.insert(), [{**v, "import_id": batch.id} for v in new]
        )
    audit.record_created("settlement.earlier_repairs_imported", batch, actor=actor)
    return batch


def recent_imports(limit: int = 20) -> list[EarlierRepairImport]:
    return list(
        db.session.execute(
            select(EarlierRepairImport).order_by(EarlierRepairImport.id.desc()).limit(limit)
        ).scalars()
    )


def repaired_between(low: dt.datetime, high: dt.datetime):
    """(serial, fault code, completed_at) of earlier repairs with result repaired in [low, high)."""
    return db.session.execute(
        select(EarlierRepair.serial_no, EarlierRepair.fault_code, EarlierRepair.completed_at).where(
            EarlierRepair.result == "repaired",
            EarlierRepair.completed_at >= low,
            EarlierRepair.completed_at < high,
        )
    ).all()


def tickets_of(station_ids) -> set[tuple[int, str]]:
    """(station, ticket) pairs used before the portal, for the duplicate-ticket rule."""
    return set(
        db.session.execute(
            select(EarlierRepair.station_id, EarlierRepair.ticket_no).where(
                EarlierRepair.station_id.in_(list(station_ids))
            )
        ).all()
    )
