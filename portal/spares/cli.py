"""`flask spares ...`: imports, the daily unreturned-parts run, and the reconciliation proof."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from portal.core.errors import DomainError
from portal.extensions import db

spares_cli = AppGroup("spares", help="Spare parts: catalogue and stock imports, reconcile.")


def _actor(username: str | None):
    """The user named with --user, else the system actor for jobs."""
    if username:
        from portal.auth.services import find_user

        user = find_user(username)
        if user is None:
            raise click.UsageError(f"no user {username!r}")
        return user
    from portal.core.actors import SYSTEM

    return SYSTEM


def _report_rejection(error) -> None:
    click.echo(f"Refused: {error.message}", err=True)
    for problem in getattr(error, "problems", None) or []:
        click.echo(
            f"  row {problem.get('row')}, {problem.get('field')}: {problem.get('message')}"
            f" (value: {problem.get('value')!r})",
            err=True,
        )


def _import(kind: str, path: str, username: str | None, as_of=None) -> None:
    from portal.spares import excel

    data = Path(path).read_bytes()
    actor = _actor(username)
    try:
        if kind == "parts":
            result = excel.import_parts(actor, Path(path).name, data)
            message = f"{result.rows} rows: {result.created} new parts, {result.changed} changed"
        else:
            result = excel.import_opening_stock(actor, Path(path).name, data, as_of)
            message = f"{result.rows} rows imported for {result.stations} stations"
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        _report_rejection(error)
        raise SystemExit(1) from None
    click.echo(message)


@spares_cli.command("import-stock")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "username", help="act as this user (default: the system)")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="the day the stock was held (default today); the return period counts from it",
)
def import_stock(path, username, as_of):
    """Import stations' opening good and defective stock from an xlsx (all or nothing)."""
    _import("stock", path, username, as_of.date() if as_of else None)


@spares_cli.command("import-parts")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "username", help="act as this user (default: the system)")
def import_parts(path, username):
    """Create or update catalogue parts from an xlsx (all or nothing)."""
    _import("parts", path, username)


@spares_cli.command("charge-unreturned")
@click.option("--user", "username", help="act as this user (default: the system)")
def charge_unreturned(username):
    """Charge defective parts held past the return period (daily, from cron); once each."""
    from portal.spares import stock

    actor = _actor(username)
    total = 0
    for station_id in stock.stations_holding_defective():
        charged = stock.charge_unreturned(actor, station_id)
        db.session.commit()
        total += len(charged)
    click.echo(f"{total} deductions recorded for unreturned defective parts")


@spares_cli.command("reconcile")
def reconcile():
    """Prove that on-hand stock and deposit balances equal the sums of their ledgers."""
    from portal.spares import stock

    result = stock.reconcile()
    if result.ok:
        click.echo(
            f"OK: {result.stations} stations; on-hand stock and deposit balances equal their "
            "ledgers."
        )
        return
    for problem in result.problems:
        click.echo(problem, err=True)
    click.echo(f"FAILED: {len(result.problems)} differences.", err=True)
    raise SystemExit(1)
