"""Master data from a spreadsheet: one template, one reader, all or nothing.

An import module declares its columns (field, Chinese and English header, required) and a
function that checks one row; `read_rows` returns the rows as dicts by field, or refuses the
whole file with a message. The module then checks every row, collects every problem with its
row and column, and writes nothing unless all rows pass (SPEC 5's rule for uploads, applied to
every import). The template carries both languages in its headers, like the daily upload's.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.core import excel as xl

MAX_IMPORT_ROWS = 20000


@dataclass(frozen=True)
class ImportColumn:
    field: str
    zh: str
    en: str
    required: bool = True
    width: int = 16

    @property
    def header(self) -> str:
        return f"{self.zh} / {self.en}"


class ImportRefused(Exception):  # noqa: N818 - a refusal, like DomainError
    """The whole file was refused: its message says why; `problems` lists bad rows, if any.

    Not a DomainError on purpose: a page shows the problems table instead of one message.
    """

    def __init__(self, message, problems: list[dict] | None = None):
        super().__init__(str(message))
        self.message = message
        self.problems = problems or []


def _key(text) -> str:
    return " ".join(str(text or "").split()).lower()


def template(sheet_name: str, columns: tuple[ImportColumn, ...], example: dict) -> bytes:
    """An empty template: bilingual headers, text cells, one example row to overwrite."""
    out = io.BytesIO()
    workbook = xl.new_workbook(out)
    sheet = workbook.add_worksheet(sheet_name)
    head = workbook.add_format({"bold": True, "bg_color": "#E8EEF7", "text_wrap": True})
    text = workbook.add_format({"num_format": "@"})
    for col, column in enumerate(columns):
        sheet.write_string(0, col, column.header, head)
        sheet.set_column(col, col, column.width, text)
        value = example.get(column.field)
        if value not in (None, ""):
            sheet.write_string(1, col, str(value))
    sheet.freeze_panes(1, 0)
    workbook.close()
    return out.getvalue()


def read_rows(
    data: bytes, sheet_name: str, columns: tuple[ImportColumn, ...]
) -> list[tuple[int, dict]]:
    """(row number, {field: text or value}) for every non-blank row; ImportRefused otherwise."""
    from portal.reports.excel import refusal_message

    try:
        sheet = xl.read_sheet(data, sheet_name, max_rows=MAX_IMPORT_ROWS)
    except xl.WorkbookRefused as exc:
        code = exc.message.partition(":")[0]
        if code == "no_sheet":
            raise ImportRefused(
                _l(
                    "The workbook has no sheet named %(sheet)s. Use the portal's template.",
                    sheet=sheet_name,
                )
            ) from exc
        if code == "no_rows":
            raise ImportRefused(_l("The sheet %(sheet)s has no rows.", sheet=sheet_name)) from exc
        raise ImportRefused(refusal_message(exc.message)) from exc
    lookup = {}
    for column in columns:
        for name in (column.header, column.zh, column.en, column.field):
            lookup[_key(name)] = column.field
    positions, unknown = {}, []
    for index, header in enumerate(sheet.header):
        if not _key(header):
            continue
        field = lookup.get(_key(header))
        if field is None:
            unknown.append(str(header))
        elif field not in positions:
            positions[field] = index
    missing = [c.header for c in columns if c.required and c.field not in positions]
    if missing or unknown:
        detail = []
        if missing:
            detail.append(str(_l("missing columns: %(cols)s", cols="; ".join(missing))))
        if unknown:
            detail.append(str(_l("unknown columns: %(cols)s", cols="; ".join(unknown))))
        raise ImportRefused(
            _l(
                "The header row does not match the template (%(detail)s). Use the portal's "
                "template.",
                detail="; ".join(detail),
            )
        )
    rows = []
    for number, cells in sheet.rows:
        values = {}
        for field, index in positions.items():
            value = cells[index] if index < len(cells) else None
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            values[field] = "" if value is None else value
        rows.append((number, values))
    return rows


def problem(row: int, column: ImportColumn | None, message) -> dict:
    return {
        "row": row,
        "column": column.header if column else "",
        "message": str(message),
    }
