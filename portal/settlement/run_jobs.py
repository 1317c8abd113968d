"""The month's run as a background job: the page and the command line start it, the progress bar
and `settlement run` follow it. The computing is `portal.settlement.run.run_month`, which writes
each batch of stations in its own transaction: a job that dies leaves whole stations, never a
half-written one, and running it again gives the same result."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.core import jobs
from portal.core.errors import DomainError
from portal.core.permissions import Permission
from portal.extensions import db

RUN_JOB = "settlement.run"
MAX_CODES = 5000


def station_ids_from_codes(text: str) -> list[int] | None:
    """Station ids of codes separated by spaces, commas or lines (None: every station)."""
    from portal.stations.models import Station

    codes = sorted({c.strip().upper() for c in text.replace(",", " ").split() if c.strip()})
    if not codes:
        return None
    if len(codes) > MAX_CODES:
        raise DomainError(_l("Give at most %(n)s station codes.", n=MAX_CODES), field="stations")
    found = dict(
        db.session.execute(select(Station.code, Station.id).where(Station.code.in_(codes))).all()
    )
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise DomainError(
            _l("No station has the code %(codes)s.", codes=", ".join(unknown[:20])),
            field="stations",
        )
    return [found[c] for c in codes]


def _run_result_url(job) -> str | None:
    from flask import url_for

    month = (job.params or {}).get("month")
    return url_for("settlement.index", month=month) if month else None


@jobs.register(
    RUN_JOB, _l("Settlement run"), Permission.RUN_SETTLEMENTS, result_url=_run_result_url
)
def _run_job(ctx: jobs.JobContext) -> dict:
    from portal.settlement.export import parse_month
    from portal.settlement.run import run_month

    month = parse_month(ctx.params["month"])
    result = run_month(
        month,
        ctx.params.get("station_ids"),
        ctx.actor,
        progress=lambda done, total: ctx.progress(done, total),
    )
    return _plain(result)


def _plain(result) -> dict:
    """The run's result as JSON-safe values."""
    from dataclasses import asdict, is_dataclass
    from decimal import Decimal

    values = asdict(result) if is_dataclass(result) else dict(vars(result))
    out = {}
    for key, value in values.items():
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, list | tuple | set):
            value = len(value) if key.endswith("_ids") else [str(v) for v in value][:100]
        elif not isinstance(value, int | float | str | bool | type(None)):
            value = str(value)
        out[key] = value
    return out


def start_run(month: dt.date, station_ids: list[int] | None, actor, *, here: bool = False):
    """Queue the month's run (every station, or the given ones)."""
    params = {"month": f"{month:%Y-%m}", "station_ids": station_ids}
    return jobs.enqueue(RUN_JOB, params, actor, here=here)
