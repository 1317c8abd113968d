"""Deposit ledger verbs: record an entry, reverse one, read a balance. Never commit."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.core import audit, inputs
from portal.core.actors import require_actor
from portal.core.errors import DomainError, PermissionDenied
from portal.core.money import CENT, to_money
from portal.core.permissions import Permission, can
from portal.extensions import db
from portal.spares.locks import lock_application, lock_station
from portal.spares.models import SIGN, DepositAccount, DepositEntry, DepositEntryKind

ENTRY_FIELDS = ("kind", "amount", "entry_on", "reference", "note", "reverses_id")
# Numeric(12, 2): ten digits before the point.
MAX_AMOUNT = Decimal("9999999999.99")
ALREADY_REVERSED = _l("This entry has already been reversed.")


def account_for_station(station_id: int, create: bool = False) -> DepositAccount | None:
    """The station's deposit account (opened on demand when create is true)."""
    account = db.session.execute(
        select(DepositAccount).where(DepositAccount.station_id == station_id)
    ).scalar_one_or_none()
    if account is None and create:
        account = DepositAccount(station_id=station_id)
        db.session.add(account)
        db.session.flush()
    return account


def account_for_application(application_id: int, create: bool = False) -> DepositAccount | None:
    """The deposit account opened for a candidate before its station exists."""
    account = db.session.execute(
        select(DepositAccount).where(DepositAccount.application_id == application_id)
    ).scalar_one_or_none()
    if account is None and create:
        account = DepositAccount(application_id=application_id)
        db.session.add(account)
        db.session.flush()
    return account


def balance(account: DepositAccount | None) -> Decimal:
    """The sum of the account's entries (0 for no account)."""
    if account is None or account.id is None:
        return to_money(0)
    total = db.session.execute(
        select(func.sum(DepositEntry.amount)).where(DepositEntry.account_id == account.id)
    ).scalar_one()
    return to_money(0) if total is None else to_money(total)


def station_balances(station_ids) -> dict[int, Decimal]:
    """Deposit balance of each station (0 when it has no account)."""
    ids = list(station_ids)
    rows = db.session.execute(
        select(DepositAccount.station_id, func.sum(DepositEntry.amount))
        .join(DepositEntry, DepositEntry.account_id == DepositAccount.id)
        .where(DepositAccount.station_id.in_(ids))
        .group_by(DepositAccount.station_id)
    ).all()
    out = dict.fromkeys(ids, to_money(0))
    out.update({sid: to_money(total) for sid, total in rows if total is not None})
    return out


def attach_to_station(actor, account: DepositAccount, station_id: int) -> None:
    """Carry a candidate's account over to the station it has become."""
    account.station_id = station_id
    audit.record(
        "deposit.account_attached",
        account,
        actor=actor,
        station_id=station_id,
        after={"station_id": station_id, "application_id": account.application_id},
    )


def record_entry(
    actor,
    account: DepositAccount,
    *,
    kind,
    amount,
    entry_on: dt.date,
    reference: str = "",
    note: str = "",
) -> DepositEntry:
    """Append a paid / top-up / deduction / refund entry; amount is given positive."""
    _require_recorder(actor)
    kind = DepositEntryKind(kind)
    value = parse_amount(amount)
    if entry_on is None:
        raise DomainError(_l("Enter the date."), field="entry_on")
    return _append(actor, account, kind, value * SIGN[kind], entry_on, reference, note, None)


def reverse_entry(actor, entry: DepositEntry, reason: str, entry_on: dt.date) -> DepositEntry:
    """Correct a mistaken entry with an entry of the opposite amount (once per entry)."""
    _require_recorder(actor)
    if entry.reverses_id is not None:
        raise DomainError(_l("A reversing entry cannot itself be reversed."))
    if not (reason or "").strip():
        raise DomainError(_l("Give the reason for the correction."), field="note")
    return _append(
        actor, entry.account, entry.kind, -entry.amount, entry_on, entry.reference, reason, entry.id
    )


def _plain_number(amount) -> str:
    """Typed text as Decimal reads it: full-width digits folded, `1,234.50`'s group commas
    dropped (the same grouping every money field of the portal accepts)."""
    text = unicodedata.normalize("NFKC", str(amount)).strip()
    if "," in text and inputs.GROUPED.match(text):
        text = text.replace(",", "")
    return text


def parse_amount(amount) -> Decimal:
    """A positive amount in yuan with at most two decimals that fits Numeric(12, 2)."""
    if isinstance(amount, float):
        raise TypeError("money must not be built from a float")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(_plain_number(amount))
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError(_l("Enter an amount."), field="amount") from None
    if not value.is_finite():
        raise DomainError(_l("Enter an amount."), field="amount")
    if value <= 0:
        raise DomainError(_l("The amount must be more than zero."), field="amount")
    if value > MAX_AMOUNT:
        raise DomainError(
            _l("The amount is too large: at most %(max)s.", max=f"{MAX_AMOUNT:,}"),
            field="amount",
        )
    if value != value.quantize(CENT):
        # Rounding 0.105 to 0.11 silently would record money nobody entered.
        raise DomainError(_l("Enter the amount with at most two decimals."), field="amount")
    return to_money(value)


def _require_recorder(actor) -> None:
    require_actor(actor)
    if not can(actor, Permission.RECORD_DEPOSITS):
        raise PermissionDenied(_l("You may not record deposit entries."))


def _lock_owner(account: DepositAccount) -> None:
    """Take the one money-and-stock lock of the account's owner (portal.spares.locks).

    The application first, then the station: an authorization moves the account from one to
    the other while holding the application, so the station is read again after that lock.
    """
    if account.application_id is not None:
        lock_application(account.application_id)
    station_id = db.session.execute(
        select(DepositAccount.station_id).where(DepositAccount.id == account.id)
    ).scalar_one()
    if station_id is not None:
        lock_station(station_id)


def _append(actor, account, kind, signed, entry_on, reference, note, reverses_id):
    """The one way into the ledger: under the owner's lock, check, then append."""
    _lock_owner(account)
    if reverses_id is not None and _already_reversed(reverses_id):
        raise DomainError(ALREADY_REVERSED)
    current = balance(account)
    if current + signed < 0:
        # Every kind of entry and every reversal is held to the same rule.
        raise DomainError(
            _l(
                "The deposit balance is %(balance)s; it cannot go below zero.",
                balance=current,
            ),
            field="amount",
        )
    entry = DepositEntry(
        account_id=account.id,
        kind=kind,
        amount=signed,
        entry_on=entry_on,
        reference=(reference or "").strip()[:100],
        note=(note or "").strip(),
        reverses_id=reverses_id,
        recorded_by_id=getattr(actor, "id", None),
        recorded_by_name=getattr(actor, "username", None) or "system",
    )
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:
        # The unique reverses_id is the last guard if two reversals ever got past the lock.
        if reverses_id is None:
            raise
        raise DomainError(ALREADY_REVERSED) from None
    audit.record(
        "deposit.reversed" if reverses_id else f"deposit.{kind.value}",
        entry,
        actor=actor,
        station_id=account.station_id,
        after=audit.snapshot(entry, ENTRY_FIELDS) | {"balance": current + signed},
        comment=entry.note,
    )
    return entry


def _already_reversed(entry_id: int) -> bool:
    return (
        db.session.execute(
            select(DepositEntry.id).where(DepositEntry.reverses_id == entry_id)
        ).first()
        is not None
    )


def entries(account: DepositAccount | None) -> list[DepositEntry]:
    """The account's entries, oldest first."""
    if account is None:
        return []
    return list(
        db.session.execute(
            select(DepositEntry)
            .where(DepositEntry.account_id == account.id)
            .order_by(DepositEntry.id)
        ).scalars()
    )
