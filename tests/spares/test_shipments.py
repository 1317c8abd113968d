"""Shipments: draft, send within coverage, receipt counted once, differences resolved by HQ."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.core.errors import DomainError, PermissionDenied
from portal.spares import catalogue, shipments, stock
from portal.spares.states import ShipmentStatus


def test_send_within_coverage_then_receive(spares, make, db):
    station = spares.station(deposit="5000")
    lcd = spares.part("LCD-P30", value="1000.00")
    shipment = spares.shipment(station, [(lcd, 3)])
    shipments.send(spares.hq, shipment)
    assert shipment.status == ShipmentStatus.SENT
    cov = stock.coverage(station.id)
    assert cov.in_transit_value == Decimal("3000.00")
    assert cov.good_value == Decimal("0.00")
    user = spares.station_user(station)
    shipments.confirm_receipt(user, shipment, {shipment.lines[0].id: "3"})
    assert shipment.status == ShipmentStatus.RECEIVED
    assert spares.held(station, lcd) == (3, 0)
    cov = stock.coverage(station.id)
    assert (cov.good_value, cov.in_transit_value) == (Decimal("3000.00"), Decimal("0.00"))
    assert stock.reconcile().ok


def test_send_past_coverage_is_refused_with_the_numbers(spares, make, db):
    station = spares.station(deposit="5000")
    lcd = spares.part("LCD-P30", value="1000.00")
    spares.give(station, lcd, good=3)
    shipment = spares.shipment(station, [(lcd, 3)])
    with pytest.raises(DomainError) as info:
        shipments.send(spares.hq, shipment)
    message = str(info.value.message)
    for number in ("3,000.00", "0.00", "6,000.00", "5,000.00"):
        assert number in message, message
    assert shipment.status == ShipmentStatus.DRAFT


def test_parts_on_their_way_count_against_the_limit(spares, make, db):
    station = spares.station(deposit="5000")
    lcd = spares.part("LCD-P30", value="1000.00")
    spares.shipment(station, [(lcd, 3)], send=True)
    second = spares.shipment(station, [(lcd, 3)])
    with pytest.raises(DomainError):
        shipments.send(spares.hq, second)
    third = spares.shipment(station, [(lcd, 2)])
    shipments.send(spares.hq, third)  # exactly at the limit
    assert stock.coverage(station.id).room == Decimal("0.00")


def test_the_coverage_factor_in_force_is_used(spares, make, db, today):
    station = spares.station(deposit="1000")
    lcd = spares.part("LCD-P30", value="1000.00")
    shipment = spares.shipment(station, [(lcd, 2)])
    with pytest.raises(DomainError):
        shipments.send(spares.hq, shipment)
    catalogue.add_setting(spares.hq, effective_on=today, coverage_factor="2.0", return_days=30)
    shipments.send(spares.hq, shipment)
    assert shipment.status == ShipmentStatus.SENT


def test_a_setting_cannot_start_in_the_past(spares, db, today):
    import datetime as dt

    with pytest.raises(DomainError):
        catalogue.add_setting(
            spares.hq,
            effective_on=today - dt.timedelta(days=1),
            coverage_factor="1.5",
            return_days=30,
        )


def test_an_empty_shipment_or_a_second_send_is_refused(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    empty = spares.shipment(station, [])
    with pytest.raises(DomainError):
        shipments.send(spares.hq, empty)
    shipment = spares.shipment(station, [(lcd, 1)], send=True)
    with pytest.raises(DomainError):
        shipments.send(spares.hq, shipment)
    with pytest.raises(DomainError):
        shipments.add_line(spares.hq, shipment, "LCD-P30", 1)


def test_lines_add_up_and_come_off(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    shipment = spares.shipment(station, [(lcd, 1), (lcd, 2)])
    assert [(ln.part_id, ln.quantity_sent) for ln in shipment.lines] == [(lcd.id, 3)]
    shipments.remove_line(spares.hq, shipment, shipment.lines[0].id)
    assert shipment.lines == []
    with pytest.raises(DomainError):
        shipments.add_line(spares.hq, shipment, "NOPE", 1)
    with pytest.raises(DomainError):
        shipments.add_line(spares.hq, shipment, "LCD-P30", "0")


def test_only_active_stations_get_parts(spares, make, db):
    station = spares.station(status="suspended")
    with pytest.raises(DomainError):
        shipments.create(spares.hq, station)


def test_a_second_confirmation_does_not_count_again(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    shipment = spares.shipment(station, [(lcd, 2)], send=True)
    user = spares.station_user(station)
    shipments.confirm_receipt(user, shipment, {shipment.lines[0].id: 2})
    with pytest.raises(DomainError):
        shipments.confirm_receipt(user, shipment, {shipment.lines[0].id: 2})
    assert spares.held(station, lcd) == (2, 0)


def test_only_the_station_confirms_its_receipt(spares, make, db):
    station, other = spares.station(), spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    shipment = spares.shipment(station, [(lcd, 1)], send=True)
    with pytest.raises(PermissionDenied):
        shipments.confirm_receipt(spares.station_user(other), shipment, {})
    with pytest.raises(PermissionDenied):
        shipments.confirm_receipt(spares.hq, shipment, {})
    with pytest.raises(PermissionDenied):
        shipments.send(spares.station_user(station), shipment)


def test_differences_are_recorded_and_resolved_by_hq(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    bat = spares.part("BAT-P30", value="5.00")
    shipment = spares.shipment(station, [(lcd, 5), (bat, 2)], send=True)
    user = spares.station_user(station)
    lcd_line, bat_line = shipment.lines
    shipments.confirm_receipt(user, shipment, {lcd_line.id: 3, bat_line.id: 3})
    assert shipment.status == ShipmentStatus.DIFFERENCE
    assert (lcd_line.difference, bat_line.difference) == (2, -1)
    # The 2 missing LCDs still count as on their way until HQ decides.
    assert stock.coverage(station.id).in_transit_value == Decimal("20.00")
    with pytest.raises(DomainError):
        shipments.resolve(spares.hq, shipment, {lcd_line.id: ("sent_stands", "")})
    shipments.resolve(
        spares.hq,
        shipment,
        {
            lcd_line.id: ("sent_stands", "station miscounted"),
            bat_line.id: ("received_stands", "extra one kept"),
        },
    )
    assert shipment.status == ShipmentStatus.RESOLVED
    assert spares.held(station, lcd) == (5, 0)
    assert spares.held(station, bat) == (3, 0)
    assert stock.coverage(station.id).in_transit_value == Decimal("0.00")
    assert stock.reconcile().ok


def test_lost_in_transit_writes_nothing_on_the_station(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    shipment = spares.shipment(station, [(lcd, 2)], send=True)
    user = spares.station_user(station)
    shipments.confirm_receipt(user, shipment, {shipment.lines[0].id: 0})
    shipments.resolve(spares.hq, shipment, {shipment.lines[0].id: ("received_stands", "lost")})
    assert spares.held(station, lcd) == (0, 0)


def test_a_cancelled_draft_cannot_be_sent(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    shipment = spares.shipment(station, [(lcd, 1)])
    shipments.cancel(spares.hq, shipment)
    with pytest.raises(DomainError):
        shipments.send(spares.hq, shipment)


def test_a_station_sees_only_its_own_sent_shipments(spares, make, db):
    from portal.extensions import db as _db

    station, other = spares.station(), spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    mine = spares.shipment(station, [(lcd, 1)], send=True)
    draft = spares.shipment(station, [(lcd, 1)])
    theirs = spares.shipment(other, [(lcd, 1)], send=True)
    user = spares.station_user(station)
    seen = set(_db.session.execute(shipments.shipment_query(user)).scalars())
    assert mine in seen
    assert draft not in seen
    assert theirs not in seen


def test_a_deduction_that_would_uncover_the_stock_is_refused(spares, make, db, today):
    from portal.certification import services as cert_services

    station = spares.station(deposit="5000")
    lcd = spares.part("LCD-P30", value="1000.00")
    spares.give(station, lcd, good=3)
    finance = make.user(role="finance")
    with pytest.raises(DomainError) as info, db.session.begin_nested():
        cert_services.record_station_deposit(
            finance, station, kind="deduction", amount="2500", entry_on=today
        )
    assert "3,000.00" in str(info.value.message)
    cert_services.record_station_deposit(
        finance, station, kind="deduction", amount="2000", entry_on=today
    )
    assert stock.coverage(station.id).room == Decimal("0.00")
