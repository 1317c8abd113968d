"""The audit trail: append-only entries written inside every state-changing service."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy import inspect as sa_inspect
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
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def snapshot(obj, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of obj as a JSON-safe dict (for before/after), personal ones masked."""
    return masked(obj, {name: _plain(getattr(obj, name)) for name in fields})


# --- every changed field -----------------------------------------------------------------
#
# A model marks its personal columns with `__audit_masked__ = {"column": mask_function}`;
# the trail keeps only their masked form. Bookkeeping columns change on every write and say
# nothing about what a person changed.

BOOKKEEPING = frozenset({"id", "version", "created_at", "updated_at"})
CHANGED_MARK = " (changed)"

Extra = Mapping[str, Callable[[Any], Any]]


def masks_of(obj) -> Mapping[str, Callable[[Any], str]]:
    """The personal fields of obj's model and how each is masked."""
    return getattr(type(obj), "__audit_masked__", {})


def masked(obj, values: Mapping[str, Any]) -> dict[str, Any]:
    """values with obj's personal fields masked."""
    masks = masks_of(obj)
    return {k: (masks[k](v) if k in masks and v is not None else v) for k, v in values.items()}


def state(obj, *, extra: Extra | None = None, exclude=BOOKKEEPING) -> dict[str, Any]:
    """Every column of obj (plus extra computed fields, e.g. a child list), JSON-safe, unmasked."""
    mapper = sa_inspect(obj).mapper
    out = {
        attr.key: _plain(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in exclude
    }
    for name, compute in (extra or {}).items():
        out[name] = _plain(compute(obj))
    return out


def diff(obj, before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """(before, after) of the fields that differ, masked where personal.

    Fields are compared unmasked; a personal field whose masked forms happen to coincide is
    marked as changed, so the entry still shows that it changed.
    """
    masks = masks_of(obj)
    old, new = {}, {}
    for key in dict.fromkeys([*before, *after]):
        if before.get(key) == after.get(key):
            continue
        old[key], new[key] = before.get(key), after.get(key)
        if key in masks:
            old[key] = masks[key](old[key]) if old[key] is not None else None
            new[key] = masks[key](new[key]) if new[key] is not None else None
            if old[key] == new[key]:
                new[key] = f"{new[key] or ''}{CHANGED_MARK}"
    return old, new


class Tracker:
    """Remembers an object's state, to audit every field a service then changes."""

    def __init__(self, obj, extra: Extra | None = None):
        self.obj = obj
        self.extra = dict(extra or {})
        self.before = state(obj, extra=self.extra)

    def changes(self) -> tuple[dict, dict]:
        """(before, after) of every field changed since tracking began (masked)."""
        return diff(self.obj, self.before, state(self.obj, extra=self.extra))


def track(obj, **extra: Callable[[Any], Any]) -> Tracker:
    """Start tracking obj before changing it; extra computes fields that are not columns."""
    return Tracker(obj, extra)


def record_changes(action: str, tracker: Tracker, *, actor, **kwargs) -> AuditEntry:
    """One entry with every field changed since track(): old and new values (masked)."""
    db.session.flush()
    before, after = tracker.changes()
    return record(action, tracker.obj, actor=actor, before=before, after=after, **kwargs)


def record_created(action: str, obj, *, actor, extra: Extra | None = None, **kwargs):
    """One entry for a new object with all its fields (masked)."""
    db.session.flush()
    after = masked(obj, state(obj, extra=extra))
    return record(action, obj, actor=actor, after=after, **kwargs)


def record_deleted(action: str, obj, *, actor, extra: Extra | None = None, **kwargs):
    """One entry for an object about to be deleted, with all its fields (masked)."""
    before = masked(obj, state(obj, extra=extra))
    return record(action, obj, actor=actor, before=before, **kwargs)


def record(
    action: str,
    obj=None,
    *,
    actor,
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
    """The explicit actor: nobody is guessed from the request (issue 8.2); None raises."""
    return require_actor(actor)
