"""Excel: the template, the upload checked whole (every refusal), the error workbook, export."""

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from portal.core import excel as xl
from portal.core.errors import DomainError
from portal.reports import excel, services
from portal.reports.models import RepairRecord, UploadBatch
from portal.reports.states import UploadOutcome
from tests.reports.xlsx_helpers import fill_template, plain_workbook

DAY = dt.date(2026, 11, 12)


def records_of(db, station):
    return db.session.execute(
        select(func.count()).select_from(RepairRecord).where(RepairRecord.station_id == station.id)
    ).scalar_one()


@pytest.fixture
def station(make):
    make.catalogues()
    return make.station()


def rows(make, n, start=1):
    return [make.record_values(DAY, start + i) for i in range(n)]


def test_template_has_bilingual_headers_dropdowns_formats_and_instructions(app, db, make):
    make.catalogues()
    workbook = openpyxl.load_workbook(io.BytesIO(excel.build_template()))
    assert workbook.sheetnames == ["Records", "Codes", "Instructions"]
    sheet = workbook["Records"]
    headers = [c.value for c in sheet[1]]
    assert headers[0] == "工单号 / Ticket no."
    assert all(" / " in h for h in headers)
    validations = {str(v.sqref).split(":")[0]: v for v in sheet.data_validations.dataValidation}
    device = validations["F2"]
    assert device.type == "list"
    assert device.formula1.startswith("Codes!")
    assert validations["B2"].type == "date"
    assert validations["Q2"].type == "whole"  # satisfaction
    assert validations["M2"].type == "list"  # outside the home city: yes or no
    codes = [c.value for c in workbook["Codes"]["A"]][1:]
    assert "P30" in codes
    assert sheet.column_dimensions["B"].number_format == "yyyy-mm-dd hh:mm"
    assert "不要使用公式" in " ".join(str(c.value) for c in workbook["Instructions"]["A"])


def test_a_filled_template_imports(app, db, make, station):
    data = fill_template(excel.build_template(), rows(make, 3))
    batch = excel.upload(make.reporter(station), station, DAY, "day.xlsx", data)
    assert batch.outcome == UploadOutcome.IMPORTED, batch.errors
    assert batch.row_count == 3
    assert records_of(db, station) == 3


def test_500_rows_with_one_bad_row_import_nothing_then_all_once(app, db, make, station):
    good = rows(make, 500)
    bad = [dict(r) for r in good]
    bad[321]["serial_no"] = ""
    bad[321]["received_at"] = "not a time"
    batch = excel.upload(make.reporter(station), station, DAY, "bad.xlsx", plain_workbook(bad))
    assert batch.outcome == UploadOutcome.REJECTED
    assert records_of(db, station) == 0
    assert services.find_report(station.id, DAY) is None  # not even the report was created
    assert [(e["row"], e["field"]) for e in batch.errors] == [
        (323, "received_at"),
        (323, "serial_no"),
    ]
    assert batch.errors[0]["value"] == "not a time"
    corrected = plain_workbook(good)
    batch = excel.upload(make.reporter(station), station, DAY, "good.xlsx", corrected)
    assert batch.outcome == UploadOutcome.IMPORTED
    assert records_of(db, station) == 500
    with pytest.raises(DomainError, match="already imported"):
        excel.upload(make.reporter(station), station, DAY, "good-again.xlsx", corrected)
    assert records_of(db, station) == 500


def test_the_error_workbook_lists_every_problem(app, db, make, station):
    data = rows(make, 4)
    data[1]["customer_phone"] = "1"
    data[3]["fault_code"] = "@SUM(1+1)"
    batch = excel.upload(make.reporter(station), station, DAY, "bad.xlsx", plain_workbook(data))
    sheet = openpyxl.load_workbook(io.BytesIO(excel.error_workbook(batch)))["Errors"]
    body = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [(r[0], r[1]) for r in body] == [
        (3, "客户电话 / Customer phone"),
        (5, "故障代码 / Fault code"),
    ]
    formula_cell = sheet.cell(row=3, column=3)
    assert formula_cell.data_type == "s"  # user text never becomes a formula
    assert formula_cell.value == "@SUM(1+1)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"ticket_no,serial_no\n1,2\n", "not an Excel workbook"),
        (b"PK\x03\x04 broken zip", "not an Excel workbook"),
    ],
)
def test_files_that_are_not_workbooks_are_refused(app, db, make, station, data, message):
    batch = excel.upload(make.reporter(station), station, DAY, "x.xlsx", data)
    assert batch.outcome == UploadOutcome.REJECTED
    assert message in batch.message


def test_a_missing_sheet_is_refused(app, db, make, station):
    batch = excel.upload(
        make.reporter(station),
        station,
        DAY,
        "x.xlsx",
        plain_workbook(rows(make, 1), sheet_name="Sheet1"),
    )
    assert "no sheet named Records" in batch.message
    assert "Sheet1" in batch.message


def test_formula_cells_are_refused(app, db, make, station):
    batch = excel.upload(
        make.reporter(station),
        station,
        DAY,
        "x.xlsx",
        plain_workbook(rows(make, 2), formula_at=(3, 16)),
    )
    assert batch.outcome == UploadOutcome.REJECTED
    assert "Formulas" in batch.message
    assert "P3" in batch.message
    assert records_of(db, station) == 0


def test_an_empty_sheet_is_refused(app, db, make, station):
    batch = excel.upload(make.reporter(station), station, DAY, "x.xlsx", plain_workbook([]))
    assert "has no records" in batch.message


def test_more_than_5000_rows_are_refused(app, db, make, station):
    many = [make.record_values(DAY, i) for i in range(5001)]
    batch = excel.upload(make.reporter(station), station, DAY, "x.xlsx", plain_workbook(many))
    assert "More than 5000 rows" in batch.message
    assert records_of(db, station) == 0


def test_a_header_that_is_not_the_templates_is_refused(app, db, make, station):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Records"
    workbook.active.append(["工单号", "Colour"])
    workbook.active.append(["1", "red"])
    out = io.BytesIO()
    workbook.save(out)
    batch = excel.upload(make.reporter(station), station, DAY, "x.xlsx", out.getvalue())
    assert "missing columns" in batch.message
    assert "unknown columns: Colour" in batch.message


def test_upload_into_a_submitted_report_is_refused_and_stores_nothing(app, db, make, station):
    make.report(station, DAY, submit=True)
    with pytest.raises(DomainError, match="Reopen"):
        excel.upload(make.reporter(station), station, DAY, "x.xlsx", plain_workbook(rows(make, 2)))
    stmt = select(func.count()).select_from(UploadBatch).where(UploadBatch.station_id == station.id)
    assert db.session.execute(stmt).scalar_one() == 0


def test_export_masks_personal_data_and_keeps_text_as_text(app, db, make, station):
    report = make.report(station, DAY)
    services.add_record(
        make.reporter(report.station),
        report,
        make.record_values(DAY, 1, return_visit_outcome="=cmd|' /C calc'!A0"),
    )
    out = io.BytesIO()
    count = excel.export_records(
        services.record_query(make.user(role="hq"), services.RecordFilter(station_id=station.id)),
        out,
    )
    assert count == 1
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Records"]
    values = [c.value for c in sheet[2]]
    assert "138****5678" in values
    assert "13812345678" not in values
    assert "王**" in values
    last = sheet.cell(row=2, column=len(values))
    assert last.data_type == "s"
    assert last.value.startswith("=cmd")
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref


def test_write_table_continues_on_a_next_sheet(app):
    out = io.BytesIO()
    workbook = xl.new_workbook(out)
    written = xl.write_table(workbook, "Rows", ["n"], ([i] for i in range(7)), max_rows=4)
    workbook.close()
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert written == 7
    assert book.sheetnames == ["Rows", "Rows (2)", "Rows (3)"]
    assert [c.value for c in book["Rows (3)"]["A"]] == ["n", 6]


def test_the_travel_column_is_read_and_an_older_template_without_it_still_uploads(
    app, db, make, station
):
    from sqlalchemy import select

    from portal.reports.models import RepairRecord

    values = rows(make, 2)
    values[0].update(on_site="onsite", repair_type="onsite_repair", outside_home_city="是")
    batch = excel.upload(
        make.reporter(station),
        station,
        DAY,
        "day.xlsx",
        fill_template(excel.build_template(), values),
    )
    assert batch.outcome == UploadOutcome.IMPORTED, batch.errors
    stored = (
        db.session.execute(
            select(RepairRecord.outside_home_city)
            .where(RepairRecord.station_id == station.id)
            .order_by(RepairRecord.ticket_no)
        )
        .scalars()
        .all()
    )
    assert stored == [True, False]
    older = [c for c in excel.COLUMNS if c.field != "outside_home_city"]
    data = plain_workbook(rows(make, 1, 9), columns=older)
    batch = excel.upload(make.reporter(station), station, DAY, "old.xlsx", data)
    assert batch.outcome == UploadOutcome.IMPORTED, (batch.message, batch.errors)
