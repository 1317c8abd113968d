"""Station master data from a workbook: all or nothing, row by row, idempotent."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from portal.core.actors import SYSTEM
from portal.core.audit import AuditEntry
from portal.core.forms import issue_form_token
from portal.core.imports import ImportRefused
from portal.stations import importing
from portal.stations.models import Station

ROW = [
    "HA-ZZ-0901",
    "郑州进口测试站",
    "服务站",
    "HA",
    "郑州",
    "1",
    "郑州市",
    "金水路 9 号",
    "张三",
    "13800000009",
    "",
    "2026-01-01",
    "2028-12-31",
]


def workbook(rows) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(importing.template_bytes()))
    sheet = book[importing.SHEET]
    sheet.delete_rows(2)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def stations(db) -> int:
    return db.session.execute(select(func.count(Station.id))).scalar_one()


def test_a_good_file_creates_stations_and_the_same_file_again_changes_nothing(db):
    before = stations(db)
    second = [*ROW]
    second[:3] = ["HA-ZZ-0902", "第二站", "service_center"]
    result = importing.import_stations(SYSTEM, "net.xlsx", workbook([ROW, second]))
    assert (result["created"], result["updated"], result["unchanged"]) == (2, 0, 0)
    assert stations(db) == before + 2
    station = db.session.execute(select(Station).where(Station.code == "HA-ZZ-0901")).scalar_one()
    assert (station.tier.value, station.city_class.value) == ("service_station", "1")
    entries = db.session.execute(select(func.count(AuditEntry.id))).scalar_one()
    again = importing.import_stations(SYSTEM, "net.xlsx", workbook([ROW, second]))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert db.session.execute(select(func.count(AuditEntry.id))).scalar_one() == entries
    changed = [*ROW]
    changed[7] = "金水路 10 号"
    result = importing.import_stations(SYSTEM, "net.xlsx", workbook([changed]))
    assert result["updated"] == 1
    assert station.address == "金水路 10 号"


def test_every_bad_row_is_listed_and_nothing_is_written(db):
    before = stations(db)
    bad_code = [*ROW]
    bad_code[0] = "XX-1"
    bad_tier = [*ROW]
    bad_tier[:3] = ["HA-ZZ-0903", "站", "big"]
    twice = [*ROW]
    with pytest.raises(ImportRefused) as refused:
        importing.import_stations(SYSTEM, "bad.xlsx", workbook([ROW, bad_code, bad_tier, twice]))
    rows = sorted({p["row"] for p in refused.value.problems})
    assert rows == [3, 4, 5]
    assert stations(db) == before


def test_an_existing_station_keeps_its_tier(db, make):
    station = make.station(code="HA-ZZ-0904")
    row = [*ROW]
    row[:3] = [station.code, station.name, "service_center"]
    with pytest.raises(ImportRefused) as refused:
        importing.import_stations(SYSTEM, "x.xlsx", workbook([row]))
    assert "tier" in refused.value.problems[0]["message"]


def test_hq_imports_on_the_page_and_the_command_line(client, db, login_as, runner, tmp_path):
    login_as("hq")
    assert client.get("/stations/import/template.xlsx").status_code == 200
    bad = [*ROW]
    bad[5] = "9"
    response = client.post(
        "/stations/import",
        data={"file": (io.BytesIO(workbook([bad])), "net.xlsx"), "form_token": issue_form_token()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "城市级别 / City class" in response.get_data(as_text=True)
    response = client.post(
        "/stations/import",
        data={"file": (io.BytesIO(workbook([ROW])), "net.xlsx"), "form_token": issue_form_token()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    path = tmp_path / "net.xlsx"
    path.write_bytes(workbook([ROW]))
    out = runner.invoke(args=["stations", "import", str(path)])
    assert out.exit_code == 0, out.output
    assert "0 created, 0 updated, 1 unchanged" in out.output
