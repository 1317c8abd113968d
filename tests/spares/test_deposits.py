"""The deposit ledger: one balance check for every entry and reversal, under the station's lock;
an entry reversed once; amounts refused rather than rounded; forms posted twice recorded once."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.core.actors import MissingActor
from portal.core.errors import DomainError, PermissionDenied
from portal.spares import services as deposits
from portal.spares.models import DepositEntry

DAY = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def _request(app, db):
    """Messages are lazy strings: render them as a request would (English)."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _account(make, paid="100.00"):
    station = make.station()
    account = deposits.account_for_station(station.id, create=True)
    if paid:
        deposits.record_entry(make.cashier(), account, kind="paid", amount=paid, entry_on=DAY)
    return station, account


def _count(db, account) -> int:
    stmt = (
        select(func.count()).select_from(DepositEntry).where(DepositEntry.account_id == account.id)
    )
    return db.session.execute(stmt).scalar_one()


# --- one balance check ------------------------------------------------------------------------


def test_reversing_the_payment_after_a_deduction_is_refused(make, db):
    _station, account = _account(make, paid="10000")
    finance = make.cashier()
    paid = deposits.entries(account)[0]
    deposits.record_entry(finance, account, kind="deduction", amount="9000", entry_on=DAY)
    with pytest.raises(DomainError, match="1,000.00|1000.00") as refused:
        deposits.reverse_entry(finance, paid, "typed the wrong amount", DAY)
    assert "below zero" in str(refused.value.message)
    assert deposits.balance(account) == Decimal("1000.00")
    assert _count(db, account) == 2


@pytest.mark.parametrize("kind", ["deduction", "refund"])
def test_money_out_of_the_deposit_stops_at_zero(make, db, kind):
    _station, account = _account(make, paid="100.00")
    finance = make.cashier()
    with pytest.raises(DomainError, match="below zero"):
        deposits.record_entry(finance, account, kind=kind, amount="100.01", entry_on=DAY)
    deposits.record_entry(finance, account, kind=kind, amount="100.00", entry_on=DAY)
    assert deposits.balance(account) == 0


def test_reversing_a_top_up_that_was_spent_is_refused(make, db):
    _station, account = _account(make, paid="100.00")
    finance = make.cashier()
    top_up = deposits.record_entry(finance, account, kind="top_up", amount="50", entry_on=DAY)
    deposits.record_entry(finance, account, kind="deduction", amount="120", entry_on=DAY)
    with pytest.raises(DomainError, match="below zero"):
        deposits.reverse_entry(finance, top_up, "wrong amount", DAY)
    assert deposits.balance(account) == Decimal("30.00")


def test_an_entry_is_reversed_once_and_a_reversal_never(make, db):
    _station, account = _account(make)
    finance = make.cashier()
    deduction = deposits.record_entry(finance, account, kind="deduction", amount="40", entry_on=DAY)
    reversal = deposits.reverse_entry(finance, deduction, "wrong station", DAY)
    assert reversal.amount == Decimal("40.00")
    with pytest.raises(DomainError, match="already been reversed"):
        deposits.reverse_entry(finance, deduction, "again", DAY)
    with pytest.raises(DomainError, match="cannot itself be reversed"):
        deposits.reverse_entry(finance, reversal, "undo the undo", DAY)
    assert deposits.balance(account) == Decimal("100.00")


def test_the_unique_reversal_is_the_last_guard_and_answers_with_a_refusal(make, db, monkeypatch):
    """Were the lock and the check ever skipped, the unique constraint refuses, cleanly."""
    _station, account = _account(make)
    finance = make.cashier()
    deduction = deposits.record_entry(finance, account, kind="deduction", amount="40", entry_on=DAY)
    deposits.reverse_entry(finance, deduction, "wrong station", DAY)
    monkeypatch.setattr(deposits, "_already_reversed", lambda _entry_id: False)
    with pytest.raises(DomainError, match="already been reversed"):
        deposits.reverse_entry(finance, deduction, "again", DAY)
    # The transaction is still usable: the refusal rolled back only its own insert.
    assert deposits.balance(account) == Decimal("100.00")
    assert _count(db, account) == 3


def test_every_entry_is_checked_under_its_owners_lock(make, db, monkeypatch):
    calls = []
    monkeypatch.setattr(deposits, "lock_station", lambda sid: calls.append(("station", sid)))
    monkeypatch.setattr(deposits, "lock_application", lambda aid: calls.append(("app", aid)))
    station, account = _account(make)
    finance = make.cashier()
    entry = deposits.record_entry(finance, account, kind="deduction", amount="1", entry_on=DAY)
    deposits.reverse_entry(finance, entry, "wrong", DAY)
    assert calls == [("station", station.id)] * 3

    calls.clear()
    application = make.complete_application(tier="accessory_point")
    own = deposits.account_for_application(application.id, create=True)
    deposits.record_entry(finance, own, kind="paid", amount="5", entry_on=DAY)
    assert calls == [("app", application.id)]


# --- who records ------------------------------------------------------------------------------


def test_an_entry_needs_an_actor_with_the_permission(make, db):
    station, account = _account(make)
    with pytest.raises(MissingActor):
        deposits.record_entry(None, account, kind="paid", amount="1", entry_on=DAY)
    clerk = make.user(role="station", station=station)
    with pytest.raises(PermissionDenied):
        deposits.record_entry(clerk, account, kind="paid", amount="1", entry_on=DAY)
    with pytest.raises(PermissionDenied):
        deposits.reverse_entry(clerk, deposits.entries(account)[0], "no", DAY)
    with pytest.raises(MissingActor):
        deposits.reverse_entry(None, deposits.entries(account)[0], "no", DAY)
    assert _count(db, account) == 1


# --- amounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0.105", "two decimals"),
        ("12345678901.235", "too large"),
        ("10000000000", "too large"),
        ("1e11", "too large"),
        ("0.001", "two decimals"),
        ("NaN", "Enter an amount"),
        ("abc", "Enter an amount"),
        ("0", "more than zero"),
        ("-5", "more than zero"),
    ],
)
def test_amounts_are_refused_rather_than_rounded(make, db, amount, message):
    _station, account = _account(make, paid=None)
    with pytest.raises(DomainError, match=message) as refused:
        deposits.record_entry(make.cashier(), account, kind="paid", amount=amount, entry_on=DAY)
    assert refused.value.field == "amount"
    assert _count(db, account) == 0


def test_the_largest_amount_and_trailing_zeros_are_accepted(make, db):
    _station, account = _account(make, paid=None)
    finance = make.cashier()
    deposits.record_entry(finance, account, kind="paid", amount="9999999999.99", entry_on=DAY)
    deposits.record_entry(finance, account, kind="refund", amount="0.500", entry_on=DAY)
    assert deposits.balance(account) == Decimal("9999999999.49")


# --- the deposit forms ------------------------------------------------------------------------


def _token(html: str, action: str) -> str:
    """The one-time token of the form posting to `action` in a page."""
    form = re.search(r'<form[^>]*action="' + re.escape(action) + r'".*?</form>', html, re.S)
    assert form, f"no form posting to {action}"
    match = re.search(r'name="form_token"[^>]*value="([^"]+)"', form.group(0))
    assert match, "the form carries no one-time token"
    return match.group(1)


def test_the_deposit_form_posted_twice_records_once(client, db, make, login_as):
    station, account = _account(make)
    login_as("finance")
    action = f"/certification/stations/{station.id}/deposit"
    token = _token(client.get(f"/stations/{station.id}").get_data(as_text=True), action)
    form = {"kind": "top_up", "amount": "25", "entry_on": "2026-11-03", "form_token": token}
    first = client.post(action, data=form, follow_redirects=True)
    assert "The deposit entry is recorded." in first.get_data(as_text=True)
    second = client.post(action, data=form, follow_redirects=True)
    assert second.status_code == 422  # refused, shown on the re-rendered form
    assert "already sent and is recorded once" in second.get_data(as_text=True)
    assert deposits.balance(account) == Decimal("125.00")
    assert _count(db, account) == 2


def test_the_reversal_form_posted_twice_records_once(client, db, make, login_as):
    station, account = _account(make)
    login_as("finance")
    deduction = deposits.record_entry(
        make.cashier(), account, kind="deduction", amount="30", entry_on=DAY
    )
    action = f"/certification/deposits/{deduction.id}/reverse"
    token = _token(client.get(f"/stations/{station.id}").get_data(as_text=True), action)
    form = {"note": "wrong station", "form_token": token}
    client.post(action, data=form)
    second = client.post(action, data=form, follow_redirects=True)
    assert "already sent and is recorded once" in second.get_data(as_text=True)
    assert deposits.balance(account) == Decimal("100.00")
    assert _count(db, account) == 3


def test_a_deposit_post_without_its_token_records_nothing(client, db, make, login_as):
    station, account = _account(make)
    login_as("finance")
    action = f"/certification/stations/{station.id}/deposit"
    for token in (None, "forged-token", "x" * 500):
        form = {"kind": "top_up", "amount": "25", "entry_on": "2026-11-03"}
        if token:
            form["form_token"] = token
        page = client.post(action, data=form, follow_redirects=True).get_data(as_text=True)
        assert "This form has expired" in page
    assert _count(db, account) == 1


def test_a_refused_entry_leaves_its_token_for_the_corrected_post(client, db, make, login_as):
    station, account = _account(make)
    login_as("finance")
    action = f"/certification/stations/{station.id}/deposit"
    token = _token(client.get(f"/stations/{station.id}").get_data(as_text=True), action)
    form = {"kind": "deduction", "amount": "0.105", "entry_on": "2026-11-03", "form_token": token}
    page = client.post(action, data=form, follow_redirects=True).get_data(as_text=True)
    assert "at most two decimal" in page
    form["amount"] = "99999999999"
    page = client.post(action, data=form, follow_redirects=True).get_data(as_text=True)
    assert "Enter an amount between 0.01 and 9,999,999,999.99" in page
    form["amount"] = "0.10"
    page = client.post(action, data=form, follow_redirects=True).get_data(as_text=True)
    assert "The deposit entry is recorded." in page
    assert deposits.balance(account) == Decimal("99.90")


def test_the_application_deposit_form_carries_a_one_time_token(client, db, make, login_as):
    from portal.certification import services as certification

    application = make.complete_application(tier="accessory_point")
    hq = make.user(role="hq")
    certification.submit(application.applicant, application)
    certification.start_screening(hq, application)
    certification.save_screening(
        hq,
        application,
        ratings=dict.fromkeys(
            ("qualification", "experience", "personnel", "site", "equipment", "financial"), 90
        ),
    )
    certification.evaluate(hq, application)
    certification.approve(hq, application, "accessory_point")
    login_as("finance")
    action = f"/certification/applications/{application.id}/deposit"
    page = client.get(f"/certification/applications/{application.id}").get_data(as_text=True)
    form = {"kind": "paid", "amount": "2000", "entry_on": "2026-11-03"}
    form["form_token"] = _token(page, action)
    client.post(action, data=form)
    client.post(action, data=form)
    assert certification.application_deposit(application) == Decimal("2000.00")


def test_amounts_typed_with_group_commas_or_full_width_digits_are_read_exactly(make, db):
    _station, account = _account(make, paid=None)
    finance = make.cashier()
    deposits.record_entry(finance, account, kind="paid", amount="1,234.50", entry_on=DAY)
    deposits.record_entry(finance, account, kind="top_up", amount="１００", entry_on=DAY)
    assert deposits.balance(account) == Decimal("1334.50")
    with pytest.raises(DomainError, match="Enter an amount"):
        deposits.record_entry(finance, account, kind="paid", amount="12,5", entry_on=DAY)


def test_a_deposit_of_zero_is_refused_next_to_the_amount(client, db, make, login_as):
    station, account = _account(make)
    login_as("finance")
    action = f"/certification/stations/{station.id}/deposit"
    token = _token(client.get(f"/stations/{station.id}").get_data(as_text=True), action)
    form = {"kind": "top_up", "amount": "0", "entry_on": "2026-11-03", "form_token": token}
    response = client.post(action, data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    form_html = re.search(r'<form[^>]*data-testid="deposit-form".*?</form>', html, re.S).group(0)
    amount = re.search(r'name="amount".*?(<div class="invalid-feedback">[^<]+)', form_html, re.S)
    assert amount
    assert "0.01" in amount.group(1)
    assert _count(db, account) == 1


def test_a_deposit_above_the_tier_requirement_is_confirmed_first(client, db, make, login_as):
    station, account = _account(make)  # 100.00 paid; a service station needs 5,000.00
    login_as("finance")
    action = f"/certification/stations/{station.id}/deposit"
    token = _token(client.get(f"/stations/{station.id}").get_data(as_text=True), action)
    form = {"kind": "top_up", "amount": "49,000", "entry_on": "2026-11-03", "form_token": token}
    response = client.post(action, data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "49,100.00" in html
    assert 'name="confirm_above"' in html
    assert _count(db, account) == 1
    form["confirm_above"] = "y"
    response = client.post(action, data=form, follow_redirects=True)
    assert "The deposit entry is recorded." in response.get_data(as_text=True)
    assert deposits.balance(account) == Decimal("49100.00")
    form = {**form, "amount": "100", "form_token": _token(response.get_data(as_text=True), action)}
    form.pop("confirm_above")
    response = client.post(action, data=form)  # already above the requirement: confirm again
    assert response.status_code == 422
