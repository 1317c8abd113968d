"""The month's settlement of one station: its figures, its judged lines, and its revisions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime, enum_type, now_utc
from portal.core.money import Money
from portal.extensions import db
from portal.settlement.states import SettlementStatus

ZERO = Decimal("0.00")


class Settlement(db.Model):
    """One station's labour-fee settlement for one month (month = its first day).

    A reopened locked settlement is superseded by a new revision (an amendment): the old row
    stays, with `superseded_at` set; at most one revision of a station's month is current.
    """

    __tablename__ = "settlements"
    __table_args__ = (
        UniqueConstraint("station_id", "month", "revision", name="uq_settlements_revision"),
        Index(
            "uq_settlements_current",
            "station_id",
            "month",
            unique=True,
            sqlite_where=text("superseded_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL"),
        ),
        Index("ix_settlements_month_status", "month", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), index=True
    )
    month: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[SettlementStatus] = mapped_column(
        enum_type(SettlementStatus, 30),
        default=SettlementStatus.DRAFT,
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=now_utc, onupdate=now_utc
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    superseded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("settlements.id", ondelete="SET NULL")
    )
    valid_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    invalid_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    labour: Mapped[Decimal] = mapped_column(Money(), default=ZERO, server_default="0")
    travel: Mapped[Decimal] = mapped_column(Money(), default=ZERO, server_default="0")
    rewards: Mapped[Decimal] = mapped_column(Money(), default=ZERO, server_default="0")
    penalties: Mapped[Decimal] = mapped_column(Money(), default=ZERO, server_default="0")
    deductions: Mapped[Decimal] = mapped_column(Money(), default=ZERO, server_default="0")
    carried_in: Mapped[Decimal] = mapped_column(Money(), default=ZERO, server_default="0")
    carried_out: Mapped[Decimal] = mapped_column(Money(), default=ZERO, server_default="0")
    net: Mapped[Decimal] = mapped_column(Money(), default=ZERO, server_default="0")
    # Which versions of the fee schedule, validity parameters and rule amounts were used.
    rule_versions: Mapped[dict | None] = mapped_column(JSON, default=dict)
    computed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    run_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    dispute_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    answer: Mapped[str] = mapped_column(Text, default="", server_default="")
    hq_approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    hq_approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finance_approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    finance_approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paid_reference: Mapped[str] = mapped_column(String(100), default="", server_default="")
    paid_on: Mapped[dt.date | None] = mapped_column(Date)

    station = relationship("Station")

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} #{self.station_id} r{self.revision}"


class SettlementLine(db.Model):
    """One repair record as the run judged it: valid with its fee, or invalid with its reason."""

    __tablename__ = "settlement_lines"
    __table_args__ = (
        Index("ix_settlement_lines_settlement_id_valid", "settlement_id", "valid", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id", ondelete="CASCADE"))
    record_id: Mapped[int | None] = mapped_column(
        ForeignKey("repair_records.id", ondelete="SET NULL"), index=True
    )
    ticket_no: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    serial_no: Mapped[str] = mapped_column(String(40), default="", server_default="")
    device_model: Mapped[str] = mapped_column(String(40), default="", server_default="")
    repair_type: Mapped[str] = mapped_column(String(30))
    tier: Mapped[str] = mapped_column(String(30), default="", server_default="")
    warranty: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    valid: Mapped[bool] = mapped_column(Boolean)
    reason_code: Mapped[str | None] = mapped_column(String(30))
    fee: Mapped[Decimal] = mapped_column(Money(), default=ZERO)
    travel: Mapped[Decimal] = mapped_column(Money(), default=ZERO)


def month_is_locked_for_reports(station_id: int, day: dt.date) -> bool:
    """Whether the station's current settlement of day's month has left draft (reports are then
    final)."""
    from portal.settlement.locks import current_status

    status = current_status(station_id, day)
    return status is not None and status != SettlementStatus.DRAFT
