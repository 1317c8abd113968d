"""Command groups: each module's, plus demo data and backup."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy.engine import make_url

from portal.extensions import db


def demo_steps():
    """Each module's demo loader, in dependency order."""
    from portal.auth import demo as auth_demo
    from portal.certification import demo as certification_demo
    from portal.inspections import demo as inspections_demo
    from portal.reports import demo as reports_demo
    from portal.spares import demo as spares_demo
    from portal.stations import demo as stations_demo

    return [
        stations_demo.load,
        auth_demo.load,
        certification_demo.load,
        spares_demo.load,  # parts and opening stock before the reports consume them
        reports_demo.load,
        inspections_demo.load,
        spares_demo.load_flows,
    ]


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="only when the database has no users yet")
def demo_data(if_empty):
    """Load demo data (idempotent: what exists is left alone)."""
    from portal.auth.services import count_users

    if if_empty and count_users() > 0:
        click.echo("database has users; demo data not loaded")
        return
    for step in demo_steps():
        step()
        db.session.flush()
    db.session.commit()
    click.echo("demo data loaded (sign-ins: admin, hq, auditor, finance, station-a, station-b)")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, writable=True))
def backup(target):
    """Write a consistent copy of the live database to TARGET."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    target_path = Path(target)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(url.database)
        dest = sqlite3.connect(target_path)
        with dest:
            source.backup(dest)  # SQLite's online backup: consistent while others write
        dest.close()
        source.close()
    elif url.get_backend_name() == "postgresql":
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise click.ClickException("pg_dump is not installed")
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(  # noqa: S603 - fixed program, URL from our own configuration
            [pg_dump, "--format=custom", "--no-owner", "--file", str(target_path), plain],
            check=True,
        )
    else:
        raise click.ClickException(f"no backup method for {url.get_backend_name()}")
    click.echo(f"backup written to {target_path}")


def init_commands(app: Flask) -> None:
    from portal.auth.cli import users_cli
    from portal.certification.cli import certification_cli
    from portal.inspections.cli import inspections_cli
    from portal.spares.cli import spares_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(certification_cli)
    app.cli.add_command(inspections_cli)
    app.cli.add_command(spares_cli)
    app.cli.add_command(demo_data)
    app.cli.add_command(backup)
