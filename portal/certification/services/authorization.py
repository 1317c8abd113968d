"""Authorization: the approved candidate's deposit, its station code, the station."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from portal.auth.models import User
from portal.certification import rules
from portal.certification.models import (
    Application,
    StationCodeSequence,
    StationProfile,
)
from portal.certification.services.common import _move, _require
from portal.certification.services.compliance import (
    check_application,
    describe_gaps,
    refresh_station_compliance,
)
from portal.certification.services.screening import _require_reviewer
from portal.certification.states import (
    APPLICATION_FLOW,
    ApplicationStatus,
    StaffRole,
)
from portal.core import audit
from portal.core.errors import DomainError
from portal.core.permissions import Permission
from portal.extensions import db
from portal.spares import services as deposits
from portal.spares.locks import lock_application
from portal.stations import services as station_services
from portal.stations.models import Station
from portal.stations.states import StationStatus


def record_application_deposit(actor, application: Application, **entry):
    """Finance records the candidate's deposit payment in its (future station's) ledger."""
    _require(actor, Permission.RECORD_DEPOSITS, _l("You may not record deposit entries."))
    if application.status is not ApplicationStatus.APPROVED:
        raise DomainError(
            _l(
                "A deposit is recorded once the application is approved; it is %(state)s.",
                state=application.status.label,
            )
        )
    account = deposits.account_for_application(application.id, create=True)
    return deposits.record_entry(actor, account, **entry)


def next_station_code(province: str, city_code: str) -> str:
    """The next free code PROV-CITY-NNNN; concurrent callers never get the same one."""
    province, city_code = province.upper(), city_code.upper()
    seq = StationCodeSequence.__table__
    bump = (
        update(seq)
        .where(seq.c.province == province, seq.c.city_code == city_code)
        .values(last_number=seq.c.last_number + 1)
        .returning(seq.c.last_number)
    )
    number = db.session.execute(bump).scalar_one_or_none()
    if number is None:
        prefix = f"{province}-{city_code}-"
        codes = db.session.execute(
            select(Station.code).where(Station.code.like(prefix + "%"))
        ).scalars()
        start = max((int(c[len(prefix) :]) for c in codes if c[len(prefix) :].isdigit()), default=0)
        try:
            with db.session.begin_nested():
                db.session.execute(
                    insert(seq).values(
                        province=province, city_code=city_code, last_number=start + 1
                    )
                )
            number = start + 1
        except IntegrityError:
            # Someone else created the row meanwhile: take the next number from it.
            number = db.session.execute(bump).scalar_one()
    return rules.station_code(province, city_code, number)


def authorize(
    actor,
    application: Application,
    *,
    city_code: str,
    agreement_start_on: dt.date,
    agreement_end_on: dt.date,
    authorized_region: str = "",
) -> Station:
    """Make the approved candidate a station: code, profile, ledger, station manager."""
    _require_reviewer(actor)
    # The deposit the compliance check reads, and the account moved to the station below, are
    # guarded by the application's lock: a reversal racing this authorization waits for it.
    lock_application(application.id)
    APPLICATION_FLOW.target(application.status, "authorize")
    city_code = (city_code or "").strip().upper()
    if not (2 <= len(city_code) <= 4 and city_code.isascii() and city_code.isalpha()):
        raise DomainError(_l("A city code has 2 to 4 letters, e.g. ZZ."), field="city_code")
    if agreement_start_on is None or agreement_end_on is None:
        raise DomainError(_l("Enter the agreement dates."), field="agreement_start_on")
    if agreement_end_on < agreement_start_on:
        raise DomainError(
            _l("The agreement cannot end before it starts."), field="agreement_end_on"
        )
    results = check_application(application, application.approved_tier)
    if not rules.is_clean(results):
        raise DomainError(
            _l(
                "The compliance check is not clean: %(gaps)s.",
                gaps=describe_gaps(rules.gaps(results)),
            )
        )
    code = next_station_code(application.province, city_code)
    coordinator = next(
        (s for s in application.staff if s.role is StaffRole.COORDINATOR and s.active), None
    )
    station = station_services.create_station(
        actor,
        code=code,
        name=application.company_name,
        tier=application.approved_tier,
        province=application.province,
        city=application.city,
        city_class=application.city_class,
        address=application.address,
        authorized_region=(authorized_region or "").strip() or application.city,
        contact_name=coordinator.name if coordinator else "",
        contact_phone=application.contact_phone,
        contact_email=application.contact_email,
        status=StationStatus.ACTIVE,
        agreement_start_on=agreement_start_on,
        agreement_end_on=agreement_end_on,
        notes="",
    )
    db.session.add(
        StationProfile(
            station_id=station.id,
            reception_area=application.reception_area or Decimal(0),
            repair_area=application.repair_area or Decimal(0),
            storage_area=application.storage_area or Decimal(0),
        )
    )
    for person in application.staff:
        person.station_id = station.id
    account = deposits.account_for_application(application.id, create=True)
    deposits.attach_to_station(actor, account, station.id)
    manager = db.session.get(User, application.applicant_id)
    manager.station_id = station.id
    audit.record(
        "user.bound_to_station",
        manager,
        actor=actor,
        station_id=station.id,
        before={"station_id": None},
        after={"station_id": station.id},
    )
    application.station_id = station.id
    _move(actor, application, "authorize", station_code=code)
    refresh_station_compliance(station, actor=actor)
    return station
