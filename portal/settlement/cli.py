"""`flask --app portal settlement ...`: the month's workbook from the command line."""

from __future__ import annotations

import shutil

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal.core import jobs
from portal.core.actors import SYSTEM
from portal.core.errors import DomainError
from portal.extensions import db

settlement_cli = AppGroup("settlement", help="Monthly labour-fee settlement.")


def _station_id(code: str | None) -> int | None:
    from portal.stations.models import Station

    if not code:
        return None
    found = db.session.execute(
        select(Station.id).where(Station.code == code.strip().upper())
    ).scalar_one_or_none()
    if found is None:
        raise click.ClickException(f"no station {code}")
    return found


def _month(text: str):
    from portal.settlement.export import parse_month

    try:
        return parse_month(text)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None


def follow(job_id: int) -> jobs.Job:
    """Wait for a job, printing its progress; ClickException when it fails."""
    job = jobs.wait_for(job_id, echo=lambda line: click.echo(line, err=True))
    if job.shown_state() != jobs.JobState.DONE:
        raise click.ClickException(f"job {job_id} failed: {job.error_text()}")
    return job


@settlement_cli.command("export")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--station", "station", default=None, help="one station's code (default: all)")
def export_command(month, out, station):
    """Write the month's workbook (SPEC 8.5) to OUT; it is also kept with its SHA-256."""
    from portal.settlement import export

    try:
        job = export.start_export(
            _month(month), SYSTEM, station_id=_station_id(station), locale="zh", here=True
        )
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    job = follow(job.id)
    record = db.session.get(export.SettlementExport, job.result["export_id"])
    shutil.copyfile(export.export_path(record), out)
    click.echo(f"{out}\tsha256 {record.sha256}\t{record.record_rows} records")


@settlement_cli.command("run")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--station", "stations", multiple=True, help="a station's code (repeat; default all)")
def run_command(month, stations):
    """Run the month's settlement as a job, waiting for it and printing its progress."""
    from portal.settlement import run_jobs

    try:
        station_ids = run_jobs.station_ids_from_codes(" ".join(stations))
        job = run_jobs.start_run(_month(month), station_ids, SYSTEM, here=True)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    job = follow(job.id)
    summary = ", ".join(f"{k}={v}" for k, v in (job.result or {}).items())
    click.echo(f"{month} done: {summary}")


@settlement_cli.command("show")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--json", "as_json", is_flag=True, help="one JSON list (default: a table)")
def show_command(month, as_json):
    """Each station's current settlement of the month: counts, reasons, money, state."""
    import json

    from portal.settlement.queries import month_summary

    rows = month_summary(_month(month))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        click.echo(
            f"{row['code']}\t{row['state']}\tvalid {row['valid']}\tinvalid {row['invalid']}"
            f"\tnet {row['net']}\tcarried {row['carried_out']}"
        )


@settlement_cli.command("import-earlier")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_earlier_command(path):
    """Import repairs done before the portal (all or nothing; the same rows twice: no change)."""
    import os

    from portal.core.imports import ImportRefused
    from portal.settlement import earlier

    with open(path, "rb") as handle:
        data = handle.read()
    try:
        batch = earlier.import_earlier_repairs(SYSTEM, os.path.basename(path), data)
        db.session.commit()
    except ImportRefused as refused:
        db.session.rollback()
        for p in refused.problems:
            click.echo(f"row {p['row']}\t{p['column']}\t{p['message']}", err=True)
        raise click.ClickException(str(refused.message)) from None
    click.echo(f"{batch.added_count} added, {batch.row_count} rows, sha256 {batch.sha256}")
