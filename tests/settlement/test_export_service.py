"""Exporting a month: the kept file with its SHA-256, who and when, as a job, on the page, on
the command line, and a station only its own. The month's rows are synthetic here (the rows read
from settlements are tested with the settlement run)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from portal.core import jobs
from portal.core.actors import SYSTEM
from portal.core.audit import AuditEntry
from portal.core.errors import PermissionDenied
from portal.settlement import export

OCTOBER = dt.date(2026, 10, 1)


@pytest.fixture
def fake_month(monkeypatch):
    """month_data replaced by two stations' rows; records which (month, station) was asked."""
    asked = []

    def month_data(month, station_id=None):
        asked.append((month, station_id))
        summary = [
            (
                "HA-ZZ-0001",
                "郑州",
                "服务站",
                "河南 郑州",
                2,
                1,
                Decimal("50.00"),
                Decimal("10.00"),
                Decimal("0.00"),
                Decimal("-20.00"),
                Decimal("0.00"),
                Decimal("0.00"),
                Decimal("0.00"),
                Decimal("40.00"),
                "草稿",
                1,
            ),
        ]
        received = dt.datetime(2026, 10, 2, 3, 0, tzinfo=dt.UTC)

        def records():
            yield (
                "HA-ZZ-0001",
                "=T1",
                "SN1",
                "X1",
                received,
                "上门",
                Decimal("30.00"),
                Decimal("10.00"),
            )
            yield (
                "HA-ZZ-0001",
                "T2",
                "SN2",
                "X1",
                received,
                "店内",
                Decimal("20.00"),
                Decimal("0.00"),
            )

        return export.MonthData(
            summary=summary,
            records=records(),
            invalid=iter(
                [("HA-ZZ-0001", "T3", "BAD", "X1", received, "店内", "bad_serial", "序列号不符")]
            ),
            adjustments=iter(()),
            totals={4: 2, 5: 1, 6: Decimal("50.00"), 13: Decimal("40.00")},
            line_count=3,
        )

    monkeypatch.setattr(export, "month_data", month_data)
    return asked


def _sha(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_export_keeps_the_file_with_its_sha256_after_commit(app, db, make, fake_month):
    finance = make.user(role="finance")
    with app.test_request_context():
        record = export.export_month(OCTOBER, finance)
        path = export.export_path(record)
        assert not os.path.exists(path)  # not before the commit
        db.session.commit()
    assert os.path.exists(path)
    assert record.sha256 == _sha(path)
    assert record.size_bytes == os.path.getsize(path)
    assert (record.record_rows, record.invalid_rows) == (2, 1)
    assert record.created_by_name == finance.username
    assert record.filename == "settlement-2026-10-all.xlsx"
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "settlement.exported")
    ).scalar_one()
    assert entry.after["sha256"] == record.sha256
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "Records", "Invalid", "Adjustments"]
    assert not [name for name in os.listdir(export.export_folder()) if name.endswith(".part")]


def test_a_rolled_back_export_leaves_no_file(app, db, make, fake_month):
    with app.test_request_context():
        record = export.export_month(OCTOBER, make.user(role="finance"))
        path = export.export_path(record)
        db.session.rollback()
    assert not os.path.exists(path)
    assert not os.path.exists(path + ".part")


def test_a_failure_while_writing_leaves_nothing(app, db, make, monkeypatch):
    def broken(month, station_id=None):
        def rows():
            yield ("A", "T", "S", "M", None, "r", Decimal("1.00"), Decimal("0.00"))
            raise RuntimeError("database went away")

        return export.MonthData([], rows(), iter(()), iter(()), {}, 1)

    monkeypatch.setattr(export, "month_data", broken)
    before = (
        set(os.listdir(export.export_folder())) if os.path.isdir(export.export_folder()) else set()
    )
    with app.test_request_context(), pytest.raises(RuntimeError):
        export.export_month(OCTOBER, make.user(role="finance"))
    assert set(os.listdir(export.export_folder())) == before
    assert db.session.execute(select(export.SettlementExport)).first() is None


def test_a_station_exports_only_its_own_month(app, db, make, fake_month):
    station = make.station()
    other = make.station()
    user = make.user(role="station", station=station)
    with app.test_request_context():
        with pytest.raises(PermissionDenied):
            export.export_month(OCTOBER, user, station_id=other.id)
        record = export.export_month(OCTOBER, user)  # no station given: its own
        assert fake_month[-1] == (OCTOBER, station.id)
        assert record.station_id == station.id
        assert record.filename == f"settlement-2026-10-{station.code}.xlsx"
        with pytest.raises(PermissionDenied):
            export.export_month(OCTOBER, make.user(role="auditor"))
        network = export.export_month(OCTOBER, make.user(role="hq"))
        db.session.commit()
        assert [e.id for e in export.exports_of(OCTOBER, user)] == [record.id]
        assert {e.id for e in export.exports_of(OCTOBER, SYSTEM)} == {record.id, network.id}


def test_export_page_runs_a_job_and_offers_the_file(client, db, make, login_as, fake_month):
    finance = login_as("finance")
    response = client.post("/settlement/exports", data={"month": "2026-10"})
    assert response.status_code == 302
    job = db.session.execute(select(jobs.Job)).scalar_one()
    assert job.kind == "settlement.export"
    assert job.params == {"month": "2026-10", "station_id": None, "locale": "en"}
    assert f"job={job.id}" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-job-progress" in page
    assert "data-reload-when-done" in page

    assert jobs.run_queued() == 1
    job = db.session.get(jobs.Job, job.id)
    assert job.state == jobs.JobState.DONE, job.error
    assert (job.done, job.total) == (3, 3)
    progress = client.get(f"/jobs/{job.id}/progress").get_json()
    record = db.session.get(export.SettlementExport, job.result["export_id"])
    assert progress["result_url"] == f"/settlement/exports/{record.id}/download"
    assert record.created_by_id == finance.id
    assert record.job_id == job.id

    page = client.get("/settlement/exports?month=2026-10").get_data(as_text=True)
    assert record.sha256 in page
    assert finance.username in page
    # The page that follows the job shows it finished (and so does not reload again).
    page = client.get(f"/settlement/exports?month=2026-10&job={job.id}").get_data(as_text=True)
    assert 'data-finished="1"' in page
    assert "Finished" in page
    download = client.get(progress["result_url"])
    assert download.status_code == 200
    assert download.headers["X-Content-SHA256"] == record.sha256
    assert hashlib.sha256(download.data).hexdigest() == record.sha256
    assert "settlement-2026-10-all.xlsx" in download.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(download.data))
    assert book["Records"]["A1"].value == "Station code"  # the language of who asked
    download.close()


def test_station_sees_and_downloads_only_its_own_exports(client, db, make, login_as, fake_month):
    station = make.station()
    with client.application.test_request_context():
        own = export.export_month(OCTOBER, make.user(role="station", station=station))
        network = export.export_month(OCTOBER, make.user(role="finance"))
        db.session.commit()
    login_as("station", station=station)
    page = client.get("/settlement/exports?month=2026-10").get_data(as_text=True)
    assert f"/exports/{own.id}/download" in page
    assert f"/exports/{network.id}/download" not in page
    assert 'name="station_id"' not in page
    assert client.get(f"/settlement/exports/{network.id}/download").status_code == 404
    ok = client.get(f"/settlement/exports/{own.id}/download")
    assert ok.status_code == 200
    ok.close()
    response = client.post("/settlement/exports", data={"month": "2026-10"})
    job = db.session.execute(select(jobs.Job)).scalar_one()
    assert job.station_id == station.id
    assert job.params["station_id"] == station.id
    assert response.status_code == 302


def test_export_command_writes_the_file_and_prints_its_sha256(runner, db, tmp_path, fake_month):
    out = tmp_path / "october.xlsx"
    result = runner.invoke(args=["settlement", "export", "--month", "2026-10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = db.session.execute(select(export.SettlementExport)).scalar_one()
    assert _sha(out) == record.sha256
    assert f"sha256 {record.sha256}" in result.output
    assert "3/3" in result.output  # progress
    assert openpyxl.load_workbook(out)["Summary"]["A1"].value == "服务站编码"


def test_export_command_refuses_a_bad_month(runner, db):
    result = runner.invoke(args=["settlement", "export", "--month", "10/2026", "--out", "x.xlsx"])
    assert result.exit_code != 0
    assert "YYYY-MM" in result.output


def test_an_unknown_station_is_refused_before_a_job_starts(client, db, login_as):
    login_as("hq")
    response = client.post(
        "/settlement/exports",
        data={"month": "2026-10", "station_id": "999999"},
        follow_redirects=True,
    )
    assert "No such station." in response.get_data(as_text=True)
    assert db.session.execute(select(jobs.Job)).first() is None
