"""The deposit ledger (SPEC 7): entries are appended, never edited; the balance is the sum."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime, enum_type, now_utc
from portal.core.money import Money
from portal.core.workflow import LabelledEnum
from portal.extensions import db


class DepositEntryKind(LabelledEnum):
    PAID = "paid", _l("Deposit paid")
    TOP_UP = "top_up", _l("Top-up")
    DEDUCTION = "deduction", _l("Deduction")
    REFUND = "refund", _l("Refund")


# Money in (+1) or out (-1) of the deposit for each kind.
SIGN = {
    DepositEntryKind.PAID: 1,
    DepositEntryKind.TOP_UP: 1,
    DepositEntryKind.DEDUCTION: -1,
    DepositEntryKind.REFUND: -1,
}


class DepositAccount(db.Model):
    """One deposit ledger: opened for an application, carried over to the station it becomes."""

    __tablename__ = "deposit_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), unique=True
    )
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="RESTRICT"), unique=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    entries: Mapped[list[DepositEntry]] = relationship(
        back_populates="account", order_by="DepositEntry.id"
    )

    def __str__(self) -> str:
        return f"deposit account {self.id}"


class DepositEntry(db.Model):
    """One movement of a deposit. amount is signed: + in (paid, top-up), - out."""

    __tablename__ = "deposit_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        Index("ix_deposit_entries_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("deposit_accounts.id", ondelete="RESTRICT"))
    kind: Mapped[DepositEntryKind] = mapped_column(enum_type(DepositEntryKind, 20))
    amount: Mapped[Decimal] = mapped_column(Money())
    entry_on: Mapped[dt.date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("deposit_entries.id", ondelete="RESTRICT"), unique=True
    )
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_by_name: Mapped[str] = mapped_column(String(80), default="system")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    account: Mapped[DepositAccount] = relationship(back_populates="entries")
    reverses: Mapped[DepositEntry | None] = relationship(remote_side=[id])

    def __str__(self) -> str:
        return f"{self.kind.value} {self.amount}"


@event.listens_for(DepositEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise RuntimeError("deposit entries are never edited; record a reversing entry")


@event.listens_for(DepositEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RuntimeError("deposit entries are never deleted; record a reversing entry")
