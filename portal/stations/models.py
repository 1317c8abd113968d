"""The authorized station."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import UTCDateTime, enum_type, now_utc
from portal.extensions import db
from portal.stations.states import CityClass, StationStatus, Tier


class Station(db.Model):
    """An authorized third-party service outlet (SPEC 3.4)."""

    __tablename__ = "stations"
    __table_args__ = (
        Index("ix_stations_province_code", "province", "code"),
        Index("ix_stations_tier_code", "tier", "code"),
        Index("ix_stations_status_code", "status", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[Tier] = mapped_column(enum_type(Tier, 30))
    province: Mapped[str] = mapped_column(String(4))
    city: Mapped[str] = mapped_column(String(60))
    city_class: Mapped[CityClass] = mapped_column(enum_type(CityClass, 2))
    address: Mapped[str] = mapped_column(String(300), default="")
    authorized_region: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(80), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[StationStatus] = mapped_column(
        enum_type(StationStatus, 30), default=StationStatus.ACTIVE
    )
    agreement_start_on: Mapped[dt.date | None] = mapped_column(Date)
    agreement_end_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=now_utc, onupdate=now_utc
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StationTierPeriod(db.Model):
    """A station's tier over a span of days: the dated tier history (SPEC 3.4, 8.2).

    A period runs from `effective_from` (inclusive) until `effective_until` (exclusive: the day
    the next tier took over); the open period (until is NULL) is the tier in force now, and a
    station has at most one. A period that starts and ends on the same day was replaced that
    same day and was never in force for a whole day. Rows are written only by create_station
    and the certification action change_tier; the settlement asks `tier_on(station, day)`.
    """

    __tablename__ = "station_tier_periods"
    __table_args__ = (
        Index("ix_station_tier_periods_station_from", "station_id", "effective_from"),
        Index(
            "uq_station_tier_periods_open",
            "station_id",
            unique=True,
            sqlite_where=text("effective_until IS NULL"),
            postgresql_where=text("effective_until IS NULL"),
        ),
        CheckConstraint(
            "effective_until IS NULL OR effective_until >= effective_from",
            name="period_not_reversed",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    tier: Mapped[Tier] = mapped_column(enum_type(Tier, 30))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    effective_until: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(80), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
