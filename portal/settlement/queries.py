"""Reading settlements: the month's figures per station (CLI `show`, scripted checks)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from portal.extensions import db
from portal.settlement.models import Settlement, SettlementLine
from portal.stations.models import Station

MONEY_FIELDS = (
    "labour",
    "travel",
    "rewards",
    "penalties",
    "deductions",
    "carried_in",
    "carried_out",
    "net",
)


def reason_counts(settlement_ids: list[int]) -> dict[int, dict[str, int]]:
    """{settlement id: {reason code: invalid lines}} in one grouped query."""
    counts: dict[int, dict[str, int]] = {}
    if not settlement_ids:
        return counts
    for sid, reason, n in db.session.execute(
        select(SettlementLine.settlement_id, SettlementLine.reason_code, func.count())
        .where(
            SettlementLine.settlement_id.in_(settlement_ids),
            SettlementLine.valid.is_(False),
        )
        .group_by(SettlementLine.settlement_id, SettlementLine.reason_code)
    ):
        counts.setdefault(sid, {})[reason] = n
    return counts


def month_summary(month: dt.date) -> list[dict]:
    """Per station (by code) the current settlement of the month, as plain JSON-ready data."""
    rows = db.session.execute(
        select(Settlement, Station.code)
        .join(Station, Station.id == Settlement.station_id)
        .where(Settlement.month == month.replace(day=1), Settlement.superseded_at.is_(None))
        .order_by(Station.code)
    ).all()
    reasons = reason_counts([s.id for s, _code in rows])
    return [
        {
            "code": code,
            "revision": s.revision,
            "valid": s.valid_count,
            "invalid": s.invalid_count,
            "reasons": dict(sorted(reasons.get(s.id, {}).items())),
            **{name: f"{getattr(s, name):.2f}" for name in MONEY_FIELDS},
            "state": s.status.value,
        }
        for s, code in rows
    ]
