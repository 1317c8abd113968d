"""The monthly run: figures per station, idempotency, carry-forward, tiers by date, skips."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.core.actors import SYSTEM
from portal.core.dates import local_today
from portal.core.errors import PermissionDenied
from portal.settlement import adjustments as adj
from portal.settlement.models import Settlement, SettlementLine
from portal.settlement.run import run_month
from portal.settlement.states import SettlementStatus


def last_month() -> dt.date:
    return (local_today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@pytest.fixture
def month():
    return last_month()


def _station(make, day, **kw):
    """A station under agreement for exactly the day (so no other day is missing)."""
    return make.station(agreement_start_on=day, agreement_end_on=day, **kw)


def _current(db, station):
    return db.session.execute(
        select(Settlement).where(
            Settlement.station_id == station.id,
            Settlement.month == last_month(),
            Settlement.superseded_at.is_(None),
        )
    ).scalar_one()


def _lines(db, settlement):
    return (
        db.session.execute(
            select(SettlementLine)
            .where(SettlementLine.settlement_id == settlement.id)
            .order_by(SettlementLine.received_at, SettlementLine.id)
        )
        .scalars()
        .all()
    )


def test_a_month_is_judged_and_summed_per_station(make, db, month):
    day = month.replace(day=12)
    station = _station(make, day)
    make.report(station, day, records=3, submit=True, on_time=True, parts="")
    result = run_month(month, [station.id], SYSTEM)
    settlement = _current(db, station)
    assert (result.computed, result.records) == (1, 3)
    assert (settlement.valid_count, settlement.invalid_count) == (3, 0)
    assert settlement.labour == Decimal("60.00")  # 3 × instore_simple at a service station
    assert settlement.net == Decimal("60.00")
    assert settlement.status is SettlementStatus.DRAFT
    assert settlement.rule_versions["fee_schedule"] == ["2000-01-01"]
    assert [line.fee for line in _lines(db, settlement)] == [Decimal("20.00")] * 3


def test_running_twice_gives_the_same_result_and_one_settlement(make, db, month):
    day = month.replace(day=12)
    station = _station(make, day)
    make.report(station, day, records=2, submit=True, on_time=True, parts="")
    run_month(month, [station.id], SYSTEM)
    first = _current(db, station)
    figures = (first.labour, first.net, first.valid_count, first.computed_at)
    run_month(month, [station.id], SYSTEM)
    run_month(month, None, SYSTEM)
    again = _current(db, station)
    assert again.id == first.id
    assert (again.labour, again.net, again.valid_count, again.computed_at) == figures
    count = db.session.execute(
        select(func.count(Settlement.id)).where(Settlement.station_id == station.id)
    ).scalar_one()
    assert count == 1
    assert len(_lines(db, again)) == 2


def test_unreported_records_and_missing_days_are_judged(make, db, month):
    day = month.replace(day=12)
    station = make.station(agreement_start_on=day, agreement_end_on=day + dt.timedelta(days=1))
    make.report(station, day, records=1, submit=False, parts="")  # a draft: never submitted
    run_month(month, [station.id], SYSTEM)
    settlement = _current(db, station)
    (line,) = _lines(db, settlement)
    assert (line.valid, line.reason_code, line.fee) == (False, "not_reported", Decimal("0.00"))
    # Two days under agreement, neither submitted: two missing-report penalties.
    entries = adj.adjustments_of(station.id, month)
    assert sorted(e.rule_code for e in entries) == ["missing_report", "missing_report"]
    assert settlement.penalties == Decimal("100.00")
    assert (settlement.net, settlement.carried_out) == (Decimal("0.00"), Decimal("100.00"))
    run_month(month, [station.id], SYSTEM)
    assert len(adj.adjustments_of(station.id, month)) == 2  # the same events: once


def test_a_negative_net_is_carried_into_the_next_month(make, db, month):
    day = month.replace(day=12)
    station = _station(make, day)
    make.report(station, day, records=1, submit=True, on_time=True, parts="")
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    earlier = make.settlement(station, previous, status="paid")
    make.update(earlier, carried_out=Decimal("15.50"))
    db.session.commit()
    run_month(month, [station.id], SYSTEM)
    settlement = _current(db, station)
    assert settlement.carried_in == Decimal("15.50")
    assert (settlement.net, settlement.carried_out) == (Decimal("4.50"), Decimal("0.00"))


def test_the_tier_on_the_completion_day_decides_scope_and_fee(make, db, month):
    first_day, second_day = month.replace(day=10), month.replace(day=20)
    station = make.station(
        agreement_start_on=first_day, agreement_end_on=second_day, tier="service_station"
    )
    make.tier_from(station, "service_center", month.replace(day=15))
    make.report(station, first_day, records=1, submit=True, on_time=True, parts="")
    make.report(station, second_day, records=1, submit=True, on_time=True, parts="")
    for report_day in (first_day, second_day):
        report = make.report(station, report_day)
        make.update(report.records[0], repair_type="complex")
    db.session.commit()
    run_month(month, [station.id], SYSTEM)
    lines = _lines(db, _current(db, station))
    assert [(line.tier, line.reason_code, line.fee) for line in lines] == [
        ("service_station", "tier_scope", Decimal("0.00")),
        ("service_center", None, Decimal("45.00")),
    ]


def test_a_part_not_held_makes_the_record_invalid(make, db, month):
    day = month.replace(day=12)
    station = _station(make, day)
    report = make.report(station, day, records=2, submit=True, on_time=True, parts="")
    make.update(report.records[1], part_not_held=True)
    db.session.commit()
    run_month(month, [station.id], SYSTEM)
    reasons = [line.reason_code for line in _lines(db, _current(db, station))]
    assert reasons == [None, "part_not_held"]


def test_a_settlement_that_left_draft_is_left_alone(make, db, month):
    day = month.replace(day=12)
    station = _station(make, day)
    make.report(station, day, records=2, submit=True, on_time=True, parts="")
    confirmed = make.settlement(station, month, status="confirmed")
    db.session.commit()
    result = run_month(month, [station.id], SYSTEM)
    assert (result.computed, result.skipped) == (0, 1)
    assert _current(db, station).id == confirmed.id
    assert _current(db, station).labour == Decimal("0.00")


def test_satisfaction_reward_needs_fifty_scored_records_averaging_4_75(make, db, month):
    day = month.replace(day=12)
    rewarded, not_enough = _station(make, day), _station(make, day)
    make.report(rewarded, day, records=50, submit=True, on_time=True, parts="")  # all scored 5
    make.report(not_enough, day, records=49, submit=True, on_time=True, parts="")
    run_month(month, [rewarded.id, not_enough.id], SYSTEM)
    assert _current(db, rewarded).rewards == Decimal("200.00")
    assert _current(db, not_enough).rewards == Decimal("0.00")


@pytest.mark.parametrize("role", ["auditor", "station"])
def test_only_those_allowed_run_a_month(make, month, role):
    # Finance runs months; HQ may too, since it recomputes disputed settlements (SPEC 8.4).
    with pytest.raises(PermissionDenied):
        run_month(month, None, make.user(role=role))


def test_show_prints_each_station_as_json(make, db, runner, month):
    day = month.replace(day=12)
    station = _station(make, day)
    make.report(station, day, records=2, submit=True, on_time=True, parts="")
    report = make.report(station, day)
    make.update(report.records[0], part_not_held=True)
    db.session.commit()
    run_month(month, [station.id], SYSTEM)
    out = runner.invoke(args=["settlement", "show", "--month", f"{month:%Y-%m}", "--json"])
    assert out.exit_code == 0, out.output
    rows = {row["code"]: row for row in json.loads(out.output)}
    row = rows[station.code]
    assert (row["valid"], row["invalid"], row["reasons"]) == (1, 1, {"part_not_held": 1})
    assert (row["labour"], row["net"], row["state"]) == ("20.00", "20.00", "draft")
