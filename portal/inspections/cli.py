"""`flask inspections ...`: the default checklist, daily reminders and overdue penalties."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.inspections import services

inspections_cli = AppGroup("inspections", help="Inspections and rectifications.")


def _day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD") from None


@inspections_cli.command("load-template")
def load_template():
    """Load the default checklist of SPEC 4.1 as a published version (once)."""
    version = services.load_default_template(services.system_actor())
    db.session.commit()
    click.echo(f"checklist {version.template.code} v{version.number}: {len(version.items())} items")


@inspections_cli.command("remind")
@click.option("--on", "on", default=None, help="as of this date (YYYY-MM-DD); default today")
def remind(on):
    """Remind of rectifications due soon or overdue, once each (run daily from cron).

    Reminders appear in the portal; they are e-mailed too when MAIL_SERVER is set.
    """
    made, mailed = services.send_reminders(services.system_actor(), _day(on))
    db.session.commit()
    click.echo(f"{made} reminders, {mailed} e-mails")


@inspections_cli.command("penalize-overdue")
@click.option("--on", "on", default=None, help="as of this date (YYYY-MM-DD); default today")
def penalize_overdue(on):
    """Record the overdue-rectification penalty of every started week (run daily from cron)."""
    created = services.penalize_overdue(services.system_actor(), _day(on))
    db.session.commit()
    click.echo(f"{created} penalties recorded")


@inspections_cli.command("daily")
@click.option("--on", "on", default=None, help="as of this date (YYYY-MM-DD); default today")
def daily(on):
    """Both daily jobs: reminders, then overdue penalties."""
    day = _day(on)
    made, mailed = services.send_reminders(services.system_actor(), day)
    created = services.penalize_overdue(services.system_actor(), day)
    db.session.commit()
    click.echo(f"{made} reminders, {mailed} e-mails, {created} penalties recorded")
