"""The month's settlement workbook (SPEC 8.5), written as a stream, and the record of each export.

Each finished file is kept (EXPORT_FOLDER) with its SHA-256, who made it and when, so a file
handed around can be checked against what finance approved.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime, now_utc
from portal.extensions import db


class SettlementExport(db.Model):
    """One exported workbook of a month (all stations, or one station's)."""

    __tablename__ = "settlement_exports"
    __table_args__ = (
        Index("ix_settlement_exports_month_id", "month", "id"),
        Index("ix_settlement_exports_station_id_month", "station_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    record_rows: Mapped[int] = mapped_column(default=0)
    invalid_rows: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_name: Mapped[str] = mapped_column(String(80), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    station = relationship("Station")

    def __str__(self) -> str:
        return self.filename
