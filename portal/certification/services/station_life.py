"""Station life: areas, deposits, tier changes, suspension, reinstatement, revocation."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from portal.certification import rules
from portal.certification.models import StationProfile
from portal.certification.services.applications import _clean
from portal.certification.services.common import _require, today
from portal.certification.services.compliance import (
    check_station,
    describe_gaps,
    refresh_station_compliance,
)
from portal.certification.states import STATION_LIFE
from portal.core import audit
from portal.core.db import now_utc
from portal.core.errors import DomainError
from portal.core.permissions import Permission
from portal.extensions import db
from portal.spares import services as deposits
from portal.spares import stock as spares_stock
from portal.spares.locks import lock_station
from portal.stations import services as station_services
from portal.stations.models import Station
from portal.stations.states import Tier


def set_station_areas(actor, station: Station, *, reception_area, repair_area, storage_area):
    """HQ records a station's floor areas (after a visit or a move)."""
    _require(actor, Permission.MANAGE_STATIONS, _l("You may not edit stations."))
    profile = db.session.get(StationProfile, station.id)
    if profile is None:
        profile = StationProfile(station_id=station.id)
        db.session.add(profile)
        db.session.flush()
    fields = ("reception_area", "repair_area", "storage_area")
    before = audit.snapshot(profile, fields)
    for field, value in zip(fields, (reception_area, repair_area, storage_area), strict=True):
        setattr(profile, field, _clean(field, value) or Decimal(0))
    profile.updated_at = now_utc()
    db.session.flush()
    audit.record(
        "station.areas_changed",
        station,
        actor=actor,
        before=before,
        after=audit.snapshot(profile, fields),
    )
    refresh_station_compliance(station, actor=actor)
    return profile


def record_station_deposit(actor, station: Station, **entry):
    """Finance records a deposit movement of a station; its compliance is re-checked."""
    _require(actor, Permission.RECORD_DEPOSITS, _l("You may not record deposit entries."))
    account = deposits.account_for_station(station.id, create=True)
    lock_station(station.id)
    recorded = deposits.record_entry(actor, account, **entry)
    if recorded.amount < 0:
        spares_stock.check_deposit_covers_stock(station.id)
    refresh_station_compliance(station, actor=actor)
    return recorded


def reverse_deposit(actor, entry, reason: str):
    """Correct a deposit entry with a reversing one; the station's compliance is re-checked."""
    _require(actor, Permission.RECORD_DEPOSITS, _l("You may not record deposit entries."))
    if entry.account.station_id:
        lock_station(entry.account.station_id)
    reversal = deposits.reverse_entry(actor, entry, reason, today())
    if entry.account.station_id:
        if reversal.amount < 0:
            spares_stock.check_deposit_covers_stock(entry.account.station_id)
        station = db.session.get(Station, entry.account.station_id)
        refresh_station_compliance(station, actor=actor)
    return reversal


# --- station life --------------------------------------------------------------------------


def _station_move(actor, station: Station, action: str, reason: str, note=None, **after):
    _require(actor, Permission.MANAGE_STATIONS, _l("You may not change stations."))
    target = STATION_LIFE.target(station.status, action)
    if not (reason or "").strip():
        raise DomainError(_l("Give the reason."), field="reason")
    before = {"status": station.status, "tier": station.tier}
    station.status = target
    for key, value in after.items():
        setattr(station, key, value)
    db.session.flush()
    audit.record(
        f"station.{action}",
        station,
        actor=actor,
        before=before,
        after={"status": station.status, "tier": station.tier} | (note or {}),
        comment=reason.strip(),
    )
    return station


def change_tier(actor, station: Station, new_tier, reason: str) -> Station:
    """Upgrade or downgrade from today; the station must meet the new tier's requirements.

    The tier history gets a new period from today (the settlement judges by it).
    """
    _require(actor, Permission.MANAGE_STATIONS, _l("You may not change stations."))
    try:
        new_tier = Tier(new_tier)
    except ValueError:
        raise DomainError(_l("Choose a tier."), field="tier") from None
    STATION_LIFE.target(station.status, "change_tier")
    if new_tier is station.tier:
        raise DomainError(_l("The station already has this tier."), field="tier")
    results = check_station(station, tier=new_tier)
    if not rules.is_clean(results):
        raise DomainError(
            _l(
                "The station does not meet the requirements of %(tier)s: %(gaps)s.",
                tier=new_tier.label,
                gaps=describe_gaps(rules.gaps(results)),
            ),
            field="tier",
        )
    effective_from = today()
    _station_move(
        actor,
        station,
        "change_tier",
        reason,
        note={"effective_from": effective_from},
        tier=new_tier,
    )
    station_services.start_tier_period(actor, station, effective_from, reason)
    refresh_station_compliance(station, actor=actor)
    return station


def suspend(actor, station: Station, reason: str) -> Station:
    return _station_move(actor, station, "suspend", reason)


def reinstate(actor, station: Station, reason: str) -> Station:
    return _station_move(actor, station, "reinstate", reason)


def revoke(actor, station: Station, reason: str) -> Station:
    """End the authorization; it ends with a refund entry of the deposit balance minus open
    deductions (spares.revocation), recorded by the system in the same transaction."""
    from portal.core.actors import SYSTEM
    from portal.spares import revocation

    lock_station(station.id)
    due = revocation.refund_due(station.id)
    note = {
        "deposit_to_refund": due.amount,
        "deposit_balance": due.balance,
        "open_deductions": due.open_deductions,
        "stock_held": due.stock_held,
    }
    _station_move(actor, station, "revoke", reason, note=note)
    revocation.refund_on_revocation(SYSTEM, station, today(), revoked_by=actor)
    return station


STATION_ACTIONS = {"suspend": suspend, "reinstate": reinstate, "revoke": revoke}
