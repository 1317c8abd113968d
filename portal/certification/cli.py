"""`flask certification ...`: the daily compliance re-check."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from portal.certification import services
from portal.core.actors import SYSTEM
from portal.extensions import db

certification_cli = AppGroup("certification", help="Station certification.")


@certification_cli.command("check-compliance")
@click.option("--on", "on", default=None, help="check as of this date (YYYY-MM-DD); default today")
def check_compliance(on):
    """Re-evaluate every station against its tier and record what changed (daily cron)."""
    day = dt.date.fromisoformat(on) if on else None
    checked, changed, failing = services.check_all_stations(SYSTEM, day)
    db.session.commit()
    click.echo(f"checked {checked} stations: {changed} changed, {failing} not compliant")
