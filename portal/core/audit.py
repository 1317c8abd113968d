"""The audit trail: append-only entries written inside every state-changing service."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.actors import (
    SYSTEM,
    SYSTEM_USERNAME,
    actor_name,
    is_system,
    require_actor,
)
from portal.core.db import UTCDateTime, now_utc
from portal.extensions import db


class AuditEntry(db.Model):
    """Who did what to which object, when (UTC), with the values before and after."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_object", "object_type", "object_id"),
        Index("ix_audit_entries_station_id_id", "station_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_name: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64))
    object_label: Mapped[str] = mapped_column(String(200), default="")
    station_id: Mapped[int | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(60), index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")

    @property
    def actor_label(self) -> str:
        """Who acted, as shown: a username, or the system actor by its name."""
        if self.actor_id is None and self.actor_name == SYSTEM_USERNAME:
            return str(SYSTEM.display_name)
        return self.actor_name

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for each field that differs."""
        before = self.before or {}
        after = self.after or {}
        keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise RuntimeError("audit entries are append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RuntimeError("audit entries are append-only")


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def snapshot(obj, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of obj as a JSON-safe dict (for before/after)."""
    return {name: _plain(getattr(obj, name)) for name in fields}


# Transitional (issue 8.2): while some callers do not pass `actor=` yet, a missing actor is
# taken from the request's signed-in user (only there), else recorded as SYSTEM, as "system"
# was recorded before. Set True once every caller passes its actor: a missing actor then
# raises MissingActor everywhere.
STRICT_ACTOR = False


def record(
    action: str,
    obj=None,
    *,
    actor=None,
    object_type: str | None = None,
    object_id: Any = None,
    label: str | None = None,
    station_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    comment: str = "",
) -> AuditEntry:
    """Append one audit entry in the current transaction (the caller's commit keeps it).

    `actor` is who acts: a user, or `portal.core.actors.SYSTEM` for the command line and jobs.
    """
    actor = _resolve_actor(actor)
    if obj is not None:
        db.session.flush()
        object_type = object_type or obj.__class__.__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
        if station_id is None:
            station_id = getattr(obj, "station_id", None)
            if station_id is None and object_type == "Station":
                station_id = obj.id
        if label is None:
            label = str(obj)
    entry = AuditEntry(
        at=now_utc(),
        actor_id=None if is_system(actor) else getattr(actor, "id", None),
        actor_name=actor_name(actor)[:80],
        object_type=object_type or "",
        object_id=str(object_id) if object_id is not None else "",
        object_label=(label or "")[:200],
        station_id=station_id,
        action=action,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        comment=comment or "",
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _resolve_actor(actor):
    """The explicit actor; while not STRICT_ACTOR, the transitional fallback described above."""
    if actor is not None or STRICT_ACTOR:
        return require_actor(actor)
    from flask import has_request_context
    from flask_login import current_user

    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return SYSTEM
