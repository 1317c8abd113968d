"""The parts catalogue and the spares settings (coverage factor, return period). Never commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from portal.core import audit
from portal.core.dates import local_today
from portal.core.errors import DomainError, PermissionDenied
from portal.core.permissions import Permission, can
from portal.extensions import db
from portal.reports.models import DeviceModel
from portal.spares import rules
from portal.spares.stock_models import Part, PartFit, SparesSetting

PART_FIELDS = ("part_no", "name", "unit_value", "is_standby", "active", "model_codes")

AMOUNT_MESSAGES = {
    "empty": _l("Enter an amount."),
    "not_a_number": _l("Not an amount; write it like 1234.50 or 1,234.50."),
    "negative": _l("The amount cannot be negative."),
    "zero": _l("The amount must be more than zero."),
    "too_many_decimals": _l("At most two decimals (fen); %(value)s has more."),
    "too_large": _l("At most 9,999,999,999.99."),
}


def amount_message(error: rules.AmountError, value) -> str:
    """The user's message for an amount that was refused."""
    return AMOUNT_MESSAGES.get(str(error), AMOUNT_MESSAGES["not_a_number"]) % {"value": value}


def require(actor, permission: Permission, message) -> None:
    """Refuse unless the actor holds the permission."""
    if not can(actor, permission):
        raise PermissionDenied(message)


# --- parts -------------------------------------------------------------------------------


def find_part(part_no: str) -> Part | None:
    return db.session.execute(
        select(Part).where(Part.part_no == rules.normalize_part_no(part_no))
    ).scalar_one_or_none()


def part_ids_by_number(part_nos) -> dict[str, int]:
    """Part number -> id for the catalogue parts among part_nos."""
    numbers = sorted({p for p in part_nos if p})
    found: dict[str, int] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        found.update(
            db.session.execute(select(Part.part_no, Part.id).where(Part.part_no.in_(chunk))).all()
        )
    return found


def device_model_codes() -> set[str]:
    return set(db.session.execute(select(DeviceModel.code)).scalars())


@dataclass
class PartValues:
    """A part's values after checking (the form and the import both make these)."""

    part_no: str
    name: str
    unit_value: Decimal
    is_standby: bool
    active: bool
    model_codes: list[str]


def check_part_values(raw: dict, models: set[str]) -> tuple[PartValues | None, list[tuple]]:
    """Clean values of one part, or the problems: (field, message, value)."""
    problems = []
    part_no = rules.normalize_part_no(raw.get("part_no"))
    if not part_no:
        problems.append(
            (
                "part_no",
                _l("A part number: letters, digits and . _ / - (at most 40)."),
                raw.get("part_no"),
            )
        )
    name = str(raw.get("name") or "").strip()
    if not name or len(name) > 120 or rules.CONTROL_CHARS.search(name):
        problems.append(("name", _l("A name of at most 120 characters."), raw.get("name")))
    value = None
    try:
        value = rules.parse_amount(raw.get("unit_value"))
    except rules.AmountError as exc:
        problems.append(
            ("unit_value", amount_message(exc, raw.get("unit_value")), raw.get("unit_value"))
        )
    codes_raw = raw.get("model_codes")
    if isinstance(codes_raw, str):
        codes = [c.strip().upper() for c in codes_raw.replace("，", ",").split(",") if c.strip()]
    else:
        codes = [str(c).strip().upper() for c in (codes_raw or []) if str(c).strip()]
    codes = list(dict.fromkeys(codes))
    unknown = [c for c in codes if c not in models]
    if unknown:
        problems.append(
            (
                "model_codes",
                _l("Unknown device models: %(codes)s.", codes=", ".join(unknown)),
                codes_raw if isinstance(codes_raw, str) else ", ".join(codes),
            )
        )
    if problems:
        return None, problems
    return (
        PartValues(
            part_no=part_no,
            name=name,
            unit_value=value,
            is_standby=bool(raw.get("is_standby")),
            active=bool(raw.get("active", True)),
            model_codes=sorted(codes),
        ),
        [],
    )


def _raise_problems(problems) -> None:
    field, message, _value = problems[0]
    error = DomainError(message, field=field)
    error.problems = [{"field": f, "message": m} for f, m, _v in problems]
    raise error


def save_part(actor, part: Part | None = None, **raw) -> Part:
    """Create a part or change one (HQ); its number is fixed once created."""
    require(actor, Permission.MANAGE_PARTS, _l("You may not edit the parts catalogue."))
    if part is not None:
        raw["part_no"] = part.part_no
    values, problems = check_part_values(raw, device_model_codes())
    if problems:
        _raise_problems(problems)
    if part is None and find_part(values.part_no) is not None:
        raise DomainError(
            _l("The part number %(no)s is already in the catalogue.", no=values.part_no),
            field="part_no",
        )
    return _store_part(actor, part, values)


def _store_part(actor, part: Part | None, values: PartValues) -> Part:
    before = _snapshot(part) if part is not None else None
    if part is None:
        part = Part(part_no=values.part_no)
        db.session.add(part)
    part.name = values.name
    part.unit_value = values.unit_value
    part.is_standby = values.is_standby
    part.active = values.active
    if sorted(part.model_codes) != values.model_codes:
        part.fits = [PartFit(device_model=code) for code in values.model_codes]
    db.session.flush()
    after = _snapshot(part)
    if before != after:
        audit.record(
            "spare_part.created" if before is None else "spare_part.changed",
            part,
            actor=actor,
            before=before,
            after=after,
        )
    return part


def _snapshot(part: Part) -> dict:
    return audit.snapshot(part, PART_FIELDS)


def import_parts(actor, rows: list[tuple[int, dict]]) -> tuple[int, int]:
    """Create or change every part of checked rows (the caller checked them): (new, changed)."""
    require(actor, Permission.MANAGE_PARTS, _l("You may not edit the parts catalogue."))
    existing = {
        p.part_no: p
        for p in db.session.execute(
            select(Part).where(Part.part_no.in_([r["part_no"] for _n, r in rows]))
        ).scalars()
    }
    created = changed = 0
    for _number, values in rows:
        part = existing.get(values["part_no"])
        before = _snapshot(part) if part is not None else None
        stored = _store_part(actor, part, PartValues(**values))
        if before is None:
            created += 1
        elif before != _snapshot(stored):
            changed += 1
    return created, changed


@dataclass
class PartFilter:
    q: str = ""
    model: str = ""
    active: str = ""


def part_query(flt: PartFilter) -> Select:
    stmt = select(Part)
    q = rules.CONTROL_CHARS.sub("", flt.q or "").strip()[:60]
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Part.part_no.ilike(like), Part.name.ilike(like)))
    if flt.model:
        stmt = stmt.where(
            Part.id.in_(select(PartFit.part_id).where(PartFit.device_model == flt.model[:40]))
        )
    if flt.active in ("yes", "no"):
        stmt = stmt.where(Part.active.is_(flt.active == "yes"))
    return stmt


def active_parts() -> list[Part]:
    return list(
        db.session.execute(select(Part).where(Part.active.is_(True)).order_by(Part.part_no))
        .scalars()
        .all()
    )


# --- settings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    coverage_factor: Decimal
    return_days: int
    effective_on: dt.date | None


def settings_in_force(on: dt.date | None = None) -> Settings:
    """The coverage factor and return period in force on a day (defaults before any)."""
    on = on or local_today()
    row = db.session.execute(
        select(SparesSetting)
        .where(SparesSetting.effective_on <= on)
        .order_by(SparesSetting.effective_on.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        return Settings(rules.DEFAULT_COVERAGE_FACTOR, rules.DEFAULT_RETURN_DAYS, None)
    return Settings(Decimal(row.coverage_factor), row.return_days, row.effective_on)


def settings_history() -> list[SparesSetting]:
    return list(
        db.session.execute(
            select(SparesSetting).order_by(SparesSetting.effective_on.desc())
        ).scalars()
    )


def add_setting(
    actor, *, effective_on: dt.date, coverage_factor, return_days, note: str = ""
) -> SparesSetting:
    """New settings from a day on (today or later); earlier days keep theirs."""
    require(actor, Permission.MANAGE_PARTS, _l("You may not change the spares settings."))
    if effective_on is None or effective_on < local_today():
        raise DomainError(_l("Settings take effect today or later."), field="effective_on")
    try:
        factor = Decimal(str(coverage_factor).strip())
    except (InvalidOperation, ValueError):
        factor = Decimal(-1)
    if not factor.is_finite() or not Decimal("0.1") <= factor <= Decimal("10"):
        raise DomainError(_l("A factor between 0.1 and 10."), field="coverage_factor")
    if factor != factor.quantize(Decimal("0.001")):
        raise DomainError(_l("At most three decimals."), field="coverage_factor")
    try:
        days = int(return_days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 365:
        raise DomainError(_l("Between 1 and 365 days."), field="return_days")
    note = rules.CONTROL_CHARS.sub(" ", note or "").strip()[:500]
    row = db.session.execute(
        select(SparesSetting).where(SparesSetting.effective_on == effective_on)
    ).scalar_one_or_none()
    before = None
    if row is None:
        row = SparesSetting(effective_on=effective_on)
        db.session.add(row)
    else:
        before = {"coverage_factor": row.coverage_factor, "return_days": row.return_days}
    row.coverage_factor = factor
    row.return_days = days
    row.note = note
    row.created_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record(
        "spares_setting.saved",
        row,
        actor=actor,
        before=before,
        after={
            "effective_on": effective_on,
            "coverage_factor": factor,
            "return_days": days,
        },
        comment=note,
    )
    return row
