"""API tokens: created and revoked by the station's users, stored hashed, shown once."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.api.models import ApiToken
from portal.core import audit
from portal.core.actors import require_actor
from portal.core.db import now_utc
from portal.core.errors import DomainError, PermissionDenied
from portal.core.permissions import Permission, Role, can
from portal.extensions import db

TOKEN_PREFIX = "pst_"  # noqa: S105 - a public marker, not a secret
TOUCH_EVERY = dt.timedelta(minutes=5)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiActor:
    """The caller of an API request: acts as a station user of the token's station."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    id = None

    def __init__(self, token: ApiToken):
        self.token = token
        self.station_id = token.station_id
        self.username = f"api:{token.prefix}"
        self.role_set = frozenset({Role.STATION})

    def __str__(self) -> str:
        return self.username


def tokens_of(station_id: int) -> list[ApiToken]:
    return list(
        db.session.execute(
            select(ApiToken).where(ApiToken.station_id == station_id).order_by(ApiToken.id.desc())
        ).scalars()
    )


def create_token(actor, name: str) -> tuple[ApiToken, str]:
    """A new token for the actor's station; the plain token is returned once, never stored."""
    if not can(require_actor(actor), Permission.MANAGE_API_TOKENS) or actor.station_id is None:
        raise PermissionDenied(_l("Only a station's own users create its API tokens."))
    name = re.sub(r"[\x00-\x1f\x7f]", " ", name or "").strip()
    if not name:
        raise DomainError(_l("Give the token a name (e.g. the system that uses it)."), field="name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        station_id=actor.station_id,
        name=name[:80],
        prefix=plain[:12],
        token_hash=hash_token(plain),
        created_by_id=actor.id,
        created_at=now_utc(),
    )
    db.session.add(token)
    db.session.flush()
    # The entry names the token, never its hash.
    audit.record(
        "api_token.created",
        token,
        actor=actor,
        after={"name": token.name, "prefix": token.prefix, "station_id": token.station_id},
    )
    return token, plain


def revoke_token(actor, token: ApiToken) -> ApiToken:
    """Revoke a token of the actor's station; it stops working at once."""
    require_actor(actor)
    if not can(actor, Permission.MANAGE_API_TOKENS) or actor.station_id != token.station_id:
        raise PermissionDenied(_l("Only a station's own users revoke its API tokens."))
    if token.revoked_at is not None:
        raise DomainError(_l("The token is already revoked."))
    changes = audit.track(token)
    token.revoked_at = now_utc()
    audit.record_changes("api_token.revoked", changes, actor=actor, comment=token.name)
    return token


def authenticate(plain: str | None) -> ApiToken | None:
    """The active token for a presented secret, or None."""
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(plain))
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    now = now_utc()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        token.last_used_at = now  # written with the request's commit, at most every 5 minutes
    return token
