"""Stock and coverage under concurrency (PostgreSQL, real connections, threads): SPEC 7, issue 9.8.

SQLite ignores SELECT ... FOR UPDATE, so these run only on PostgreSQL (`.ci/run` does).
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import text

from portal.core.errors import DomainError
from portal.extensions import db
from tests.factories import Factories
from tests.spares.conftest import Spares

pytestmark = pytest.mark.postgres_only

# Truncating these (CASCADE) empties every table the tests wrote to; seeded catalogues
# (repair types and results) are not referenced by them and stay.
TABLES = "stations, users, audit_entries, spare_parts, stock_imports, device_models, fault_codes"


@pytest.fixture
def committed(app):
    """A request context whose data is committed (threads must see it); emptied afterwards."""
    ctx = app.test_request_context(headers={"Accept-Language": "en"})
    ctx.push()
    try:
        yield Spares(Factories(db), db)
    finally:
        db.session.rollback()
        db.session.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        db.session.commit()
        db.session.remove()
        ctx.pop()


def run_at_once(app, actions) -> tuple[list, list]:
    """Run each action in its own thread and session, released together; (results, errors)."""
    barrier = threading.Barrier(len(actions))
    results, errors = [], []
    lock = threading.Lock()

    def worker(action):
        with app.test_request_context(headers={"Accept-Language": "en"}):
            try:
                prepared = action("prepare")
                barrier.wait(timeout=20)
                outcome = action("act", prepared)
                db.session.commit()
                with lock:
                    results.append(outcome)
            except DomainError as exc:
                db.session.rollback()
                with lock:
                    errors.append(str(exc.message))
            except Exception as exc:  # reported by the test: nothing else may happen
                db.session.rollback()
                with lock:
                    errors.append(f"UNEXPECTED {exc!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(a,)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def _user(user_id):
    from portal.auth.models import User

    return db.session.get(User, user_id)


def test_two_shipments_sent_at_once_cannot_pass_the_limit(app, committed):
    from portal.spares import shipments, stock
    from portal.spares.stock_models import Shipment

    spares = committed
    station = spares.station(deposit="5000")
    lcd = spares.part("LCD-P30", value="1000.00")
    ids = [spares.shipment(station, [(lcd, 3)]).id for _ in range(2)]
    hq_id, station_id = spares.hq.id, station.id
    db.session.commit()

    def send(shipment_id):
        def action(step, prepared=None):
            if step == "prepare":
                return db.session.get(Shipment, shipment_id)
            return shipments.send(_user(hq_id), prepared).id

        return action

    sent, refused = run_at_once(app, [send(i) for i in ids])
    assert len(sent) == 1, (sent, refused)
    assert len(refused) == 1
    assert refused[0].startswith("Not sent"), refused
    db.session.expire_all()
    cov = stock.coverage(station_id)
    assert cov.used == Decimal("3000.00")
    assert not cov.over


def test_a_deduction_and_a_shipment_at_once_cannot_break_the_coverage(app, committed):
    from portal.certification import services as cert_services
    from portal.spares import shipments, stock
    from portal.spares.stock_models import Shipment
    from portal.stations.models import Station

    spares = committed
    station = spares.station(deposit="5000")
    lcd = spares.part("LCD-P30", value="1000.00")
    spares.give(station, lcd, good=2)
    shipment_id = spares.shipment(station, [(lcd, 2)]).id
    finance_id = spares.make.user(role="finance").id
    hq_id, station_id = spares.hq.id, station.id
    db.session.commit()
    # Alone, each is allowed: 4,000 of stock within 5,000; or 2,000 within 3,000.

    def send(step, prepared=None):
        if step == "prepare":
            return db.session.get(Shipment, shipment_id)
        return ("sent", shipments.send(_user(hq_id), prepared).id)

    def deduct(step, prepared=None):
        if step == "prepare":
            return db.session.get(Station, station_id)
        entry = cert_services.record_station_deposit(
            _user(finance_id),
            prepared,
            kind="deduction",
            amount="2000",
            entry_on=dt.date(2026, 11, 23),
        )
        return ("deducted", entry.id)

    done, refused = run_at_once(app, [send, deduct])
    assert len(done) == 1, (done, refused)
    assert len(refused) == 1
    assert not any(r.startswith("UNEXPECTED") for r in refused), refused
    db.session.expire_all()
    cov = stock.coverage(station_id)
    assert not cov.over, cov
    assert stock.reconcile().ok


def test_two_confirmations_of_one_receipt_count_once(app, committed):
    from portal.spares import shipments, stock
    from portal.spares.stock_models import Shipment

    spares = committed
    station = spares.station(deposit="5000")
    lcd = spares.part("LCD-P30", value="100.00")
    shipment = spares.shipment(station, [(lcd, 4)], send=True)
    shipment_id, line_id = shipment.id, shipment.lines[0].id
    users = [spares.station_user(station).id for _ in range(2)]
    station_id = station.id
    db.session.commit()

    def confirm(user_id):
        def action(step, prepared=None):
            if step == "prepare":
                return db.session.get(Shipment, shipment_id)
            return shipments.confirm_receipt(_user(user_id), prepared, {line_id: 4}).id

        return action

    done, refused = run_at_once(app, [confirm(u) for u in users])
    assert len(done) == 1, (done, refused)
    assert refused == ["This shipment's receipt is already confirmed."]
    db.session.expire_all()
    good, _defective = stock.on_hand(station_id)
    assert good[lcd.id] == 4
    assert stock.reconcile().ok


def test_one_part_consumed_by_two_records_at_once_is_held_by_one(app, committed):
    from portal.reports import services as report_services
    from portal.reports.models import RepairRecord
    from portal.spares import stock

    spares = committed
    station = spares.station(deposit="5000")
    lcd = spares.part("LCD-P30", value="100.00")
    spares.give(station, lcd, good=1)
    users = [spares.station_user(station).id for _ in range(2)]
    day = report_services.local_today()
    report_id = report_services.open_report(_user(users[0]), station, day).id
    values = [spares.make.record_values(day, n) for n in (1, 2)]
    station_id = station.id
    db.session.commit()

    def add(user_id, raw):
        def action(step, prepared=None):
            from portal.reports.models import DailyReport

            if step == "prepare":
                return db.session.get(DailyReport, report_id)
            return report_services.add_record(_user(user_id), prepared, raw).id

        return action

    done, refused = run_at_once(app, [add(u, v) for u, v in zip(users, values, strict=True)])
    assert refused == []
    assert len(done) == 2
    db.session.expire_all()
    flags = sorted(db.session.get(RepairRecord, rid).part_not_held for rid in done)
    assert flags == [False, True]
    good, defective = stock.on_hand(station_id)
    assert (good[lcd.id], defective[lcd.id]) == (0, 1)
    assert stock.reconcile().ok


def test_two_returns_shipped_at_once_take_one_defective_part_once(app, committed):
    from portal.spares import returns, stock
    from portal.spares.stock_models import ReturnBatch

    spares = committed
    station = spares.station(deposit="5000")
    lcd = spares.part("LCD-P30", value="100.00")
    spares.give(station, lcd, defective=1)
    user = spares.station_user(station)
    ids = [spares.return_batch(station, [(lcd, 1, "")], user=user).id for _ in range(2)]
    user_id, station_id = user.id, station.id
    db.session.commit()

    def ship(batch_id):
        def action(step, prepared=None):
            if step == "prepare":
                return db.session.get(ReturnBatch, batch_id)
            return returns.ship(_user(user_id), prepared).id

        return action

    done, refused = run_at_once(app, [ship(i) for i in ids])
    assert len(done) == 1, (done, refused)
    assert len(refused) == 1
    db.session.expire_all()
    assert stock.on_hand(station_id)[1][lcd.id] == 0
    assert stock.reconcile().ok
