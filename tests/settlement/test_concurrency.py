"""Two processes recording the same event at once still give one entry (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.settlement.adjustments import Adjustment, record_adjustment
from tests.factories import Factories

TABLES = "adjustments, user_sessions, user_roles, users, stations, audit_entries"


@pytest.mark.postgres_only
def test_the_same_event_recorded_twice_at_once_gives_one_entry(app):
    try:
        with app.test_request_context():
            make = Factories(db)
            station_id = make.station().id
            user_id = make.user(role="auditor").id
            db.session.commit()
            db.session.remove()

        barrier = threading.Barrier(2)
        ids, errors = [], []

        def record():
            with app.test_request_context():
                try:
                    from portal.auth.models import User

                    actor = db.session.get(User, user_id)
                    barrier.wait(timeout=10)
                    entry = record_adjustment(
                        actor,
                        station_id=station_id,
                        on=dt.date(2026, 9, 3),
                        rule_code="critical_item_failed",
                        source_type="inspection_answer",
                        source_id=1234,
                    )
                    entry_id = entry.id
                    db.session.commit()
                    ids.append(entry_id)
                except Exception as exc:  # reported below
                    db.session.rollback()
                    errors.append(repr(exc))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=record) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert len(set(ids)) == 1
        with app.app_context():
            count = db.session.execute(select(func.count()).select_from(Adjustment)).scalar()
            assert count == 1
    finally:
        with app.app_context():
            db.session.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
            db.session.commit()
            db.session.remove()


RUN_TABLES = (
    "settlement_lines, settlements, adjustments, repair_records, repair_parts, daily_reports, "
    "stock_movements, stock_on_hand, user_sessions, user_roles, users, stations, audit_entries"
)


@pytest.mark.postgres_only
def test_two_runs_of_one_month_at_once_give_one_settlement_per_station(app):
    from portal.core.actors import SYSTEM
    from portal.core.dates import local_today
    from portal.settlement.models import Settlement, SettlementLine
    from portal.settlement.run import run_month

    try:
        with app.test_request_context():
            make = Factories(db)
            month = (local_today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
            day = month.replace(day=12)
            station_ids = []
            for _ in range(3):
                station = make.station(agreement_start_on=day, agreement_end_on=day)
                make.report(station, day, records=2, submit=True, on_time=True, parts="")
                station_ids.append(station.id)
            db.session.commit()
            db.session.remove()

        barrier = threading.Barrier(2)
        errors = []

        def run():
            with app.test_request_context():
                try:
                    barrier.wait(timeout=10)
                    run_month(month, station_ids, SYSTEM, batch_size=1)
                except Exception as exc:  # reported below
                    db.session.rollback()
                    errors.append(repr(exc))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        with app.app_context():
            rows = db.session.execute(
                select(Settlement.station_id, func.count()).group_by(Settlement.station_id)
            ).all()
            assert sorted(n for _sid, n in rows) == [1, 1, 1]
            lines = db.session.execute(select(func.count(SettlementLine.id))).scalar_one()
            assert lines == 6  # each station's two records, written once
    finally:
        with app.app_context():
            db.session.execute(text(f"TRUNCATE {RUN_TABLES} RESTART IDENTITY CASCADE"))
            db.session.commit()
            db.session.remove()
