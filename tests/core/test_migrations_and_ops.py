"""Migrations build the schema with no drift; demo data is idempotent; backups restore."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest
from flask_migrate import check, downgrade, upgrade
from sqlalchemy import inspect, select, text

from portal.auth.models import User
from portal.stations.models import Station
from tests.conftest import ON_POSTGRES


def test_migrated_database_matches_the_models(app):
    # The session database was built from nothing by running every migration.
    with app.app_context():
        try:
            check()
        except SystemExit as exit_:  # flask_migrate reports drift by exiting
            pytest.fail(f"models and migrations differ (exit {exit_.code})")


@pytest.mark.skipif(ON_POSTGRES, reason="runs on a throwaway SQLite file")
def test_migrations_go_down_and_up_again(tmp_path, app_config):
    from portal import create_app
    from portal.extensions import db

    fresh = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"})
    with fresh.app_context():
        upgrade()
        downgrade(revision="base")
        assert "stations" not in inspect(db.engine).get_table_names()
        upgrade()
        assert {"stations", "users", "audit_entries"} <= set(inspect(db.engine).get_table_names())
        check()  # exits (fails the test) if the models and migrations differ
        db.engine.dispose()


def test_demo_data_is_idempotent(runner, db):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    counts = (
        db.session.query(Station).count(),
        db.session.query(User).count(),
    )
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0
    assert (db.session.query(Station).count(), db.session.query(User).count()) == counts
    demo = {u.username: u for u in db.session.execute(select(User)).scalars() if u.is_demo}
    assert {"admin", "hq", "auditor", "finance", "station-a", "station-b"} <= set(demo)
    assert demo["station-a"].station_id != demo["station-b"].station_id
    assert demo["station-a"].station_id
    assert demo["station-b"].station_id
    tiers = {s.tier.value for s in db.session.execute(select(Station)).scalars()}
    assert tiers == {"accessory_point", "service_station", "service_center"}
    assert demo["hq"].check_password("portal-demo")


def test_demo_banner_shows_while_demo_users_exist(client, runner, login_as):
    login_as("hq")
    assert "demo-banner" not in client.get("/").get_data(as_text=True)
    runner.invoke(args=["demo-data"])
    assert "demo-banner" in client.get("/").get_data(as_text=True)


def test_if_empty_skips_a_database_with_users(runner, make):
    make.user(role="hq")
    result = runner.invoke(args=["demo-data", "--if-empty"])
    assert "not loaded" in result.output


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite online backup")
def test_sqlite_backup_is_a_consistent_copy(tmp_path, app_config):
    from portal import create_app
    from portal.extensions import db

    live = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/live.db"})
    with live.app_context():
        upgrade()
        live.test_cli_runner().invoke(args=["demo-data"])
        db.session.remove()
        # Other modules' demo data may add stations (an authorized demo application does).
        stations = db.session.execute(text("SELECT count(*) FROM stations")).scalar_one()
        assert stations >= 24
        db.session.remove()
        result = live.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.db")])
        assert result.exit_code == 0, result.output
        db.engine.dispose()
    assert (tmp_path / "copy.db").stat().st_mode & 0o777 == 0o600
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("SELECT count(*) FROM stations").fetchone()[0] == stations
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()


@pytest.mark.postgres_only
def test_postgres_backup_with_pg_dump(runner, tmp_path):
    target = tmp_path / "portal.dump"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:5] == b"PGDMP"
    assert target.stat().st_mode & 0o777 == 0o600
    listing = subprocess.run(
        ["pg_restore", "--list", str(target)], capture_output=True, text=True, check=True
    )
    assert "TABLE public stations" in listing.stdout


def test_pg_dump_gets_credentials_from_the_environment_not_its_command_line(
    app, runner, tmp_path, monkeypatch
):
    import portal.cli

    url = "postgresql+psycopg://portal:s3cret-pw@db.internal:5433/portal_live?sslmode=require"
    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", url)
    monkeypatch.setattr(portal.cli.shutil, "which", lambda name: "/usr/bin/pg_dump")
    calls = []

    def fake_run(argv, **kwargs):
        calls.append((argv, kwargs))
        target = argv[argv.index("--file") + 1]
        with open(target, "ab") as handle:
            handle.write(b"PGDMP")
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(portal.cli.subprocess, "run", fake_run)
    target = tmp_path / "live.dump"
    target.write_bytes(b"old")
    target.chmod(0o644)  # an older, too readable file is emptied and made private
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    (argv, kwargs) = calls[0]
    assert not any("s3cret" in part or "postgresql" in part for part in argv)
    assert not any("db.internal" in part for part in argv)
    env = kwargs["env"]
    assert env["PGPASSWORD"] == "s3cret-pw"
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"]) == ("db.internal", "5433", "portal")
    assert (env["PGDATABASE"], env["PGSSLMODE"]) == ("portal_live", "require")
    assert target.read_bytes() == b"PGDMP"
    assert target.stat().st_mode & 0o777 == 0o600


def test_failed_pg_dump_is_reported(app, runner, tmp_path, monkeypatch):
    import portal.cli

    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://x@h/d")
    monkeypatch.setattr(portal.cli.shutil, "which", lambda name: "/usr/bin/pg_dump")
    monkeypatch.setattr(
        portal.cli.subprocess, "run", lambda argv, **kw: subprocess.CompletedProcess(argv, 1)
    )
    result = runner.invoke(args=["backup", str(tmp_path / "x.dump")])
    assert result.exit_code != 0
    assert "pg_dump failed" in result.output
