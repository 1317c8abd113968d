"""Parts catalogue, the stock ledger and its on-hand cache, shipments, returns, counts.

Stock is a ledger: every movement is an appended row (station, part, good or defective, signed
quantity, its source, when, who). `stock_on_hand` is a cache of the ledger's sums, written in
the same locked transaction as the movements; `flask spares reconcile` proves they agree.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime, enum_type, now_utc
from portal.core.money import Money
from portal.extensions import db
from portal.spares.states import (
    ImportKind,
    LineResolution,
    MovementSource,
    ReturnOutcome,
    ReturnStatus,
    ShipmentStatus,
    StockCondition,
)


class Part(db.Model):
    """A catalogue part: what it is, which device models it fits, what it is worth."""

    __tablename__ = "spare_parts"
    __table_args__ = (CheckConstraint("unit_value >= 0", name="unit_value_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    part_no: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    unit_value: Mapped[Decimal] = mapped_column(Money())
    is_standby: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=now_utc, onupdate=now_utc
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    fits: Mapped[list[PartFit]] = relationship(
        cascade="all, delete-orphan", order_by="PartFit.device_model", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def model_codes(self) -> list[str]:
        return [f.device_model for f in self.fits]

    def __str__(self) -> str:
        return f"{self.part_no} {self.name}"


class PartFit(db.Model):
    """A device model a part fits."""

    __tablename__ = "spare_part_models"

    part_id: Mapped[int] = mapped_column(
        ForeignKey("spare_parts.id", ondelete="CASCADE"), primary_key=True
    )
    device_model: Mapped[str] = mapped_column(
        ForeignKey("device_models.code", ondelete="RESTRICT"), primary_key=True
    )


class StockMovement(db.Model):
    """One movement of stock at a station; quantity is signed (+ in, - out). Never edited."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("quantity <> 0", name="quantity_nonzero"),
        Index("ix_stock_movements_station_id_id", "station_id", "id"),
        Index("ix_stock_movements_station_id_moved_at", "station_id", "moved_at"),
        Index("ix_stock_movements_source", "source_type", "source_id"),
        Index("ix_stock_movements_part_id_id", "part_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    part_id: Mapped[int] = mapped_column(ForeignKey("spare_parts.id", ondelete="RESTRICT"))
    condition: Mapped[StockCondition] = mapped_column(enum_type(StockCondition, 10))
    quantity: Mapped[int] = mapped_column(Integer)
    source_type: Mapped[MovementSource] = mapped_column(enum_type(MovementSource))
    source_id: Mapped[int] = mapped_column(Integer)
    source_line_id: Mapped[int | None] = mapped_column(Integer)
    faulty_serial: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    moved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_by_name: Mapped[str] = mapped_column(String(80), default="system")

    part: Mapped[Part] = relationship(lazy="joined")
    station = relationship("Station", lazy="joined")

    def __str__(self) -> str:
        return f"{self.condition.value} {self.quantity:+d}"


@event.listens_for(StockMovement, "before_update")
def _refuse_update(mapper, connection, target):
    raise RuntimeError("stock movements are never edited; record a correcting movement")


@event.listens_for(StockMovement, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RuntimeError("stock movements are never deleted; record a correcting movement")


class StockOnHand(db.Model):
    """Cache of the ledger: the quantity of a part in one condition at one station."""

    __tablename__ = "stock_on_hand"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_not_negative"),)

    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), primary_key=True
    )
    part_id: Mapped[int] = mapped_column(
        ForeignKey("spare_parts.id", ondelete="RESTRICT"), primary_key=True
    )
    condition: Mapped[StockCondition] = mapped_column(
        enum_type(StockCondition, 10), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)


class SparesSetting(db.Model):
    """Coverage factor and return period from their effective date on (HQ changes them)."""

    __tablename__ = "spares_settings"
    __table_args__ = (
        CheckConstraint("coverage_factor > 0", name="coverage_factor_positive"),
        CheckConstraint("return_days > 0", name="return_days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_on: Mapped[dt.date] = mapped_column(Date, unique=True)
    coverage_factor: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    return_days: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def __str__(self) -> str:
        return f"{self.effective_on}: x{self.coverage_factor}, {self.return_days} d"


class Shipment(db.Model):
    """Parts HQ sends to a station: draft, sent, received (with differences resolved by HQ)."""

    __tablename__ = "shipments"
    __table_args__ = (
        Index("ix_shipments_station_id_id", "station_id", "id"),
        Index("ix_shipments_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    status: Mapped[ShipmentStatus] = mapped_column(
        enum_type(ShipmentStatus), default=ShipmentStatus.DRAFT
    )
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=now_utc, onupdate=now_utc
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    station = relationship("Station", lazy="joined")
    lines: Mapped[list[ShipmentLine]] = relationship(
        back_populates="shipment",
        cascade="all, delete-orphan",
        order_by="ShipmentLine.id",
        lazy="selectin",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def number(self) -> str:
        return f"SH-{self.id:06d}"

    def __str__(self) -> str:
        return self.number


class ShipmentLine(db.Model):
    """One part of a shipment: quantity sent, quantity the station received, HQ's resolution."""

    __tablename__ = "shipment_lines"
    __table_args__ = (
        UniqueConstraint("shipment_id", "part_id"),
        CheckConstraint("quantity_sent > 0", name="quantity_sent_positive"),
        CheckConstraint(
            "quantity_received IS NULL OR quantity_received >= 0",
            name="quantity_received_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    part_id: Mapped[int] = mapped_column(ForeignKey("spare_parts.id", ondelete="RESTRICT"))
    quantity_sent: Mapped[int] = mapped_column(Integer)
    quantity_received: Mapped[int | None] = mapped_column(Integer)
    resolution: Mapped[LineResolution | None] = mapped_column(enum_type(LineResolution))
    resolution_note: Mapped[str] = mapped_column(String(500), default="")

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    part: Mapped[Part] = relationship(lazy="joined")

    @property
    def difference(self) -> int:
        """Sent minus received (0 until received)."""
        if self.quantity_received is None:
            return 0
        return self.quantity_sent - self.quantity_received


class ReturnBatch(db.Model):
    """Defective parts a station ships back to HQ; HQ confirms each line."""

    __tablename__ = "return_batches"
    __table_args__ = (
        Index("ix_return_batches_station_id_id", "station_id", "id"),
        Index("ix_return_batches_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    status: Mapped[ReturnStatus] = mapped_column(
        enum_type(ReturnStatus), default=ReturnStatus.DRAFT
    )
    carrier_ref: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    shipped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=now_utc, onupdate=now_utc
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    station = relationship("Station", lazy="joined")
    lines: Mapped[list[ReturnLine]] = relationship(
        back_populates="batch",
        cascade="all, delete-orphan",
        order_by="ReturnLine.id",
        lazy="selectin",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def number(self) -> str:
        return f"RT-{self.id:06d}"

    def __str__(self) -> str:
        return self.number


class ReturnLine(db.Model):
    """One defective part (with the faulty serial where it has one) in a return batch."""

    __tablename__ = "return_lines"
    __table_args__ = (
        UniqueConstraint("batch_id", "part_id", "faulty_serial"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("return_batches.id", ondelete="CASCADE"), index=True
    )
    part_id: Mapped[int] = mapped_column(ForeignKey("spare_parts.id", ondelete="RESTRICT"))
    quantity: Mapped[int] = mapped_column(Integer)
    faulty_serial: Mapped[str] = mapped_column(String(40), default="")
    outcome: Mapped[ReturnOutcome | None] = mapped_column(enum_type(ReturnOutcome))
    outcome_note: Mapped[str] = mapped_column(String(500), default="")

    batch: Mapped[ReturnBatch] = relationship(back_populates="lines")
    part: Mapped[Part] = relationship(lazy="joined")


class StockCount(db.Model):
    """An auditor's count of parts at a station; differences become count movements."""

    __tablename__ = "stock_counts"
    __table_args__ = (Index("ix_stock_counts_station_id_id", "station_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    note: Mapped[str] = mapped_column(String(500), default="")
    counted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    counted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    station = relationship("Station", lazy="joined")
    lines: Mapped[list[StockCountLine]] = relationship(
        back_populates="count",
        cascade="all, delete-orphan",
        order_by="StockCountLine.id",
        lazy="selectin",
    )

    @property
    def number(self) -> str:
        return f"SC-{self.id:06d}"

    def __str__(self) -> str:
        return self.number


class StockCountLine(db.Model):
    """What the ledger said and what was counted, for one part and condition."""

    __tablename__ = "stock_count_lines"
    __table_args__ = (
        UniqueConstraint("count_id", "part_id", "condition"),
        CheckConstraint("expected >= 0 AND counted >= 0", name="quantities_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    count_id: Mapped[int] = mapped_column(
        ForeignKey("stock_counts.id", ondelete="CASCADE"), index=True
    )
    part_id: Mapped[int] = mapped_column(ForeignKey("spare_parts.id", ondelete="RESTRICT"))
    condition: Mapped[StockCondition] = mapped_column(enum_type(StockCondition, 10))
    expected: Mapped[int] = mapped_column(Integer)
    counted: Mapped[int] = mapped_column(Integer)

    count: Mapped[StockCount] = relationship(back_populates="lines")
    part: Mapped[Part] = relationship(lazy="joined")

    @property
    def difference(self) -> int:
        return self.counted - self.expected


class StockImport(db.Model):
    """One imported workbook (parts catalogue or opening stock): who, when, which file."""

    __tablename__ = "stock_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(enum_type(ImportKind))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    imported_by_name: Mapped[str] = mapped_column(String(80), default="system")

    def __str__(self) -> str:
        return self.filename


class OpeningStock(db.Model):
    """A station's opening stock was imported (once per station: the key guards it)."""

    __tablename__ = "opening_stock"

    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), primary_key=True
    )
    import_id: Mapped[int] = mapped_column(ForeignKey("stock_imports.id", ondelete="RESTRICT"))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
