"""Versioned rules and settings: rows with an effective date, the newest one in force wins.

A new version takes effect today or later (earlier days keep the rules they were judged by),
and every version is kept as history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.core.dates import local_today
from portal.core.errors import DomainError
from portal.extensions import db

T = TypeVar("T")


def in_force(model: type[T], on: dt.date, *where) -> T | None:
    """The row of a versioned model (an `effective_on` column) in force on a day, or None."""
    return db.session.execute(
        select(model)
        .where(model.effective_on <= on, *where)
        .order_by(model.effective_on.desc())
        .limit(1)
    ).scalar_one_or_none()


def pick_in_force(rows_newest_first: Iterable[T], on: dt.date) -> T | None:
    """The same choice from rows already loaded, newest effective date first."""
    return next((row for row in rows_newest_first if row.effective_on <= on), None)


def require_not_past(effective_on: dt.date, field: str = "effective_on") -> None:
    """Refuse an effective date before today: days already judged keep their rules."""
    today = local_today()
    if effective_on < today:
        raise DomainError(
            _l(
                "The effective date cannot be before today (%(today)s): earlier days keep the "
                "rules they were judged by.",
                today=today.isoformat(),
            ),
            field=field,
        )
