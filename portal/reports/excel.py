"""The daily-report Excel template, the upload (checked whole) and the records export."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from portal.core import excel as xl
from portal.core.dates import local_tz
from portal.core.errors import DomainError
from portal.extensions import db
from portal.reports import rules, services
from portal.reports.models import RepairRecord, UploadBatch
from portal.reports.states import Location, Payment, RecordSource, UploadOutcome
from portal.stations.models import Station

RECORDS_SHEET = "Records"
CODES_SHEET = "Codes"
INSTRUCTIONS_SHEET = "Instructions"


@dataclass(frozen=True)
class Column:
    field: str
    zh: str
    en: str
    width: int
    kind: str = "text"  # text, datetime, date, code, int

    @property
    def header(self) -> str:
        return f"{self.zh} / {self.en}"


# Headers carry both languages, so one template serves every user.
COLUMNS = (
    Column("ticket_no", "工单号", "Ticket no.", 16),
    Column("received_at", "接收时间", "Received at", 18, "datetime"),
    Column("completed_at", "完成时间", "Completed at", 18, "datetime"),
    Column("customer_name", "客户姓名", "Customer name", 14),
    Column("customer_phone", "客户电话", "Customer phone", 16),
    Column("device_model", "机型", "Device model", 14, "code"),
    Column("serial_no", "序列号", "Serial no.", 18),
    Column("purchase_on", "购买日期", "Purchase date", 13, "date"),
    Column("warranty", "保修/付费", "Warranty or paid", 12, "code"),
    Column("fault_code", "故障代码", "Fault code", 12, "code"),
    Column("repair_type", "维修类型", "Repair type", 16, "code"),
    Column("on_site", "上门/店内", "On site or in store", 12, "code"),
    Column("outside_home_city", "驻地城市以外", "Outside home city", 12, "code"),
    Column("parts", "使用备件", "Parts used", 26),
    Column("standby_serial", "备用机序列号", "Standby unit serial", 18),
    Column("result", "维修结果", "Result", 18, "code"),
    Column("satisfaction", "满意度(1-5)", "Satisfaction (1-5)", 10, "int"),
    Column("return_visit_on", "回访日期", "Return visit date", 13, "date"),
    Column("return_visit_outcome", "回访结果", "Return visit outcome", 24),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
if tuple(COLUMN_BY_FIELD) != rules.RECORD_FIELDS:  # the template's columns are the record's fields
    raise RuntimeError("reports.excel.COLUMNS must follow rules.RECORD_FIELDS")
TEMPLATE_ROWS = 5000
OPTIONAL_FIELDS = frozenset({"outside_home_city"})


def _header_key(text) -> str:
    return " ".join(str(text or "").split()).lower()


HEADER_LOOKUP = {}
for _c in COLUMNS:
    for _name in (_c.header, _c.zh, _c.en, _c.field):
        HEADER_LOOKUP[_header_key(_name)] = _c.field


# --- the template ------------------------------------------------------------------------


INSTRUCTIONS = [
    ("如何填写 / How to fill in", None),
    (
        "每行一条维修记录，从第 2 行开始填写，不要修改第 1 行的表头。",
        "One repair record per row, from row 2 on; do not change the header in row 1.",
    ),
    (
        "时间写成 2026-11-20 09:30，日期写成 2026-11-20（北京时间）。",
        "Write times as 2026-11-20 09:30 and dates as 2026-11-20 (China time).",
    ),
    (
        "带下拉框的列只能填写下拉框中的代码；代码含义见 Codes 工作表。",
        "Columns with a drop-down take only its codes; the Codes sheet says what they mean.",
    ),
    (
        "使用备件写成 备件号*数量，有旧件序列号时写成 备件号*数量#旧件序列号，多个用分号分隔，"
        "例如 LCD-A1*1#OLD123; SCREW-M2*4。",
        "Parts: PART*QTY, or PART*QTY#FAULTY-SERIAL when the faulty part has a serial; "
        "separate several with ; for example LCD-A1*1#OLD123; SCREW-M2*4.",
    ),
    (
        "保修维修必须填写购买日期；备机更换必须填写备用机序列号；满意度为 1 到 5。",
        "A warranty repair needs the purchase date; a unit swap needs the standby unit's serial; "
        "satisfaction is 1 to 5.",
    ),
    (
        "不要使用公式；每个文件最多 5000 行；同一文件不能重复上传。",
        "No formulas; at most 5,000 rows per file; the same file cannot be uploaded twice.",
    ),
    (
        "文件整体检查：只要有一行有错，整个文件都不会导入，并列出所有错误。",
        "The file is checked whole: if any row is wrong, nothing is imported and every error "
        "is listed.",
    ),
]


def _code_lists(catalogues: dict[str, list]) -> dict[str, list[tuple[str, str]]]:
    """For each coded column: (code, meaning in both languages)."""
    return {
        "device_model": [(m.code, m.name) for m in catalogues["models"]],
        "warranty": [(Payment.WARRANTY, "保修 / Warranty"), (Payment.PAID, "付费 / Paid")],
        "fault_code": [
            (f.code, f"{f.name_zh} / {f.name_en} [{f.category}]") for f in catalogues["faults"]
        ],
        "repair_type": [(t.code, f"{t.name_zh} / {t.name_en}") for t in catalogues["types"]],
        "on_site": [(Location.ONSITE, "上门 / On site"), (Location.INSTORE, "店内 / In store")],
        "outside_home_city": [("no", "否 / No"), ("yes", "是 / Yes (travel allowance)")],
        "result": [(r.code, f"{r.name_zh} / {r.name_en}") for r in catalogues["results"]],
    }


def build_template() -> bytes:
    """The upload template: bilingual headers, drop-downs, date formats, instructions."""
    catalogues = {kind: services.catalogue_entries(kind, True) for kind in services.CATALOGUE_KINDS}
    lists = _code_lists(catalogues)
    buffer = io.BytesIO()
    workbook = xl.new_workbook(buffer)
    formats = xl.Formats.for_workbook(workbook)
    sheet = workbook.add_worksheet(RECORDS_SHEET)
    codes = workbook.add_worksheet(CODES_SHEET)
    guide = workbook.add_worksheet(INSTRUCTIONS_SHEET)

    code_col = 0
    ranges = {}
    for name, entries in lists.items():
        column = COLUMN_BY_FIELD[name]
        codes.write_string(0, code_col, column.header, formats.header)
        codes.write_string(0, code_col + 1, "含义 / Meaning", formats.header)
        for i, (code, meaning) in enumerate(entries, start=1):
            codes.write_string(i, code_col, code)
            codes.write_string(i, code_col + 1, meaning)
        codes.set_column(code_col, code_col, 18)
        codes.set_column(code_col + 1, code_col + 1, 34)
        letter = xl.xlsx_col(code_col)
        ranges[name] = f"={CODES_SHEET}!${letter}$2:${letter}${max(2, len(entries) + 1)}"
        code_col += 3
    codes.freeze_panes(1, 0)

    last = TEMPLATE_ROWS
    for col, column in enumerate(COLUMNS):
        fmt = {"datetime": formats.datetime, "date": formats.date}.get(column.kind, formats.text)
        if column.kind == "int":
            fmt = None
        sheet.set_column(col, col, column.width, fmt)
        sheet.write_string(0, col, column.header, formats.header)
        if column.kind == "code":
            sheet.data_validation(
                1,
                col,
                last,
                col,
                {
                    "validate": "list",
                    "source": ranges[column.field],
                    "error_title": "代码无效 / Invalid code",
                    "error_message": "请从下拉框选择 / Choose from the list",
                },
            )
        elif column.kind == "int":
            sheet.data_validation(
                1,
                col,
                last,
                col,
                {
                    "validate": "integer",
                    "criteria": "between",
                    "minimum": 1,
                    "maximum": 5,
                    "ignore_blank": True,
                    "error_message": "1-5",
                },
            )
        elif column.kind in ("date", "datetime"):
            sheet.data_validation(
                1,
                col,
                last,
                col,
                {
                    "validate": "date",
                    "criteria": "between",
                    "minimum": dt.date(2000, 1, 1),
                    "maximum": dt.date(2099, 12, 31),
                    "ignore_blank": True,
                    "error_message": "2026-11-20 09:30",
                },
            )
    sheet.set_row(0, 32)
    sheet.freeze_panes(1, 0)

    guide.set_column(0, 0, 70)
    guide.set_column(1, 1, 90)
    for row, (zh, en) in enumerate(INSTRUCTIONS):
        guide.write_string(row, 0, zh, formats.header if en is None else None)
        if en:
            guide.write_string(row, 1, en)
    row = len(INSTRUCTIONS) + 1
    guide.write_string(row, 0, "列 / Column", formats.header)
    guide.write_string(row, 1, "必填 / Required", formats.header)
    optional = {
        "parts",
        "standby_serial",
        "purchase_on",
        "satisfaction",
        "return_visit_on",
        "return_visit_outcome",
    }
    for i, column in enumerate(COLUMNS, start=row + 1):
        guide.write_string(i, 0, column.header)
        guide.write_string(i, 1, "否 / No" if column.field in optional else "是 / Yes")
    sheet.activate()
    workbook.close()
    return buffer.getvalue()


# --- the upload --------------------------------------------------------------------------


REFUSALS = {
    "empty": _l("The file is empty."),
    "not_xlsx": _l("This is not an Excel workbook (.xlsx). Save it as .xlsx and upload again."),
    "too_large": _l(
        "The file is too large to read: a part of it unpacks to more than %(mb)d MB, or all of "
        "it to more than %(total)d MB.",
        mb=xl.MAX_PART_BYTES // (1024 * 1024),
        total=xl.MAX_UNCOMPRESSED // (1024 * 1024),
    ),
    "no_rows": _l("The sheet %(sheet)s has no records."),
    "too_many_rows": _l("More than %(n)d rows; split the file and upload the parts."),
}


def refusal_message(reason: str):
    """The user's message for a WorkbookRefused reason code."""
    code, _sep, detail = reason.partition(":")
    if code == "no_sheet":
        return _l(
            "The workbook has no sheet named %(sheet)s (it has: %(found)s). Use the portal's "
            "template.",
            sheet=RECORDS_SHEET,
            found=detail or "-",
        )
    if code == "formulas":
        return _l(
            "Formulas are not accepted; type the values instead. Formula cells: %(cells)s.",
            cells=detail,
        )
    if code == "no_rows":
        return _l("The sheet %(sheet)s has no records.", sheet=RECORDS_SHEET)
    if code == "cell_too_long":
        return _l(
            "A cell holds more than %(n)d characters%(where)s; no field of a record is that long.",
            n=xl.MAX_CELL_CHARS,
            where=f" ({detail})" if detail else "",
        )
    if code == "hidden_sheets":
        return _l(
            "The workbook has hidden sheets (%(sheets)s). Show or delete them, so that everything "
            "uploaded has been seen, and upload again.",
            sheets=detail,
        )
    if code == "hidden_cells":
        return _l(
            "Hidden rows or columns hold values (cells %(cells)s). Show or delete them, so that "
            "everything uploaded has been seen, and upload again.",
            cells=detail,
        )
    if code == "too_many_rows":
        return _l(
            "More than %(n)d rows; split the file and upload the parts.",
            n=services.MAX_BATCH_ROWS,
        )
    return REFUSALS.get(code, REFUSALS["not_xlsx"])


class UploadRefused(DomainError):
    """The whole file was refused before its rows were looked at."""


def parse_upload(data: bytes) -> list[tuple[int, dict]]:
    """The rows of an uploaded template as (row number, raw values by field)."""
    try:
        sheet = xl.read_sheet(data, RECORDS_SHEET, max_rows=services.MAX_BATCH_ROWS)
    except xl.WorkbookRefused as exc:
        raise UploadRefused(refusal_message(exc.message)) from exc
    positions = {}
    unknown = []
    for index, header in enumerate(sheet.header):
        key = _header_key(header)
        if not key:
            continue
        name = HEADER_LOOKUP.get(key)
        if name is None:
            unknown.append(str(header))
        elif name not in positions:
            positions[name] = index
    # A template downloaded before the travel column existed still uploads (read as "no").
    missing = [
        c.header for c in COLUMNS if c.field not in positions and c.field not in OPTIONAL_FIELDS
    ]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(str(_l("missing columns: %(cols)s", cols="; ".join(missing))))
        if unknown:
            parts.append(str(_l("unknown columns: %(cols)s", cols="; ".join(unknown))))
        raise UploadRefused(
            _l(
                "The header row does not match the template (%(detail)s). Use the portal's "
                "template.",
                detail="; ".join(parts),
            )
        )
    rows = []
    for number, cells in sheet.rows:
        raw = {}
        for name, index in positions.items():
            value = cells[index] if index < len(cells) else None
            raw[name] = None if value == "" else value
        rows.append((number, raw))
    return rows


@dataclass
class UploadOutcomeResult:
    batch: UploadBatch
    imported: bool


def upload(actor, station: Station, day: dt.date, filename: str, data: bytes, submit=False):
    """Check a file whole and import all its rows into the day's report, or none.

    Returns the UploadBatch (imported or rejected); refusals are kept with their errors.
    """
    digest = hashlib.sha256(data).hexdigest()
    services.check_station_user(actor, station.id)
    earlier = services.imported_upload(station.id, digest)
    if earlier is not None:
        raise DomainError(
            _l(
                "This file was already imported on %(when)s (for %(day)s); it was not imported "
                "again.",
                when=earlier.uploaded_at.astimezone(local_tz()).strftime("%Y-%m-%d %H:%M"),
                day=earlier.report_on.isoformat(),
            )
        )
    try:
        rows = parse_upload(data)
    except UploadRefused as exc:
        return services.record_upload(
            actor,
            station.id,
            day,
            filename,
            digest,
            UploadOutcome.REJECTED,
            message=str(exc.message),
        )
    try:
        report, result = services.file_day_report(
            actor, station, day, rows, RecordSource.EXCEL, submit=submit
        )
    except services.RecordsRejected as exc:
        return services.record_upload(
            actor,
            station.id,
            day,
            filename,
            digest,
            UploadOutcome.REJECTED,
            row_count=len(rows),
            message=str(exc.message),
            errors=exc.problems,
        )
    # Two uploads of the same file at once: the unique digest lets one win; the other's
    # IntegrityError at commit rolls back everything it did (the view reports it).
    return services.record_upload(
        actor,
        station.id,
        day,
        filename,
        digest,
        UploadOutcome.IMPORTED,
        report=report,
        row_count=len(rows),
        warnings=result.warnings,
        message=str(_l("%(n)d records imported.", n=len(rows))),
    )


def field_header(name: str) -> str:
    column = COLUMN_BY_FIELD.get(name)
    return column.header if column else name


def error_workbook(batch: UploadBatch) -> bytes:
    """Every problem of a rejected upload: row, column, value, reason."""
    buffer = io.BytesIO()
    workbook = xl.new_workbook(buffer)
    rows = (
        (
            e.get("row"),
            field_header(e.get("field")),
            rules.mask_personal(e.get("field") or "", e.get("value")),
            e.get("message"),
        )
        for e in (batch.errors or [])
    )
    xl.write_table(
        workbook,
        "Errors",
        ["行 / Row", "列 / Column", "值 / Value", "原因 / Reason"],
        rows,
        widths=[8, 28, 28, 70],
    )
    if batch.message and not batch.errors:
        sheet = workbook.add_worksheet("Message")
        sheet.write_string(0, 0, batch.message)
    workbook.close()
    return buffer.getvalue()


# --- export ------------------------------------------------------------------------------


EXPORT_HEADERS = [
    "站点代码 / Station code",
    "日报日期 / Report date",
    *[c.header for c in COLUMNS],
]


NAMED_COLUMNS = {
    "device_model": "models",
    "fault_code": "faults",
    "repair_type": "types",
    "result": "results",
}


def export_records(stmt: Select, target) -> int:
    """Stream filtered records into an xlsx (customer name and phone masked)."""
    from portal.core.names import catalogue_name
    from portal.core.workflow import LabelledEnum

    tz = local_tz()
    codes = dict(db.session.execute(select(Station.id, Station.code)).all())
    workbook = xl.new_workbook(target, constant_memory=True)

    def named(fields: dict) -> list:
        # Names, never codes: the catalogue columns carry the names in the user's language.
        for key, kind in NAMED_COLUMNS.items():
            code = fields.get(key)
            if code:
                name = catalogue_name(kind, code)
                fields[key] = f"{code} {name}" if kind == "faults" else name
        return [str(v.label) if isinstance(v, LabelledEnum) else v for v in fields.values()]

    def rows():
        page = stmt.order_by(RepairRecord.received_at, RepairRecord.id).options(
            selectinload(RepairRecord.parts), selectinload(RepairRecord.report)
        )
        for record in db.session.execute(page.execution_options(yield_per=1000)).scalars():
            yield (
                codes.get(record.station_id, ""),
                record.report.report_on,
                *named(rules.record_fields(record, tz, masked=True)),
            )

    count = xl.write_table(
        workbook,
        "Records",
        EXPORT_HEADERS,
        rows(),
        widths=[12, 12, *[c.width for c in COLUMNS]],
    )
    workbook.close()
    return count
