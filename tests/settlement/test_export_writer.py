"""The streaming settlement workbook, opened again with openpyxl (synthetic month data)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from portal.settlement import export

UTC = dt.UTC
HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2", "@SUM(A1)", "\tTAB", "\rCR", "00123"]


def _summary(n):
    rows = []
    for i in range(n):
        rows.append(
            (
                f"HA-ZZ-{i:04d}",
                f"郑州维修中心 {i}",
                "服务中心",
                "河南 郑州",
                10 + i,
                i,
                Decimal("300.10") + i,
                Decimal("10.00"),
                Decimal("200.00"),
                Decimal("-20.01"),
                Decimal("-0.03"),
                Decimal("0.00"),
                Decimal("0.00"),
                Decimal("490.06") + i,
                "草稿",
                1,
            )
        )
    return rows


def _totals(rows):
    return {col: sum(row[col] for row in rows) for col in range(4, 14)}


def _data(n_stations=3, n_records=7, n_invalid=2):
    summary = _summary(n_stations)
    received = dt.datetime(2026, 10, 3, 1, 30, tzinfo=UTC)
    records = [
        (
            "HA-ZZ-0001",
            HOSTILE[i % len(HOSTILE)],
            f"SN{i}",
            "X1",
            received,
            "上门维修",
            Decimal("30.00"),
            Decimal("10.00"),
        )
        for i in range(n_records)
    ]
    invalid = [
        (
            "HA-ZZ-0002",
            f"T{i}",
            "=cmd|' /C calc'!A0",
            "X1",
            received,
            "上门维修",
            "bad_serial",
            "序列号不符",
        )
        for i in range(n_invalid)
    ]
    adjustments = [
        ("HA-ZZ-0001", "迟报日报", Decimal("-20.00"), "daily_report 7", "=1+2", received, "system")
    ]
    return export.MonthData(
        summary=iter(summary),
        records=iter(records),
        invalid=iter(invalid),
        adjustments=iter(adjustments),
        totals=_totals(summary),
        line_count=n_records + n_invalid,
    )


def _write(app, data, **kw):
    buffer = io.BytesIO()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        counts = export.write_workbook(buffer, data, **kw)
    buffer.seek(0)
    return buffer, counts


def test_sheets_formats_header_filters_and_widths(app):
    buffer, counts = _write(app, _data())
    assert counts == {"summary": 3, "records": 7, "invalid": 2, "adjustments": 1}
    book = openpyxl.load_workbook(buffer)
    assert book.sheetnames == ["Summary", "Records", "Invalid", "Adjustments"]
    summary = book["Summary"]
    assert summary["A1"].value == "Station code"
    assert summary["A1"].font.bold
    assert summary.freeze_panes == "A2"
    assert summary.auto_filter.ref == "A1:P4"
    assert summary["G2"].number_format == "#,##0.00"
    assert summary["G2"].value == pytest.approx(300.10)
    # Chinese names are wide: their column is sized for them.
    assert summary.column_dimensions["B"].width >= export.display_width("郑州维修中心 0")
    records = book["Records"]
    assert records.freeze_panes == "A2"
    assert records.auto_filter.ref == "A1:H8"
    # 01:30 UTC is 09:30 in Asia/Shanghai; a spreadsheet holds no time zone.
    assert records["E2"].value == dt.datetime(2026, 10, 3, 9, 30, tzinfo=UTC).replace(tzinfo=None)
    assert records["E2"].number_format == "yyyy-mm-dd hh:mm"
    assert records["G2"].number_format == "#,##0.00"


def test_user_text_is_always_text(app):
    buffer, _counts = _write(app, _data())
    book = openpyxl.load_workbook(buffer)
    # XlsxWriter stores a CR as the escape _x000D_ (Excel reads it back as CR; openpyxl does not).
    tickets = [
        row[1].replace("_x000D_", "\r")
        for row in book["Records"].iter_rows(min_row=2, values_only=True)
    ]
    assert tickets == [HOSTILE[i % len(HOSTILE)] for i in range(7)]
    for sheet in book.worksheets:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if cell.data_type == "f":
                    # Only the totals row holds formulas; user text is a string cell.
                    assert sheet.title == "Summary", cell
                    assert cell.value.startswith(("=SUM(", "=0")), cell
                elif isinstance(cell.value, str):
                    assert cell.data_type == "s", cell
    assert book["Invalid"]["C2"].data_type == "s"
    assert book["Adjustments"]["E2"].value == "=1+2"
    assert book["Adjustments"]["E2"].data_type == "s"
    assert book["Records"]["B8"].value == "00123"  # not a number


def test_totals_are_formulas_whose_results_are_the_portal_totals_to_the_cent(app):
    data = _data(n_stations=40)
    totals = dict(data.totals)
    buffer, _counts = _write(app, data)
    formulas = openpyxl.load_workbook(buffer)["Summary"]
    buffer.seek(0)
    values = openpyxl.load_workbook(buffer, data_only=True)["Summary"]
    total_row = 42
    assert formulas.cell(total_row, 1).value == "Total"
    for col, expected in totals.items():
        cell = formulas.cell(total_row, col + 1)
        letter = cell.column_letter
        assert cell.value == f"=SUM({letter}2:{letter}41)"
        cached = values.cell(total_row, col + 1).value
        assert Decimal(str(round(cached, 2))) == expected
        # Recalculated from the rows, to the cent.
        column = [values.cell(r, col + 1).value for r in range(2, 42)]
        assert Decimal(str(round(sum(column), 2))) == expected
    assert formulas.cell(total_row, 7).number_format == "#,##0.00"


def test_rows_past_the_limit_continue_on_next_sheets(app):
    progress = []
    buffer, counts = _write(
        app,
        _data(n_records=11),
        max_rows=5,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert counts["records"] == 11
    book = openpyxl.load_workbook(buffer)
    assert book.sheetnames == [
        "Summary",
        "Records",
        "Records (2)",
        "Records (3)",
        "Invalid",
        "Adjustments",
    ]
    sizes = [book[name].max_row - 1 for name in ("Records", "Records (2)", "Records (3)")]
    assert sizes == [4, 4, 3]
    for name in ("Records (2)", "Records (3)"):
        assert book[name]["A1"].value == "Station code"
        assert book[name].freeze_panes == "A2"
    tickets = [
        row[1]
        for name in ("Records", "Records (2)", "Records (3)")
        for row in book[name].iter_rows(min_row=2, values_only=True)
    ]
    assert len(tickets) == 11
    assert progress[-1] == (13, 13)


def test_empty_month_still_has_every_sheet_and_a_zero_total(app):
    data = export.MonthData(
        summary=iter(()),
        records=iter(()),
        invalid=iter(()),
        adjustments=iter(()),
        totals={col: Decimal("0") if col >= 6 else 0 for col in range(4, 14)},
    )
    buffer, counts = _write(app, data)
    book = openpyxl.load_workbook(buffer)
    assert book.sheetnames == ["Summary", "Records", "Invalid", "Adjustments"]
    assert counts["records"] == 0
    assert book["Summary"]["A2"].value == "Total"


def test_headers_in_chinese(app):
    buffer = io.BytesIO()
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        export.write_workbook(buffer, _data())
    buffer.seek(0)
    book = openpyxl.load_workbook(buffer)
    assert book["Summary"]["A1"].value == "服务站编码"
    assert book["Summary"]["B2"].value == "郑州维修中心 0"


def test_memory_stays_flat_while_streaming(app, tmp_path):
    """Rows come from a generator and leave memory once written: the peak does not grow with
    the number of rows."""
    import tracemalloc

    received = dt.datetime(2026, 10, 3, 1, 30, tzinfo=UTC)

    def peak(n):
        rows = (
            (
                "HA-ZZ-0001",
                f"T{i:08d}",
                f"SN{i:010d}",
                "X1",
                received,
                "上门维修",
                Decimal("30.00"),
                Decimal("0.00"),
            )
            for i in range(n)
        )
        data = export.MonthData(
            summary=iter(()),
            records=rows,
            invalid=iter(()),
            adjustments=iter(()),
            totals={},
            line_count=n,
        )
        tracemalloc.start()
        with app.test_request_context():
            export.write_workbook(tmp_path / f"m{n}.xlsx", data)
        _current, high = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return high

    small, large = peak(2_000), peak(40_000)
    assert large < 8 * 1024 * 1024
    assert large < small * 2
