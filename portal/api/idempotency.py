"""Idempotency-Key for API calls that create things (reports today; money and stock movements).

A client that sends `Idempotency-Key: <its own unique value>` may send the same call again
(after a timeout, a dropped connection) without it taking effect twice: the first answer is
stored with the work, in the same transaction, and a repeat with the same key and the same
request gets that answer again, with `Idempotent-Replayed: true`. The same key with a
different request is refused with 422. Keys belong to the caller's station and are kept at
least IDEMPOTENCY_KEY_MAX_AGE (`flask --app portal prune-tokens` forgets older ones).

Usage: put `@idempotent()` between `@blp.route(...)` and the other decorators of a view that
creates something. The view does not commit: the decorator commits the work together with the
stored answer, or rolls both back when the answer is an error.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re

from flask import Response, g, make_response, request
from flask_smorest import Blueprint, abort
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import UTCDateTime, now_utc
from portal.extensions import db

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_KEY_MAX_AGE = dt.timedelta(hours=24)
# Visible ASCII only, as HTTP header values are; a UUID fits easily.
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")

HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": (
        "Optional. A value unique to this call (e.g. a UUID). Sending the call again with the "
        "same key returns the first answer without doing the work twice; the same key with a "
        "different request is refused with 422. Keys are kept for at least 24 hours."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


class IdempotencyKey(db.Model):
    """A key a caller sent with a creating call, and the answer that call got."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("station_id", "key", name="uq_idempotency_keys_station_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc, index=True)


def request_fingerprint() -> str:
    """What makes two calls "the same request": method, path, query and the JSON body."""
    body = request.get_json(silent=True)
    if body is None:
        content = request.get_data()
    else:
        content = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.query_string, content):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _stored(station_id: int, key: str) -> IdempotencyKey | None:
    return db.session.execute(
        select(IdempotencyKey).where(
            IdempotencyKey.station_id == station_id, IdempotencyKey.key == key
        )
    ).scalar_one_or_none()


def _replay(row: IdempotencyKey | None, fingerprint: str) -> Response:
    if row is None or row.status_code is None:
        # Not seen committed: the first call is still at work, or was just rolled back.
        abort(409, message=f"A request with this {HEADER} is still being processed; retry.")
    if row.fingerprint != fingerprint:
        abort(
            422,
            message=f"This {HEADER} was already used with a different request; "
            "use a new key for a new request.",
            errors={"headers": {HEADER: ["already used with a different request"]}},
        )
    response = Response(row.response_body, status=row.status_code, mimetype="application/json")
    response.headers[REPLAYED_HEADER] = "true"
    return response


def idempotent(station_of=lambda: g.api_actor.station_id):
    """Make a creating API view honour the Idempotency-Key header (see the module docstring)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                return _run_and_commit(view, args, kwargs)
            if not KEY_PATTERN.fullmatch(key):
                abort(
                    422,
                    message=f"{HEADER} must be 1 to 255 visible ASCII characters.",
                    errors={"headers": {HEADER: ["1 to 255 visible ASCII characters"]}},
                )
            station_id = station_of()
            fingerprint = request_fingerprint()
            row = _stored(station_id, key)
            if row is not None:
                return _replay(row, fingerprint)
            # Claim the key first, in the transaction that does the work: a concurrent call
            # with the same key waits on the unique index until this one ends.
            row = IdempotencyKey(station_id=station_id, key=key, fingerprint=fingerprint)
            try:
                with db.session.begin_nested():
                    db.session.add(row)
            except IntegrityError:
                # Another call with this key committed first (the savepoint is rolled back).
                return _replay(_stored(station_id, key), fingerprint)
            return _run_and_commit(view, args, kwargs, row)

        return Blueprint.doc(parameters=[HEADER_DOC])(wrapper)

    return decorator


def _run_and_commit(view, args, kwargs, row: IdempotencyKey | None = None) -> Response:
    """Run the view; commit its work (and the stored answer) only if it answered 2xx."""
    try:
        response = make_response(view(*args, **kwargs))
    except BaseException:
        db.session.rollback()
        raise
    if not 200 <= response.status_code < 300:
        db.session.rollback()
        return response
    if row is not None:
        row.status_code = response.status_code
        row.response_body = response.get_data(as_text=True)
    db.session.commit()
    return response


def prune_idempotency_keys(now: dt.datetime | None = None) -> int:
    """Forget keys older than IDEMPOTENCY_KEY_MAX_AGE; how many were removed."""
    cutoff = (now or now_utc()) - IDEMPOTENCY_KEY_MAX_AGE
    result = db.session.execute(
        IdempotencyKey.__table__.delete().where(IdempotencyKey.created_at < cutoff)
    )
    return result.rowcount or 0
