"""Revocation ends with a refund entry: the balance minus open deductions (SPEC 3.4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portal.settlement.adjustments import LATE_REPORT, UNRETURNED_DEFECTIVE, record_adjustment
from portal.spares import revocation
from portal.spares import services as deposits

DAY = dt.date(2026, 11, 20)


def test_the_refund_keeps_back_open_deductions_and_stock_held(spares, make, db):
    station = spares.station(deposit="5000")
    lcd = spares.part("LCD-P30", value="100.00")
    spares.give(station, lcd, good=2, defective=1)
    hq = spares.hq
    record_adjustment(
        hq, station_id=station.id, on=DAY, rule_code=LATE_REPORT, source_type="t", source_id=1
    )
    record_adjustment(
        hq,
        station_id=station.id,
        on=DAY,
        rule_code=UNRETURNED_DEFECTIVE,
        source_type="t",
        source_id=2,
        amount="-80.00",
    )
    # A settled month is no longer open: its deductions were taken from its payment.
    make.settlement(station, dt.date(2026, 10, 1), status="paid")
    record_adjustment(
        hq,
        station_id=station.id,
        on=dt.date(2026, 10, 5),
        rule_code=LATE_REPORT,
        source_type="t",
        source_id=3,
    )
    due = revocation.refund_due(station.id)
    assert due.balance == Decimal("5000.00")
    # October is settled: its -20 went into November, the next open month.
    assert due.open_deductions == Decimal("120.00")
    assert due.stock_held == Decimal("300.00")
    finance = make.user(role="finance")
    entry, due = revocation.refund_on_revocation(finance, station, DAY)
    assert entry.amount == Decimal("-4580.00")
    assert entry.kind.value == "refund"
    assert deposits.balance(deposits.account_for_station(station.id)) == Decimal("420.00")


def test_nothing_due_records_nothing(spares, make, db):
    station = spares.station(deposit="")
    entry, due = revocation.refund_on_revocation(make.user(role="finance"), station, DAY)
    assert entry is None
    assert due.amount == Decimal("0.00")


def test_revoking_a_station_ends_with_the_refund_entry(spares, make, db):
    from sqlalchemy import select

    from portal.certification import services as cert_services
    from portal.core.audit import AuditEntry

    station = spares.station(deposit="5000")
    lcd = spares.part("LCD-P30", value="100.00")
    spares.give(station, lcd, good=3)
    record_adjustment(
        spares.hq,
        station_id=station.id,
        on=DAY,
        rule_code=LATE_REPORT,
        source_type="t",
        source_id=9,
    )
    cert_services.revoke(spares.hq, station, "sold counterfeit parts")
    account = deposits.account_for_station(station.id)
    refund = deposits.entries(account)[-1]
    assert (refund.kind.value, refund.amount) == ("refund", Decimal("-4680.00"))
    assert refund.recorded_by_name == "system"
    assert spares.hq.username in refund.note
    assert deposits.balance(account) == Decimal("320.00")
    revoked = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "station.revoke", AuditEntry.station_id == station.id
        )
    ).scalar_one()
    assert revoked.actor_name == spares.hq.username
    assert revoked.after["deposit_to_refund"] == "4680.00"
    assert revoked.after["stock_held"] == "300.00"
