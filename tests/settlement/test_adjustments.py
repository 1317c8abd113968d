"""The adjustments table: one entry per event, signed money, the month it belongs to."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.core.audit import AuditEntry
from portal.core.errors import DomainError, PermissionDenied
from portal.settlement import adjustments
from portal.settlement.adjustments import Adjustment, record_adjustment


def _count(db):
    return db.session.query(Adjustment).count()


def test_rules_catalogue_holds_the_spec_defaults(db):
    amounts = {code: rule.amount for code, rule in adjustments.RULES.items()}
    assert amounts["late_report"] == Decimal("-20.00")
    assert amounts["missing_report"] == Decimal("-50.00")
    assert amounts["overdue_rectification"] == Decimal("-100.00")
    assert amounts["critical_item_failed"] == Decimal("-500.00")
    assert amounts["verified_complaint"] == Decimal("-200.00")
    assert amounts["assessment_grade_a"] == Decimal("300.00")
    assert amounts["high_satisfaction"] == Decimal("200.00")
    assert adjustments.RULES["fabricated_record"].fee_factor == Decimal("-3")
    assert adjustments.rule_amount("critical_item_failed") == Decimal("-500.00")


def test_the_same_event_gives_one_entry(db, make):
    station = make.station()
    auditor = make.user(role="auditor")
    kwargs = {
        "station_id": station.id,
        "on": dt.date(2026, 3, 17),
        "rule_code": "critical_item_failed",
        "source_type": "inspection_answer",
        "source_id": 41,
    }
    first = record_adjustment(auditor, **kwargs)
    again = record_adjustment(auditor, **kwargs)
    assert again.id == first.id
    assert _count(db) == 1
    assert first.month == dt.date(2026, 3, 1)
    assert first.amount == Decimal("-500.00")
    assert first.created_by_name == auditor.username
    entries = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "adjustment.recorded")
    ).scalars()
    assert len(list(entries)) == 1


def test_repeated_events_are_told_apart_by_occurrence(db, make):
    station = make.station()
    user = make.user(role="auditor")
    for week in (1, 2):
        record_adjustment(
            user,
            station_id=station.id,
            on=dt.date(2026, 4, 1) + dt.timedelta(days=7 * week),
            rule_code="overdue_rectification",
            source_type="rectification",
            source_id=9,
            occurrence=week,
        )
    rows = adjustments.adjustments_of(station.id, dt.date(2026, 4, 1))
    assert [r.occurrence for r in rows] == [1, 2]
    assert sum(r.amount for r in rows) == Decimal("-200.00")


def test_amount_survives_the_round_trip_exactly(db, make):
    station = make.station()
    hq = make.user(role="hq")
    entry = record_adjustment(
        hq,
        station_id=station.id,
        on=dt.date(2026, 5, 2),
        rule_code="fabricated_record",
        source_type="repair_record",
        source_id=77,
        amount=Decimal("-66.105"),
        reason="ticket never existed",
    )
    db.session.expire_all()
    assert db.session.get(Adjustment, entry.id).amount == Decimal("-66.11")


def test_manual_rules_need_permission_and_a_reason(db, make):
    station = make.station()
    values = {
        "station_id": station.id,
        "on": dt.date(2026, 5, 2),
        "rule_code": "verified_complaint",
        "source_type": "complaint",
        "source_id": "C-1",
    }
    with pytest.raises(PermissionDenied):
        record_adjustment(make.user(role="auditor"), **values, reason="rude")
    with pytest.raises(PermissionDenied):
        record_adjustment(None, **values, reason="rude")
    with pytest.raises(DomainError):
        record_adjustment(make.user(role="hq"), **values)
    assert _count(db) == 0


def test_a_month_past_draft_sends_the_entry_to_the_next_open_month(db, make):
    station = make.station()
    make.settlement(station, dt.date(2026, 6, 1), status="finance_approved")
    make.settlement(station, dt.date(2026, 7, 1), status="confirmed")
    entry = record_adjustment(
        make.user(role="auditor"),
        station_id=station.id,
        on=dt.date(2026, 6, 30),
        rule_code="critical_item_failed",
        source_type="inspection_answer",
        source_id=5,
    )
    assert entry.month == dt.date(2026, 8, 1)


def test_an_entry_must_name_its_source_and_an_amount(db, make):
    station = make.station()
    user = make.user(role="auditor")
    with pytest.raises(DomainError):
        record_adjustment(
            user,
            station_id=station.id,
            on=dt.date(2026, 1, 1),
            rule_code="late_report",
            source_type="",
            source_id=1,
        )
    with pytest.raises(DomainError):
        record_adjustment(
            user,
            station_id=station.id,
            on=dt.date(2026, 1, 1),
            rule_code="unreturned_defective",
            source_type="return_line",
            source_id=1,
        )
    with pytest.raises(DomainError):
        record_adjustment(
            user,
            station_id=station.id,
            on=dt.date(2026, 1, 1),
            rule_code="no_such_rule",
            source_type="x",
            source_id=1,
        )
