"""Station registry verbs and queries."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from portal.core import audit
from portal.core.actors import require_actor
from portal.core.errors import ConcurrentChange, DomainError, PermissionDenied
from portal.core.forms import CHANGED_MEANWHILE
from portal.core.permissions import Permission, can
from portal.core.regions import PROVINCES
from portal.core.scoping import scope_to_user
from portal.extensions import db
from portal.stations.models import Station
from portal.stations.states import CityClass, StationStatus, Tier

CODE_PATTERN = re.compile(r"^([A-Z]{2})-[A-Z]{2,4}-\d{4}$")
EDITABLE = (
    "name",
    "tier",
    "province",
    "city",
    "city_class",
    "address",
    "authorized_region",
    "contact_name",
    "contact_phone",
    "contact_email",
    "status",
    "agreement_start_on",
    "agreement_end_on",
    "notes",
)


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


def _coerce(values: dict) -> dict:
    out = dict(values)
    for key, enum_cls in (("tier", Tier), ("status", StationStatus), ("city_class", CityClass)):
        if key in out and out[key] is not None and not isinstance(out[key], enum_cls):
            out[key] = enum_cls(out[key])
    for key in ("name", "city", "address", "contact_name", "contact_phone", "notes"):
        if key in out and out[key] is not None:
            out[key] = out[key].strip()
    return out


def create_station(actor, **values) -> Station:
    """Register a station (HQ, admin)."""
    if not can(require_actor(actor), Permission.MANAGE_STATIONS):
        raise PermissionDenied(_l("You may not create stations."))
    values = _coerce(values)
    values["code"] = (values.get("code") or "").strip().upper()
    _validate(values, None)
    station = Station(**{k: v for k, v in values.items() if k in (*EDITABLE, "code")})
    db.session.add(station)
    db.session.flush()
    audit.record(
        "station.created", station, actor=actor, after=audit.snapshot(station, ("code", *EDITABLE))
    )
    return station


def update_station(actor, station: Station, expected_version: int | None = None, **values):
    """Edit a station's master data; refuses if someone saved it since it was loaded."""
    if not can(require_actor(actor), Permission.MANAGE_STATIONS):
        raise PermissionDenied(_l("You may not edit stations."))
    if expected_version is not None and station.version != expected_version:
        raise ConcurrentChange(CHANGED_MEANWHILE)
    values = _coerce(values)
    _validate(values, station)
    before = audit.snapshot(station, EDITABLE)
    for key, value in values.items():
        if key in EDITABLE:
            setattr(station, key, value)
    db.session.flush()
    after = audit.snapshot(station, EDITABLE)
    audit.record("station.updated", station, actor=actor, before=before, after=after)
    return station


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
