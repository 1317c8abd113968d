"""Calendar arithmetic and "today" in the portal's time zone (the database keeps UTC)."""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from portal.core.db import now_utc


def local_tz() -> ZoneInfo:
    """The portal's time zone (PORTAL_TIMEZONE, Asia/Shanghai by default)."""
    from flask import current_app

    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today() -> dt.date:
    """Today's date in the portal's time zone."""
    return now_utc().astimezone(local_tz()).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day months later (or earlier), the month's last day when it is shorter.

    29 February 2024 + 24 months is 28 February 2026; 31 January + 1 month is 28 or 29 February.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
