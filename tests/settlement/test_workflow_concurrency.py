"""Two people acting on one settlement at the same moment: exactly one move is made, the other
is told the settlement changed (PostgreSQL, real transactions)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm.exc import StaleDataError

from portal.extensions import db
from portal.settlement import workflow
from portal.settlement.models import Settlement
from portal.settlement.states import SettlementStatus as S
from tests.factories import Factories
from tests.settlement.test_workflow import settlement_of

TABLES = "settlements, user_sessions, user_roles, users, stations, audit_entries"


def _at_once(app, settlement_id, moves):
    """Run each (user_id, action, form) in its own thread and transaction, all at once."""
    barrier = threading.Barrier(len(moves))
    outcomes = []

    def act(user_id, action, form):
        with app.test_request_context():
            try:
                from portal.auth.models import User

                actor = db.session.get(User, user_id)
                settlement = db.session.get(Settlement, settlement_id)
                barrier.wait(timeout=10)
                workflow.run(actor, settlement, action, form)
                db.session.commit()
                outcomes.append(("done", action))
            except StaleDataError:
                db.session.rollback()
                outcomes.append(("changed", action))
            except Exception as exc:  # reported below
                db.session.rollback()
                outcomes.append(("error", repr(exc)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=act, args=move) for move in moves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def committed(app):
    yield
    with app.app_context():
        db.session.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        db.session.commit()
        db.session.remove()


@pytest.mark.postgres_only
def test_two_finance_approvals_at_once_exactly_one_wins(app, committed):
    with app.test_request_context():
        make = Factories(db)
        station = make.station()
        runner = make.user(role="finance")
        first, second = make.user(role="finance"), make.user(role="finance")
        settlement = settlement_of(db, {"station": station, "runner": runner}, "hq_approved")
        ids = (settlement.id, first.id, second.id)
        db.session.commit()
        db.session.remove()
    settlement_id, first_id, second_id = ids
    outcomes = _at_once(
        app,
        settlement_id,
        [(first_id, "finance_approve", {}), (second_id, "finance_approve", {})],
    )
    assert sorted(kind for kind, _ in outcomes) == ["changed", "done"], outcomes
    with app.app_context():
        row = db.session.get(Settlement, settlement_id)
        assert row.status == S.FINANCE_APPROVED
        assert row.finance_approved_by_id in (first_id, second_id)
        assert row.version == 2
        entries = db.session.execute(
            text("SELECT count(*) FROM audit_entries WHERE action = 'settlement.finance_approve'")
        ).scalar()
        assert entries == 1
        db.session.remove()


@pytest.mark.postgres_only
def test_confirm_and_dispute_at_once_exactly_one_wins(app, committed):
    with app.test_request_context():
        make = Factories(db)
        station = make.station()
        one = make.user(role="station", station=station)
        other = make.user(role="station", station=station)
        settlement = settlement_of(db, {"station": station, "runner": make.user(role="finance")})
        ids = (settlement.id, one.id, other.id)
        db.session.commit()
        db.session.remove()
    settlement_id, one_id, other_id = ids
    outcomes = _at_once(
        app,
        settlement_id,
        [(one_id, "confirm", {}), (other_id, "dispute", {"reason": "wrong count"})],
    )
    assert sorted(kind for kind, _ in outcomes) == ["changed", "done"], outcomes
    winner = next(action for kind, action in outcomes if kind == "done")
    with app.app_context():
        status = db.session.execute(
            select(Settlement.status).where(Settlement.id == settlement_id)
        ).scalar_one()
        assert status == (S.CONFIRMED if winner == "confirm" else S.DISPUTED)
        db.session.remove()


@pytest.mark.postgres_only
def test_a_change_waits_for_an_approval_being_committed_and_is_then_refused(app, committed):
    """Finance approves (not yet committed) while a stock change asks whether the month is
    open: the question waits for the approval and gets "locked", never the old answer."""
    import time

    from portal.settlement import locks

    with app.test_request_context():
        make = Factories(db)
        station = make.station()
        approver = make.user(role="finance")
        settlement = settlement_of(
            db, {"station": station, "runner": make.user(role="finance")}, "hq_approved"
        )
        ids = (settlement.id, station.id, approver.id, settlement.month)
        db.session.commit()
        db.session.remove()
    settlement_id, station_id, approver_id, month = ids
    flushed = threading.Event()
    outcome = {}

    def approve():
        with app.test_request_context():
            try:
                from portal.auth.models import User

                workflow.finance_approve(
                    db.session.get(User, approver_id), db.session.get(Settlement, settlement_id)
                )
                db.session.flush()  # the row is updated and locked, not yet committed
                flushed.set()
                time.sleep(0.5)
                # Taken before the commit: the answer may come the moment the commit lands,
                # before this thread runs again, but never before it starts.
                outcome["committing_at"] = time.monotonic()
                db.session.commit()
            finally:
                db.session.remove()

    def change():
        flushed.wait(timeout=10)
        with app.test_request_context():
            try:
                locks.ensure_month_open(station_id, month)
                outcome["change"] = "allowed"
            except locks.MonthLocked:
                outcome["change"] = "locked"
                outcome["answered_at"] = time.monotonic()
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=approve), threading.Thread(target=change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcome["change"] == "locked"
    assert outcome["answered_at"] >= outcome["committing_at"]
