"""Safe xlsx: writing where user text never becomes a formula, reading that finds formulas.

Writing streams rows through XlsxWriter (see PERF.md); a sheet that would pass Excel's row
limit continues on a next sheet. Reading first looks at the file itself, within fixed bounds:
every part of the zip is measured (declared and actual size) before anything is parsed, a text
run longer than a cell may be is refused while streaming, XML is parsed with defusedxml, and
formula cells and hidden sheets, rows and columns are found in the XML. Only then does
python-calamine read the values (fast; it does not report formulas).
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import defusedxml.ElementTree as SafeET
import xlsxwriter
from defusedxml import DefusedXmlException
from python_calamine import CalamineWorkbook

EXCEL_MAX_ROWS = 1_048_576
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Bounds of an upload, checked before any part is parsed.
MAX_PARTS = 500  # members of the zip
MAX_PART_BYTES = 32 * 1024 * 1024  # one member, uncompressed
MAX_UNCOMPRESSED = 100 * 1024 * 1024  # all members, uncompressed
MAX_CELL_CHARS = 2000  # characters of one cell
# A run of XML text without markup longer than this holds a cell of more than MAX_CELL_CHARS
# characters whatever its escapes (an escape such as &#x10FFFF; is at most 10 bytes a character).
MAX_TEXT_RUN = MAX_CELL_CHARS * 10
CHUNK = 1 << 20
NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
XML_ERRORS = (SafeET.ParseError, DefusedXmlException, ValueError)


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
    """The file cannot be read as the expected workbook.

    message is a reason code (empty, not_xlsx, too_large, cell_too_long[:ref],
    hidden_sheets:<names>, hidden_cells:<refs>, no_sheet:<names>, formulas:<refs>,
    too_many_rows, no_rows); the caller words it for the user.
    """

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class SheetData:
    header: list
    rows: list[tuple[int, list]] = field(default_factory=list)  # (1-based row number, cells)


@dataclass
class _PartScan:
    """What streaming one XML part found: formula tags, hidden-marking attributes."""

    has_formulas: bool = False
    has_hidden: bool = False


FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
HIDDEN_MARK = re.compile(rb'\b(?:hidden="(?:1|true)"|ht="0(?:\.0*)?"|width="0(?:\.0*)?")')
LONG_RUN = re.compile(rb"[^<]{%d}" % (MAX_TEXT_RUN + 1))
TAG_TAIL = 64  # bytes kept between chunks so that a tag split by a chunk is still seen


def _open_zip(data: bytes) -> zipfile.ZipFile:
    """The archive, refused unless it is a zip with a workbook whose declared sizes are bounded."""
    if not data:
        raise WorkbookRefused("empty")
    if not data.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise WorkbookRefused("not_xlsx")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise WorkbookRefused("not_xlsx") from exc
    if "xl/workbook.xml" not in {info.filename for info in infos}:
        raise WorkbookRefused("not_xlsx")
    if len(infos) > MAX_PARTS:
        raise WorkbookRefused("too_large")
    if any(info.file_size > MAX_PART_BYTES for info in infos):
        raise WorkbookRefused("too_large")
    if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED:
        raise WorkbookRefused("too_large")
    return archive


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> _PartScan:
    """Decompress one part in chunks, never more than its bound.

    zipfile stops at the declared size and checks the CRC, so a part that claims to be small
    and is not is refused here, before calamine reads it. In XML parts a text run longer than a
    cell may be is refused as soon as it is seen.
    """
    is_xml = info.filename.endswith((".xml", ".rels"))
    scan = _PartScan()
    total = 0
    run = 0  # bytes since the last "<"
    tail = b""
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                total += len(chunk)
                if total > MAX_PART_BYTES:
                    raise WorkbookRefused("too_large")
                if not is_xml:
                    continue
                first = chunk.find(b"<")
                if first < 0:
                    run += len(chunk)
                else:
                    if run + first > MAX_TEXT_RUN or LONG_RUN.search(chunk, first):
                        raise WorkbookRefused("cell_too_long")
                    run = len(chunk) - chunk.rfind(b"<") - 1
                if run > MAX_TEXT_RUN:
                    raise WorkbookRefused("cell_too_long")
                window = tail + chunk
                scan.has_formulas = scan.has_formulas or bool(FORMULA_TAG.search(window))
                scan.has_hidden = scan.has_hidden or bool(HIDDEN_MARK.search(window))
                tail = chunk[-TAG_TAIL:]
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise WorkbookRefused("not_xlsx") from exc
    return scan


def _sheets(archive: zipfile.ZipFile) -> dict[str, tuple[str, bool]]:
    """Sheet name -> (its XML member in the archive, whether it is hidden)."""
    try:
        workbook = SafeET.fromstring(archive.read("xl/workbook.xml"))
        rels = SafeET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, *XML_ERRORS) as exc:
        raise WorkbookRefused("not_xlsx") from exc
    targets = {rel.get("Id"): rel.get("Target") for rel in rels.iter(f"{NS_PKG_REL}Relationship")}
    sheets = {}
    for sheet in workbook.iter(f"{NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{NS_REL}id")) or ""
        if target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join("xl", target))
        hidden = (sheet.get("state") or "visible") != "visible"
        sheets[sheet.get("name")] = (path, hidden)
    return sheets


def _column_index(ref: str) -> int:
    """0-based column of a cell reference (B7 -> 1)."""
    index = 0
    for char in ref:
        if not char.isalpha():
            break
        index = index * 26 + (ord(char.upper()) - 64)
    return index - 1


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _cell_has_value(cell) -> bool:
    for child in cell:
        if child.tag in (f"{NS_MAIN}v", f"{NS_MAIN}is") and "".join(child.itertext()).strip():
            return True
    return False


def sheet_findings(
    archive: zipfile.ZipFile, member: str, limit: int = 1000
) -> tuple[list[str], list[str]]:
    """(formula cells, cells with a value in a hidden row or column), up to limit each."""
    formulas: list[str] = []
    hidden: list[str] = []
    hidden_columns: set[int] = set()
    row_hidden = False
    with archive.open(member) as stream:
        for event, elem in SafeET.iterparse(stream, events=("start", "end")):
            tag = elem.tag
            if event == "start":
                if tag == f"{NS_MAIN}row":
                    row_hidden = elem.get("hidden") in ("1", "true") or _number(elem.get("ht")) == 0
                continue
            if tag == f"{NS_MAIN}col":
                if elem.get("hidden") in ("1", "true") or _number(elem.get("width")) == 0:
                    low, high = int(elem.get("min") or 1), int(elem.get("max") or 1)
                    hidden_columns.update(range(low - 1, min(high, 16384)))
            elif tag == f"{NS_MAIN}c":
                ref = elem.get("r") or "?"
                if elem.find(f"{NS_MAIN}f") is not None and len(formulas) < limit:
                    formulas.append(ref)
                if (
                    (row_hidden or _column_index(ref) in hidden_columns)
                    and _cell_has_value(elem)
                    and len(hidden) < limit
                ):
                    hidden.append(ref)
                elem.clear()
            elif tag == f"{NS_MAIN}row":
                elem.clear()
    return formulas, hidden


def xlsx_col(index: int) -> str:
    """Column letters of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_sheet(data: bytes, sheet_name: str, *, max_rows: int) -> SheetData:
    """The header and the non-blank rows of one sheet, after the file passed every bound.

    Refused (WorkbookRefused with a reason code): an empty file or one that is not xlsx, a part
    or a whole too large, a cell longer than MAX_CELL_CHARS, hidden sheets, values in hidden
    rows or columns, a missing sheet, formulas, more than max_rows rows, no rows.
    """
    archive = _open_zip(data)
    sheets = _sheets(archive)
    if sheet_name not in sheets:
        raise WorkbookRefused("no_sheet:" + ", ".join(sheets))
    member = sheets[sheet_name][0]
    infos = {info.filename: info for info in archive.infolist()}
    if member not in infos:
        raise WorkbookRefused("not_xlsx")
    scans = {name: _scan_part(archive, info) for name, info in infos.items()}
    hidden_sheets = [name for name, (_path, hidden) in sheets.items() if hidden]
    if hidden_sheets:
        raise WorkbookRefused("hidden_sheets:" + ", ".join(hidden_sheets))
    if scans[member].has_formulas or scans[member].has_hidden:
        try:
            formulas, hidden_cells = sheet_findings(archive, member)
        except XML_ERRORS as exc:
            raise WorkbookRefused("not_xlsx") from exc
        if hidden_cells:
            raise WorkbookRefused("hidden_cells:" + ", ".join(hidden_cells[:50]))
        if formulas:
            raise WorkbookRefused("formulas:" + ", ".join(formulas[:50]))
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(sheet_name)
        first_column = sheet.start[1] if sheet.start else 0
        iterator = sheet.iter_rows()
    except Exception as exc:  # calamine raises its own error types for broken files
        raise WorkbookRefused("not_xlsx") from exc
    header = None
    out = SheetData(header=[])
    for index, cells in enumerate(iterator):
        number = index + 1  # iter_rows starts at the sheet's first row, used or not
        for col, cell in enumerate(cells):
            if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
                raise WorkbookRefused(f"cell_too_long:{xlsx_col(first_column + col)}{number}")
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
