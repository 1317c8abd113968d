"""Tier rules and screening weights in force, and the compliance of applications and stations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.certification import rules
from portal.certification.models import (
    Application,
    ScreeningWeightSet,
    StationCompliance,
    StationProfile,
    Technician,
    TierRequirement,
    TierRuleSet,
)
from portal.certification.services.common import _require, today
from portal.certification.states import (
    CRITERIA,
    REQUIREMENT_LABELS,
    StaffRole,
    Track,
)
from portal.core import audit, versioning
from portal.core.actors import require_actor
from portal.core.db import now_utc
from portal.core.errors import DomainError
from portal.core.permissions import Permission
from portal.extensions import db
from portal.spares import services as deposits
from portal.stations.models import Station
from portal.stations.states import StationStatus, Tier


def application_deposit(application: Application) -> Decimal:
    account = deposits.account_for_application(application.id)
    if account is None and application.station_id:
        account = deposits.account_for_station(application.station_id)
    return deposits.balance(account)


def deposit_due(application: Application) -> Decimal | None:
    """What is left to pay of the approved tier's deposit (None once it is paid in full)."""
    tier = application.approved_tier or application.requested_tier
    if tier is None:
        return None
    left = requirements_for(tier).deposit - application_deposit(application)
    return left if left > 0 else None


# --- tier rules and compliance -------------------------------------------------------------


def rule_set_in_force(on: dt.date | None = None) -> TierRuleSet:
    """The newest tier rule set effective on the day."""
    on = on or today()
    found = versioning.in_force(TierRuleSet, on)
    if found is None:
        raise DomainError(_l("No tier rules are in force on %(day)s.", day=on.isoformat()))
    return found


def requirements_for(tier, on: dt.date | None = None) -> rules.TierRequirements:
    tier = Tier(tier)
    rule_set = rule_set_in_force(on)
    row = next(r for r in rule_set.requirements if r.tier is tier)
    return rules.TierRequirements(
        deposit=row.deposit,
        coordinators=row.coordinators,
        engineers_class1=row.engineers_class1,
        engineers_class23=row.engineers_class23,
        repair_area=row.repair_area,
        storage_area=row.storage_area,
    )


RULE_FIELDS = (
    "deposit",
    "coordinators",
    "engineers_class1",
    "engineers_class23",
    "repair_area",
    "storage_area",
)


def create_rule_set(actor, *, effective_on: dt.date, values: dict, note: str = ""):
    """New tier requirements from a date; the sets before it stay as history."""
    _require(actor, Permission.MANAGE_TIER_RULES, _l("You may not change the tier rules."))
    if effective_on is None or effective_on < today():
        raise DomainError(
            _l("The rules take effect today or later; the past is not rewritten."),
            field="effective_on",
        )
    exists = db.session.execute(
        select(TierRuleSet.id).where(TierRuleSet.effective_on == effective_on)
    ).first()
    if exists:
        raise DomainError(_l("A rule set already takes effect on that day."), field="effective_on")
    rule_set = TierRuleSet(
        effective_on=effective_on,
        note=(note or "").strip(),
        created_by=getattr(actor, "username", "system") or "system",
    )
    for tier in Tier:
        row = values[tier.value]
        for field in RULE_FIELDS:
            if row.get(field) is None or Decimal(str(row[field])) < 0:
                raise DomainError(
                    _l("Every requirement needs a value of zero or more."),
                    field=f"{tier.value}__{field}",
                )
        rule_set.requirements.append(TierRequirement(tier=tier, **{f: row[f] for f in RULE_FIELDS}))
    db.session.add(rule_set)
    db.session.flush()
    audit.record(
        "tier_rules.created",
        rule_set,
        actor=actor,
        after={"effective_on": effective_on}
        | {t.value: {f: values[t.value][f] for f in RULE_FIELDS} for t in Tier},
        comment=rule_set.note,
    )
    return rule_set


def create_weight_set(actor, *, effective_on: dt.date, weights: dict, pass_mark: int):
    """New screening weights from a date; the weights must add up to 100."""
    _require(actor, Permission.MANAGE_TIER_RULES, _l("You may not change the screening weights."))
    if effective_on is None or effective_on < today():
        raise DomainError(
            _l("The rules take effect today or later; the past is not rewritten."),
            field="effective_on",
        )
    if db.session.execute(
        select(ScreeningWeightSet.id).where(ScreeningWeightSet.effective_on == effective_on)
    ).first():
        raise DomainError(_l("Weights already take effect on that day."), field="effective_on")
    clean = {key: int(weights.get(key) or 0) for key, _label in CRITERIA}
    if any(v < 0 for v in clean.values()) or sum(clean.values()) != 100:
        raise DomainError(_l("The weights must add up to 100."), field="weights")
    if not 0 < int(pass_mark) <= 100:
        raise DomainError(_l("The pass mark is between 1 and 100."), field="pass_mark")
    weight_set = ScreeningWeightSet(
        effective_on=effective_on,
        weights=clean,
        pass_mark=int(pass_mark),
        created_by=getattr(actor, "username", "system") or "system",
    )
    db.session.add(weight_set)
    db.session.flush()
    audit.record(
        "screening_weights.created",
        weight_set,
        actor=actor,
        after={"effective_on": effective_on, "weights": clean, "pass_mark": int(pass_mark)},
    )
    return weight_set


def _valid_engineers(technicians, on: dt.date) -> int:
    count = 0
    for person in technicians:
        if not person.active:
            continue
        if any(
            c.track is Track.REPAIR_TECHNICIAN
            and rules.certificate_valid(c.issued_on, c.expires_on, c.revoked_on, on)
            for c in person.certificates
        ):
            count += 1
    return count


def application_facts(application: Application, on: dt.date) -> rules.Facts:
    staff = [s for s in application.staff if s.active]
    return rules.Facts(
        city_class=application.city_class.value if application.city_class else "3",
        deposit_balance=application_deposit(application),
        coordinators=sum(1 for s in staff if s.role is StaffRole.COORDINATOR),
        certified_engineers=_valid_engineers(staff, on),
        repair_area=application.repair_area or Decimal(0),
        storage_area=application.storage_area or Decimal(0),
    )


def station_technicians(station_id: int) -> list[Technician]:
    return list(
        db.session.execute(
            select(Technician)
            .where(Technician.station_id == station_id)
            .order_by(Technician.name, Technician.id)
        ).scalars()
    )


def station_facts(station: Station, on: dt.date, balance: Decimal | None = None) -> rules.Facts:
    staff = [t for t in station_technicians(station.id) if t.active]
    profile = db.session.get(StationProfile, station.id)
    if balance is None:
        balance = deposits.balance(deposits.account_for_station(station.id))
    return rules.Facts(
        city_class=station.city_class.value,
        deposit_balance=balance,
        coordinators=sum(1 for s in staff if s.role is StaffRole.COORDINATOR),
        certified_engineers=_valid_engineers(staff, on),
        repair_area=profile.repair_area if profile else Decimal(0),
        storage_area=profile.storage_area if profile else Decimal(0),
    )


def check_application(application: Application, tier=None, on: dt.date | None = None):
    on = on or today()
    tier = tier or application.approved_tier or application.requested_tier or Tier.ACCESSORY_POINT
    return rules.check_compliance(requirements_for(tier, on), application_facts(application, on))


def check_station(station: Station, on: dt.date | None = None, tier=None, balance=None):
    on = on or today()
    return rules.check_compliance(
        requirements_for(tier or station.tier, on), station_facts(station, on, balance)
    )


def describe_gaps(gap_results) -> str:
    return "; ".join(f"{REQUIREMENT_LABELS[g.key]} {g.actual} < {g.required}" for g in gap_results)


def _plain_gaps(results) -> list:
    return [
        {"key": r.key, "required": str(r.required), "actual": str(r.actual)}
        for r in rules.gaps(results)
    ]


def refresh_station_compliance(station: Station, on=None, *, actor, balance=None) -> bool:
    """Re-check one station and store the result; True when compliance changed.

    `actor` is who caused the re-check (the user whose change prompted it, or SYSTEM).
    """
    require_actor(actor)
    results = check_station(station, on, balance=balance)
    clean = rules.is_clean(results)
    gap_list = _plain_gaps(results)
    row = db.session.get(StationCompliance, station.id)
    now = now_utc()
    if row is None:
        row = StationCompliance(
            station_id=station.id, compliant=clean, gaps=gap_list, checked_at=now, changed_at=now
        )
        db.session.add(row)
        changed = True
        before = None
    else:
        changed = row.compliant != clean or row.gaps != gap_list
        before = {"compliant": row.compliant, "gaps": row.gaps}
        row.checked_at = now
        if changed:
            row.compliant, row.gaps, row.changed_at = clean, gap_list, now
    db.session.flush()
    if changed:
        audit.record(
            "station.compliance_changed",
            station,
            actor=actor,
            before=before,
            after={"compliant": clean, "gaps": gap_list},
        )
    return changed


def check_all_stations(actor, on: dt.date | None = None) -> tuple[int, int, int]:
    """Re-check every active or suspended station: (checked, changed, non-compliant)."""
    _require(actor, Permission.MANAGE_STATIONS, _l("You may not re-check the stations."))
    on = on or today()
    stations = list(
        db.session.execute(
            select(Station).where(Station.status != StationStatus.REVOKED).order_by(Station.id)
        ).scalars()
    )
    balances = deposits.station_balances(s.id for s in stations)
    checked = changed = failing = 0
    for station in stations:
        checked += 1
        if refresh_station_compliance(station, on, actor=actor, balance=balances.get(station.id)):
            changed += 1
        if not db.session.get(StationCompliance, station.id).compliant:
            failing += 1
    return checked, changed, failing


def non_compliant_stations(gap: str | None = None):
    """Active stations whose last check found gaps, by code (only those with gap, if given)."""
    rows = db.session.execute(
        select(Station, StationCompliance)
        .join(StationCompliance, StationCompliance.station_id == Station.id)
        .where(StationCompliance.compliant.is_(False), Station.status == StationStatus.ACTIVE)
        .order_by(Station.code)
    ).all()
    if gap:
        rows = [r for r in rows if any(g.get("key") == gap for g in r[1].gaps or [])]
    return rows


def non_compliant_count(gap: str | None = None) -> int:
    """How many active stations the last check found with gaps (with gap, if given).

    Without gap one COUNT query; with gap only the non-compliant rows' gap lists are read.
    """
    where = (StationCompliance.compliant.is_(False), Station.status == StationStatus.ACTIVE)
    if gap is None:
        return db.session.execute(
            select(func.count())
            .select_from(StationCompliance)
            .join(Station, Station.id == StationCompliance.station_id)
            .where(*where)
        ).scalar_one()
    gap_lists = db.session.execute(
        select(StationCompliance.gaps)
        .join(Station, Station.id == StationCompliance.station_id)
        .where(*where)
    ).scalars()
    return sum(1 for gaps in gap_lists if any(g.get("key") == gap for g in gaps or []))
