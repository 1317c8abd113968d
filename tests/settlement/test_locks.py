"""The lock (SPEC 8.4): a month approved by finance refuses every change to the station's
records, reports, stock movements and adjustments of that month, by every route."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from portal.core.dates import local_today
from portal.core.forms import issue_form_token
from portal.reports import services as report_services
from portal.reports.models import DailyReport, RepairRecord
from portal.settlement import adjustments, locks
from portal.spares.stock_models import StockMovement
from tests.api.test_api import api_record, bearer
from tests.reports.xlsx_helpers import fill_template
from tests.spares.test_excel import opening_file

LOCKED = "approved by finance and locked"


@pytest.fixture
def last_month_day():
    """A day of last month (still within the days a report may be made for)."""
    return local_today().replace(day=1) - dt.timedelta(days=1)


@pytest.fixture
def locked(db, make, last_month_day):
    """A station whose last month has a draft report with one record, then finance's lock."""
    make.catalogues()
    station = make.station()
    report = make.report(station, last_month_day, records=1)
    make.settlement(station, last_month_day, status="finance_approved")
    db.session.commit()
    return station, report


def _records(db, station):
    return db.session.execute(
        select(func.count()).select_from(RepairRecord).where(RepairRecord.station_id == station.id)
    ).scalar_one()


def _form(values):
    return {k: ("" if v is None else v) for k, v in values.items()}


def test_ensure_month_open_by_state(db, make):
    station = make.station()
    day = dt.date(2026, 10, 15)
    locks.ensure_month_open(station.id, day)  # no settlement yet
    settlement = make.settlement(station, day, status="draft")
    for status in ("draft", "confirmed", "disputed", "hq_approved", "superseded"):
        settlement.status = locks.SettlementStatus(status)
        db.session.flush()
        locks.ensure_month_open(station.id, day)
    for status in ("finance_approved", "paid"):
        settlement.status = locks.SettlementStatus(status)
        db.session.flush()
        with pytest.raises(locks.MonthLocked, match="2026-10"):
            locks.ensure_month_open(station.id, day)
        with pytest.raises(locks.MonthLocked):  # a UTC time late on the 31st is November there
            locks.ensure_month_open(station.id, dt.datetime(2026, 10, 1, 0, 0, tzinfo=dt.UTC))
    locks.ensure_month_open(station.id, dt.date(2026, 11, 1))  # the next month is open
    locks.ensure_month_open(make.station().id, day)  # another station is open
    # 23:30 on 30 September UTC is 1 October in China: locked.
    with pytest.raises(locks.MonthLocked):
        locks.ensure_month_open(station.id, dt.datetime(2026, 9, 30, 23, 30, tzinfo=dt.UTC))


def test_form_add_edit_delete_and_counts_are_refused(client, db, make, login_as, locked):
    station, report = locked
    login_as("station", station=station)
    day = report.report_on
    record = report.records[0]
    response = client.post(
        f"/reports/{report.id}/records/new",
        data=_form(make.record_values(day, 77)),
        follow_redirects=True,
    )
    assert LOCKED in response.get_data(as_text=True)
    assert _records(db, station) == 1
    edit = report_services.record_raw(record)
    edit["serial_no"] = "P30999999999"
    response = client.post(
        f"/reports/records/{record.id}/edit", data=_form(edit), follow_redirects=True
    )
    assert LOCKED in response.get_data(as_text=True)
    assert db.session.get(RepairRecord, record.id).serial_no != "P30999999999"
    response = client.post(f"/reports/records/{record.id}/delete", follow_redirects=True)
    assert LOCKED in response.get_data(as_text=True)
    assert _records(db, station) == 1
    response = client.post(
        f"/reports/{report.id}/counts",
        data={
            "received_count": "9",
            "completed_count": "0",
            "pending_count": "0",
            "returned_count": "0",
            "complaint_count": "0",
            "version": str(report.version),
        },
        follow_redirects=True,
    )
    assert LOCKED in response.get_data(as_text=True)
    response = client.post(f"/reports/{report.id}/submit", follow_redirects=True)
    assert LOCKED in response.get_data(as_text=True)
    assert db.session.get(DailyReport, report.id).status.value == "draft"
    other_day = day - dt.timedelta(days=1)
    response = client.post(
        "/reports/open", data={"report_on": other_day.isoformat()}, follow_redirects=True
    )
    assert LOCKED in response.get_data(as_text=True)
    assert report_services.find_report(station.id, other_day) is None


def test_excel_upload_is_refused(client, db, make, login_as, locked):
    station, report = locked
    login_as("station", station=station)
    template = client.get("/reports/template.xlsx").data
    data = fill_template(template, [make.record_values(report.report_on, 5)])
    response = client.post(
        "/reports/upload",
        data={"report_on": report.report_on.isoformat(), "file": (io.BytesIO(data), "d.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert LOCKED in response.get_data(as_text=True)
    assert _records(db, station) == 1


def test_api_is_refused(client, db, make, locked):
    station, report = locked
    _token, plain = make.api_token(station)
    db.session.commit()
    day = report.report_on - dt.timedelta(days=2)
    body = {"report_on": day.isoformat(), "records": [api_record(make, day, 1)]}
    response = client.post("/api/v1/reports", json=body, headers=bearer(plain))
    assert 400 <= response.status_code < 500
    assert LOCKED in str(response.json)
    assert _records(db, station) == 1


def test_stock_movement_of_a_locked_month_is_refused_on_the_command_line(
    db, make, runner, tmp_path, locked, last_month_day
):
    from tests.spares.conftest import Spares

    station, _report = locked
    Spares(make, db).part("LCD-P30")
    path = tmp_path / "opening.xlsx"
    path.write_bytes(opening_file([(station.code, "LCD-P30", 4, 1)]))
    db.session.commit()
    result = runner.invoke(
        args=["spares", "import-stock", str(path), "--as-of", last_month_day.isoformat()]
    )
    assert result.exit_code != 0
    assert LOCKED in result.output
    moves = select(func.count()).select_from(StockMovement)
    assert db.session.execute(moves.where(StockMovement.station_id == station.id)).scalar() == 0


def test_stock_movement_by_a_page_is_refused_when_this_month_is_locked(client, db, make, login_as):
    from tests.spares.conftest import Spares

    spares = Spares(make, db)
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    shipment = spares.shipment(station, [(lcd, 3)], send=True)
    make.settlement(station, local_today(), status="finance_approved")
    login_as("station", station=station)
    response = client.post(
        f"/spares/shipments/{shipment.id}/receive",
        data={f"line_{shipment.lines[0].id}": "3", "form_token": issue_form_token()},
    )
    assert response.status_code == 422
    assert LOCKED in response.get_data(as_text=True)
    assert spares.held(station, lcd) == (0, 0)


def test_an_adjustment_for_a_locked_month_goes_to_the_next_open_month(db, make):
    from portal.core.actors import SYSTEM

    station = make.station()
    make.settlement(station, dt.date(2026, 10, 1), status="paid")
    entry = adjustments.record_adjustment(
        SYSTEM,
        station_id=station.id,
        on=dt.date(2026, 10, 20),
        rule_code=adjustments.LATE_REPORT,
        source_type="daily_report",
        source_id="lock-test",
    )
    assert entry.month == dt.date(2026, 11, 1)
