"""SQLite with concurrent users (a file database, real threads, as `make run` serves with four
threads): writers queue behind BEGIN IMMEDIATE instead of failing "database is locked", and
page views still read while a writer holds the lock."""

from __future__ import annotations

import re
import sqlite3
import threading
from decimal import Decimal

import pytest
from flask_migrate import upgrade

from portal.core.db import begin_statement
from tests.conftest import ON_POSTGRES

PASSWORD = "secret-pass-1"  # noqa: S105 - a test user's password


@pytest.mark.parametrize(
    ("method", "statement"),
    [
        ("GET", "BEGIN"),
        ("HEAD", "BEGIN"),
        ("POST", "BEGIN IMMEDIATE"),
        ("PUT", "BEGIN IMMEDIATE"),
        ("DELETE", "BEGIN IMMEDIATE"),
    ],
)
def test_requests_that_may_write_begin_immediate(app, method, statement):
    with app.test_request_context(method=method):
        assert begin_statement() == statement


def test_the_command_line_and_jobs_begin_immediate(app):
    with app.app_context():
        assert begin_statement() == "BEGIN IMMEDIATE"


# Like the other throwaway-SQLite-file tests, these run in the SQLite suite only (a second app
# created during a PostgreSQL run was seen to leave pooled psycopg connections open at exit).
needs_sqlite_run = pytest.mark.skipif(ON_POSTGRES, reason="runs on a throwaway SQLite file")


@pytest.fixture
def live(tmp_path, app_config):
    """An app on its own SQLite file, migrated, with a station holding 50.00 of deposit."""
    from portal import create_app
    from portal.extensions import db
    from tests.factories import Factories

    path = tmp_path / "busy.db"
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        make = Factories(db)
        station = make.station()
        make.deposit(station, amount="50.00")
        finance = make.user(role="finance", password=PASSWORD)
        db.session.commit()
        app.config["station_id"] = station.id
        app.config["finance"] = finance.username
        db.session.remove()
    yield app, path
    with app.app_context():
        db.engine.dispose()


def _signed_in(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post("/login", data={"username": app.config["finance"], "password": PASSWORD})
    assert response.status_code == 302
    return client


def _balance(app) -> Decimal:
    from portal.extensions import db
    from portal.spares import services as deposits

    with app.app_context():
        value = deposits.balance(deposits.account_for_station(app.config["station_id"]))
        db.session.remove()
        return value


@needs_sqlite_run
def test_eight_concurrent_deposit_posts_queue_and_none_fails(live):
    app, _path = live
    station_id = app.config["station_id"]
    page_url = f"/stations/{station_id}"
    action = f"/certification/stations/{station_id}/deposit"
    clients = [_signed_in(app) for _ in range(8)]
    tokens = []
    for client in clients:
        html = client.get(page_url).get_data(as_text=True)
        form = re.search(r'<form[^>]*action="' + re.escape(action) + r'".*?</form>', html, re.S)
        tokens.append(re.search(r'name="form_token"[^>]*value="([^"]+)"', form.group(0)).group(1))

    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def post(client, token):
        data = {"kind": "deduction", "amount": "10", "entry_on": "2026-11-03", "form_token": token}
        try:
            barrier.wait(timeout=30)
            response = client.post(action, data=data, follow_redirects=True)
            page = response.get_data(as_text=True)
            if response.status_code == 200 and "The deposit entry is recorded." in page:
                outcomes.append("recorded")
            elif response.status_code == 422 and "cannot go below zero" in page:
                outcomes.append("refused")  # the form comes back with the reason, input kept
            elif response.status_code not in (200, 422):
                outcomes.append(f"HTTP {response.status_code}")
            else:
                outcomes.append("no message")
        except Exception as exc:  # TESTING propagates server errors: this is what is tested
            outcomes.append(f"error: {exc!r}")

    threads = [
        threading.Thread(target=post, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["recorded"] * 5 + ["refused"] * 3, outcomes
    assert _balance(app) == Decimal("0.00")


@needs_sqlite_run
def test_page_views_read_while_a_writer_holds_the_lock(live):
    app, path = live
    client = _signed_in(app)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE stations SET notes = 'being edited' WHERE id = ?", (1,))
        # A GET begins deferred: it reads the last committed state at once instead of waiting
        # (with BEGIN IMMEDIATE it would wait 30 s for the lock and then fail).
        response = client.get(f"/stations/{app.config['station_id']}")
        assert response.status_code == 200
        assert "being edited" not in response.get_data(as_text=True)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@needs_sqlite_run
def test_a_locked_database_is_answered_503_not_a_server_error(app, client, monkeypatch):
    import sqlite3 as driver

    from sqlalchemy.exc import OperationalError

    def locked():
        raise OperationalError("UPDATE ...", {}, driver.OperationalError("database is locked"))

    monkeypatch.setitem(app.view_functions, "main.healthz", locked)
    page = client.get("/healthz")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "2"
    assert "busy" in page.get_data(as_text=True)

    def broken():
        raise OperationalError("SELECT ...", {}, driver.OperationalError("no such table: x"))

    monkeypatch.setitem(app.view_functions, "main.healthz", broken)
    with pytest.raises(OperationalError):  # other database errors stay server errors
        client.get("/healthz")
