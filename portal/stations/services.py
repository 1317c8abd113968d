"""Station registry verbs and queries."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from portal.core import audit
from portal.core.actors import actor_name, is_system, require_actor
from portal.core.db import now_utc
from portal.core.errors import ConcurrentChange, DomainError, PermissionDenied
from portal.core.forms import CHANGED_MEANWHILE
from portal.core.permissions import Permission, can
from portal.core.regions import PROVINCES
from portal.core.scoping import scope_to_user
from portal.extensions import db
from portal.stations.models import Station, StationTierPeriod
from portal.stations.states import CityClass, StationStatus, Tier

CODE_PATTERN = re.compile(r"^([A-Z]{2})-[A-Z]{2,4}-\d{4}$")
# Master data: what the station form edits. Tier and status are not here: they change only
# through the certification station-life actions (change tier, suspend, reinstate, revoke).
EDITABLE = (
    "name",
    "province",
    "city",
    "city_class",
    "address",
    "authorized_region",
    "contact_name",
    "contact_phone",
    "contact_email",
    "agreement_start_on",
    "agreement_end_on",
    "notes",
)
# A new station also gets its initial tier and status.
CREATE_FIELDS = ("code", "tier", "status", *EDITABLE)
LIFE_FIELDS = frozenset({"tier", "status"})
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class StationFilter:
    q: str = ""
    province: str = ""
    tier: str = ""
    status: str = ""


def station_query(user, flt: StationFilter) -> Select:
    """Stations visible to the user, filtered; order and pagination are the caller's."""
    stmt = scope_to_user(select(Station), Station.id, user)
    if flt.q:
        like = f"%{flt.q.strip()}%"
        stmt = stmt.where(
            or_(Station.code.ilike(like), Station.name.ilike(like), Station.city.ilike(like))
        )
    if flt.province in PROVINCES:
        stmt = stmt.where(Station.province == flt.province)
    if flt.tier in {t.value for t in Tier}:
        stmt = stmt.where(Station.tier == Tier(flt.tier))
    if flt.status in {s.value for s in StationStatus}:
        stmt = stmt.where(Station.status == StationStatus(flt.status))
    return stmt


def count_stations(stmt: Select) -> int:
    """How many rows a station query matches (cheap at network scale: a few thousand)."""
    return db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()


def _validate(values: dict, station: Station | None) -> None:
    code = values.get("code") if station is None else station.code
    if station is None:
        match = CODE_PATTERN.match(code or "")
        if not match:
            raise DomainError(
                _l("A station code looks like HA-ZZ-0007: province, city, four digits."),
                field="code",
            )
        if match.group(1) != values.get("province"):
            raise DomainError(
                _l("The code must start with the province code %(p)s.", p=values.get("province")),
                field="code",
            )
        exists = db.session.execute(select(Station.id).where(Station.code == code)).first()
        if exists:
            raise DomainError(_l("The code %(code)s is taken.", code=code), field="code")
    if values.get("province") not in PROVINCES:
        raise DomainError(_l("Choose a province."), field="province")
    start, end = values.get("agreement_start_on"), values.get("agreement_end_on")
    if start and end and end < start:
        raise DomainError(
            _l("The agreement cannot end before it starts."), field="agreement_end_on"
        )
    if not (values.get("name") or "").strip():
        raise DomainError(_l("A name is required."), field="name")
    email = values.get("contact_email") or ""
    if email and not EMAIL_PATTERN.match(email):
        raise DomainError(
            _l("Enter an e-mail address such as name@example.com."), field="contact_email"
        )


def _coerce(values: dict) -> dict:
    out = dict(values)
    for key, enum_cls in (("tier", Tier), ("status", StationStatus), ("city_class", CityClass)):
        if key in out and out[key] is not None and not isinstance(out[key], enum_cls):
            out[key] = enum_cls(out[key])
    for key in (
        "name",
        "city",
        "address",
        "authorized_region",
        "contact_name",
        "contact_phone",
        "contact_email",
        "notes",
    ):
        if key in out and out[key] is not None:
            out[key] = out[key].strip()
    return out


def create_station(actor, **values) -> Station:
    """Register a station (HQ, admin) with its initial tier and status.

    Its tier history starts on the agreement start (or today when there is none).
    """
    if not can(require_actor(actor), Permission.MANAGE_STATIONS):
        raise PermissionDenied(_l("You may not create stations."))
    values = _coerce(values)
    values["code"] = (values.get("code") or "").strip().upper()
    if values.get("tier") is None:
        raise DomainError(_l("Choose a tier."), field="tier")
    _validate(values, None)
    station = Station(**{k: v for k, v in values.items() if k in CREATE_FIELDS})
    db.session.add(station)
    db.session.flush()
    audit.record(
        "station.created", station, actor=actor, after=audit.snapshot(station, CREATE_FIELDS)
    )
    start_tier_period(actor, station, station.agreement_start_on or _today(), "")
    return station


def update_station(actor, station: Station, expected_version: int | None = None, **values):
    """Edit a station's master data; refuses if someone saved it since it was loaded.

    Tier and status are not master data: they change only through the certification
    station-life actions, which check the move, ask for a reason and keep the tier history.
    """
    if not can(require_actor(actor), Permission.MANAGE_STATIONS):
        raise PermissionDenied(_l("You may not edit stations."))
    life = sorted(LIFE_FIELDS & set(values))
    if life:
        raise DomainError(
            _l(
                "The tier and the status change only through the station's life actions "
                "(change tier, suspend, reinstate, revoke)."
            ),
            field=life[0],
        )
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise TypeError(f"update_station does not edit {unknown}")
    if expected_version is not None and station.version != expected_version:
        raise ConcurrentChange(CHANGED_MEANWHILE)
    values = _coerce(values)
    _validate(values | {k: getattr(station, k) for k in EDITABLE if k not in values}, station)
    before = audit.snapshot(station, EDITABLE)
    for key, value in values.items():
        setattr(station, key, value)
    db.session.flush()
    after = audit.snapshot(station, EDITABLE)
    audit.record("station.updated", station, actor=actor, before=before, after=after)
    return station


# --- the dated tier history -------------------------------------------------------------------


def _today() -> dt.date:
    # The one "today in local time" lives with certification for now (issue 8.8 moves it to
    # core); imported here lazily because certification builds on stations.
    from portal.certification.services.common import today

    return today()


def start_tier_period(actor, station: Station, start: dt.date, reason: str) -> StationTierPeriod:
    """Close the station's open tier period on `start` and open one for its current tier.

    Called by create_station and by the certification action change_tier (which checks the
    move, the reason and the new tier's requirements); it is not a way to change a tier.
    """
    require_actor(actor)
    open_period = db.session.execute(
        select(StationTierPeriod)
        .where(
            StationTierPeriod.station_id == station.id,
            StationTierPeriod.effective_until.is_(None),
        )
        .with_for_update()
    ).scalar_one_or_none()
    if open_period is not None:
        # A second change on the day a period began leaves an empty period [start, start):
        # the record of what was decided, never in force for a day.
        open_period.effective_until = max(start, open_period.effective_from)
        db.session.flush()
    period = StationTierPeriod(
        station_id=station.id,
        tier=station.tier,
        effective_from=max(start, open_period.effective_from) if open_period else start,
        effective_until=None,
        reason=(reason or "").strip(),
        actor_id=None if is_system(actor) else getattr(actor, "id", None),
        actor_name=actor_name(actor)[:80],
        recorded_at=now_utc(),
    )
    db.session.add(period)
    db.session.flush()
    return period


def tier_on(station_id: int, day: dt.date) -> Tier | None:
    """The station's tier in force on the day (None before its first period began).

    The settlement judges a repair record by the tier in force on its completion day.
    """
    return db.session.execute(
        select(StationTierPeriod.tier)
        .where(
            StationTierPeriod.station_id == station_id,
            StationTierPeriod.effective_from <= day,
            or_(
                StationTierPeriod.effective_until.is_(None),
                StationTierPeriod.effective_until > day,
            ),
        )
        .order_by(StationTierPeriod.effective_from.desc(), StationTierPeriod.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def tier_history(station_id: int) -> list[StationTierPeriod]:
    """The station's tier periods, newest first."""
    return list(
        db.session.execute(
            select(StationTierPeriod)
            .where(StationTierPeriod.station_id == station_id)
            .order_by(StationTierPeriod.effective_from.desc(), StationTierPeriod.id.desc())
        ).scalars()
    )


def stations_by_tier() -> dict[Tier, int]:
    """Active stations per tier, for the dashboard."""
    rows = db.session.execute(
        select(Station.tier, func.count())
        .where(Station.status == StationStatus.ACTIVE)
        .group_by(Station.tier)
    )
    counts = dict.fromkeys(Tier, 0)
    counts.update(dict(rows.all()))
    return counts
