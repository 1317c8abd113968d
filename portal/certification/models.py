"""Applications, screening, tier rules, technicians and certificates, station profiles."""

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
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.certification.states import (
    ApplicationStatus,
    AttachmentKind,
    StaffRole,
    Track,
)
from portal.core.db import UTCDateTime, enum_type, now_utc
from portal.core.money import Money
from portal.extensions import db
from portal.stations.states import CityClass, Tier


def Area():  # noqa: N802 - a column type factory
    return Numeric(8, 2, asdecimal=True)


class Application(db.Model):
    """A candidate's request to be authorized (SPEC 3.1)."""

    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_status_changed", "status", "status_changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), unique=True
    )
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_type(ApplicationStatus, 30), default=ApplicationStatus.DRAFT
    )
    company_name: Mapped[str] = mapped_column(String(200), default="")
    credit_code: Mapped[str] = mapped_column(String(18), default="")
    legal_representative: Mapped[str] = mapped_column(String(80), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    province: Mapped[str] = mapped_column(String(4), default="")
    city: Mapped[str] = mapped_column(String(60), default="")
    city_class: Mapped[CityClass | None] = mapped_column(enum_type(CityClass, 2))
    brands_serviced: Mapped[str] = mapped_column(Text, default="")
    requested_tier: Mapped[Tier | None] = mapped_column(enum_type(Tier, 30))
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    reception_area: Mapped[Decimal | None] = mapped_column(Area())
    repair_area: Mapped[Decimal | None] = mapped_column(Area())
    storage_area: Mapped[Decimal | None] = mapped_column(Area())
    has_tools: Mapped[bool] = mapped_column(Boolean, default=False)
    has_computer: Mapped[bool] = mapped_column(Boolean, default=False)
    has_test_instruments: Mapped[bool] = mapped_column(Boolean, default=False)
    service_phone: Mapped[str] = mapped_column(String(40), default="")
    equipment_notes: Mapped[str] = mapped_column(Text, default="")
    financial_year: Mapped[int | None] = mapped_column(Integer)
    total_assets: Mapped[Decimal | None] = mapped_column(Money())
    revenue: Mapped[Decimal | None] = mapped_column(Money())
    net_profit: Mapped[Decimal | None] = mapped_column(Money())
    no_counterfeit_declared: Mapped[bool] = mapped_column(Boolean, default=False)
    counterfeit_violation: Mapped[str] = mapped_column(Text, default="")
    hq_comment: Mapped[str] = mapped_column(Text, default="")
    approved_tier: Mapped[Tier | None] = mapped_column(enum_type(Tier, 30))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    applicant = relationship("User", foreign_keys=[applicant_id])
    station = relationship("Station")
    staff: Mapped[list[Technician]] = relationship(
        back_populates="application", order_by="Technician.id"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="application", order_by="Attachment.id"
    )
    screening: Mapped[ScreeningSheet | None] = relationship(back_populates="application")

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"A{self.id:05d} {self.company_name}".strip()

    @property
    def number(self) -> str:
        return f"A{self.id:05d}"


class Attachment(db.Model):
    """A file of an application, stored outside the static folder under a generated name."""

    __tablename__ = "application_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AttachmentKind] = mapped_column(enum_type(AttachmentKind, 30))
    original_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    application: Mapped[Application] = relationship(back_populates="attachments")

    def __str__(self) -> str:
        return self.original_name


class Technician(db.Model):
    """A person on a candidate's or station's staff; certificates make an engineer."""

    __tablename__ = "technicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), index=True
    )
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[StaffRole] = mapped_column(enum_type(StaffRole, 30))
    phone: Mapped[str] = mapped_column(String(40), default="")
    id_number: Mapped[str] = mapped_column(String(18), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    application: Mapped[Application | None] = relationship(back_populates="staff")
    station = relationship("Station")
    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="technician", order_by="Certificate.id"
    )
    attempts: Mapped[list[CertificationAttempt]] = relationship(
        back_populates="technician", order_by="CertificationAttempt.id"
    )

    def __str__(self) -> str:
        return self.name


class CertificationAttempt(db.Model):
    """One sitting of HQ's certification exam (SPEC 3.5)."""

    __tablename__ = "certification_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE"), index=True
    )
    station_id: Mapped[int | None] = mapped_column(index=True)
    track: Mapped[Track] = mapped_column(enum_type(Track, 30))
    theory_score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    practical_score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    attempted_on: Mapped[dt.date] = mapped_column(Date)
    examiner: Mapped[str] = mapped_column(String(80))
    passed: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    technician: Mapped[Technician] = relationship(back_populates="attempts")


class Certificate(db.Model):
    """Issued by a passed attempt; valid 24 months unless revoked."""

    __tablename__ = "certificates"
    __table_args__ = (Index("ix_certificates_expires_on", "expires_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    technician_id: Mapped[int] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE"), index=True
    )
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("certification_attempts.id", ondelete="SET NULL")
    )
    track: Mapped[Track] = mapped_column(enum_type(Track, 30))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    revoked_on: Mapped[dt.date | None] = mapped_column(Date)
    revoke_reason: Mapped[str] = mapped_column(Text, default="")

    technician: Mapped[Technician] = relationship(back_populates="certificates")

    def __str__(self) -> str:
        return self.number

    @property
    def station_id(self):
        return self.technician.station_id if self.technician else None


class TierRuleSet(db.Model):
    """The tier requirements table (SPEC 3.3) in force from a date; older sets are history."""

    __tablename__ = "tier_rule_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_on: Mapped[dt.date] = mapped_column(Date, unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    requirements: Mapped[list[TierRequirement]] = relationship(
        back_populates="rule_set", cascade="all, delete-orphan", order_by="TierRequirement.id"
    )

    def __str__(self) -> str:
        return f"tier rules from {self.effective_on.isoformat()}"


class TierRequirement(db.Model):
    __tablename__ = "tier_requirements"
    __table_args__ = (UniqueConstraint("rule_set_id", "tier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_set_id: Mapped[int] = mapped_column(
        ForeignKey("tier_rule_sets.id", ondelete="CASCADE"), index=True
    )
    tier: Mapped[Tier] = mapped_column(enum_type(Tier, 30))
    deposit: Mapped[Decimal] = mapped_column(Money())
    coordinators: Mapped[int] = mapped_column(Integer)
    engineers_class1: Mapped[int] = mapped_column(Integer)
    engineers_class23: Mapped[int] = mapped_column(Integer)
    repair_area: Mapped[Decimal] = mapped_column(Area())
    storage_area: Mapped[Decimal] = mapped_column(Area())

    rule_set: Mapped[TierRuleSet] = relationship(back_populates="requirements")


class ScreeningWeightSet(db.Model):
    """Screening weights and pass mark (SPEC 3.2) in force from a date."""

    __tablename__ = "screening_weight_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_on: Mapped[dt.date] = mapped_column(Date, unique=True)
    weights: Mapped[dict] = mapped_column(JSON)
    pass_mark: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(80), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    def __str__(self) -> str:
        return f"screening weights from {self.effective_on.isoformat()}"


class ScreeningSheet(db.Model):
    """HQ's scored review of one application, with the site visit."""

    __tablename__ = "screening_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), unique=True
    )
    weight_set_id: Mapped[int] = mapped_column(ForeignKey("screening_weight_sets.id"))
    ratings: Mapped[dict] = mapped_column(JSON, default=dict)
    total: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(0))
    visited_on: Mapped[dt.date | None] = mapped_column(Date)
    visit_notes: Mapped[str] = mapped_column(Text, default="")
    screener: Mapped[str] = mapped_column(String(80), default="")
    recommendation: Mapped[str] = mapped_column(String(20), default="")
    recommended_tier: Mapped[Tier | None] = mapped_column(enum_type(Tier, 30))
    evaluated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    application: Mapped[Application] = relationship(back_populates="screening")
    weight_set: Mapped[ScreeningWeightSet] = relationship()


class StationProfile(db.Model):
    """Certification facts of a station that the registry does not hold: floor areas."""

    __tablename__ = "station_profiles"

    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    reception_area: Mapped[Decimal] = mapped_column(Area(), default=Decimal(0))
    repair_area: Mapped[Decimal] = mapped_column(Area(), default=Decimal(0))
    storage_area: Mapped[Decimal] = mapped_column(Area(), default=Decimal(0))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)


class StationCompliance(db.Model):
    """The last compliance check of a station, for the network-wide list."""

    __tablename__ = "station_compliance"
    __table_args__ = (Index("ix_station_compliance_compliant", "compliant"),)

    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    compliant: Mapped[bool] = mapped_column(Boolean)
    gaps: Mapped[list] = mapped_column(JSON, default=list)
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    station = relationship("Station")


class StationCodeSequence(db.Model):
    """The last number used for station codes of one province and city."""

    __tablename__ = "station_code_sequences"

    province: Mapped[str] = mapped_column(String(4), primary_key=True)
    city_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)
