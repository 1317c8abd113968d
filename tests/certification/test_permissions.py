"""Every certification and station service, called by a real actor of each role.

A role without the permission is refused (PermissionDenied) and one with it succeeds, so a
permission check removed from a service fails here; no actor at all is refused everywhere.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest

from portal.certification import services
from portal.certification.states import CRITERIA
from portal.core.actors import SYSTEM, MissingActor
from portal.core.errors import PermissionDenied
from portal.stations import services as station_services
from portal.stations.states import Tier

ADMIN, HQ, AUDITOR, FINANCE, STATION, APPLICANT, SYSTEM_ACTOR = (
    "admin",
    "hq",
    "auditor",
    "finance",
    "station",
    "applicant",
    "system",
)
ACTORS = (ADMIN, HQ, AUDITOR, FINANCE, STATION, APPLICANT, SYSTEM_ACTOR)
MANAGE_STATIONS = {ADMIN, HQ, SYSTEM_ACTOR}
REVIEW = {ADMIN, HQ, SYSTEM_ACTOR}
TIER_RULES = {ADMIN, HQ, SYSTEM_ACTOR}
TECHNICIANS = {ADMIN, HQ, SYSTEM_ACTOR}
DEPOSITS = {ADMIN, FINANCE, SYSTEM_ACTOR}
CANDIDATE_ONLY = {APPLICANT}
TODAY = dt.date(2026, 11, 24)  # the frozen day of tests/certification/conftest.py
RATINGS = dict.fromkeys((key for key, _label in CRITERIA), 90)


@pytest.fixture(autouse=True)
def _request(app, db):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


class World:
    """What the calls need, built as the system (so no permission of the tested role helps)."""

    def __init__(self, make):
        self.make = make

    def station(self, tier="service_station"):
        station = self.make.station(tier=tier, city_class="2")
        services.set_station_areas(
            SYSTEM, station, reception_area="20", repair_area="15", storage_area="10"
        )
        self.make.technician(station=station, role="coordinator")
        for _ in range(2):
            person = self.make.technician(station=station)
            self.make.certificate(person, issued_on=TODAY - dt.timedelta(days=30))
        self.make.deposit(station, amount="10000")
        return station

    def draft(self):
        return self.make.complete_application(tier="accessory_point")

    def submitted(self):
        application = self.draft()
        services.submit(application.applicant, application)
        return application

    def screening(self):
        application = self.submitted()
        services.start_screening(SYSTEM, application)
        return application

    def rated(self):
        application = self.screening()
        services.save_screening(SYSTEM, application, ratings=RATINGS)
        return application

    def evaluated(self):
        application = self.rated()
        services.evaluate(SYSTEM, application)
        return application

    def approved(self):
        application = self.evaluated()
        services.approve(SYSTEM, application, "accessory_point")
        return application

    def paid(self):
        application = self.approved()
        services.record_application_deposit(
            SYSTEM, application, kind="paid", amount="2000", entry_on=TODAY
        )
        return application


def _rule_values():
    return {
        tier.value: {
            field: getattr(services.requirements_for(tier, TODAY), field)
            for field in services.RULE_FIELDS
        }
        for tier in Tier
    }


def _png():
    return io.BytesIO(b"\x89PNG\r\n\x1a\n photo")


# name -> (who may, call(world, actor)); the applicant of a candidate-only call is its own.
CASES = {
    "create_station": (
        MANAGE_STATIONS,
        lambda w, a: station_services.create_station(
            a,
            code="HA-PM-0001",
            name="权限站",
            tier="accessory_point",
            province="HA",
            city="郑州",
            city_class="1",
            status="active",
            agreement_start_on=TODAY,
        ),
    ),
    "update_station": (
        MANAGE_STATIONS,
        lambda w, a: station_services.update_station(a, w.make.station(), name="新名"),
    ),
    "set_station_areas": (
        MANAGE_STATIONS,
        lambda w, a: services.set_station_areas(
            a, w.make.station(), reception_area="1", repair_area="1", storage_area="1"
        ),
    ),
    "change_tier": (
        MANAGE_STATIONS,
        lambda w, a: services.change_tier(a, w.station(), "accessory_point", "downgrade"),
    ),
    "suspend": (MANAGE_STATIONS, lambda w, a: services.suspend(a, w.make.station(), "late")),
    "reinstate": (
        MANAGE_STATIONS,
        lambda w, a: services.reinstate(a, w.make.station(status="suspended"), "fixed"),
    ),
    "revoke": (MANAGE_STATIONS, lambda w, a: services.revoke(a, w.make.station(), "counterfeit")),
    "check_all_stations": (MANAGE_STATIONS, lambda w, a: services.check_all_stations(a)),
    "record_station_deposit": (
        DEPOSITS,
        lambda w, a: services.record_station_deposit(
            a, w.make.station(), kind="paid", amount="100", entry_on=TODAY
        ),
    ),
    "reverse_deposit": (
        DEPOSITS,
        lambda w, a: services.reverse_deposit(a, w.make.deposit(w.make.station()), "typo"),
    ),
    "record_application_deposit": (
        DEPOSITS,
        lambda w, a: services.record_application_deposit(
            a, w.approved(), kind="paid", amount="2000", entry_on=TODAY
        ),
    ),
    "add_technician": (
        TECHNICIANS,
        lambda w, a: services.add_technician(a, w.make.station(), name="新人", role="other"),
    ),
    "record_attempt": (
        TECHNICIANS,
        lambda w, a: services.record_attempt(
            a,
            w.make.technician(station=w.make.station()),
            track="repair_technician",
            theory_score=80,
            practical_score=80,
            attempted_on=TODAY,
            examiner="刘工",
        ),
    ),
    "revoke_certificate": (
        TECHNICIANS,
        lambda w, a: services.revoke_certificate(
            a,
            w.make.certificate(w.make.technician(station=w.make.station()), issued_on=TODAY),
            "cheated",
        ),
    ),
    "create_rule_set": (
        TIER_RULES,
        lambda w, a: services.create_rule_set(
            a, effective_on=TODAY + dt.timedelta(days=30), values=_rule_values()
        ),
    ),
    "create_weight_set": (
        TIER_RULES,
        lambda w, a: services.create_weight_set(
            a,
            effective_on=TODAY + dt.timedelta(days=30),
            weights=dict(services.DEFAULT_WEIGHTS),
            pass_mark=70,
        ),
    ),
    "start_screening": (REVIEW, lambda w, a: services.start_screening(a, w.submitted())),
    "return_to_candidate": (
        REVIEW,
        lambda w, a: services.return_to_candidate(a, w.submitted(), "add photos"),
    ),
    "reject": (REVIEW, lambda w, a: services.reject(a, w.submitted(), "unsuitable")),
    "record_counterfeit_violation": (
        REVIEW,
        lambda w, a: services.record_counterfeit_violation(a, w.submitted(), "fake chargers"),
    ),
    "save_screening": (
        REVIEW,
        lambda w, a: services.save_screening(a, w.screening(), ratings=RATINGS),
    ),
    "evaluate": (REVIEW, lambda w, a: services.evaluate(a, w.rated())),
    "approve": (REVIEW, lambda w, a: services.approve(a, w.evaluated(), "accessory_point")),
    "authorize": (
        REVIEW,
        lambda w, a: services.authorize(
            a,
            w.paid(),
            city_code="PM",
            agreement_start_on=TODAY,
            agreement_end_on=TODAY + dt.timedelta(days=1000),
        ),
    ),
    "upload site photo": (
        REVIEW,
        lambda w, a: services.upload_attachment(a, w.screening(), "site_photo", "site.png", _png()),
    ),
    # The candidate's own application: only its applicant, never staff or the system.
    "save_step": (
        CANDIDATE_ONLY,
        lambda w, a, app=None: services.save_step(a, app, "company", {"city": "开封"}),
    ),
    "add_staff": (
        CANDIDATE_ONLY,
        lambda w, a, app=None: services.add_staff(a, app, name="新人", role="other"),
    ),
    "remove_staff": (
        CANDIDATE_ONLY,
        lambda w, a, app=None: services.remove_staff(a, app, app.staff[0]),
    ),
    "upload licence": (
        CANDIDATE_ONLY,
        lambda w, a, app=None: services.upload_attachment(
            a, app, "business_licence", "licence.png", _png()
        ),
    ),
    "submit": (CANDIDATE_ONLY, lambda w, a, app=None: services.submit(a, app)),
}


def _actor(make, who, application=None):
    if who == SYSTEM_ACTOR:
        return SYSTEM
    if who == APPLICANT:
        return application.applicant if application is not None else make.candidate().applicant
    return make.user(role=who)


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_service_admits_exactly_its_roles(make, name, who):
    allowed, call = CASES[name]
    world = World(make)
    if allowed == CANDIDATE_ONLY:
        application = world.draft()
        actor = _actor(make, who, application)
        action = lambda: call(world, actor, app=application)  # noqa: E731
    else:
        actor = _actor(make, who)
        action = lambda: call(world, actor)  # noqa: E731
    if who in allowed:
        action()  # succeeds: no refusal of any kind
    else:
        with pytest.raises(PermissionDenied):
            action()


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_service_acts_for_nobody(make, name):
    allowed, call = CASES[name]
    world = World(make)
    extra = {"app": world.draft()} if allowed == CANDIDATE_ONLY else {}
    with pytest.raises(MissingActor):
        call(world, None, **extra)


def test_another_candidate_may_not_touch_an_application(make):
    world = World(make)
    application = world.draft()
    stranger = make.candidate().applicant
    with pytest.raises(PermissionDenied):
        services.save_step(stranger, application, "company", {"city": "开封"})
