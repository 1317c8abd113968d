"""Two authorizations at the same moment get different station codes (real transactions)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import text

from portal.certification import services
from portal.certification.models import Application
from portal.extensions import db
from tests.factories import Factories

TABLES = (
    "certificates, certification_attempts, technicians, screening_sheets, "
    "application_attachments, deposit_entries, deposit_accounts, station_compliance, "
    "station_profiles, station_code_sequences, applications, user_sessions, user_roles, "
    "users, stations, audit_entries"
)


def _approved(make, hq, finance):
    application = make.complete_application(tier="accessory_point")
    services.submit(application.applicant, application)
    services.start_screening(hq, application)
    services.save_screening(
        hq,
        application,
        ratings=dict.fromkeys(
            ("qualification", "experience", "personnel", "site", "equipment", "financial"), 90
        ),
    )
    services.evaluate(hq, application)
    services.approve(hq, application, "accessory_point")
    services.record_application_deposit(
        finance, application, kind="paid", amount="2000", entry_on=dt.date(2026, 11, 1)
    )
    return application.id


@pytest.mark.postgres_only
def test_two_authorizations_at_once_get_distinct_codes(app):
    try:
        with app.test_request_context():
            make = Factories(db)
            hq = make.user(role="hq")
            finance = make.user(role="finance")
            ids = [_approved(make, hq, finance) for _ in range(2)]
            hq_id = hq.id
            db.session.commit()
            db.session.remove()

        barrier = threading.Barrier(2)
        codes, errors = [], []

        def authorize(application_id):
            with app.test_request_context():
                try:
                    from portal.auth.models import User

                    actor = db.session.get(User, hq_id)
                    application = db.session.get(Application, application_id)
                    barrier.wait(timeout=10)
                    station = services.authorize(
                        actor,
                        application,
                        city_code="KF",
                        agreement_start_on=dt.date(2026, 11, 23),
                        agreement_end_on=dt.date(2029, 11, 22),
                    )
                    code = station.code
                    db.session.commit()
                    codes.append(code)
                except Exception as exc:  # reported below
                    db.session.rollback()
                    errors.append(repr(exc))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=authorize, args=(i,)) for i in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert sorted(codes) == ["HA-KF-0001", "HA-KF-0002"]
    finally:
        with app.app_context():
            db.session.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
            db.session.commit()
            db.session.remove()
