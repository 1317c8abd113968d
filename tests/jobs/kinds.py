"""Job kinds used by the job tests (imported by the tests and by the RQ worker they start)."""

from __future__ import annotations

import threading

from sqlalchemy import select

from portal.core import audit, jobs
from portal.core.errors import DomainError
from portal.core.permissions import Permission
from portal.extensions import db
from portal.stations.models import Station

# Set by a test to hold test.wait until it has looked at the running job.
RELEASE = threading.Event()


@jobs.register("test.count", "Count", Permission.VIEW_DASHBOARD)
def count(ctx):
    n = int(ctx.params.get("n", 3))
    for i in range(1, n + 1):
        ctx.progress(i, n, f"step {i}")
    return {"counted": n, "actor": getattr(ctx.actor, "username", None)}


@jobs.register("test.wait", "Wait", Permission.VIEW_DASHBOARD)
def wait(ctx):
    ctx.progress(1, 2, "half way")
    if not RELEASE.wait(timeout=30):
        raise RuntimeError("never released")
    ctx.progress(2, 2, "done")
    return {}


@jobs.register("test.fail", "Fail", Permission.MANAGE_STATIONS)
def fail(ctx):
    """Renames a station (audited), then fails before the job ends: nothing is kept."""
    station = db.session.execute(
        select(Station).where(Station.id == ctx.params["station_id"])
    ).scalar_one()
    tracker = audit.track(station)
    station.name = "half-written"
    audit.record_changes("station.updated", tracker, actor=ctx.actor)
    ctx.progress(1, 2)
    if ctx.params.get("domain"):
        raise DomainError("The month has no settlements yet.")
    raise ZeroDivisionError("boom")
