"""The settlement lock (SPEC 8.4): once finance approves a station's month, nothing of it changes.

`ensure_month_open(station_id, day)` refuses, with a message that says why and what to do, any
change to that station's repair records, daily reports, stock movements or adjustments of the
month of `day` while the month's current settlement is approved by finance or paid. Every
service that changes those calls it, so the form, the Excel upload, the API and the command line
are all refused the same way. Reopening the settlement (an amendment, a new revision in draft)
opens the month again.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.core.dates import local_tz
from portal.core.errors import DomainError
from portal.extensions import db
from portal.settlement.states import LOCKED_STATES, SettlementStatus


class MonthLocked(DomainError):
    """The station's month is settled and locked."""


def current_status(
    station_id: int, day: dt.date, *, for_change: bool = False
) -> SettlementStatus | None:
    """The status of the station's current (not superseded) settlement of day's month.

    for_change: the caller is about to change the month's data, so the settlement row is read
    FOR SHARE (PostgreSQL): an approval being committed at that moment is waited for and then
    seen, and an approval waits until this change is committed. The lock cannot be slipped past.
    """
    from portal.settlement.models import Settlement

    stmt = (
        select(Settlement.status)
        .where(
            Settlement.station_id == station_id,
            Settlement.month == day.replace(day=1),
            Settlement.status != SettlementStatus.SUPERSEDED,
        )
        .order_by(Settlement.id.desc())
        .limit(1)
    )
    if for_change:
        stmt = stmt.with_for_update(read=True)
    return db.session.execute(stmt).scalar()


def is_locked(station_id: int, day: dt.date, *, for_change: bool = False) -> bool:
    return current_status(station_id, day, for_change=for_change) in LOCKED_STATES


def ensure_month_open(station_id: int, day: dt.date | dt.datetime) -> None:
    """MonthLocked when the station's settlement of day's month is approved by finance or paid.

    A datetime (UTC) counts in the portal's time zone, where the month's days are.
    """
    if isinstance(day, dt.datetime):
        day = day.astimezone(local_tz()).date() if day.tzinfo else day.date()
    if is_locked(station_id, day, for_change=True):
        raise MonthLocked(
            _l(
                "The settlement of %(month)s for this station is approved by finance and "
                "locked: its repair records, daily reports, stock movements and adjustments "
                "cannot change. Finance can reopen it as an amendment.",
                month=day.strftime("%Y-%m"),
            )
        )
