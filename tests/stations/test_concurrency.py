"""Two people saving the same station at once through update_station: one wins, the other is
told (PostgreSQL, real transactions in two threads)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete
from sqlalchemy.orm.exc import StaleDataError

from portal.auth.models import User, UserRole
from portal.core.audit import AuditEntry
from portal.core.errors import ConcurrentChange
from portal.extensions import db
from portal.stations import services
from portal.stations.models import Station
from tests.factories import Factories

pytestmark = pytest.mark.postgres_only


def test_concurrent_saves_of_one_station_through_the_service(app):
    with app.test_request_context():
        make = Factories(db)
        station = make.station(code="XZ-LS-0999", province="XZ", city="拉萨", name="并发站")
        hq = make.user(role="hq")
        station_id, hq_id, version = station.id, hq.id, station.version
        db.session.commit()
        db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[str] = []

    def save(name: str) -> None:
        with app.test_request_context():
            try:
                actor = db.session.get(User, hq_id)
                row = db.session.get(Station, station_id)
                barrier.wait(timeout=10)  # both have loaded version 1 before either saves
                services.update_station(actor, row, expected_version=version, name=name)
                db.session.commit()
                outcomes.append("saved")
            except (StaleDataError, ConcurrentChange):
                db.session.rollback()
                outcomes.append("refused")
            except Exception as exc:  # reported below
                db.session.rollback()
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(n,)) for n in ("甲", "乙")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        assert errors == []
        assert sorted(outcomes) == ["refused", "saved"]
        with app.app_context():
            final = db.session.get(Station, station_id)
            assert final.version == version + 1
            assert final.name in {"甲", "乙"}
            updates = db.session.query(AuditEntry).filter_by(
                object_type="Station", object_id=str(station_id), action="station.updated"
            )
            assert updates.count() == 1  # the refused save left no trace
            db.session.remove()
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEntry).where(AuditEntry.station_id == station_id))
            db.session.execute(
                delete(AuditEntry).where(
                    AuditEntry.object_type == "User", AuditEntry.object_id == str(hq_id)
                )
            )
            db.session.execute(delete(UserRole).where(UserRole.user_id == hq_id))
            db.session.execute(delete(User).where(User.id == hq_id))
            db.session.execute(delete(Station).where(Station.id == station_id))
            db.session.commit()
            db.session.remove()
