"""Repairs from before the portal: imported all or nothing, once, and counted by the engine."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from portal.core.actors import SYSTEM
from portal.core.dates import local_today
from portal.core.forms import issue_form_token
from portal.core.imports import ImportRefused
from portal.settlement import earlier
from portal.settlement.models import Settlement, SettlementLine
from portal.settlement.run import run_month


def workbook(rows: list[list]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(earlier.template_bytes()))
    sheet = book[earlier.SHEET]
    sheet.delete_rows(2)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count(db):
    return db.session.execute(select(func.count(earlier.EarlierRepair.id))).scalar_one()


def test_rows_are_checked_whole_and_imported_once(make, db):
    station = make.station()
    good = [station.code, "OLD-1", "p30 000 000 001", "P30", "D01", "2025-12-30 16:00", "已修复"]
    bad = ["NOPE", "OLD-2", "P30000000002", "P30", "D01", "yesterday", "fixed"]
    with pytest.raises(ImportRefused) as refused:
        earlier.import_earlier_repairs(SYSTEM, "x.xlsx", workbook([good, bad]))
    columns = sorted(p["column"] for p in refused.value.problems)
    assert [p["row"] for p in refused.value.problems] == [3, 3, 3]
    assert columns == ["完成时间 / Completed at", "维修结果 / Result", "网点编码 / Station code"]
    assert count(db) == 0
    batch = earlier.import_earlier_repairs(SYSTEM, "x.xlsx", workbook([good]))
    assert (batch.row_count, batch.added_count) == (1, 1)
    again = earlier.import_earlier_repairs(SYSTEM, "x.xlsx", workbook([good]))
    assert again.added_count == 0
    stored = db.session.execute(select(earlier.EarlierRepair)).scalar_one()
    assert (stored.serial_no, stored.result) == ("P30000000001", "repaired")
    changed = [*good[:5], "2025-12-31 16:00", "repaired"]
    with pytest.raises(ImportRefused, match="1 rows"):
        earlier.import_earlier_repairs(SYSTEM, "x.xlsx", workbook([changed]))


def test_an_earlier_repair_makes_a_repeat_and_its_ticket_a_duplicate(make, db):
    month = (local_today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    day = month.replace(day=12)
    station = make.station(agreement_start_on=day, agreement_end_on=day)
    report = make.report(station, day, records=2, submit=True, on_time=True, parts="")
    first, second = report.records
    before = (dt.datetime.combine(day, dt.time(9)) - dt.timedelta(days=10)).strftime(
        "%Y-%m-%d %H:%M"
    )
    rows = [
        [station.code, "PRE-1", first.serial_no, "P30", first.fault_code, before, "repaired"],
        [station.code, second.ticket_no, "P30999999999", "P30", "D01", before, "无法修复"],
    ]
    earlier.import_earlier_repairs(SYSTEM, "old.xlsx", workbook(rows))
    db.session.commit()
    run_month(month, [station.id], SYSTEM)
    settlement = db.session.execute(
        select(Settlement).where(Settlement.station_id == station.id)
    ).scalar_one()
    reasons = dict(
        db.session.execute(
            select(SettlementLine.ticket_no, SettlementLine.reason_code).where(
                SettlementLine.settlement_id == settlement.id
            )
        ).all()
    )
    assert reasons == {first.ticket_no: "repeat_repair", second.ticket_no: "duplicate_ticket"}


def test_hq_imports_on_the_page_and_sees_the_rows_to_correct(client, db, make, login_as):
    station = make.station()
    login_as("hq")
    template = client.get("/settlement/earlier-repairs/template.xlsx")
    assert template.status_code == 200
    rows = [[station.code, "OLD-9", "P30000000009", "P30", "D01", "2025-11-30 10:00", "oops"]]
    response = client.post(
        "/settlement/earlier-repairs",
        data={"file": (io.BytesIO(workbook(rows)), "old.xlsx"), "form_token": issue_form_token()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-testid="import-problems"' in page
    assert "维修结果 / Result" in page
    rows[0][6] = "repaired"
    response = client.post(
        "/settlement/earlier-repairs",
        data={"file": (io.BytesIO(workbook(rows)), "old.xlsx"), "form_token": issue_form_token()},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert count(db) == 1
    assert "old.xlsx" in response.get_data(as_text=True)


def test_the_command_line_imports_and_reports_bad_rows(make, db, runner, tmp_path):
    station = make.station()
    db.session.commit()
    path = tmp_path / "old.xlsx"
    path.write_bytes(
        workbook([[station.code, "C-1", "P30000000001", "P30", "D01", "2025-11-30 10:00", "x"]])
    )
    out = runner.invoke(args=["settlement", "import-earlier", str(path)])
    assert out.exit_code == 1
    assert "row 2" in out.output
    path.write_bytes(
        workbook(
            [[station.code, "C-1", "P30000000001", "P30", "D01", "2025-11-30 10:00", "repaired"]]
        )
    )
    out = runner.invoke(args=["settlement", "import-earlier", str(path)])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("1 added")
