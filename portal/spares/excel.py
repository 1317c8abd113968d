"""Excel for spare parts: the catalogue and opening-stock templates and their imports.

Both imports are all or nothing: every row is checked first, and if any is wrong nothing is
imported and every bad row is listed with its column, value and reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.core import audit
from portal.core import excel as xl
from portal.core.errors import DomainError
from portal.core.permissions import Permission
from portal.extensions import db
from portal.spares import catalogue, rules, stock
from portal.spares.locks import lock_station
from portal.spares.states import ImportKind, MovementSource, StockCondition
from portal.spares.stock_models import OpeningStock, Part, StockImport
from portal.stations.models import Station

PARTS_SHEET = "Parts"
OPENING_SHEET = "Opening stock"
MAX_PART_ROWS = 10_000
MAX_OPENING_ROWS = 50_000


@dataclass(frozen=True)
class Column:
    field: str
    zh: str
    en: str
    width: int

    @property
    def header(self) -> str:
        return f"{self.zh} / {self.en}"


PART_COLUMNS = (
    Column("part_no", "备件号", "Part no.", 16),
    Column("name", "名称", "Name", 30),
    Column("model_codes", "适用机型", "Fits models", 20),
    Column("unit_value", "单价(元)", "Unit value (CNY)", 16),
    Column("is_standby", "备用机", "Standby unit", 12),
)
OPENING_COLUMNS = (
    Column("station_code", "站点代码", "Station code", 16),
    Column("part_no", "备件号", "Part no.", 16),
    Column("good", "良品数量", "Good quantity", 14),
    Column("defective", "坏件数量", "Defective quantity", 16),
)

YES = {"yes", "y", "true", "1", "是", "x"}
NO = {"no", "n", "false", "0", "否", ""}


class ImportRejected(DomainError):
    """Nothing was imported; problems lists every bad row (row, field, value, message)."""

    def __init__(self, message, problems: list[dict]):
        super().__init__(message)
        self.problems = problems


def _key(text) -> str:
    return " ".join(str(text or "").split()).lower()


def _lookup(columns) -> dict[str, str]:
    out = {}
    for column in columns:
        for name in (column.header, column.zh, column.en, column.field):
            out[_key(name)] = column.field
    return out


def column_header(columns, field: str) -> str:
    for column in columns:
        if column.field == field:
            return column.header
    return field


# --- templates ---------------------------------------------------------------------------


def _template(sheet_name: str, columns, example_rows, notes) -> bytes:
    buffer = io.BytesIO()
    workbook = xl.new_workbook(buffer)
    formats = xl.Formats.for_workbook(workbook)
    sheet = workbook.add_worksheet(sheet_name)
    for col, column in enumerate(columns):
        sheet.set_column(col, col, column.width, formats.text)
        sheet.write_string(0, col, column.header, formats.header)
    for row, values in enumerate(example_rows, start=1):
        for col, value in enumerate(values):
            xl.write_cell(sheet, row, col, value, formats)
    sheet.freeze_panes(1, 0)
    guide = workbook.add_worksheet("Instructions")
    guide.set_column(0, 0, 70)
    guide.set_column(1, 1, 90)
    for row, (zh, en) in enumerate(notes):
        guide.write_string(row, 0, zh)
        guide.write_string(row, 1, en)
    sheet.activate()
    workbook.close()
    return buffer.getvalue()


COMMON_NOTES = [
    (
        "不要修改第 1 行的表头；不要使用公式。",
        "Do not change the header in row 1; do not use formulas.",
    ),
    (
        "文件整体检查：只要有一行有错，整个文件都不会导入，并列出所有错误。",
        "The file is checked whole: if any row is wrong, nothing is imported and every error "
        "is listed.",
    ),
]


def parts_template() -> bytes:
    """The catalogue import template, with the current catalogue as its rows."""
    parts = db.session.execute(select(Part).order_by(Part.part_no)).scalars()
    rows = [
        (
            p.part_no,
            p.name,
            ", ".join(p.model_codes),
            f"{p.unit_value:.2f}",
            "yes" if p.is_standby else "no",
        )
        for p in parts
    ]
    notes = [
        *COMMON_NOTES,
        (
            "已有的备件号会被更新，新的备件号会被添加。",
            "A part number already in the catalogue is updated; a new one is added.",
        ),
        (
            "适用机型写机型代码，多个用逗号分隔；单价最多两位小数；备用机填 yes 或 no。",
            "Fits models: device model codes separated by commas; the unit value has at most "
            "two decimals; standby unit: yes or no.",
        ),
    ]
    return _template(PARTS_SHEET, PART_COLUMNS, rows, notes)


def opening_template() -> bytes:
    notes = [
        *COMMON_NOTES,
        (
            "每行一个站点的一种备件：良品和坏件数量（整数，0 或以上）。",
            "One row per station and part: its good and defective quantities (whole numbers, "
            "0 or more).",
        ),
        (
            "每个站点的期初库存只能导入一次；之后的差异请用盘点更正。",
            "A station's opening stock is imported once; later differences are corrected by a "
            "stock count.",
        ),
    ]
    return _template(OPENING_SHEET, OPENING_COLUMNS, [], notes)


# --- reading -----------------------------------------------------------------------------

REFUSALS = {
    "empty": _l("The file is empty."),
    "not_xlsx": _l("This is not an Excel workbook (.xlsx). Save it as .xlsx and upload again."),
    "too_large": _l("The file is too large to read."),
    "no_rows": _l("The sheet has no rows below its header."),
    "too_many_rows": _l("Too many rows; split the file."),
}


def _refusal(reason: str, sheet_name: str):
    code, _sep, detail = reason.partition(":")
    if code == "no_sheet":
        return _l(
            "The workbook has no sheet named %(sheet)s (it has: %(found)s). Use the portal's "
            "template.",
            sheet=sheet_name,
            found=detail or "-",
        )
    if code == "formulas":
        return _l(
            "Formulas are not accepted; type the values instead. Formula cells: %(cells)s.",
            cells=detail,
        )
    return REFUSALS.get(code, REFUSALS["not_xlsx"])


def read_rows(data: bytes, sheet_name: str, columns, max_rows: int) -> list[tuple[int, dict]]:
    """(row number, values by field) of a sheet whose header matches the columns."""
    try:
        sheet = xl.read_sheet(data, sheet_name, max_rows=max_rows)
    except xl.WorkbookRefused as exc:
        raise DomainError(_refusal(exc.message, sheet_name)) from exc
    lookup = _lookup(columns)
    positions: dict[str, int] = {}
    unknown = []
    for index, header in enumerate(sheet.header):
        key = _key(header)
        if not key:
            continue
        name = lookup.get(key)
        if name is None:
            unknown.append(str(header))
        elif name not in positions:
            positions[name] = index
    missing = [c.header for c in columns if c.field not in positions]
    if missing or unknown:
        detail = []
        if missing:
            detail.append(str(_l("missing columns: %(cols)s", cols="; ".join(missing))))
        if unknown:
            detail.append(str(_l("unknown columns: %(cols)s", cols="; ".join(unknown))))
        raise DomainError(
            _l(
                "The header row does not match the template (%(detail)s). Use the portal's "
                "template.",
                detail="; ".join(detail),
            )
        )
    rows = []
    for number, cells in sheet.rows:
        values = {}
        for name, index in positions.items():
            value = cells[index] if index < len(cells) else None
            if isinstance(value, str):
                value = value.strip()
            values[name] = None if value == "" else value
        rows.append((number, values))
    return rows


def _problem(row, field, value, message) -> dict:
    if value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)
    if isinstance(value, str):
        value = value[:200]
    return {"row": row, "field": field, "value": value, "message": str(message)}


def _rejected(problems: list[dict]) -> ImportRejected:
    return ImportRejected(
        _l(
            "Nothing was imported: %(n)d problems in %(r)d rows.",
            n=len(problems),
            r=len({p["row"] for p in problems}),
        ),
        sorted(problems, key=lambda p: p["row"] or 0),
    )


def _record_import(actor, kind: ImportKind, filename: str, data: bytes, rows: int) -> StockImport:
    entry = StockImport(
        kind=kind,
        filename=(rules.CONTROL_CHARS.sub("", filename or "") or "import.xlsx")[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        row_count=rows,
        imported_by_id=getattr(actor, "id", None),
        imported_by_name=stock.actor_name(actor),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


# --- parts catalogue ---------------------------------------------------------------------


@dataclass
class ImportResult:
    rows: int
    created: int = 0
    changed: int = 0
    stations: int = 0


def _standby(value) -> bool | None:
    text = _key(value)
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def import_parts(actor, filename: str, data: bytes) -> ImportResult:
    """Create or update catalogue parts from a workbook: all rows, or none."""
    catalogue.require(actor, Permission.MANAGE_PARTS, _l("You may not import parts."))
    rows = read_rows(data, PARTS_SHEET, PART_COLUMNS, MAX_PART_ROWS)
    models = catalogue.device_model_codes()
    problems = []
    checked = []
    seen: dict[str, int] = {}
    for number, raw in rows:
        standby = _standby(raw.get("is_standby"))
        if standby is None:
            problems.append(
                _problem(number, "is_standby", raw.get("is_standby"), _l("Write yes or no."))
            )
        values, found = catalogue.check_part_values(
            {**raw, "is_standby": bool(standby), "active": True}, models
        )
        problems += [_problem(number, f, v, m) for f, m, v in found]
        if values is None:
            continue
        if values.part_no in seen:
            problems.append(
                _problem(
                    number,
                    "part_no",
                    values.part_no,
                    _l(
                        "The part number appears twice (also row %(row)s).",
                        row=seen[values.part_no],
                    ),
                )
            )
            continue
        seen[values.part_no] = number
        checked.append((number, values.__dict__))
    if problems:
        raise _rejected(problems)
    created, changed = catalogue.import_parts(actor, checked)
    entry = _record_import(actor, ImportKind.CATALOGUE, filename, data, len(rows))
    audit.record(
        "spare_part.imported",
        entry,
        actor=actor,
        after={"rows": len(rows), "created": created, "changed": changed, "sha256": entry.sha256},
    )
    return ImportResult(rows=len(rows), created=created, changed=changed)


# --- opening stock -----------------------------------------------------------------------


def _code(value) -> str:
    """A station code as stored (control characters, which no code has, removed)."""
    return rules.CONTROL_CHARS.sub("", str(value or "")).strip().upper()[:20]


def import_opening_stock(
    actor, filename: str, data: bytes, as_of: dt.date | None = None
) -> ImportResult:
    """Each station's opening good and defective stock, as ledger movements: all or nothing.

    Not limited by the coverage cap (SPEC 7); a station's opening stock is imported once.
    as_of (today or earlier) is the day the stock was held: the return period of the
    defective parts counts from it.
    """
    from portal.core.dates import local_tz

    moved_at = None
    if as_of is not None:
        if as_of > catalogue.local_today():
            raise DomainError(_l("The opening date cannot be in the future."), field="as_of")
        moved_at = dt.datetime.combine(as_of, dt.time(0), tzinfo=local_tz())
    catalogue.require(actor, Permission.MANAGE_PARTS, _l("You may not import opening stock."))
    rows = read_rows(data, OPENING_SHEET, OPENING_COLUMNS, MAX_OPENING_ROWS)
    codes = {_code(r.get("station_code")) for _n, r in rows}
    stations = dict(
        db.session.execute(select(Station.code, Station.id).where(Station.code.in_(codes))).all()
    )
    parts = catalogue.part_ids_by_number(
        rules.normalize_part_no(r.get("part_no")) for _n, r in rows
    )
    done = set(
        db.session.execute(
            select(OpeningStock.station_id).where(OpeningStock.station_id.in_(stations.values()))
        ).scalars()
    )
    problems = []
    seen: dict[tuple[int, int], int] = {}
    plan: dict[int, list[tuple[int, int, int]]] = {}
    for number, raw in rows:
        code = _code(raw.get("station_code"))
        station_id = stations.get(code)
        ok = True
        if station_id is None:
            problems.append(
                _problem(number, "station_code", raw.get("station_code"), _l("No such station."))
            )
            ok = False
        elif station_id in done:
            problems.append(
                _problem(
                    number,
                    "station_code",
                    code,
                    _l(
                        "This station's opening stock is already imported; correct it with a "
                        "stock count."
                    ),
                )
            )
            ok = False
        part_no = rules.normalize_part_no(raw.get("part_no"))
        part_id = parts.get(part_no)
        if part_id is None:
            problems.append(
                _problem(
                    number, "part_no", raw.get("part_no"), _l("No such part in the catalogue.")
                )
            )
            ok = False
        quantities = []
        for name in ("good", "defective"):
            value = raw.get(name)
            try:
                quantities.append(
                    0 if value is None else rules.parse_quantity(value, allow_zero=True)
                )
            except ValueError:
                problems.append(_problem(number, name, value, _l("A whole number, 0 or more.")))
                ok = False
        if not ok:
            continue
        if (station_id, part_id) in seen:
            problems.append(
                _problem(
                    number,
                    "part_no",
                    part_no,
                    _l(
                        "This station and part appear twice (also row %(row)s).",
                        row=seen[(station_id, part_id)],
                    ),
                )
            )
            continue
        seen[(station_id, part_id)] = number
        plan.setdefault(station_id, []).append((part_id, quantities[0], quantities[1]))
    if problems:
        raise _rejected(problems)
    entry = _record_import(actor, ImportKind.OPENING, filename, data, len(rows))
    try:
        with db.session.begin_nested():
            for station_id in sorted(plan):
                lock_station(station_id)
                db.session.add(OpeningStock(station_id=station_id, import_id=entry.id))
                db.session.flush()
                moves = []
                for part_id, good, defective in plan[station_id]:
                    for condition, quantity in (
                        (StockCondition.GOOD, good),
                        (StockCondition.DEFECTIVE, defective),
                    ):
                        if quantity:
                            moves.append(
                                stock.Move(
                                    part_id,
                                    condition,
                                    quantity,
                                    MovementSource.OPENING,
                                    entry.id,
                                    moved_at=moved_at,
                                )
                            )
                stock.append_movements(actor, station_id, moves)
    except IntegrityError as exc:
        raise DomainError(
            _l(
                "Another import of opening stock for some of these stations was stored "
                "meanwhile; nothing was imported. Import again to see which."
            )
        ) from exc
    audit.record(
        "stock.opening_imported",
        entry,
        actor=actor,
        after={"rows": len(rows), "stations": len(plan), "sha256": entry.sha256},
    )
    return ImportResult(rows=len(rows), stations=len(plan))


def error_workbook(problems: list[dict], columns) -> bytes:
    """Every problem of a rejected import: row, column, value, reason."""
    buffer = io.BytesIO()
    workbook = xl.new_workbook(buffer)
    xl.write_table(
        workbook,
        "Errors",
        ["行 / Row", "列 / Column", "值 / Value", "原因 / Reason"],
        (
            (p.get("row"), column_header(columns, p.get("field")), p.get("value"), p.get("message"))
            for p in problems
        ),
        widths=[8, 28, 28, 70],
    )
    workbook.close()
    return buffer.getvalue()
