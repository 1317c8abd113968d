"""Defective parts not returned within the period become one deduction each (SPEC 7)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine
from sqlalchemy import select

from portal.settlement.adjustments import UNRETURNED_DEFECTIVE, Adjustment
from portal.spares import catalogue, stock
from portal.spares.states import MovementSource
from portal.spares.stock_models import StockMovement

START = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)


def _adjustments(db, station):
    return list(
        db.session.execute(
            select(Adjustment)
            .where(
                Adjustment.station_id == station.id, Adjustment.rule_code == UNRETURNED_DEFECTIVE
            )
            .order_by(Adjustment.id)
        ).scalars()
    )


def test_a_part_held_past_thirty_days_is_charged_once(spares, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="320.50")
    spares.give(station, lcd, defective=2, moved_at=START)
    assert stock.charge_unreturned(spares.hq, station.id, now=START + dt.timedelta(days=30)) == []
    later = START + dt.timedelta(days=30, minutes=1)
    charged = stock.charge_unreturned(spares.hq, station.id, now=later)
    assert [(a.amount, a.month) for a in charged] == [(Decimal("-641.00"), dt.date(2026, 12, 1))]
    assert spares.held(station, lcd) == (0, 0)
    assert stock.charge_unreturned(spares.hq, station.id, now=later) == []
    assert len(_adjustments(db, station)) == 1
    movement = db.session.execute(
        select(StockMovement).where(StockMovement.source_type == MovementSource.DEDUCTION)
    ).scalar_one()
    assert (movement.quantity, movement.source_id) == (-2, charged[0].id)
    assert stock.reconcile().ok


def test_parts_returned_in_time_or_newer_ones_are_not_charged(spares, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="100.00")
    spares.give(station, lcd, defective=2, moved_at=START)
    spares.give(station, lcd, defective=1, moved_at=START + dt.timedelta(days=20))
    spares.return_batch(station, [(lcd, 1, "")], ship=True)  # the oldest goes first
    charged = stock.charge_unreturned(spares.hq, station.id, now=START + dt.timedelta(days=31))
    assert [a.amount for a in charged] == [Decimal("-100.00")]
    assert spares.held(station, lcd) == (0, 1)


def test_a_part_hq_found_missing_is_still_owed(spares, db):
    from portal.spares import returns

    station = spares.station()
    lcd = spares.part("LCD-P30", value="100.00")
    spares.give(station, lcd, defective=1, moved_at=START)
    batch = spares.return_batch(station, [(lcd, 1, "")], ship=True)
    now = START + dt.timedelta(days=31)
    assert stock.charge_unreturned(spares.hq, station.id, now=now) == []
    returns.confirm(spares.hq, batch, {batch.lines[0].id: ("missing", "")})
    assert [a.amount for a in stock.charge_unreturned(spares.hq, station.id, now=now)] == [
        Decimal("-100.00")
    ]


def test_the_return_period_in_force_is_used(spares, db, today):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    catalogue.add_setting(spares.hq, effective_on=today, coverage_factor="1", return_days=10)
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False):
        from portal.core.db import now_utc

        spares.give(station, lcd, defective=1, moved_at=now_utc() - dt.timedelta(days=11))
        assert len(stock.charge_unreturned(spares.hq, station.id)) == 1


def test_consumption_starts_the_clock_at_the_repair(spares, make, db):
    from portal.reports import services as report_services

    station = spares.station()
    lcd = spares.part("LCD-P30", value="50.00")
    spares.give(station, lcd, good=1)
    user = spares.station_user(station)
    make.catalogues()
    day = report_services.local_today() - dt.timedelta(days=2)
    report = report_services.open_report(user, station, day)
    report_services.add_record(user, report, make.record_values(day, n=1))
    from portal.core.db import now_utc

    assert stock.charge_unreturned(spares.hq, station.id, now=now_utc()) == []
    charged = stock.charge_unreturned(spares.hq, station.id, now=now_utc() + dt.timedelta(days=29))
    assert [a.amount for a in charged] == [Decimal("-50.00")]


def test_charge_unreturned_command(spares, db, runner):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    spares.give(station, lcd, defective=1, moved_at=START)
    with time_machine.travel(START + dt.timedelta(days=40), tick=False):
        result = runner.invoke(args=["spares", "charge-unreturned", "--user", spares.hq.username])
        assert result.exit_code == 0, result.output
        assert "1 deductions recorded" in result.output
        again = runner.invoke(args=["spares", "charge-unreturned", "--user", spares.hq.username])
        assert "0 deductions recorded" in again.output


def test_the_deduction_shows_on_the_movements_page(spares, db, client, login_as):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="320.50")
    spares.give(station, lcd, defective=1, moved_at=START)
    stock.charge_unreturned(spares.hq, station.id, now=START + dt.timedelta(days=31))
    db.session.commit()
    login_as("finance")
    html = client.get(f"/spares/movements?station_id={station.id}&source=deduction").get_data(
        as_text=True
    )
    assert "Deduction for an unreturned part" in html
    assert "2026-12 -CN¥320.50" in html
