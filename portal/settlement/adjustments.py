"""Rewards, penalties and deductions (SPEC 6): the one adjustments table of the settlement.

Every module that turns an event into money for a station's month calls `record_adjustment`:
inspections (a failed critical item, an overdue rectification), spares (an unreturned
defective part), reports and the settlement run (late and missing reports, rewards). The same
event gives one entry however often it is recorded: the source (type, id and, for an event
that repeats such as each started week of an overdue rectification, its occurrence) is the
key. An entry for a month whose settlement has left draft goes into the next open month.

The rules catalogue below holds the SPEC 6 defaults as data in one place; the settlement
issue turns it into versioned rows with effective dates behind `rule_amount`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import audit
from portal.core.db import UTCDateTime, now_utc
from portal.core.errors import DomainError, PermissionDenied
from portal.core.money import Money, to_money
from portal.core.permissions import Permission, can
from portal.core.workflow import LabelledEnum
from portal.extensions import db


class Trigger(LabelledEnum):
    AUTOMATIC = "automatic", _l("Automatic")
    MANUAL = "manual", _l("Manual (HQ, with a reason)")


@dataclass(frozen=True)
class AdjustmentRule:
    """One rule of the rewards-and-penalties catalogue.

    amount is the signed default per unit (None when it is computed from the source, as for a
    fabricated record: `fee_factor` times its claimed fee).
    """

    code: str
    label: object
    unit: object
    amount: Decimal | None
    trigger: Trigger
    fee_factor: Decimal | None = None


LATE_REPORT = "late_report"
MISSING_REPORT = "missing_report"
OVERDUE_RECTIFICATION = "overdue_rectification"
CRITICAL_ITEM_FAILED = "critical_item_failed"
VERIFIED_COMPLAINT = "verified_complaint"
FABRICATED_RECORD = "fabricated_record"
ASSESSMENT_GRADE_A = "assessment_grade_a"
HIGH_SATISFACTION = "high_satisfaction"
UNRETURNED_DEFECTIVE = "unreturned_defective"

RULES: dict[str, AdjustmentRule] = {
    rule.code: rule
    for rule in (
        AdjustmentRule(
            LATE_REPORT,
            _l("Late daily report"),
            _l("per report"),
            Decimal("-20.00"),
            Trigger.AUTOMATIC,
        ),
        AdjustmentRule(
            MISSING_REPORT,
            _l("Missing daily report"),
            _l("per day"),
            Decimal("-50.00"),
            Trigger.AUTOMATIC,
        ),
        AdjustmentRule(
            OVERDUE_RECTIFICATION,
            _l("Overdue rectification"),
            _l("per item per started week overdue"),
            Decimal("-100.00"),
            Trigger.AUTOMATIC,
        ),
        AdjustmentRule(
            CRITICAL_ITEM_FAILED,
            _l("Critical inspection item failed"),
            _l("per item"),
            Decimal("-500.00"),
            Trigger.AUTOMATIC,
        ),
        AdjustmentRule(
            VERIFIED_COMPLAINT,
            _l("Verified customer complaint"),
            _l("per complaint"),
            Decimal("-200.00"),
            Trigger.MANUAL,
        ),
        AdjustmentRule(
            FABRICATED_RECORD,
            _l("Fabricated repair record"),
            _l("3 × its claimed fee, and a suspension review"),
            None,
            Trigger.MANUAL,
            fee_factor=Decimal("-3"),
        ),
        AdjustmentRule(
            ASSESSMENT_GRADE_A,
            _l("Monthly assessment grade A"),
            _l("per month"),
            Decimal("300.00"),
            Trigger.AUTOMATIC,
        ),
        AdjustmentRule(
            HIGH_SATISFACTION,
            _l("Satisfaction average of at least 4.75 over 50 or more records"),
            _l("per month"),
            Decimal("200.00"),
            Trigger.AUTOMATIC,
        ),
        AdjustmentRule(
            UNRETURNED_DEFECTIVE,
            _l("Defective part not returned in time"),
            _l("its unit value"),
            None,
            Trigger.AUTOMATIC,
        ),
    )
}


def rule_of(code: str) -> AdjustmentRule:
    """The catalogue entry of a rule code (DomainError for an unknown code)."""
    try:
        return RULES[code]
    except KeyError:
        raise DomainError(_l("Unknown rule."), field="rule") from None


def rule_amount(code: str, on: dt.date | None = None) -> Decimal | None:
    """The signed amount of a rule in force on a day (None when computed per source).

    The amounts are versioned rows (`catalogue.AdjustmentRuleVersion`, changed by finance on
    the rules page); the catalogue's default stands for a rule with no version yet.
    """
    from portal.core.dates import local_today
    from portal.settlement.catalogue import rule_amount_on

    rule = rule_of(code)
    if rule.amount is None:
        return None
    versioned = rule_amount_on(code, on or local_today())
    return versioned if versioned is not None else rule.amount


def rule_label(code: str):
    """The rule's name in the user's language (the code itself if unknown)."""
    rule = RULES.get(code)
    return rule.label if rule else code


class Adjustment(db.Model):
    """One reward (+), penalty (-) or deduction (-) of a station for a month."""

    __tablename__ = "adjustments"
    __table_args__ = (
        UniqueConstraint(
            "rule_code",
            "source_type",
            "source_id",
            "month",
            "occurrence",
            name="uq_adjustments_event",
        ),
        Index("ix_adjustments_station_id_month", "station_id", "month"),
        Index("ix_adjustments_source", "source_type", "source_id"),
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        CheckConstraint("occurrence >= 1", name="occurrence_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    month: Mapped[dt.date] = mapped_column(Date)
    rule_code: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Money())
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(64))
    occurrence: Mapped[int] = mapped_column(Integer, default=1)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_name: Mapped[str] = mapped_column(String(80), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)

    station = relationship("Station")

    def __str__(self) -> str:
        return f"{self.rule_code} {self.amount} {self.month:%Y-%m}"

    @property
    def rule_label(self):
        return rule_label(self.rule_code)


ADJUSTMENT_FIELDS = (
    "station_id",
    "month",
    "rule_code",
    "amount",
    "source_type",
    "source_id",
    "occurrence",
)


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _open_month(station_id: int, month: dt.date) -> dt.date:
    """The month itself, or the first later one whose settlement is still in draft."""
    from portal.settlement.models import month_is_locked_for_reports

    while month_is_locked_for_reports(station_id, month):
        month = next_month(month)
    return month


def find_adjustment(rule_code: str, source_type: str, source_id, occurrence: int = 1):
    """The entry already recorded for this event, in whatever month it went."""
    return db.session.execute(
        select(Adjustment).where(
            Adjustment.rule_code == rule_code,
            Adjustment.source_type == source_type,
            Adjustment.source_id == str(source_id),
            Adjustment.occurrence == occurrence,
        )
    ).scalar_one_or_none()


def record_adjustment(
    actor,
    *,
    station_id: int,
    on: dt.date,
    rule_code: str,
    source_type: str,
    source_id,
    occurrence: int = 1,
    amount=None,
    reason: str = "",
    manual: bool = False,
) -> Adjustment:
    """Record the adjustment of one event, once: a second call for the same event returns the
    entry already there and changes nothing.

    `on` is the day of the event (its month is the entry's month, or the next open one when
    that month's settlement has left draft). `amount` defaults to the rule's amount; a manual
    rule, or any rule recorded by hand (`manual`), needs the actor's permission and a reason.
    The caller's transaction keeps the entry.
    """
    from portal.settlement.locks import ensure_month_open
    from portal.spares.locks import lock_station

    rule = rule_of(rule_code)
    if manual or rule.trigger is Trigger.MANUAL:
        if not can(actor, Permission.RECORD_ADJUSTMENTS):
            raise PermissionDenied(_l("You may not record rewards and penalties."))
        if not (reason or "").strip():
            raise DomainError(_l("Give the reason."), field="reason")
    source_type = (source_type or "").strip()
    source_id = str(source_id if source_id is not None else "").strip()
    if not source_type or not source_id:
        raise DomainError(_l("Every adjustment names its source."), field="source")
    if occurrence < 1:
        raise DomainError(_l("Every adjustment names its source."), field="source")
    value = amount if amount is not None else rule_amount(rule_code, on)
    if value is None:
        raise DomainError(_l("Enter an amount."), field="amount")
    try:
        value = to_money(value)
    except (TypeError, ValueError):
        raise DomainError(_l("Enter an amount."), field="amount") from None
    if value == 0:
        raise DomainError(_l("The amount cannot be zero."), field="amount")

    lock_station(station_id)
    existing = find_adjustment(rule_code, source_type, source_id, occurrence)
    if existing is not None:
        return existing
    month = _open_month(station_id, first_of_month(on))
    ensure_month_open(station_id, month)
    entry = Adjustment(
        station_id=station_id,
        month=month,
        rule_code=rule_code,
        amount=value,
        source_type=source_type,
        source_id=source_id,
        occurrence=occurrence,
        reason=(reason or "").strip(),
        created_by_id=getattr(actor, "id", None),
        created_by_name=getattr(actor, "username", None) or "system",
    )
    try:
        # The unique event key is the last guard when two processes record the same event.
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:
        existing = find_adjustment(rule_code, source_type, source_id, occurrence)
        if existing is None:
            raise
        return existing
    audit.record(
        "adjustment.recorded",
        entry,
        actor=actor,
        after=audit.snapshot(entry, ADJUSTMENT_FIELDS),
        comment=entry.reason,
    )
    return entry


def adjustments_of(station_id: int, month: dt.date) -> list[Adjustment]:
    """A station's entries of a month, oldest first."""
    return list(
        db.session.execute(
            select(Adjustment)
            .where(Adjustment.station_id == station_id, Adjustment.month == first_of_month(month))
            .order_by(Adjustment.id)
        ).scalars()
    )
