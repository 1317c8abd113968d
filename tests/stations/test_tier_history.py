"""The dated tier history: one way to change a tier, and the tier of a station on a day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.certification import services as cert
from portal.core.actors import SYSTEM
from portal.core.errors import DomainError
from portal.stations import services
from portal.stations.models import Station, StationTierPeriod
from portal.stations.states import StationStatus, Tier
from tests.conftest import ON_POSTGRES

# 10:00 in Shanghai on 10 March 2027; the tier changes below happen "today".
MORNING = dt.datetime(2027, 3, 10, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2027, 3, 10)


@pytest.fixture(autouse=True)
def _request(app, db):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _compliant(make, **over):
    station = make.station(agreement_start_on=dt.date(2026, 1, 1), city_class="2", **over)
    cert.set_station_areas(
        SYSTEM, station, reception_area="20", repair_area="15", storage_area="10"
    )
    make.technician(station=station, role="coordinator")
    for _ in range(2):
        person = make.technician(station=station)
        make.certificate(person, issued_on=TODAY - dt.timedelta(days=30))
    make.deposit(station, amount="10000")
    return station


def test_a_new_station_starts_its_history_on_the_agreement_start(make):
    station = make.station(tier="service_center", agreement_start_on=dt.date(2026, 4, 1))
    [period] = services.tier_history(station.id)
    assert (period.tier, period.effective_from, period.effective_until) == (
        Tier.SERVICE_CENTER,
        dt.date(2026, 4, 1),
        None,
    )
    assert services.tier_on(station.id, dt.date(2026, 3, 31)) is None
    assert services.tier_on(station.id, dt.date(2026, 4, 1)) is Tier.SERVICE_CENTER
    assert services.tier_on(station.id, dt.date(2030, 1, 1)) is Tier.SERVICE_CENTER


@time_machine.travel(MORNING, tick=False)
def test_a_station_without_agreement_dates_starts_today(make):
    station = make.station(agreement_start_on=None, agreement_end_on=None)
    assert services.tier_history(station.id)[0].effective_from == TODAY


@time_machine.travel(MORNING, tick=False)
def test_change_tier_closes_the_period_and_opens_one_from_today(make):
    hq = make.user(role="hq")
    station = _compliant(make, tier="service_station")
    cert.change_tier(hq, station, "service_center", "upgraded after the site visit")
    newest, first = services.tier_history(station.id)
    assert (first.tier, first.effective_from, first.effective_until) == (
        Tier.SERVICE_STATION,
        dt.date(2026, 1, 1),
        TODAY,
    )
    assert (newest.tier, newest.effective_from, newest.effective_until) == (
        Tier.SERVICE_CENTER,
        TODAY,
        None,
    )
    assert newest.reason == "upgraded after the site visit"
    assert (newest.actor_id, newest.actor_name) == (hq.id, hq.username)
    yesterday = TODAY - dt.timedelta(days=1)
    assert services.tier_on(station.id, yesterday) is Tier.SERVICE_STATION
    assert services.tier_on(station.id, TODAY) is Tier.SERVICE_CENTER


@time_machine.travel(MORNING, tick=False)
def test_two_changes_on_one_day_leave_the_last_in_force(make):
    hq = make.user(role="hq")
    station = _compliant(make, tier="service_station")
    cert.change_tier(hq, station, "service_center", "up")
    cert.change_tier(hq, station, "accessory_point", "no, down")
    periods = services.tier_history(station.id)
    assert [(p.tier, p.effective_from, p.effective_until) for p in periods] == [
        (Tier.ACCESSORY_POINT, TODAY, None),
        (Tier.SERVICE_CENTER, TODAY, TODAY),  # replaced the same day: never in force
        (Tier.SERVICE_STATION, dt.date(2026, 1, 1), TODAY),
    ]
    assert services.tier_on(station.id, TODAY) is Tier.ACCESSORY_POINT
    assert services.tier_on(station.id, TODAY - dt.timedelta(days=1)) is Tier.SERVICE_STATION


@time_machine.travel(MORNING, tick=False)
def test_a_refused_tier_change_leaves_the_history_alone(make):
    hq = make.user(role="hq")
    station = make.station(tier="accessory_point")  # no staff, no deposit
    with pytest.raises(DomainError):
        cert.change_tier(hq, station, "service_center", "try")
    assert len(services.tier_history(station.id)) == 1
    cert.suspend(hq, station, "late reports")
    cert.reinstate(hq, station, "fixed")
    assert len(services.tier_history(station.id)) == 1  # status moves keep the tier
    assert station.status is StationStatus.ACTIVE


def test_a_station_has_one_open_period(make, db):
    station = make.station()
    db.session.add(
        StationTierPeriod(
            station_id=station.id,
            tier=Tier.SERVICE_CENTER,
            effective_from=dt.date(2027, 1, 1),
            actor_name="x",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_station_page_shows_the_tier_history(client, login_as, make):
    station = make.station(tier="service_center", agreement_start_on=dt.date(2026, 4, 1))
    login_as("station", station=station)
    html = client.get(f"/stations/{station.id}").get_data(as_text=True)
    assert 'data-testid="tier-history"' in html
    assert "Initial tier" in html
    assert "in force" in html


def test_demo_data_seeds_the_history_from_the_agreement_start(runner, db):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    for station in db.session.execute(select(Station)).scalars():
        periods = services.tier_history(station.id)
        assert periods, station.code
        assert periods[0].effective_until is None
        assert periods[0].tier is station.tier
        assert periods[-1].effective_from == station.agreement_start_on


@pytest.mark.skipif(ON_POSTGRES, reason="runs on a throwaway SQLite file")
def test_the_migration_seeds_the_history_from_the_audit_trail(tmp_path, app_config):
    """Existing stations get their periods: created tier, audited changes, the current tier."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import insert

    from portal import create_app
    from portal.certification.models import Certificate, Technician
    from portal.core.audit import AuditEntry
    from portal.extensions import db

    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"})
    with app.app_context():
        upgrade()
        downgrade(revision="0004_cert_integrity-1")
        base = {
            "province": "HA",
            "city": "郑州",
            "city_class": "1",
            "address": "",
            "authorized_region": "",
            "contact_name": "",
            "contact_phone": "",
            "contact_email": "",
            "status": "active",
            "notes": "",
            "version": 1,
        }
        # The engine of this throwaway app (db.session belongs to the test database here).
        conn = db.engine.connect()
        conn.execute(
            insert(Station.__table__),
            [
                {**base, "id": 1, "code": "HA-ZZ-0001", "name": "a", "tier": "service_center",
                 "agreement_start_on": dt.date(2025, 1, 1)},
                {**base, "id": 2, "code": "HA-ZZ-0002", "name": "b", "tier": "accessory_point",
                 "agreement_start_on": None},
            ],
        )  # fmt: skip
        entry = {"actor_id": None, "object_type": "Station", "object_label": "", "comment": "",
                 "before": None}  # fmt: skip
        conn.execute(
            insert(AuditEntry.__table__),
            [
                {**entry, "object_id": "1", "action": "station.created", "actor_name": "hq1",
                 "at": dt.datetime(2024, 12, 20, 3, tzinfo=dt.UTC),
                 "after": {"tier": "accessory_point"}},
                {**entry, "object_id": "1", "action": "station.updated", "actor_name": "hq1",
                 "at": dt.datetime(2025, 6, 30, 17, tzinfo=dt.UTC),  # 1 July in Shanghai
                 "before": {"tier": "accessory_point"}, "after": {"tier": "service_station"}},
                {**entry, "object_id": "1", "action": "station.change_tier", "actor_name": "hq2",
                 "at": dt.datetime(2026, 2, 1, 3, tzinfo=dt.UTC), "comment": "upgrade",
                 "before": {"tier": "service_station"}, "after": {"tier": "service_center"}},
            ],
        )  # fmt: skip
        conn.execute(insert(Technician.__table__).values(id=1, name="t", role="repair_technician"))
        conn.execute(
            insert(Certificate.__table__),
            [
                {"number": "RT2024-1", "technician_id": 1, "track": "repair_technician",
                 "issued_on": dt.date(2024, 2, 29), "expires_on": dt.date(2026, 2, 27)},
                {"number": "RT2024-2", "technician_id": 1, "track": "repair_technician",
                 "issued_on": dt.date(2024, 2, 28), "expires_on": dt.date(2026, 2, 27)},
            ],
        )  # fmt: skip
        conn.commit()
        conn.close()
        upgrade()
        conn = db.engine.connect()
        periods = StationTierPeriod.__table__.c
        rows = conn.execute(
            select(
                periods.station_id,
                periods.tier,
                periods.effective_from,
                periods.effective_until,
                periods.actor_name,
            ).order_by(periods.station_id, periods.id)
        ).all()
        today = dt.datetime.now(dt.UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
        assert [tuple(r) for r in rows] == [
            (1, Tier.ACCESSORY_POINT, dt.date(2025, 1, 1), dt.date(2025, 7, 1), "hq1"),
            (1, Tier.SERVICE_STATION, dt.date(2025, 7, 1), dt.date(2026, 2, 1), "hq1"),
            (1, Tier.SERVICE_CENTER, dt.date(2026, 2, 1), None, "hq2"),
            (2, Tier.ACCESSORY_POINT, today, None, "system"),
        ]
        certificates = Certificate.__table__.c
        expiries = conn.execute(
            select(certificates.number, certificates.expires_on).order_by(certificates.number)
        ).all()
        conn.close()
        assert [tuple(e) for e in expiries] == [
            ("RT2024-1", dt.date(2026, 2, 28)),
            ("RT2024-2", dt.date(2026, 2, 27)),
        ]
        db.engine.dispose()
