"""The settlement workflow (SPEC 8.4): every move and every refusal, separation of duties,
payment, amendments (reopening), and the pages that offer the moves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.core.actors import SYSTEM
from portal.core.audit import AuditEntry
from portal.core.errors import ConcurrentChange, DomainError, InvalidTransition, PermissionDenied
from portal.settlement import locks, workflow
from portal.settlement.models import Settlement
from portal.settlement.states import SettlementStatus as S
from tests import audit_guard

MONTH = dt.date(2026, 10, 1)


def settlement_of(db, people, status="draft", **figures) -> Settlement:
    values = {
        "valid_count": 3,
        "invalid_count": 1,
        "labour": Decimal("90.00"),
        "travel": Decimal("10.00"),
        "rewards": Decimal("0.00"),
        "penalties": Decimal("-20.00"),
        "deductions": Decimal("0.00"),
        "carried_in": Decimal("0.00"),
        "carried_out": Decimal("0.00"),
        "net": Decimal("80.00"),
    }
    values.update(figures)
    row = Settlement(
        station_id=people["station"].id,
        month=MONTH,
        status=S(status),
        revision=1,
        run_by_id=people["runner"].id,
        computed_by_id=people["runner"].id,
        **values,
    )
    info = db.session().info
    outer = info.get(audit_guard.FACTORY, False)
    info[audit_guard.FACTORY] = True  # test data, as tests/factories.py makes it
    try:
        db.session.add(row)
        db.session.flush()
    finally:
        info[audit_guard.FACTORY] = outer
    return row


def _actions(db, settlement):
    return [
        e.action
        for e in db.session.execute(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == "Settlement", AuditEntry.object_id == str(settlement.id)
            )
            .order_by(AuditEntry.id)
        ).scalars()
    ]


def test_the_whole_way_confirm_approve_approve_pay(db, people):
    s = settlement_of(db, people)
    workflow.confirm(people["station_user"], s, expected_version=s.version)
    assert s.status == S.CONFIRMED
    workflow.hq_approve(people["hq"], s)
    assert (s.status, s.hq_approved_by_id) == (S.HQ_APPROVED, people["hq"].id)
    workflow.finance_approve(people["finance"], s)
    assert (s.status, s.finance_approved_by_id) == (S.FINANCE_APPROVED, people["finance"].id)
    assert s.finance_approved_at is not None
    with pytest.raises(locks.MonthLocked):
        locks.ensure_month_open(people["station"].id, MONTH)
    workflow.mark_paid(
        people["finance"], s, "BANK-2026-11-0001", dt.date(2026, 11, 5), today=dt.date(2026, 11, 20)
    )
    assert (s.status, s.paid_reference, s.paid_on) == (
        S.PAID,
        "BANK-2026-11-0001",
        dt.date(2026, 11, 5),
    )
    with pytest.raises(locks.MonthLocked):
        locks.ensure_month_open(people["station"].id, MONTH)
    assert _actions(db, s) == [
        "settlement.confirm",
        "settlement.hq_approve",
        "settlement.finance_approve",
        "settlement.pay",
    ]


def test_dispute_needs_a_reason_and_hq_answers(db, people):
    s = settlement_of(db, people)
    with pytest.raises(DomainError) as refused:
        workflow.dispute(people["station_user"], s, "   ")
    assert refused.value.field == "reason"
    workflow.dispute(people["station_user"], s, "Ticket T-9 was paid last month")
    assert (s.status, s.dispute_reason) == (S.DISPUTED, "Ticket T-9 was paid last month")
    with pytest.raises(InvalidTransition):
        workflow.hq_approve(people["hq"], s)
    with pytest.raises(PermissionDenied):
        workflow.answer(people["station_user"], s, "I answer myself")
    with pytest.raises(DomainError) as refused:
        workflow.answer(people["hq"], s, "")
    assert refused.value.field == "answer"
    workflow.answer(people["hq"], s, "T-9 is a repeat repair; the rule applies.")
    assert (s.status, s.answer) == (S.DRAFT, "T-9 is a repeat repair; the rule applies.")
    workflow.confirm(people["station_user"], s)
    assert s.status == S.CONFIRMED
    assert _actions(db, s) == ["settlement.dispute", "settlement.answer", "settlement.confirm"]


@pytest.mark.parametrize(
    ("who", "action"),
    [
        ("other_station_user", "confirm"),
        ("hq", "confirm"),
        ("finance", "confirm"),
        ("auditor", "confirm"),
        ("station_user", "hq_approve"),
        ("finance", "hq_approve"),
    ],
)
def test_who_may_not(db, people, who, action):
    s = settlement_of(db, people, status="draft" if action == "confirm" else "confirmed")
    with pytest.raises(PermissionDenied):
        workflow.run(people[who], s, action, {})
    assert s.status == (S.DRAFT if action == "confirm" else S.CONFIRMED)


def test_moves_the_table_does_not_allow_are_refused_with_state_and_action(db, people):
    s = settlement_of(db, people)
    with pytest.raises(InvalidTransition, match="is not allowed while the settlement is Draft"):
        workflow.finance_approve(people["finance"], s)
    with pytest.raises(InvalidTransition):
        workflow.mark_paid(people["finance"], s, "X", dt.date(2026, 11, 1))
    with pytest.raises(InvalidTransition):
        workflow.reopen(people["finance"], s, "why")
    assert s.status == S.DRAFT


def test_a_stale_version_is_told_it_changed(db, people):
    s = settlement_of(db, people)
    seen = s.version
    workflow.confirm(people["station_user"], s, expected_version=seen)
    db.session.flush()
    with pytest.raises(ConcurrentChange, match="changed this meanwhile"):
        workflow.hq_approve(people["hq"], s, expected_version=seen)
    assert s.status == S.CONFIRMED


def test_who_ran_or_approved_for_hq_cannot_give_the_finance_approval(db, people, make):
    s = settlement_of(db, people, status="hq_approved")
    with pytest.raises(PermissionDenied, match="another person in finance"):
        workflow.finance_approve(people["runner"], s)
    both = make.user(roles=["hq", "finance"])
    s.hq_approved_by_id = both.id
    with pytest.raises(PermissionDenied):
        workflow.finance_approve(both, s)
    with pytest.raises(PermissionDenied):
        workflow.finance_approve(SYSTEM, s)
    assert "finance_approve" not in [a.name for a in workflow.allowed_actions(people["runner"], s)]
    assert "finance_approve" in [a.name for a in workflow.allowed_actions(people["finance"], s)]
    workflow.finance_approve(people["finance"], s)
    assert s.status == S.FINANCE_APPROVED


def test_payment_needs_a_reference_and_a_day_not_in_the_future(db, people):
    s = settlement_of(db, people, status="finance_approved")
    with pytest.raises(DomainError) as refused:
        workflow.mark_paid(people["finance"], s, " ", dt.date(2026, 11, 5))
    assert refused.value.field == "paid_reference"
    with pytest.raises(DomainError) as refused:
        workflow.mark_paid(people["finance"], s, "R1", None)
    assert refused.value.field == "paid_on"
    with pytest.raises(DomainError) as refused:
        workflow.mark_paid(
            people["finance"], s, "R1", dt.date(2026, 11, 21), today=dt.date(2026, 11, 20)
        )
    assert refused.value.field == "paid_on"
    assert s.status == S.FINANCE_APPROVED


def test_a_month_is_locked_only_once_it_is_over(db, make):
    from portal.core.dates import local_today
    from portal.core.errors import DomainError

    station = make.station()
    this_month = make.settlement(station, local_today().replace(day=1), status="hq_approved")
    finance = make.user(role="finance")
    assert "finance_approve" not in [a.name for a in workflow.allowed_actions(finance, this_month)]
    with pytest.raises(DomainError, match="not over yet"):
        workflow.finance_approve(finance, this_month)
