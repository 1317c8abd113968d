"""Repair records consume parts: good to defective stock, back on edit and delete (SPEC 7)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.reports import services as report_services
from portal.reports.models import RepairRecord
from portal.reports.states import RecordSource
from portal.spares import returns, stock
from portal.spares.states import MovementSource
from portal.spares.stock_models import StockMovement
from tests.api.test_api import api_record


def _movements(record_id):
    return list(
        db_session()
        .execute(
            select(StockMovement)
            .where(
                StockMovement.source_type == MovementSource.REPAIR,
                StockMovement.source_id == record_id,
            )
            .order_by(StockMovement.id)
        )
        .scalars()
    )


def db_session():
    from portal.extensions import db

    return db.session


def _report_with_record(make, station, user, parts="LCD-P30*1#OLD123", n=1):
    make.catalogues()
    report = report_services.open_report(user, station, report_services.local_today())
    record = report_services.add_record(user, report, make.record_values(n=n, parts=parts))
    return report, record


def test_a_record_moves_its_part_from_good_to_defective(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="320.00")
    spares.give(station, lcd, good=2)
    user = spares.station_user(station)
    _report, record = _report_with_record(make, station, user)
    assert spares.held(station, lcd) == (1, 1)
    assert record.part_not_held is False
    moves = _movements(record.id)
    assert [(m.condition.value, m.quantity, m.faulty_serial) for m in moves] == [
        ("good", -1, "OLD123"),
        ("defective", 1, "OLD123"),
    ]
    # When the part was swapped: the repair's completion (never later than now).
    assert moves[0].moved_at == min(record.completed_at, moves[0].recorded_at)
    assert moves[0].recorded_by_name == user.username
    assert stock.reconcile().ok


def test_a_part_not_held_is_flagged_and_the_record_kept(spares, make, db):
    station = spares.station()
    spares.part("LCD-P30")
    user = spares.station_user(station)
    _report, record = _report_with_record(make, station, user)
    assert record.id is not None
    assert record.part_not_held is True
    assert _movements(record.id) == []


def test_a_part_the_catalogue_does_not_know_is_flagged(spares, make, db):
    station = spares.station()
    user = spares.station_user(station)
    _report, record = _report_with_record(make, station, user, parts="NOSUCH-1*1")
    assert record.part_not_held is True


def test_a_record_without_parts_is_not_flagged(spares, make, db):
    station = spares.station()
    user = spares.station_user(station)
    _report, record = _report_with_record(make, station, user, parts="")
    assert record.part_not_held is False


def test_editing_the_parts_moves_the_difference(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    bat = spares.part("BAT-P30")
    spares.give(station, lcd, good=1)
    spares.give(station, bat, good=1)
    user = spares.station_user(station)
    _report, record = _report_with_record(make, station, user)
    raw = report_services.record_raw(record)
    raw["parts"] = "BAT-P30*1#B1"
    report_services.update_record(user, record, raw)
    assert spares.held(station, lcd) == (1, 0)
    assert spares.held(station, bat) == (0, 1)
    assert record.part_not_held is False
    assert stock.reconcile().ok


def test_an_edit_of_other_fields_does_not_judge_the_part_again(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    user = spares.station_user(station)
    _report, record = _report_with_record(make, station, user)
    assert record.part_not_held is True
    spares.give(station, lcd, good=3)  # the part arrives after the repair
    raw = report_services.record_raw(record)
    raw["customer_name"] = "李四"
    report_services.update_record(user, record, raw)
    assert record.part_not_held is True
    assert spares.held(station, lcd) == (3, 0)


def test_deleting_a_record_moves_the_part_back(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    spares.give(station, lcd, good=1)
    user = spares.station_user(station)
    _report, record = _report_with_record(make, station, user)
    record_id = record.id
    report_services.delete_record(user, record)
    assert spares.held(station, lcd) == (1, 0)
    assert [m.quantity for m in _movements(record_id)] == [-1, 1, 1, -1]
    assert stock.reconcile().ok


def test_a_record_whose_faulty_part_was_shipped_back_cannot_be_deleted(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    spares.give(station, lcd, good=1)
    user = spares.station_user(station)
    _report, record = _report_with_record(make, station, user)
    spares.return_batch(station, [(lcd, 1, "OLD123")], user=user, ship=True)
    with pytest.raises(DomainError) as info:
        report_services.delete_record(user, record)
    assert "already been shipped back" in str(info.value.message)


def test_a_batch_upload_shares_one_stock(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    spares.give(station, lcd, good=2)
    user = spares.station_user(station)
    make.catalogues()
    report = report_services.open_report(user, station, report_services.local_today())
    rows = [(n + 2, make.record_values(n=n + 1)) for n in range(3)]
    result = report_services.import_records(user, report, rows, RecordSource.EXCEL)
    flags = [db.session.get(RepairRecord, rid).part_not_held for rid in result.records]
    assert flags == [False, False, True]
    assert spares.held(station, lcd) == (0, 2)
    assert stock.reconcile().ok


def test_the_api_consumes_too(spares, make, client, db):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    spares.give(station, lcd, good=1)
    make.catalogues()
    _token, plain = make.api_token(station)
    day = report_services.local_today()
    values = api_record(make, day, 7)
    response = client.post(
        "/api/v1/reports",
        json={"report_on": report_services.local_today().isoformat(), "records": [values]},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    assert spares.held(station, lcd) == (0, 1)


def test_consumption_is_on_the_station_that_repaired(spares, make, db):
    station, other = spares.station(), spares.station()
    lcd = spares.part("LCD-P30")
    spares.give(other, lcd, good=1)
    user = spares.station_user(station)
    _report, record = _report_with_record(make, station, user)
    assert record.part_not_held is True
    assert spares.held(other, lcd) == (1, 0)


def test_returns_list_offers_faulty_serials(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    spares.give(station, lcd, good=1)
    user = spares.station_user(station)
    _report_with_record(make, station, user)
    assert returns.recent_faulty_serials(station.id) == [("LCD-P30", "OLD123")]
