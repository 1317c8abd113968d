"""Checklist templates and versions, inspections and answers, stock counts, files,
rectifications and their answers, reminders, settings, the latest score of each station."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import get_locale
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime, enum_type, now_utc
from portal.extensions import db
from portal.inspections.states import (
    AnswerResult,
    FilePurpose,
    Grade,
    InspectionKind,
    InspectionStatus,
    RectificationSource,
    RectificationStatus,
    VersionStatus,
)


def localized(zh: str, en: str) -> str:
    """The Chinese or English text for the user's language (the other one if it is empty)."""
    try:
        chinese = str(get_locale()) == "zh"
    except (RuntimeError, AttributeError):
        chinese = True
    first, second = (zh, en) if chinese else (en, zh)
    return first or second or ""


def Score():  # noqa: N802 - a column type factory
    return Numeric(6, 2, asdecimal=True)


# --- checklist templates -------------------------------------------------------------------


class ChecklistTemplate(db.Model):
    """A checklist HQ keeps; its content lives in numbered versions."""

    __tablename__ = "checklist_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    versions: Mapped[list[ChecklistVersion]] = relationship(
        back_populates="template", order_by="ChecklistVersion.number"
    )

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.name_zh, self.name_en)


class ChecklistVersion(db.Model):
    """One version of a checklist. Published versions never change; editing makes a draft."""

    __tablename__ = "checklist_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_templates.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[VersionStatus] = mapped_column(
        enum_type(VersionStatus, 20), default=VersionStatus.DRAFT
    )
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    template: Mapped[ChecklistTemplate] = relationship(back_populates="versions")
    sections: Mapped[list[ChecklistSection]] = relationship(
        back_populates="version", order_by="(ChecklistSection.position, ChecklistSection.id)"
    )

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.status is VersionStatus.PUBLISHED

    def items(self) -> list[ChecklistItem]:
        return [item for section in self.sections for item in section.items]


class ChecklistSection(db.Model):
    __tablename__ = "checklist_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_versions.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")

    version: Mapped[ChecklistVersion] = relationship(back_populates="sections")
    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="section", order_by="(ChecklistItem.position, ChecklistItem.id)"
    )

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return localized(self.title_zh, self.title_en)


class ChecklistItem(db.Model):
    """One thing the auditor checks: text in both languages, maximum score, flags."""

    __tablename__ = "checklist_items"
    __table_args__ = (CheckConstraint("max_score >= 0", name="max_score_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_versions.id", ondelete="RESTRICT"), index=True
    )
    section_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_sections.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text, default="")
    max_score: Mapped[int] = mapped_column(Integer, default=5)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    photo_required: Mapped[bool] = mapped_column(Boolean, default=False)
    stock_count: Mapped[bool] = mapped_column(Boolean, default=False)

    section: Mapped[ChecklistSection] = relationship(back_populates="items")

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return localized(self.text_zh, self.text_en)


class PublishedVersionChanged(RuntimeError):
    """A published checklist version was about to change."""


def _version_published(connection, version_id) -> bool:
    """Whether the version is published in the database (what this flush writes to)."""
    from sqlalchemy import select

    if version_id is None:
        return False
    status = connection.execute(
        select(ChecklistVersion.__table__.c.status).where(
            ChecklistVersion.__table__.c.id == version_id
        )
    ).scalar_one_or_none()
    return status == VersionStatus.PUBLISHED.value


def _guard_content(mapper, connection, target):
    if _version_published(connection, target.version_id):
        raise PublishedVersionChanged("a published checklist version never changes")


def _guard_version(mapper, connection, target):
    history = inspect(target).attrs.status.history
    was = history.deleted[0] if history.deleted else target.status
    if was is VersionStatus.PUBLISHED:
        raise PublishedVersionChanged("a published checklist version never changes")


for _model in (ChecklistSection, ChecklistItem):
    event.listen(_model, "before_insert", _guard_content)
    event.listen(_model, "before_update", _guard_content)
    event.listen(_model, "before_delete", _guard_content)
event.listen(ChecklistVersion, "before_update", _guard_version)
event.listen(ChecklistVersion, "before_delete", _guard_version)


# --- settings ------------------------------------------------------------------------------


class InspectionSetting(db.Model):
    """Grade limits and rectification deadlines in force from a date (HQ changes them)."""

    __tablename__ = "inspection_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_on: Mapped[dt.date] = mapped_column(Date, unique=True)
    excellent: Mapped[int] = mapped_column(Integer, default=90)
    good: Mapped[int] = mapped_column(Integer, default=80)
    passing: Mapped[int] = mapped_column(Integer, default=60)
    due_days: Mapped[int] = mapped_column(Integer, default=15)
    due_days_critical: Mapped[int] = mapped_column(Integer, default=7)
    remind_days: Mapped[int] = mapped_column(Integer, default=3)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)


# --- inspections ---------------------------------------------------------------------------


class Inspection(db.Model):
    """An auditor's scored visit of a station (or of a candidate's site)."""

    __tablename__ = "inspections"
    __table_args__ = (
        Index("ix_inspections_station_id_id", "station_id", "id"),
        Index("ix_inspections_auditor_id_id", "auditor_id", "id"),
        Index("ix_inspections_status_id", "status", "id"),
        Index("ix_inspections_station_id_submitted_at", "station_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InspectionKind] = mapped_column(
        enum_type(InspectionKind, 20), default=InspectionKind.STATION
    )
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="RESTRICT"), index=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_versions.id", ondelete="RESTRICT"), index=True
    )
    auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    planned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    planned_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[InspectionStatus] = mapped_column(
        enum_type(InspectionStatus, 20), default=InspectionStatus.PLANNED
    )
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submitted_on: Mapped[dt.date | None] = mapped_column(Date)
    points: Mapped[Decimal | None] = mapped_column(Numeric(8, 2, asdecimal=True))
    max_points: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2, asdecimal=True))
    grade: Mapped[Grade | None] = mapped_column(enum_type(Grade, 30))
    critical_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    station = relationship("Station")
    application = relationship("Application")
    auditor = relationship("User", foreign_keys=[auditor_id])
    checklist: Mapped[ChecklistVersion] = relationship()
    answers: Mapped[list[InspectionAnswer]] = relationship(
        back_populates="inspection", order_by="InspectionAnswer.id"
    )
    stock_lines: Mapped[list[InspectionStockLine]] = relationship(
        back_populates="inspection", order_by="InspectionStockLine.id"
    )

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"I{self.id:06d}"

    @property
    def subject(self) -> str:
        """What was inspected: the station, or the candidate company."""
        if self.station is not None:
            return str(self.station)
        if self.application is not None:
            return str(self.application)
        return ""

    @property
    def locked(self) -> bool:
        return self.status in (InspectionStatus.SUBMITTED, InspectionStatus.CANCELLED)


class InspectionAnswer(db.Model):
    """The answer to one item; rev counts saves so two devices never overwrite unseen."""

    __tablename__ = "inspection_answers"
    __table_args__ = (UniqueConstraint("inspection_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id", ondelete="RESTRICT"))
    result: Mapped[AnswerResult | None] = mapped_column(enum_type(AnswerResult, 10))
    score: Mapped[Decimal | None] = mapped_column(Score())
    note: Mapped[str] = mapped_column(Text, default="")
    rev: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    inspection: Mapped[Inspection] = relationship(back_populates="answers")
    item: Mapped[ChecklistItem] = relationship()
    updated_by = relationship("User", foreign_keys=[updated_by_id])


class InspectionStockLine(db.Model):
    """A sampled part: the quantity expected (ledger or auditor) and the quantity counted."""

    __tablename__ = "inspection_stock_counts"
    __table_args__ = (UniqueConstraint("inspection_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(36))
    part_number: Mapped[str] = mapped_column(String(60), default="")
    part_name: Mapped[str] = mapped_column(String(200), default="")
    expected_qty: Mapped[int | None] = mapped_column(Integer)
    expected_from_ledger: Mapped[bool] = mapped_column(Boolean, default=False)
    counted_qty: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    rev: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    inspection: Mapped[Inspection] = relationship(back_populates="stock_lines")

    @property
    def difference(self) -> int | None:
        if self.expected_qty is None or self.counted_qty is None:
            return None
        return self.counted_qty - self.expected_qty


class InspectionFile(db.Model):
    """A photo of an inspection item or an evidence file of a rectification.

    The original is kept as uploaded (HQ-side roles only); images also get a copy without
    metadata (location, camera) and a small preview, which are what everyone else sees.
    """

    __tablename__ = "inspection_files"
    __table_args__ = (
        UniqueConstraint("inspection_id", "client_key"),
        Index("ix_inspection_files_inspection_id_item_id", "inspection_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    purpose: Mapped[FilePurpose] = mapped_column(enum_type(FilePurpose, 20))
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("checklist_items.id", ondelete="RESTRICT")
    )
    rectification_id: Mapped[int | None] = mapped_column(
        ForeignKey("rectifications.id", ondelete="CASCADE"), index=True
    )
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("rectification_responses.id", ondelete="CASCADE"), index=True
    )
    client_key: Mapped[str | None] = mapped_column(String(36))
    original_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    clean_name: Mapped[str | None] = mapped_column(String(80))
    preview_name: Mapped[str | None] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.preview_name is not None


# --- rectifications ------------------------------------------------------------------------


class Rectification(db.Model):
    """A finding the station must fix, with evidence, by a due date."""

    __tablename__ = "rectifications"
    __table_args__ = (
        Index("ix_rectifications_station_id_id", "station_id", "id"),
        Index("ix_rectifications_status_due_on", "status", "due_on"),
        Index("ix_rectifications_station_id_status", "station_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspections.id", ondelete="RESTRICT"), index=True
    )
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    source: Mapped[RectificationSource] = mapped_column(enum_type(RectificationSource, 10))
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("checklist_items.id", ondelete="RESTRICT")
    )
    stock_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection_stock_counts.id", ondelete="RESTRICT")
    )
    finding: Mapped[str] = mapped_column(Text)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[RectificationStatus] = mapped_column(
        enum_type(RectificationStatus, 20), default=RectificationStatus.OPEN
    )
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    inspection: Mapped[Inspection] = relationship()
    station = relationship("Station")
    item: Mapped[ChecklistItem | None] = relationship()
    responses: Mapped[list[RectificationResponse]] = relationship(
        back_populates="rectification", order_by="RectificationResponse.id"
    )

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"R{self.id:06d}"


class RectificationResponse(db.Model):
    """The station's answer to a rectification and the auditor's verdict on it."""

    __tablename__ = "rectification_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(
        ForeignKey("rectifications.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    verdict: Mapped[RectificationStatus | None] = mapped_column(enum_type(RectificationStatus, 20))
    review_comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    rectification: Mapped[Rectification] = relationship(back_populates="responses")
    answered_by = relationship("User", foreign_keys=[answered_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    files: Mapped[list[InspectionFile]] = relationship(order_by="InspectionFile.id")


class RectificationReminder(db.Model):
    """A reminder sent for a rectification (once per kind), shown in the portal."""

    __tablename__ = "rectification_reminders"
    __table_args__ = (UniqueConstraint("rectification_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(
        ForeignKey("rectifications.id", ondelete="CASCADE"), index=True
    )
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    emailed_to: Mapped[int] = mapped_column(Integer, default=0)

    rectification: Mapped[Rectification] = relationship()


class StationInspectionSummary(db.Model):
    """The latest submitted inspection of each station (the network list reads this)."""

    __tablename__ = "station_inspection_summaries"
    __table_args__ = (Index("ix_station_inspection_summaries_last_inspection_id", "last_id"),)

    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    last_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="RESTRICT"))
    last_on: Mapped[dt.date] = mapped_column(Date)
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2, asdecimal=True))
    grade: Mapped[Grade] = mapped_column(enum_type(Grade, 30))

    station = relationship("Station")
    inspection: Mapped[Inspection] = relationship()
