"""The deposit refund that ends a revocation (SPEC 3.4): the balance minus open deductions.

Open deductions are what the station still owes against its deposit: penalties and deductions
in the settlement's adjustments of months not settled yet (their settlement is still a draft),
and the value of HQ's consignment stock it still holds or has on its way (good and defective,
at unit value; an unreturned defective part becomes a deduction anyway). The refund is one
entry of the deposit ledger, recorded through the deposit service under the station's lock;
what is kept back is refunded by finance once the stock is back and the months are settled.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from portal.extensions import db
from portal.spares import rules, stock
from portal.spares.locks import lock_station


@dataclass(frozen=True)
class Refund:
    balance: Decimal
    open_deductions: Decimal
    stock_held: Decimal

    @property
    def amount(self) -> Decimal:
        return rules.money(max(self.balance - self.open_deductions - self.stock_held, Decimal(0)))


def open_deductions(station_id: int) -> Decimal:
    """Deductions and penalties of the station in months whose settlement is still open."""
    from portal.settlement.adjustments import Adjustment
    from portal.settlement.models import month_is_locked_for_reports

    rows = db.session.execute(
        select(Adjustment.month, Adjustment.amount).where(
            Adjustment.station_id == station_id, Adjustment.amount < 0
        )
    ).all()
    locked: dict = {}
    total = Decimal(0)
    for month, amount in rows:
        if month not in locked:
            locked[month] = month_is_locked_for_reports(station_id, month)
        if not locked[month]:
            total -= Decimal(amount)
    return rules.money(total)


def refund_due(station_id: int) -> Refund:
    """What revoking the station refunds now (read under the caller's lock)."""
    from portal.spares import services as deposits

    totals = stock.station_totals([station_id])[station_id]
    return Refund(
        balance=deposits.balance(deposits.account_for_station(station_id)),
        open_deductions=open_deductions(station_id),
        stock_held=rules.money(
            totals.good_value + totals.defective_value + totals.in_transit_value
        ),
    )


def refund_on_revocation(actor, station, entry_on, reference: str = "", revoked_by=None):
    """Record the revocation's refund entry (None when nothing is due); returns (entry, refund).

    actor records the entry (the system, when a revocation by HQ triggers it: HQ does not
    record money); revoked_by, when given, is named in the entry's note.
    """
    from portal.spares import services as deposits

    lock_station(station.id)
    due = refund_due(station.id)
    if due.amount <= 0:
        return None, due
    account = deposits.account_for_station(station.id)
    entry = deposits.record_entry(
        actor,
        account,
        kind="refund",
        amount=due.amount,
        entry_on=entry_on,
        reference=reference or f"REVOKE-{station.code}",
        note=(
            f"revocation{f' by {revoked_by.username}' if revoked_by is not None else ''}: "
            f"balance {due.balance} - open deductions {due.open_deductions}"
            f" - stock held {due.stock_held}"
        ),
    )
    return entry, due
