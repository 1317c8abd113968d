"""Safe xlsx: writing where user text never becomes a formula, reading that finds formulas.

Writing streams rows through XlsxWriter (see PERF.md); a sheet that would pass Excel's row
limit continues on a next sheet. Reading uses python-calamine for the values (fast) and the
sheet's XML for formula cells, which calamine does not report.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET  # noqa: S405 - parses only zip members we size-check

import xlsxwriter
from python_calamine import CalamineWorkbook

EXCEL_MAX_ROWS = 1_048_576
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MAX_UNCOMPRESSED = 300 * 1024 * 1024
NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


# --- writing -----------------------------------------------------------------------------


def new_workbook(target, *, constant_memory: bool = False) -> xlsxwriter.Workbook:
    """An XlsxWriter workbook that never turns text into formulas, numbers or links."""
    return xlsxwriter.Workbook(
        target,
        {
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "constant_memory": constant_memory,
            "remove_timezone": True,
            "in_memory": not constant_memory,
        },
    )


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would read the text as a formula if it were not forced to text."""
    return text.startswith(FORMULA_TRIGGERS)


@dataclass
class Formats:
    """The cell formats a sheet writer uses (created once per workbook)."""

    header: Any
    date: Any
    datetime: Any
    money: Any
    text: Any

    @classmethod
    def for_workbook(cls, workbook: xlsxwriter.Workbook) -> Formats:
        return cls(
            header=workbook.add_format({"bold": True, "bg_color": "#DCE6F1", "text_wrap": True}),
            date=workbook.add_format({"num_format": "yyyy-mm-dd"}),
            datetime=workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
            money=workbook.add_format({"num_format": "#,##0.00"}),
            text=workbook.add_format({"num_format": "@"}),
        )


def write_cell(sheet, row: int, col: int, value, formats: Formats, *, money: bool = False):
    """One value with its own type: text stays text, whatever it starts with."""
    if value is None or value == "":
        sheet.write_blank(row, col, None)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, Decimal):
        sheet.write_number(row, col, float(value), formats.money if money else None)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, formats.money if money else None)
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(row, col, value.replace(tzinfo=None), formats.datetime)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, value, formats.date)
    else:
        sheet.write_string(row, col, str(value))


def write_table(
    workbook: xlsxwriter.Workbook,
    name: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    widths: Sequence[int] | None = None,
    money_columns: Sequence[int] = (),
    max_rows: int = EXCEL_MAX_ROWS,
) -> int:
    """Stream rows into a sheet with a frozen, filtered header; overflow goes to name (2), ...

    Returns the number of data rows written.
    """
    formats = Formats.for_workbook(workbook)
    money = set(money_columns)
    per_sheet = max_rows - 1
    written = 0
    sheet = None
    sheet_no = 0
    row_in_sheet = 0

    def start_sheet():
        nonlocal sheet, sheet_no, row_in_sheet
        if sheet is not None:
            sheet.autofilter(0, 0, row_in_sheet, len(headers) - 1)
        sheet_no += 1
        sheet = workbook.add_worksheet(name if sheet_no == 1 else f"{name} ({sheet_no})")
        for col, header in enumerate(headers):
            sheet.write_string(0, col, header, formats.header)
            if widths:
                sheet.set_column(col, col, widths[col])
        sheet.freeze_panes(1, 0)
        row_in_sheet = 0

    start_sheet()
    for values in rows:
        if row_in_sheet >= per_sheet:
            start_sheet()
        row_in_sheet += 1
        for col, value in enumerate(values):
            write_cell(sheet, row_in_sheet, col, value, formats, money=col in money)
        written += 1
    sheet.autofilter(0, 0, max(row_in_sheet, 1), len(headers) - 1)
    return written


# --- reading -----------------------------------------------------------------------------


class WorkbookRefused(Exception):
    """The file cannot be read as the expected workbook; the message is for the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class SheetData:
    header: list
    rows: list[tuple[int, list]] = field(default_factory=list)  # (1-based row number, cells)


def _open_zip(data: bytes) -> zipfile.ZipFile:
    if not data:
        raise WorkbookRefused("empty")
    if not data.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise WorkbookRefused("not_xlsx")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise WorkbookRefused("not_xlsx") from exc
    if "xl/workbook.xml" not in names:
        raise WorkbookRefused("not_xlsx")
    if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED:
        raise WorkbookRefused("too_large")
    return archive


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML member in the archive."""
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314 - size-checked
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    targets = {rel.get("Id"): rel.get("Target") for rel in rels.iter(f"{NS_PKG_REL}Relationship")}
    paths = {}
    for sheet in workbook.iter(f"{NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{NS_REL}id"), "")
        if target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join("xl", target))
        paths[sheet.get("name")] = path
    return paths


FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def formula_cells(archive: zipfile.ZipFile, member: str, limit: int = 1000) -> list[str]:
    """References of the cells that hold a formula (up to limit)."""
    # Fast path: most sheets have no <f> element at all; only then is the XML parsed.
    with archive.open(member) as stream:
        tail = b""
        while chunk := stream.read(1 << 20):
            if FORMULA_TAG.search(tail + chunk):
                break
            tail = chunk[-16:]
        else:
            return []
    found = []
    with archive.open(member) as stream:
        for _event, elem in ET.iterparse(stream, events=("end",)):  # noqa: S314
            if elem.tag == f"{NS_MAIN}c":
                if elem.find(f"{NS_MAIN}f") is not None:
                    found.append(elem.get("r") or "?")
                    if len(found) >= limit:
                        break
                elem.clear()
    return found


def read_sheet(data: bytes, sheet_name: str, *, max_rows: int) -> SheetData:
    """The header and the non-blank rows of one sheet, refusing formulas and oversize files.

    WorkbookRefused carries a reason code: empty, not_xlsx, too_large, no_sheet:<names>,
    formulas:<refs>, too_many_rows, no_rows.
    """
    archive = _open_zip(data)
    try:
        paths = _sheet_paths(archive)
    except (KeyError, ET.ParseError) as exc:
        raise WorkbookRefused("not_xlsx") from exc
    if sheet_name not in paths:
        raise WorkbookRefused("no_sheet:" + ", ".join(paths))
    if paths[sheet_name] not in archive.namelist():
        raise WorkbookRefused("not_xlsx")
    try:
        formulas = formula_cells(archive, paths[sheet_name])
    except ET.ParseError as exc:
        raise WorkbookRefused("not_xlsx") from exc
    if formulas:
        raise WorkbookRefused("formulas:" + ", ".join(formulas[:50]))
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_name(sheet_name)
        iterator = sheet.iter_rows()
    except Exception as exc:  # calamine raises its own error types for broken files
        raise WorkbookRefused("not_xlsx") from exc
    header = None
    out = SheetData(header=[])
    for index, cells in enumerate(iterator):
        number = index + 1  # iter_rows starts at the sheet's first row, used or not
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        if header is None:
            header = list(cells)
            out.header = header
            continue
        out.rows.append((number, list(cells)))
        if len(out.rows) > max_rows:
            raise WorkbookRefused("too_many_rows")
    if not out.rows:
        raise WorkbookRefused("no_rows")
    return out
