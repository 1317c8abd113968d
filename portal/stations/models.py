"""The authorized station."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, Integer, String, Text
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
