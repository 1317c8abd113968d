"""Catalogues, report settings, daily reports, repair records, parts used and uploads."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime, enum_type, now_utc
from portal.extensions import db
from portal.reports.rules import PERSONAL_FIELDS
from portal.reports.states import RecordSource, ReportStatus, UploadOutcome


class DeviceModel(db.Model):
    """A device model with the pattern its serial numbers follow and its warranty."""

    __tablename__ = "device_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    serial_pattern: Mapped[str] = mapped_column(String(200))
    warranty_months: Mapped[int] = mapped_column(Integer, default=12)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class FaultCode(db.Model):
    """A fault code and its category (repeat repairs are judged by category)."""

    __tablename__ = "fault_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"


class DeviceModelFact(db.Model):
    """A model's serial pattern and warranty from a date on (SPEC 8.2: versioned facts).

    The model's own columns are its first version; a later change is a row here, effective
    today or later, so a month already judged keeps the facts it was judged by.
    """

    __tablename__ = "device_model_facts"
    __table_args__ = (UniqueConstraint("model_code", "effective_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_code: Mapped[str] = mapped_column(ForeignKey("device_models.code", ondelete="CASCADE"))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    serial_pattern: Mapped[str] = mapped_column(String(200))
    warranty_months: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(Integer)

    def __str__(self) -> str:
        return f"{self.model_code} {self.effective_on}"


class FaultCategoryFact(db.Model):
    """A fault code's category (what makes a repeat repair) from a date on."""

    __tablename__ = "fault_category_facts"
    __table_args__ = (UniqueConstraint("fault_code", "effective_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fault_code: Mapped[str] = mapped_column(ForeignKey("fault_codes.code", ondelete="CASCADE"))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(Integer)

    def __str__(self) -> str:
        return f"{self.fault_code} {self.effective_on}"


class RepairType(db.Model):
    """A repair type of SPEC 5; centers_only types are allowed for service centers only."""

    __tablename__ = "repair_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    centers_only: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    def __str__(self) -> str:
        return self.code


class RepairResult(db.Model):
    """A repair result of SPEC 5 (repaired, returned to factory, ...)."""

    __tablename__ = "repair_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    def __str__(self) -> str:
        return self.code


class ReportSetting(db.Model):
    """When a day's report is due, from its effective date on (HQ changes it)."""

    __tablename__ = "report_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_on: Mapped[dt.date] = mapped_column(Date, unique=True)
    due_days_after: Mapped[int] = mapped_column(Integer, default=1)
    due_time: Mapped[dt.time] = mapped_column(Time)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def __str__(self) -> str:
        return f"{self.effective_on}: +{self.due_days_after}d {self.due_time:%H:%M}"


class DailyReport(db.Model):
    """One station's report for one calendar day: the counts and its repair records."""

    __tablename__ = "daily_reports"
    __table_args__ = (
        UniqueConstraint("station_id", "report_on"),
        Index("ix_daily_reports_report_on_station_id", "report_on", "station_id"),
        CheckConstraint(
            "received_count >= 0 AND completed_count >= 0 AND pending_count >= 0 "
            "AND returned_count >= 0 AND complaint_count >= 0",
            name="counts_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    report_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[ReportStatus] = mapped_column(
        enum_type(ReportStatus, 20), default=ReportStatus.DRAFT
    )
    received_count: Mapped[int] = mapped_column(Integer, default=0)
    completed_count: Mapped[int] = mapped_column(Integer, default=0)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    returned_count: Mapped[int] = mapped_column(Integer, default=0)
    complaint_count: Mapped[int] = mapped_column(Integer, default=0)
    first_submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=now_utc, onupdate=now_utc
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    station = relationship("Station", lazy="joined")
    records: Mapped[list[RepairRecord]] = relationship(
        back_populates="report", order_by="RepairRecord.id", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"{self.report_on.isoformat()} #{self.station_id}"


class RepairRecord(db.Model):
    """One repair of one device (SPEC 5): the unit of workload and of the labour fee."""

    __tablename__ = "repair_records"
    __audit_masked__ = PERSONAL_FIELDS
    __table_args__ = (
        UniqueConstraint("station_id", "ticket_no"),
        Index("ix_repair_records_station_id_received_at", "station_id", "received_at"),
        Index("ix_repair_records_serial_no_received_at", "serial_no", "received_at"),
        Index("ix_repair_records_received_at_id", "received_at", "id"),
        Index("ix_repair_records_standby_serial", "standby_serial"),
        CheckConstraint(
            "satisfaction IS NULL OR (satisfaction >= 1 AND satisfaction <= 5)",
            name="satisfaction_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("daily_reports.id", ondelete="CASCADE"), index=True
    )
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    ticket_no: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    customer_name: Mapped[str] = mapped_column(String(80))
    customer_phone: Mapped[str] = mapped_column(String(20))
    device_model: Mapped[str] = mapped_column(
        ForeignKey("device_models.code", ondelete="RESTRICT"), index=True
    )
    serial_no: Mapped[str] = mapped_column(String(40))
    purchase_on: Mapped[dt.date | None] = mapped_column(Date)
    warranty: Mapped[bool] = mapped_column(Boolean)
    fault_code: Mapped[str] = mapped_column(
        ForeignKey("fault_codes.code", ondelete="RESTRICT"), index=True
    )
    repair_type: Mapped[str] = mapped_column(
        ForeignKey("repair_types.code", ondelete="RESTRICT"), index=True
    )
    on_site: Mapped[bool] = mapped_column(Boolean)
    standby_serial: Mapped[str] = mapped_column(String(40), default="")
    result: Mapped[str] = mapped_column(
        ForeignKey("repair_results.code", ondelete="RESTRICT"), index=True
    )
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    return_visit_on: Mapped[dt.date | None] = mapped_column(Date)
    return_visit_outcome: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[RecordSource] = mapped_column(
        enum_type(RecordSource, 20), default=RecordSource.FORM
    )
    # Set by the spares module: a part used that the station did not hold (settlement rule 6).
    part_not_held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # An on-site repair outside the station's home city earns the travel allowance (SPEC 8.1).
    outside_home_city: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=now_utc, onupdate=now_utc
    )

    report: Mapped[DailyReport] = relationship(back_populates="records")
    parts: Mapped[list[PartUsed]] = relationship(
        back_populates="record",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PartUsed.id",
        lazy="selectin",
    )

    def __str__(self) -> str:
        return self.ticket_no


class PartUsed(db.Model):
    """A part consumed by a repair, with the serial of the faulty part taken out."""

    __tablename__ = "repair_parts"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("repair_records.id", ondelete="CASCADE"), index=True
    )
    part_no: Mapped[str] = mapped_column(String(40), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    faulty_serial: Mapped[str] = mapped_column(String(40), default="")

    record: Mapped[RepairRecord] = relationship(back_populates="parts")


class UploadBatch(db.Model):
    """One uploaded Excel file: imported whole, or rejected with every error kept."""

    __tablename__ = "report_uploads"
    # imported_digest is the file's SHA-256 only once imported: the same file twice is refused,
    # while a rejected file may be corrected and sent again.
    __table_args__ = (UniqueConstraint("station_id", "imported_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), index=True
    )
    report_on: Mapped[dt.date] = mapped_column(Date)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("daily_reports.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    imported_digest: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[UploadOutcome] = mapped_column(enum_type(UploadOutcome, 20))
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(500), default="")
    errors: Mapped[list | None] = mapped_column(JSON)
    warnings: Mapped[list | None] = mapped_column(JSON)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    def __str__(self) -> str:
        return self.filename
