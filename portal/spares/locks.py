"""The one lock that guards a station's money and stock (STYLE habit 14).

Every check of a deposit balance, of stock on hand or of the coverage limit, and the ledger
rows it allows, happen after `lock_station` in the same transaction: two requests for one
station then run one after the other. PostgreSQL takes a row lock on the station (or on the
application, before the station exists); SQLite has no row locks, but its write transactions
start with BEGIN IMMEDIATE, which already serializes them.

The lock is FOR NO KEY UPDATE: it excludes the other holders of this lock (and updates of the
station row) but not the KEY SHARE lock PostgreSQL takes on the station when a row that refers
to it is inserted. With FOR UPDATE, two transactions that had each inserted such a row (a
repair record, a deposit account) and then asked for the lock would deadlock.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db


def lock_station(station_id: int) -> None:
    """Hold the station's row lock until the transaction ends."""
    from portal.stations.models import Station

    db.session.execute(
        select(Station.id).where(Station.id == station_id).with_for_update(key_share=True)
    )


def lock_application(application_id: int) -> None:
    """Hold the application's row lock (its deposit before the station exists)."""
    from portal.certification.models import Application

    db.session.execute(
        select(Application.id)
        .where(Application.id == application_id)
        .with_for_update(key_share=True)
    )
