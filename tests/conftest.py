"""Fixtures: an app on a database built by the real migrations, rolled back per test."""

from __future__ import annotations

import os
import re

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import orm, text
from sqlalchemy.engine import make_url

from tests import audit_guard, factories

TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
ON_POSTGRES = bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres_only: runs only against PostgreSQL")


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set PORTAL_TEST_DATABASE_URL")
    for item in items:
        if "postgres_only" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip_pg)


def reset_database(engine) -> None:
    """Drop every table so the migrations build the schema from nothing."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        path = url.database
        engine.dispose()
        if path and os.path.exists(path):
            os.remove(path)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "portal-test.db")


@pytest.fixture(scope="session")
def app_config(database_url, tmp_path_factory):
    os.environ["PORTAL_INSTANCE_PATH"] = str(tmp_path_factory.mktemp("instance"))
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Fast hashing in tests only; production uses scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
        # Jobs run when a test calls portal.core.jobs.run_queued(), on the test's connection.
        "JOBS_RUNNER": "manual",
    }


class FreshContextClient(FlaskClient):
    """Each request in its own app context (new g, new session), as in production.

    Tests hold an app context open; without this, requests would share its g (the signed-in
    user, the locale) and its session's identity map.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Assertions read English messages; Chinese pages are tested with their own header.
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    def open(self, *args, **kwargs):
        from portal.extensions import db

        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()  # the test's own session sees what the request wrote
        return response


@pytest.fixture(scope="session")
def app(app_config):
    from portal import create_app
    from portal.extensions import db

    app = create_app(app_config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        reset_database(db.engine)
        upgrade()
        db.engine.dispose()
    yield app
    # Close pooled connections now: a second app (proxied_app) takes over the extensions'
    # references to this one, which would otherwise be collected with its connections open.
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def proxied_app(app, app_config):
    """The portal behind one trusted reverse proxy (TRUSTED_PROXIES=1), same database."""
    from portal import create_app
    from portal.extensions import db

    proxied = create_app({**app_config, "TRUSTED_PROXIES": 1})
    proxied.test_client_class = FreshContextClient
    yield proxied
    with proxied.app_context():
        db.engine.dispose()


@pytest.fixture
def db(app):
    """The database, with everything a test does rolled back at its end."""
    from flask_sqlalchemy.session import _app_ctx_id

    from portal.extensions import db as _db
    from portal.extensions import limiter

    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        original = _db.session
        _db.session = orm.scoped_session(
            orm.sessionmaker(
                bind=connection,
                join_transaction_mode="create_savepoint",
                expire_on_commit=True,
            ),
            scopefunc=_app_ctx_id,
        )
        limiter.reset()
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _audit_guard():
    """Fail a test whose request or command committed unaudited changes (tests/audit_guard.py)."""
    audit_guard.violations.clear()
    yield
    found = list(audit_guard.violations)
    audit_guard.violations.clear()
    assert not found, f"changes committed without an audit entry: {found}"


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def make(db):
    """Factories bound to the test database: make.station(), make.user(role=...)."""
    return factories.Factories(db)


@pytest.fixture
def login_as(client, make):
    """Sign the test client in as a new user with the role; returns the user."""

    def _login(role: str = "hq", station=None, password: str = "secret-pass-1", **kwargs):
        user = make.user(role=role, station=station, password=password, **kwargs)
        response = client.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return _login


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf token in page"
    return match.group(1)
