"""Two people saving the same station at once: one wins, the other is told (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal.stations.models import Station

pytestmark = pytest.mark.postgres_only


def test_concurrent_saves_of_one_station(app):
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
        with Session(engine) as setup:
            station = Station(
                code="XZ-LS-0999",
                name="并发站",
                tier="service_station",
                province="XZ",
                city="拉萨",
                city_class="1",
            )
            setup.add(station)
            setup.commit()
            station_id = station.id
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def save(name: str) -> None:
            with Session(engine) as session:
                row = session.get(Station, station_id)
                row.name = name
                barrier.wait()  # both have read version 1 before either writes
                try:
                    session.commit()
                    outcomes.append("saved")
                except StaleDataError:
                    session.rollback()
                    outcomes.append("stale")

        threads = [threading.Thread(target=save, args=(n,)) for n in ("甲", "乙")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        try:
            assert sorted(outcomes) == ["saved", "stale"]
            with Session(engine) as check:
                final = check.get(Station, station_id)
                assert final.version == 2
                assert final.name in {"甲", "乙"}
        finally:
            with Session(engine) as cleanup:
                cleanup.execute(delete(Station).where(Station.id == station_id))
                cleanup.commit()
