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
    listing = subprocess.run(
        ["pg_restore", "--list", str(target)], capture_output=True, text=True, check=True
    )
    assert "TABLE public stations" in listing.stdout
