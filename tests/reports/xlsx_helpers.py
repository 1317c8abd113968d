"""Build upload workbooks for tests."""

import io

import openpyxl

from portal.reports.excel import COLUMNS, RECORDS_SHEET


def fill_template(template: bytes, rows: list[dict]) -> bytes:
    """The portal's own template with rows typed in, as a station would fill it."""
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    sheet = workbook[RECORDS_SHEET]
    for r, values in enumerate(rows, start=2):
        for c, column in enumerate(COLUMNS, start=1):
            value = values.get(column.field)
            if value not in (None, ""):
                sheet.cell(row=r, column=c).value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def plain_workbook(
    rows: list[dict], *, sheet_name=RECORDS_SHEET, formula_at=None, columns=COLUMNS
) -> bytes:
    """A minimal workbook with the template's header; formula_at=(row, col) puts a formula."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    sheet.append([c.header for c in columns])
    for values in rows:
        sheet.append([values.get(c.field) for c in columns])
    if formula_at:
        sheet.cell(row=formula_at[0], column=formula_at[1]).value = "=1+1"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
