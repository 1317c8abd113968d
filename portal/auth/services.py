"""Sign-in sessions and user administration."""

from __future__ import annotations

import functools
import re
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from portal.auth import passwords
from portal.auth.models import User, UserSession, hash_token
from portal.core import audit
from portal.core.actors import SYSTEM_USERNAME, require_actor
from portal.core.db import now_utc
from portal.core.errors import DomainError, PermissionDenied
from portal.core.inputs import clean_text
from portal.core.permissions import Permission, Role, can
from portal.extensions import db

USER_FIELDS = ("username", "display_name", "email", "active", "station_id", "locale")
MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
USERNAME_PATTERN = re.compile(r"^[a-z0-9._-]{1,80}$")
# Names the portal uses for itself: the audit trail must not confuse a user with them.
RESERVED_USERNAMES = frozenset({SYSTEM_USERNAME})
# Touch last_seen_at at most this often, so reading pages does not write on every request.
TOUCH_EVERY = timedelta(minutes=1)


def find_user(username: str) -> User | None:
    """The user with this username (case-insensitive), or None."""
    name = (username or "").strip().lower()
    return db.session.execute(select(User).where(User.username == name)).scalar_one_or_none()


def authenticate(username: str, password: str) -> User | None:
    """The active user whose password matches, else None (same answer for every failure)."""
    user = find_user(username)
    if user is None:
        # Spend the same time as a real check so timing does not reveal unknown users.
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    return user


def start_session(user: User, ip: str = "", user_agent: str = "") -> str:
    """Create a server-side session for user; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = now_utc()
    db.session.add(
        UserSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            ip=clean_text(ip or "")[:64],
            user_agent=clean_text(user_agent or "")[:255],
        )
    )
    user.last_login_at = now
    user.session_token = token
    audit.record("auth.login", user, actor=user)
    return token


def end_session(token: str | None) -> None:
    """Delete the server-side session: the cookie that carried it no longer works."""
    if not token:
        return
    db.session.execute(delete(UserSession).where(UserSession.token_hash == hash_token(token)))


def load_session_user(
    token: str, idle_timeout: timedelta, max_age: timedelta | None = None
) -> tuple[User | None, bool]:
    """The user of a live session token, and whether the session row was changed.

    A session ends when unused for idle_timeout, and in any case max_age after sign-in.
    """
    row = db.session.execute(
        select(UserSession).where(UserSession.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if row is None:
        return None, False
    now = now_utc()
    expired_idle = now - row.last_seen_at > idle_timeout
    expired_absolute = max_age is not None and now - row.created_at > max_age
    if expired_idle or expired_absolute:
        db.session.delete(row)
        return None, True
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return None, False
    touched = False
    if now - row.last_seen_at > TOUCH_EVERY:
        db.session.execute(
            update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now)
        )
        touched = True
    user.session_token = token
    return user, touched


def end_all_sessions(user: User, keep_token: str | None = None) -> None:
    """Sign the user out everywhere (optionally except the current browser)."""
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_token:
        stmt = stmt.where(UserSession.token_hash != hash_token(keep_token))
    db.session.execute(stmt)


def _check_password_rules(password: str, *, username: str = "", field: str) -> None:
    message = passwords.problem(password, username=username)
    if message is not None:
        raise DomainError(message, field=field)


def change_password(user: User, current: str, new: str) -> None:
    """Change the user's own password (the user is the actor); the current one must be given."""
    if not user.check_password(current or ""):
        raise DomainError(_l("The current password is not correct."), field="current_password")
    _check_password_rules(new, username=user.username, field="new_password")
    user.set_password(new)
    end_all_sessions(user, keep_token=user.session_token)
    audit.record("auth.password_changed", user, actor=user)


def _require_admin(actor) -> None:
    if not can(require_actor(actor), Permission.MANAGE_USERS):
        raise PermissionDenied(_l("You may not manage users."))


def _check_station_binding(
    roles: set[Role], station_id: int | None, candidate: bool = False
) -> None:
    # A candidate (station role, application under way) has no station until authorized.
    if candidate and roles != {Role.STATION}:
        raise DomainError(_l("A station user cannot also hold an HQ role."), field="roles")
    if Role.STATION in roles and station_id is None and not candidate:
        raise DomainError(_l("A station user must be bound to a station."), field="station_id")
    if Role.STATION not in roles and station_id is not None:
        raise DomainError(_l("Only station users are bound to a station."), field="station_id")
    if Role.STATION in roles and len(roles) > 1:
        raise DomainError(_l("A station user cannot also hold an HQ role."), field="roles")


def create_user(
    actor,
    *,
    username: str,
    password: str,
    roles,
    display_name: str = "",
    email: str = "",
    station_id: int | None = None,
    locale: str | None = None,
    is_demo: bool = False,
    candidate: bool = False,
) -> User:
    """Create a user with roles; a station user is bound to its station (or is a candidate).

    An administrator (or SYSTEM) creates users. A candidate signs itself up (public sign-up):
    then actor may be None, and the new account is recorded as having created itself.
    """
    if not candidate:
        _require_admin(actor)
    name = (username or "").strip().lower()
    if not name:
        raise DomainError(_l("A username is required."), field="username")
    if not USERNAME_PATTERN.match(name):
        raise DomainError(_l("Letters, digits, dot, dash, underscore."), field="username")
    if name in RESERVED_USERNAMES:
        raise DomainError(_l("The username %(name)s is taken.", name=name), field="username")
    if find_user(name) is not None:
        raise DomainError(_l("The username %(name)s is taken.", name=name), field="username")
    role_set = {Role(r) for r in roles}
    if not role_set:
        raise DomainError(_l("Choose at least one role."), field="roles")
    _check_station_binding(role_set, station_id, candidate=candidate)
    _check_password_rules(password, username=name, field="password")
    user = User(
        username=name,
        display_name=display_name or "",
        email=email or "",
        station_id=station_id,
        locale=locale,
        active=True,
        is_demo=is_demo,
    )
    user.set_password(password)
    user.set_roles(role_set)
    db.session.add(user)
    db.session.flush()
    after = audit.snapshot(user, USER_FIELDS) | {"roles": sorted(r.value for r in role_set)}
    recorded_by = actor if actor is not None or not candidate else user
    audit.record("user.created", user, actor=recorded_by, after=after)
    return user


def update_user(
    actor,
    user: User,
    *,
    roles,
    display_name: str,
    email: str,
    station_id: int | None,
    active: bool,
    new_password: str | None = None,
) -> User:
    """Change a user's roles, station binding, details or active flag."""
    _require_admin(actor)
    role_set = {Role(r) for r in roles}
    if not role_set:
        raise DomainError(_l("Choose at least one role."), field="roles")
    _check_station_binding(
        role_set, station_id, candidate=user.station_id is None and Role.STATION in user.role_set
    )
    if actor.id == user.id and (not active or Role.ADMIN not in role_set):
        raise DomainError(_l("You cannot remove your own administrator access."), field="roles")
    before = audit.snapshot(user, USER_FIELDS) | {"roles": sorted(r.value for r in user.role_set)}
    user.display_name = display_name or ""
    user.email = email or ""
    user.station_id = station_id
    user.active = active
    user.set_roles(role_set)
    if new_password:
        _check_password_rules(new_password, username=user.username, field="password")
        user.set_password(new_password)
    if not active or new_password:
        end_all_sessions(user)
    db.session.flush()
    after = audit.snapshot(user, USER_FIELDS) | {"roles": sorted(r.value for r in role_set)}
    if new_password:
        after["password"] = "changed"  # noqa: S105 - a marker, not a secret
    audit.record("user.updated", user, actor=actor, before=before, after=after)
    return user


def set_active(actor, user: User, active: bool) -> User:
    """Activate or deactivate; a deactivated user loses access at the next request."""
    _require_admin(actor)
    if actor.id == user.id and not active:
        raise DomainError(_l("You cannot deactivate yourself."))
    before = {"active": user.active}
    user.active = active
    if not active:
        end_all_sessions(user)
    audit.record(
        "user.activated" if active else "user.deactivated",
        user,
        actor=actor,
        before=before,
        after={"active": active},
    )
    return user


def set_locale(user: User, locale: str) -> None:
    """Remember the user's language."""
    if user.locale != locale:
        before = {"locale": user.locale}
        user.locale = locale
        audit.record("user.locale", user, actor=user, before=before, after={"locale": locale})


def count_users() -> int:
    return db.session.execute(select(func.count(User.id))).scalar_one()


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(8))
