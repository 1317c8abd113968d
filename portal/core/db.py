"""Base model, a UTC datetime column type and the clock."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, MetaData, types
from sqlalchemy.orm import DeclarativeBase

# Ids are 32-bit integers on PostgreSQL: a larger one in a URL can match no row.
MAX_ID = 2**31 - 1


def now_utc() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(types.TypeDecorator):
    """Stores aware datetimes as UTC; always returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_type(enum_cls, length: int = 20) -> Enum:
    """A column type that stores an enum's values (not its names) as plain strings.

    A VARCHAR of the given length rather than a native enum, so adding a member needs no
    ALTER TYPE; the same on SQLite and PostgreSQL.
    """
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model; constraint names are predictable for migrations."""

    metadata = MetaData(naming_convention=NAMING)


# Requests that only read: their SQLite transactions stay deferred (see begin_statement).
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def begin_statement() -> str:
    """How a SQLite transaction starts: BEGIN IMMEDIATE to write, plain (deferred) BEGIN to read.

    A deferred transaction asks for SQLite's write lock only at its first write, and when
    another connection has committed since it began reading, SQLite refuses at once with
    "database is locked" instead of waiting (the busy timeout does not apply): concurrent form
    posts failed that way. BEGIN IMMEDIATE takes the write lock at the start, waiting up to the
    busy timeout, so writers queue one behind the other; it also serializes the checks made
    under portal.spares.locks, which SQLite cannot lock by row. Every request that may write
    (POST, PUT, PATCH, DELETE), the command line and jobs therefore begin IMMEDIATE. GET, HEAD
    and OPTIONS requests begin deferred: with WAL they read side by side while one writer
    writes. The few writes a page view makes (the session's last-seen time, an audit entry for
    showing personal data) can still meet a concurrent commit; they are answered 503 "busy,
    try again" (register_sqlite_busy_page), never a server error.
    """
    from flask import has_request_context, request

    if _READ_ONLY.get():
        return "BEGIN"
    if has_request_context() and request.method in READING_METHODS:
        return "BEGIN"
    return "BEGIN IMMEDIATE"


_READ_ONLY: ContextVar[bool] = ContextVar("portal_read_only_transactions", default=False)


@contextmanager
def reading_only():
    """Transactions begun inside only read: on SQLite they begin deferred (see begin_statement).

    A long read outside a request (a network export in a job) would otherwise hold SQLite's
    write lock for minutes.
    """
    token = _READ_ONLY.set(True)
    try:
        yield
    finally:
        _READ_ONLY.reset(token)


def configure_sqlite(engine) -> None:
    """Real transactions on SQLite: explicit BEGIN (so savepoints work), foreign keys, WAL.

    Write transactions begin IMMEDIATE, reads deferred (begin_statement); a writer waits up
    to 30 s for the one before it (busy_timeout).
    """
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql(begin_statement())


def is_sqlite_busy(error) -> bool:
    """Whether a database error is SQLite's "database is locked" (or busy)."""
    from sqlalchemy.exc import OperationalError

    if not isinstance(error, OperationalError):
        return False
    text = str(getattr(error, "orig", error)).lower()
    return "database is locked" in text or "database is busy" in text


def register_sqlite_busy_page(app) -> None:
    """Answer SQLite's "database is locked" with 503 and Retry-After instead of a server error."""
    from flask import make_response
    from flask_babel import gettext
    from sqlalchemy.exc import OperationalError
    from werkzeug.exceptions import ServiceUnavailable

    from portal.core.http_errors import render_error
    from portal.extensions import db

    @app.errorhandler(OperationalError)
    def _busy(error):
        if not is_sqlite_busy(error):
            raise error
        db.session.rollback()
        app.logger.warning("SQLite busy: %s", error.orig)
        page = ServiceUnavailable(gettext("The portal is busy. Try again in a moment."))
        response = make_response(render_error(page))
        response.headers["Retry-After"] = "2"
        return response
