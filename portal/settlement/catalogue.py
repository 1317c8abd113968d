"""The settlement's rules as versioned data (SPEC 6, 8.1, 8.2, 3.3).

Every fact the engine reads takes effect from a date that is today or later and is kept as
history: the fee schedule (per tier and repair type, and the travel allowance), the validity
parameters (repeat window, default warranty), the amounts of the reward and penalty rules, and
which repair types each tier may do. A settlement records the versions it was computed with
(`Versions.as_json`), so a month already run is never rewritten and can be explained later.

Finance and admin change them on /settlement/rules; the migration seeds the SPEC defaults with
the effective date 2000-01-01.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
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
from portal.core.versioning import require_not_past
from portal.extensions import db

EPOCH = dt.date(2000, 1, 1)
TIERS = ("accessory_point", "service_station", "service_center")

# SPEC 8.1: CNY per valid warranty record; None = the tier may not do the type.
DEFAULT_FEES: dict[str, dict[str, str | None]] = {
    "onsite_repair": {"service_station": "30.00", "service_center": "33.00"},
    "instore_simple": {"service_station": "20.00", "service_center": "22.00"},
    "complex": {"service_station": None, "service_center": "45.00"},
    "unit_swap": {"service_station": "15.00", "service_center": "16.50"},
    "factory_return": {"service_station": "10.00", "service_center": "11.00"},
    "no_fault_found": {"service_station": "8.00", "service_center": "8.80"},
    "accessory_sale": {"service_station": "0.00", "service_center": "0.00"},
}
DEFAULT_TRAVEL = "10.00"
# SPEC 3.3: the repair types each tier may do.
DEFAULT_SCOPE: dict[str, tuple[str, ...]] = {
    "accessory_point": ("accessory_sale",),
    "service_station": tuple(code for code in DEFAULT_FEES if code != "complex"),
    "service_center": tuple(DEFAULT_FEES),
}
DEFAULT_REPEAT_DAYS = 30
DEFAULT_WARRANTY_MONTHS = 12


def _audit_user(actor) -> int | None:
    return getattr(actor, "id", None) if isinstance(getattr(actor, "id", None), int) else None


class FeeSchedule(db.Model):
    """A version of the fee schedule: the travel allowance and a rate per tier and type."""

    __tablename__ = "fee_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_on: Mapped[dt.date] = mapped_column(Date, unique=True)
    travel_allowance: Mapped[Decimal] = mapped_column(Money())
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(Integer)  # who: also in the audit trail

    rates: Mapped[list[FeeRate]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", lazy="selectin"
    )

    def __str__(self) -> str:
        return f"{self.effective_on}"

    def rate(self, tier: str, repair_type: str) -> Decimal | None:
        return next(
            (r.fee for r in self.rates if r.tier == tier and r.repair_type == repair_type), None
        )


class FeeRate(db.Model):
    __tablename__ = "fee_rates"
    __table_args__ = (UniqueConstraint("schedule_id", "tier", "repair_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("fee_schedules.id", ondelete="CASCADE"))
    tier: Mapped[str] = mapped_column(String(30))
    repair_type: Mapped[str] = mapped_column(String(30))
    fee: Mapped[Decimal] = mapped_column(Money())

    schedule: Mapped[FeeSchedule] = relationship(back_populates="rates")


class ValidityParameters(db.Model):
    """A version of the validity parameters of SPEC 8.2."""

    __tablename__ = "validity_parameters"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_on: Mapped[dt.date] = mapped_column(Date, unique=True)
    repeat_window_days: Mapped[int] = mapped_column(Integer)
    default_warranty_months: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(Integer)  # who: also in the audit trail

    def __str__(self) -> str:
        return f"{self.effective_on}"


class AdjustmentRuleVersion(db.Model):
    """The amount of one reward or penalty rule from a date on (SPEC 6)."""

    __tablename__ = "adjustment_rule_versions"
    __table_args__ = (UniqueConstraint("rule_code", "effective_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_code: Mapped[str] = mapped_column(String(40))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(Integer)  # who: also in the audit trail

    def __str__(self) -> str:
        return f"{self.rule_code} {self.effective_on}"


class TierScope(db.Model):
    """Whether a tier may do a repair type, from a date on (SPEC 3.3's last row)."""

    __tablename__ = "tier_repair_scopes"
    __table_args__ = (UniqueConstraint("tier", "repair_type", "effective_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tier: Mapped[str] = mapped_column(String(30))
    repair_type: Mapped[str] = mapped_column(String(30))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    allowed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(Integer)  # who: also in the audit trail

    def __str__(self) -> str:
        return f"{self.tier} {self.repair_type} {self.effective_on}"


# --- reading: everything in force over a period, loaded once ----------------------------------


@dataclass
class Versions:
    """The versioned rules over a period, newest first, answering per day."""

    schedules: list[FeeSchedule]
    parameters: list[ValidityParameters]
    rule_amounts: dict[str, list[AdjustmentRuleVersion]]
    scopes: dict[tuple[str, str], list[TierScope]]
    _cents: dict[int, dict[tuple[str, str], int | None]] = field(default_factory=dict)

    @staticmethod
    def _pick(rows, day):
        return next((row for row in rows if row.effective_on <= day), None)

    def schedule(self, day: dt.date) -> FeeSchedule | None:
        return self._pick(self.schedules, day)

    def parameters_on(self, day: dt.date) -> ValidityParameters | None:
        return self._pick(self.parameters, day)

    def fee_cents(self, day: dt.date, tier: str, repair_type: str) -> int | None:
        schedule = self.schedule(day)
        if schedule is None:
            return None
        table = self._cents.get(schedule.id)
        if table is None:
            table = {(r.tier, r.repair_type): cents(r.fee) for r in schedule.rates}
            self._cents[schedule.id] = table
        return table.get((tier, repair_type))

    def travel_cents(self, day: dt.date) -> int:
        schedule = self.schedule(day)
        return cents(schedule.travel_allowance) if schedule else 0

    def repeat_window_days(self, day: dt.date) -> int:
        row = self.parameters_on(day)
        return row.repeat_window_days if row else DEFAULT_REPEAT_DAYS

    def default_warranty_months(self, day: dt.date) -> int:
        row = self.parameters_on(day)
        return row.default_warranty_months if row else DEFAULT_WARRANTY_MONTHS

    def rule_amount(self, code: str, day: dt.date) -> Decimal | None:
        row = self._pick(self.rule_amounts.get(code, []), day)
        return row.amount if row else None

    def tier_allows(self, tier: str, repair_type: str, day: dt.date) -> bool:
        row = self._pick(self.scopes.get((tier, repair_type), []), day)
        if row is None:
            return tier in TIERS and repair_type in DEFAULT_SCOPE.get(tier, ())
        return row.allowed

    def as_json(self, start: dt.date, end: dt.date) -> dict:
        """The versions in force at some day of [start, end]: recorded with a settlement."""

        def used(rows):
            picked = []
            for row in rows:
                if row.effective_on <= end:
                    picked.append(row.effective_on.isoformat())
                    if row.effective_on <= start:
                        break
            return picked

        return {
            "fee_schedule": used(self.schedules),
            "validity_parameters": used(self.parameters),
            "rule_amounts": {code: used(rows) for code, rows in sorted(self.rule_amounts.items())},
            "tier_scope": sorted(
                {d for rows in self.scopes.values() for d in used(rows)},
            ),
        }


def cents(amount: Decimal) -> int:
    """Decimal yuan (2 places) to integer fen."""
    return int(to_money(amount) * 100)


def load_versions(until: dt.date) -> Versions:
    """Every version that took effect on or before `until`, newest first."""
    schedules = list(
        db.session.execute(
            select(FeeSchedule)
            .where(FeeSchedule.effective_on <= until)
            .order_by(FeeSchedule.effective_on.desc())
        ).scalars()
    )
    parameters = list(
        db.session.execute(
            select(ValidityParameters)
            .where(ValidityParameters.effective_on <= until)
            .order_by(ValidityParameters.effective_on.desc())
        ).scalars()
    )
    amounts: dict[str, list[AdjustmentRuleVersion]] = {}
    for row in db.session.execute(
        select(AdjustmentRuleVersion)
        .where(AdjustmentRuleVersion.effective_on <= until)
        .order_by(AdjustmentRuleVersion.effective_on.desc())
    ).scalars():
        amounts.setdefault(row.rule_code, []).append(row)
    scopes: dict[tuple[str, str], list[TierScope]] = {}
    for row in db.session.execute(
        select(TierScope)
        .where(TierScope.effective_on <= until)
        .order_by(TierScope.effective_on.desc())
    ).scalars():
        scopes.setdefault((row.tier, row.repair_type), []).append(row)
    return Versions(schedules, parameters, amounts, scopes)


def rule_amount_on(code: str, day: dt.date) -> Decimal | None:
    """The amount of a reward or penalty rule in force on a day (None if never versioned)."""
    return db.session.execute(
        select(AdjustmentRuleVersion.amount)
        .where(AdjustmentRuleVersion.rule_code == code, AdjustmentRuleVersion.effective_on <= day)
        .order_by(AdjustmentRuleVersion.effective_on.desc())
        .limit(1)
    ).scalar_one_or_none()


def tier_allows(tier: str, repair_type: str, day: dt.date) -> bool:
    """Whether the tier may do the repair type on the day (entry warnings use this too)."""
    allowed = db.session.execute(
        select(TierScope.allowed)
        .where(
            TierScope.tier == tier,
            TierScope.repair_type == repair_type,
            TierScope.effective_on <= day,
        )
        .order_by(TierScope.effective_on.desc())
        .limit(1)
    ).scalar_one_or_none()
    if allowed is None:
        return repair_type in DEFAULT_SCOPE.get(tier, ())
    return bool(allowed)


def history() -> dict:
    """Every version of every rule, newest first, for the rules page."""
    versions = load_versions(dt.date.max)
    return {
        "schedules": versions.schedules,
        "parameters": versions.parameters,
        "rule_amounts": versions.rule_amounts,
        "scopes": versions.scopes,
    }


# --- changing: a new version from today or later -----------------------------------------------


def _require_manager(actor) -> None:
    if not can(actor, Permission.MANAGE_SETTLEMENT_RULES):
        raise PermissionDenied(_l("You may not change the settlement rules."))


def _check_date(effective_on: dt.date | None) -> dt.date:
    if effective_on is None:
        raise DomainError(_l("Enter the date it takes effect."), field="effective_on")
    require_not_past(effective_on)
    return effective_on


def _money(value, field_name: str, *, allow_negative: bool = False) -> Decimal:
    try:
        amount = to_money(value)
    except (TypeError, ValueError, ArithmeticError):
        raise DomainError(_l("Enter an amount."), field=field_name) from None
    if amount < 0 and not allow_negative:
        raise DomainError(_l("The amount cannot be negative."), field=field_name)
    return amount


def add_fee_schedule(
    actor,
    *,
    effective_on: dt.date,
    travel_allowance,
    rates: dict[tuple[str, str], object],
    note: str = "",
) -> FeeSchedule:
    """A new version of the whole fee schedule (every tier × type given; None = not paid)."""
    _require_manager(actor)
    effective_on = _check_date(effective_on)
    schedule = FeeSchedule(
        effective_on=effective_on,
        travel_allowance=_money(travel_allowance, "travel_allowance"),
        note=(note or "").strip()[:2000],
        created_by_id=_audit_user(actor),
    )
    for (tier, repair_type), value in sorted(rates.items()):
        if value is None or value == "":
            continue
        schedule.rates.append(
            FeeRate(tier=tier, repair_type=repair_type, fee=_money(value, f"{tier}-{repair_type}"))
        )
    return _add_version(actor, schedule, "settlement.fee_schedule_added")


def add_validity_parameters(
    actor, *, effective_on: dt.date, repeat_window_days, default_warranty_months, note: str = ""
) -> ValidityParameters:
    _require_manager(actor)
    effective_on = _check_date(effective_on)
    try:
        window, months = int(repeat_window_days), int(default_warranty_months)
    except (TypeError, ValueError):
        raise DomainError(_l("Enter a whole number."), field="repeat_window_days") from None
    if not 0 <= window <= 3650:
        raise DomainError(_l("Enter a number of days from 0 to 3650."), field="repeat_window_days")
    if not 0 <= months <= 240:
        raise DomainError(
            _l("Enter a number of months from 0 to 240."), field="default_warranty_months"
        )
    row = ValidityParameters(
        effective_on=effective_on,
        repeat_window_days=window,
        default_warranty_months=months,
        note=(note or "").strip()[:2000],
        created_by_id=_audit_user(actor),
    )
    return _add_version(actor, row, "settlement.validity_parameters_added")


def add_rule_amount(
    actor, *, rule_code: str, effective_on: dt.date, amount, note: str = ""
) -> AdjustmentRuleVersion:
    from portal.settlement.adjustments import RULES

    _require_manager(actor)
    rule = RULES.get(rule_code)
    if rule is None or rule.amount is None:
        raise DomainError(_l("This rule has no fixed amount to change."), field="rule_code")
    effective_on = _check_date(effective_on)
    value = _money(amount, "amount", allow_negative=True)
    if value == 0 or (value > 0) != (rule.amount > 0):
        raise DomainError(
            _l("A reward is a positive amount and a penalty a negative one."), field="amount"
        )
    row = AdjustmentRuleVersion(
        rule_code=rule_code,
        effective_on=effective_on,
        amount=value,
        note=(note or "").strip()[:2000],
        created_by_id=_audit_user(actor),
    )
    return _add_version(actor, row, "settlement.rule_amount_added")


def set_tier_scope(
    actor, *, tier: str, effective_on: dt.date, repair_types: set[str]
) -> list[TierScope]:
    """From the date on, the tier may do exactly `repair_types` (one row per changed type)."""
    from portal.reports.models import RepairType

    _require_manager(actor)
    if tier not in TIERS:
        raise DomainError(_l("Choose a tier."), field="tier")
    effective_on = _check_date(effective_on)
    known = set(db.session.execute(select(RepairType.code)).scalars())
    unknown = set(repair_types) - known
    if unknown:
        raise DomainError(_l("Unknown repair type."), field="repair_types")
    rows = []
    for code in sorted(known):
        wanted = code in repair_types
        if tier_allows(tier, code, effective_on) == wanted:
            continue
        rows.append(
            TierScope(
                tier=tier,
                repair_type=code,
                effective_on=effective_on,
                allowed=wanted,
                created_by_id=_audit_user(actor),
            )
        )
    if not rows:
        raise DomainError(_l("Nothing changes: the tier may already do exactly these types."))
    for row in rows:
        _add_version(actor, row, "settlement.tier_scope_changed")
    return rows


def _add_version(actor, row, action: str):
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise DomainError(
            _l("A version with this effective date already exists."), field="effective_on"
        ) from None
    audit.record_created(action, row, actor=actor)
    return row
