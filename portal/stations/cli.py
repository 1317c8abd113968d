"""`flask --app portal stations ...`: station master data from the command line."""

from __future__ import annotations

import os

import click
from flask.cli import AppGroup

from portal.core.actors import SYSTEM
from portal.extensions import db

stations_cli = AppGroup("stations", help="Stations: master data.")


@stations_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_command(path):
    """Create or update stations from a workbook (all or nothing; same file twice: no change)."""
    from portal.core.imports import ImportRefused
    from portal.stations.importing import import_stations

    with open(path, "rb") as handle:
        data = handle.read()
    try:
        result = import_stations(SYSTEM, os.path.basename(path), data)
        db.session.commit()
    except ImportRefused as refused:
        db.session.rollback()
        for p in refused.problems:
            click.echo(f"row {p['row']}\t{p['column']}\t{p['message']}", err=True)
        raise click.ClickException(str(refused.message)) from None
    click.echo(
        f"{result['rows']} rows: {result['created']} created, {result['updated']} updated, "
        f"{result['unchanged']} unchanged (sha256 {result['sha256']})"
    )
