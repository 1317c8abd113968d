"""Command groups: each module's, plus demo data and backup."""

from __future__ import annotations

import contextlib
import os
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
    from portal.auth.passwords import demo_passwords_allowed
    from portal.auth.services import count_users

    if if_empty and count_users() > 0:
        click.echo("database has users; demo data not loaded")
        return
    # The demo users share the published demo password, which new accounts may not use.
    with demo_passwords_allowed():
        for step in demo_steps():
            step()
            db.session.flush()
    db.session.commit()
    click.echo(
        "demo data loaded (sign-ins: admin, hq, auditor, finance, finance-2, station-a, station-b)"
    )


# Connection settings pg_dump reads from the environment (libpq), by URL query parameter.
PG_QUERY_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def pg_dump_environment(url) -> dict[str, str]:
    """The environment that tells pg_dump where to connect, with the password in PGPASSWORD.

    Nothing of the URL goes on pg_dump's command line, which other users of the machine can
    read (ps, /proc); a process's environment is readable only by its owner.
    """
    env = dict(os.environ)
    given = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    for name, variable in PG_QUERY_ENV.items():
        value = url.query.get(name)
        if value is not None:
            given[variable] = value if isinstance(value, str) else value[-1]
    env.update({k: v for k, v in given.items() if v})
    return env


def _private_file(path: Path) -> None:
    """Create or empty path so that only its owner can read or write it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT


@contextlib.contextmanager
def _owner_only_umask():
    """Files created meanwhile (SQLite's journal beside the copy) are the owner's alone."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, writable=True))
def backup(target):
    """Write a consistent copy of the live database to TARGET (readable by its owner only)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    target_path = Path(target)
    if url.get_backend_name() == "sqlite":
        with _owner_only_umask():
            _private_file(target_path)
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
        with _owner_only_umask():
            _private_file(target_path)
            result = subprocess.run(  # noqa: S603 - fixed program; no URL or secret in argv
                [pg_dump, "--format=custom", "--no-owner", "--file", str(target_path)],
                env=pg_dump_environment(url),
                check=False,
            )
        if result.returncode != 0:
            raise click.ClickException(f"pg_dump failed (exit {result.returncode})")
    else:
        raise click.ClickException(f"no backup method for {url.get_backend_name()}")
    click.echo(f"backup written to {target_path}")


@click.command("prune-tokens")
def prune_tokens():
    """Forget spent one-time form tokens and API idempotency keys past their lifetime."""
    from portal.api.idempotency import prune_idempotency_keys
    from portal.core.forms import prune_form_tokens

    forms = prune_form_tokens()
    keys = prune_idempotency_keys()
    db.session.commit()
    click.echo(f"removed {forms} spent form tokens and {keys} idempotency keys")


def init_commands(app: Flask) -> None:
    from portal.auth.cli import users_cli
    from portal.certification.cli import certification_cli
    from portal.core.files import files_cli
    from portal.inspections.cli import inspections_cli
    from portal.jobs.cli import jobs_cli
    from portal.settlement.cli import settlement_cli
    from portal.spares.cli import spares_cli
    from portal.stations.cli import stations_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(certification_cli)
    app.cli.add_command(files_cli)
    app.cli.add_command(inspections_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(settlement_cli)
    app.cli.add_command(spares_cli)
    app.cli.add_command(stations_cli)
    app.cli.add_command(demo_data)
    app.cli.add_command(backup)
    app.cli.add_command(prune_tokens)
