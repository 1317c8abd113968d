"""Catalogue and opening-stock imports: all or nothing, every bad row reported."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from portal.core.errors import DomainError
from portal.spares import catalogue, excel, stock
from portal.spares.stock_models import Part, StockMovement


def workbook(sheet, columns, rows) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append([c.header for c in columns])
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parts_file(rows):
    return workbook(excel.PARTS_SHEET, excel.PART_COLUMNS, rows)


def opening_file(rows):
    return workbook(excel.OPENING_SHEET, excel.OPENING_COLUMNS, rows)


def test_parts_are_created_and_updated(spares, make, db):
    make.catalogues()
    spares.part("LCD-P30", value="100.00", name="old name")
    data = parts_file(
        [
            ("lcd-p30", "P30 屏幕总成", "P30", "320.50", "no"),
            ("BAT-P30", "P30 电池", "P30, P40", 80, "no"),
            ("SB-P30", "P30 备用机", "P30", "1,999.00", "yes"),
        ]
    )
    result = excel.import_parts(spares.hq, "parts.xlsx", data)
    assert (result.rows, result.created, result.changed) == (3, 2, 1)
    lcd = catalogue.find_part("LCD-P30")
    assert (lcd.name, lcd.unit_value) == ("P30 屏幕总成", Decimal("320.50"))
    assert catalogue.find_part("BAT-P30").model_codes == ["P30", "P40"]
    standby = catalogue.find_part("SB-P30")
    assert standby.is_standby
    assert standby.unit_value == Decimal("1999.00")


def test_one_bad_row_imports_nothing_and_every_problem_is_listed(spares, make, db):
    make.catalogues()
    data = parts_file(
        [
            ("OK-1", "fine", "P30", "10", "no"),
            ("ODD-1", "three decimals", "P30", 0.105, "no"),
            ("BAD MODEL", "x", "NOPE", "10", "maybe"),
            ("OK-1", "again", "", "10", "no"),
        ]
    )
    with pytest.raises(excel.ImportRejected) as info:
        excel.import_parts(spares.hq, "parts.xlsx", data)
    found = {(p["row"], p["field"]) for p in info.value.problems}
    assert found == {
        (3, "unit_value"),
        (4, "part_no"),
        (4, "model_codes"),
        (4, "is_standby"),
        (5, "part_no"),
    }
    assert db.session.execute(select(func.count()).select_from(Part)).scalar_one() == 0
    report = excel.error_workbook(info.value.problems, excel.PART_COLUMNS)
    sheet = openpyxl.load_workbook(io.BytesIO(report))["Errors"]
    assert sheet.max_row == 6


def test_a_wrong_header_or_a_formula_refuses_the_file(spares, make, db):
    with pytest.raises(DomainError) as info:
        excel.import_parts(
            spares.hq, "x.xlsx", workbook(excel.PARTS_SHEET, excel.OPENING_COLUMNS, [("a",)])
        )
    assert "header" in str(info.value.message)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = excel.PARTS_SHEET
    ws.append([c.header for c in excel.PART_COLUMNS])
    ws.append(["F-1", "x", "", "=1+1", "no"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(DomainError) as info:
        excel.import_parts(spares.hq, "x.xlsx", buffer.getvalue())
    assert "Formula" in str(info.value.message)
    with pytest.raises(DomainError):
        excel.import_parts(spares.hq, "x.xlsx", b"not a workbook")


def test_opening_stock_is_imported_as_movements_and_not_capped(spares, make, db):
    a = spares.station(deposit="100")
    b = spares.station(deposit="")
    lcd = spares.part("LCD-P30", value="1000.00")
    bat = spares.part("BAT-P30", value="50.00")
    data = opening_file(
        [
            (a.code, "LCD-P30", 3, 1),
            (a.code, "BAT-P30", "2", None),
            (b.code.lower(), "lcd-p30", 0, 2),
        ]
    )
    result = excel.import_opening_stock(spares.hq, "opening.xlsx", data)
    assert (result.rows, result.stations) == (3, 2)
    assert spares.held(a, lcd) == (3, 1)
    assert spares.held(a, bat) == (2, 0)
    assert spares.held(b, lcd) == (0, 2)
    cov = stock.coverage(a.id)
    assert cov.over  # 3,100.00 of good stock against a 100.00 deposit: shown, not refused
    assert stock.reconcile().ok
    with pytest.raises(excel.ImportRejected) as info:
        excel.import_opening_stock(
            spares.hq, "again.xlsx", opening_file([(a.code, "LCD-P30", 1, 0)])
        )
    assert "already imported" in info.value.problems[0]["message"]


def test_opening_stock_rows_are_all_checked(spares, make, db):
    a = spares.station()
    spares.part("LCD-P30")
    data = opening_file(
        [
            (a.code, "LCD-P30", 1, 0),
            ("XX-XX-9999", "LCD-P30", 1, 0),
            (a.code, "NOPE", -1, "x"),
            (a.code, "LCD-P30", 2, 0),
        ]
    )
    with pytest.raises(excel.ImportRejected) as info:
        excel.import_opening_stock(spares.hq, "opening.xlsx", data)
    found = {(p["row"], p["field"]) for p in info.value.problems}
    assert found == {
        (3, "station_code"),
        (4, "part_no"),
        (4, "good"),
        (4, "defective"),
        (5, "part_no"),
    }
    assert db.session.execute(select(func.count()).select_from(StockMovement)).scalar_one() == 0


def test_import_stock_command(spares, make, db, runner, tmp_path):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    path = tmp_path / "opening.xlsx"
    path.write_bytes(opening_file([(station.code, "LCD-P30", 4, 1)]))
    result = runner.invoke(args=["spares", "import-stock", str(path), "--user", spares.hq.username])
    assert result.exit_code == 0, result.output
    assert "1 rows imported for 1 stations" in result.output
    assert spares.held(station, lcd) == (4, 1)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(opening_file([("NOPE", "LCD-P30", 1, 0)]))
    result = runner.invoke(args=["spares", "import-stock", str(bad), "--user", spares.hq.username])
    assert result.exit_code == 1
    assert "row 2, station_code" in result.output


def test_templates_open_and_carry_the_catalogue(spares, db):
    spares.part("LCD-P30", value="320.50")
    book = openpyxl.load_workbook(io.BytesIO(excel.parts_template()))
    rows = list(book[excel.PARTS_SHEET].values)
    assert rows[0][0] == "备件号 / Part no."
    assert rows[1][:4] == ("LCD-P30", "备件 LCD-P30", None, "320.50")
    book = openpyxl.load_workbook(io.BytesIO(excel.opening_template()))
    assert list(book[excel.OPENING_SHEET].values)[0][0] == "站点代码 / Station code"


def test_opening_stock_as_of_a_past_day_starts_the_return_period_then(spares, db, today):
    import datetime as dt

    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    data = opening_file([(station.code, "LCD-P30", 0, 1)])
    with pytest.raises(DomainError):
        excel.import_opening_stock(spares.hq, "o.xlsx", data, as_of=today + dt.timedelta(days=1))
    excel.import_opening_stock(spares.hq, "o.xlsx", data, as_of=today - dt.timedelta(days=40))
    assert len(stock.charge_unreturned(spares.hq, station.id)) == 1
    assert spares.held(station, lcd) == (0, 0)


def test_import_stock_command_acts_as_the_system_by_default(spares, db, runner, tmp_path):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    path = tmp_path / "opening.xlsx"
    path.write_bytes(opening_file([(station.code, "LCD-P30", 1, 0)]))
    result = runner.invoke(args=["spares", "import-stock", str(path)])
    assert result.exit_code == 0, result.output
    assert spares.held(station, lcd) == (1, 0)
    movement = db.session.execute(select(StockMovement)).scalars().first()
    assert movement.recorded_by_name == "system"
