"""Keyset pagination: deep pages cost what the first page costs (see PERF.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from portal.extensions import db


@dataclass
class KeysetPage:
    items: list[Any]
    next_key: Any | None
    prev_key: Any | None


# Integer keys are INTEGER columns: a key from a link beyond that range is clamped just past it
# (the same page), since PostgreSQL and SQLite refuse to compare with too large a number.
_KEY_LIMIT = 2**31


def _in_key_range(key):
    if isinstance(key, int) and not isinstance(key, bool):
        return max(-_KEY_LIMIT, min(_KEY_LIMIT, key))
    return key


def keyset_page(
    stmt: Select, key_column, *, after=None, before=None, size=50, descending=False
) -> KeysetPage:
    """One page of stmt ordered by a unique key column; after/before are keys from a link."""
    after, before = _in_key_range(after), _in_key_range(before)
    forward = before is None
    if descending:
        if after is not None:
            stmt = stmt.where(key_column < after)
        if before is not None:
            stmt = stmt.where(key_column > before)
        order = key_column.desc() if forward else key_column.asc()
    else:
        if after is not None:
            stmt = stmt.where(key_column > after)
        if before is not None:
            stmt = stmt.where(key_column < before)
        order = key_column.asc() if forward else key_column.desc()
    rows = list(db.session.execute(stmt.order_by(order).limit(size + 1)).scalars())
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    key_name = key_column.key
    first = getattr(rows[0], key_name) if rows else None
    last = getattr(rows[-1], key_name) if rows else None
    if forward:
        next_key = last if more else None
        prev_key = first if (after is not None and rows) else None
    else:
        prev_key = first if more else None
        next_key = last if rows else None
    return KeysetPage(rows, next_key, prev_key)


def _token(sort_value, key) -> str:
    return f"{sort_value.isoformat()}~{key}"


def _parse_token(token) -> tuple | None:
    """(datetime, id) from a link's token; None for anything else (the first page then)."""
    import datetime as dt

    if not isinstance(token, str) or "~" not in token or len(token) > 80:
        return None
    stamp, _sep, key = token.rpartition("~")
    try:
        value = dt.datetime.fromisoformat(stamp)
        number = int(key)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value, _in_key_range(number)


def keyset_page_by_time(
    stmt: Select, time_column, key_column, *, after=None, before=None, size=50
) -> KeysetPage:
    """One page of stmt newest first by (time_column, key_column): the order a list is sorted
    by, with the id as tie-breaker, so the (time, id) index serves every page and filter.

    Page links carry a token "ISO-TIME~ID" (what `pager` puts in after= / before=).
    """
    from sqlalchemy import tuple_

    after, before = _parse_token(after), _parse_token(before)
    forward = before is None
    pair = tuple_(time_column, key_column)
    if after is not None:
        stmt = stmt.where(pair < tuple_(*after))
    if before is not None:
        stmt = stmt.where(pair > tuple_(*before))
    if forward:
        order = (time_column.desc(), key_column.desc())
    else:
        order = (time_column.asc(), key_column.asc())
    rows = list(db.session.execute(stmt.order_by(*order).limit(size + 1)).scalars())
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    time_name, key_name = time_column.key, key_column.key

    def token(row):
        return _token(getattr(row, time_name), getattr(row, key_name))

    if forward:
        next_key = token(rows[-1]) if (more and rows) else None
        prev_key = token(rows[0]) if (after is not None and rows) else None
    else:
        prev_key = token(rows[0]) if (more and rows) else None
        next_key = token(rows[-1]) if rows else None
    return KeysetPage(rows, next_key, prev_key)
