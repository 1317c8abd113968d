"""The month's settlement of one station (the settlement issue adds its lines and money)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import UTCDateTime, enum_type, now_utc
from portal.extensions import db
from portal.settlement.states import SettlementStatus


class Settlement(db.Model):
    """One station's labour-fee settlement for one month (month = its first day)."""

    __tablename__ = "settlements"
    __table_args__ = (UniqueConstraint("station_id", "month"),)

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

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} #{self.station_id}"


def month_is_locked_for_reports(station_id: int, day: dt.date) -> bool:
    """Whether the station's current settlement of day's month has left draft (reports are then
    final)."""
    from portal.settlement.locks import current_status

    status = current_status(station_id, day)
    return status is not None and status != SettlementStatus.DRAFT
