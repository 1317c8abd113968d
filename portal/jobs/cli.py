"""`flask --app portal jobs ...`: the RQ worker, and the list of recent jobs."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal.core import jobs
from portal.extensions import db

jobs_cli = AppGroup("jobs", help="Background jobs (a month's run, exports).")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="stop when the queue is empty")
def worker(burst):
    """Run jobs from the RQ queue (needs REDIS_URL); several workers may share it."""
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: without it jobs run in the portal")
    click.echo(f"worker on queue {current_app.config.get('JOBS_QUEUE', 'portal')}")
    jobs.work(current_app._get_current_object(), burst=burst)


@jobs_cli.command("list")
@click.option("--limit", default=20, show_default=True)
def list_jobs(limit):
    """The latest jobs with their state and progress."""
    rows = db.session.execute(select(jobs.Job).order_by(jobs.Job.id.desc()).limit(limit)).scalars()
    for job in rows:
        state = job.shown_state()
        click.echo(
            f"{job.id}\t{job.kind}\t{state.value}\t{job.done}/{job.total}\t"
            f"{job.created_by_name}\t{job.error_text() if state == jobs.JobState.FAILED else ''}"
        )


@jobs_cli.command("restart")
@click.argument("job_id", type=int)
def restart_job(job_id):
    """Queue a failed job again (it runs here unless RQ runs jobs)."""
    from portal.core.actors import SYSTEM

    job = db.session.get(jobs.Job, job_id)
    if job is None:
        raise click.ClickException(f"no job {job_id}")
    try:
        jobs.restart(job, SYSTEM, here=True)
    except jobs.DomainError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    job = jobs.wait_for(job_id, echo=click.echo)
    click.echo(f"job {job_id}: {job.shown_state().value}")
