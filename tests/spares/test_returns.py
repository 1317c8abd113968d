"""Defective returns: shipped from defective stock, confirmed line by line by HQ."""

from __future__ import annotations

import pytest

from portal.core.errors import DomainError, PermissionDenied
from portal.spares import returns, stock
from portal.spares.states import ReturnStatus


def test_ship_and_confirm_a_return(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    spares.give(station, lcd, defective=3)
    user = spares.station_user(station)
    batch = spares.return_batch(station, [(lcd, 2, "S1")], user=user)
    assert batch.status == ReturnStatus.DRAFT
    assert spares.held(station, lcd) == (0, 3)
    returns.ship(user, batch, "SF-1")
    assert batch.status == ReturnStatus.SHIPPED
    assert batch.carrier_ref == "SF-1"
    assert spares.held(station, lcd) == (0, 1)
    returns.confirm(spares.hq, batch, {batch.lines[0].id: ("received", "")})
    assert batch.status == ReturnStatus.CONFIRMED
    assert spares.held(station, lcd) == (0, 1)
    assert stock.reconcile().ok


def test_missing_or_wrong_parts_go_back_on_the_station(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    bat = spares.part("BAT-P30", value="10.00")
    spares.give(station, lcd, defective=1)
    spares.give(station, bat, defective=1)
    user = spares.station_user(station)
    batch = spares.return_batch(station, [(lcd, 1, ""), (bat, 1, "")], user=user, ship=True)
    assert spares.held(station, lcd) == (0, 0)
    first, second = batch.lines
    with pytest.raises(DomainError):
        returns.confirm(spares.hq, batch, {first.id: ("missing", "")})
    returns.confirm(
        spares.hq,
        batch,
        {first.id: ("missing", "not in the box"), second.id: ("wrong_part", "a battery of P40")},
    )
    assert spares.held(station, lcd) == (0, 1)
    assert spares.held(station, bat) == (0, 1)
    assert stock.reconcile().ok


def test_a_station_returns_only_what_it_holds(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    spares.give(station, lcd, defective=1, good=5)
    user = spares.station_user(station)
    batch = returns.create(user, station.id)
    with pytest.raises(DomainError):
        returns.add_line(user, batch, "LCD-P30", 2)
    returns.add_line(user, batch, "LCD-P30", 1, "a")
    with pytest.raises(DomainError):
        returns.add_line(user, batch, "LCD-P30", 1, "b")


def test_shipping_checks_the_stock_again(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    spares.give(station, lcd, defective=1)
    user = spares.station_user(station)
    first = spares.return_batch(station, [(lcd, 1, "")], user=user)
    second = spares.return_batch(station, [(lcd, 1, "")], user=user)
    returns.ship(user, first)
    with pytest.raises(DomainError):
        returns.ship(user, second)
    assert spares.held(station, lcd) == (0, 0)


def test_empty_batches_and_second_shipping_are_refused(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    spares.give(station, lcd, defective=2)
    user = spares.station_user(station)
    with pytest.raises(DomainError):
        returns.ship(user, returns.create(user, station.id))
    batch = spares.return_batch(station, [(lcd, 1, "")], user=user, ship=True)
    with pytest.raises(DomainError):
        returns.ship(user, batch)
    returns.confirm(spares.hq, batch, {batch.lines[0].id: ("received", "")})
    with pytest.raises(DomainError):
        returns.confirm(spares.hq, batch, {batch.lines[0].id: ("received", "")})
    assert spares.held(station, lcd) == (0, 1)


def test_who_may_do_what(spares, make, db):
    station, other = spares.station(), spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    spares.give(station, lcd, defective=1)
    user = spares.station_user(station)
    with pytest.raises(PermissionDenied):
        returns.create(spares.station_user(other), station.id)
    with pytest.raises(PermissionDenied):
        returns.create(spares.hq, station.id)
    batch = spares.return_batch(station, [(lcd, 1, "")], user=user, ship=True)
    with pytest.raises(PermissionDenied):
        returns.confirm(user, batch, {batch.lines[0].id: ("received", "")})


def test_hq_does_not_see_drafts(spares, make, db):
    from portal.extensions import db as _db

    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    spares.give(station, lcd, defective=2)
    user = spares.station_user(station)
    draft = spares.return_batch(station, [(lcd, 1, "")], user=user)
    shipped = spares.return_batch(station, [(lcd, 1, "")], user=user, ship=True)
    seen = set(_db.session.execute(returns.batch_query(spares.hq)).scalars())
    assert shipped in seen
    assert draft not in seen
    mine = set(_db.session.execute(returns.batch_query(user)).scalars())
    assert {draft, shipped} <= mine
