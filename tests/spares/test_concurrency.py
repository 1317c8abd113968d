"""Deposits under concurrency, on PostgreSQL with real connections: each thread its own session,
each committing. Twelve deductions of 10 from 100.00 leave exactly 0; one entry is reversed once;
one form token records once."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import text

from portal.core.errors import DomainError
from portal.extensions import db
from portal.spares import services as deposits
from portal.spares.models import DepositAccount, DepositEntry
from tests.factories import Factories

pytestmark = pytest.mark.postgres_only

DAY = dt.date(2026, 11, 2)
TABLES = "deposit_entries, deposit_accounts, used_form_tokens, audit_entries, stations, users"


@pytest.fixture
def committed(app):
    """Commit a station with 100.00 paid and a finance user; everything is removed afterwards."""
    try:
        with app.app_context():
            make = Factories(db)
            station = make.station()
            finance = make.cashier()
            account = deposits.account_for_station(station.id, create=True)
            paid = deposits.record_entry(
                finance, account, kind="paid", amount="100.00", entry_on=DAY
            )
            ids = {"finance": finance.id, "account": account.id, "paid": paid.id}
            db.session.commit()
            db.session.remove()
        yield ids
    finally:
        with app.app_context():
            db.session.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
            db.session.commit()
            db.session.remove()


def _at_once(app, count, work):
    """Run work() in `count` threads released together; each outcome, or the unexpected error."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def run():
        with app.app_context():
            try:
                prepared = work.prepare()
                barrier.wait(timeout=30)
                work.act(prepared)
                db.session.commit()
                outcomes.append("recorded")
            except DomainError as refused:
                db.session.rollback()
                outcomes.append(f"refused: {refused.message}")
            except Exception as exc:  # any other error is what the test is about
                db.session.rollback()
                outcomes.append(f"error: {exc!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _balance(app, account_id) -> Decimal:
    with app.app_context():
        value = deposits.balance(db.session.get(DepositAccount, account_id))
        db.session.remove()
        return value


class _Deduct:
    def __init__(self, ids):
        self.ids = ids

    def prepare(self):
        from portal.auth.models import User

        return db.session.get(User, self.ids["finance"]), db.session.get(
            DepositAccount, self.ids["account"]
        )

    def act(self, prepared):
        finance, account = prepared
        deposits.record_entry(finance, account, kind="deduction", amount="10", entry_on=DAY)


def test_twelve_concurrent_deductions_leave_exactly_zero(app, committed):
    outcomes = _at_once(app, 12, _Deduct(committed))
    errors = [o for o in outcomes if o.startswith("error")]
    assert errors == []
    assert outcomes.count("recorded") == 10
    refused = [o for o in outcomes if o.startswith("refused")]
    assert len(refused) == 2
    assert all("below zero" in str(o) for o in refused)
    assert _balance(app, committed["account"]) == Decimal("0.00")


class _Reverse:
    def __init__(self, ids, entry_id):
        self.ids, self.entry_id = ids, entry_id

    def prepare(self):
        from portal.auth.models import User

        return db.session.get(User, self.ids["finance"]), db.session.get(
            DepositEntry, self.entry_id
        )

    def act(self, prepared):
        finance, entry = prepared
        deposits.reverse_entry(finance, entry, "entered twice", DAY)


def test_four_concurrent_reversals_of_one_entry_one_wins(app, committed):
    with app.app_context():
        from portal.auth.models import User

        finance = db.session.get(User, committed["finance"])
        account = db.session.get(DepositAccount, committed["account"])
        deduction = deposits.record_entry(
            finance, account, kind="deduction", amount="30", entry_on=DAY
        )
        entry_id = deduction.id
        db.session.commit()
        db.session.remove()
    outcomes = _at_once(app, 4, _Reverse(committed, entry_id))
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("recorded") == 1
    assert sum("already been reversed" in str(o) for o in outcomes) == 3
    assert _balance(app, committed["account"]) == Decimal("100.00")


class _SameForm(_Deduct):
    """The same deposit form (one token) posted by four impatient clicks at once."""

    def __init__(self, ids, token):
        super().__init__(ids)
        self.token = token

    def act(self, prepared):
        from portal.core.forms import spend_form_token

        spend_form_token(self.token)
        super().act(prepared)


def test_one_form_token_posted_four_times_at_once_records_once(app, committed):
    from portal.core.forms import issue_form_token

    with app.test_request_context():
        token = issue_form_token()
    outcomes = _at_once(app, 4, _SameForm(committed, token))
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("recorded") == 1
    assert sum("already sent" in str(o) for o in outcomes) == 3
    assert _balance(app, committed["account"]) == Decimal("90.00")
