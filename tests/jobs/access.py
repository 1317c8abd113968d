"""Access table of the job pages: everyone signed in sees their own jobs."""

from tests.access import SIGNED_IN

ACCESS = {
    "jobs.index": {"GET": SIGNED_IN},
    "jobs.detail": {"GET": SIGNED_IN},
    "jobs.progress": {"GET": SIGNED_IN},
    "jobs.restart": {"POST": SIGNED_IN},
}


def _job(ctx):
    """A job of the walk's user kind that everyone signed in may see: made by SYSTEM, visible
    to HQ-side users; station users get 404 (not theirs), which the walk accepts."""
    if "job_id" not in ctx.objects:
        from portal.core import jobs
        from portal.core.actors import SYSTEM
        from tests.jobs import kinds  # noqa: F401

        job = jobs.enqueue("test.count", {"n": 1}, SYSTEM)
        ctx.db.session.flush()
        ctx.objects["job_id"] = job.id
    return {"job_id": ctx.objects["job_id"]}


URL_ARGS = {
    "jobs.detail": _job,
    "jobs.progress": _job,
    "jobs.restart": _job,
}
