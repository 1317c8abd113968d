"""Shared helpers of the certification services: today, permission checks, moves."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.certification.models import (
    Application,
    Technician,
)
from portal.certification.states import (
    APPLICATION_FLOW,
    StaffRole,
)
from portal.core import audit
from portal.core.actors import require_actor
from portal.core.dates import local_today
from portal.core.db import now_utc
from portal.core.errors import DomainError, PermissionDenied
from portal.core.permissions import Permission, can
from portal.extensions import db

today = local_today  # the portal's one "today" (core.dates), under this module's old name


# --- moves ---------------------------------------------------------------------------------


def _move(actor, application: Application, action: str, comment: str = "", **extra):
    target = APPLICATION_FLOW.target(application.status, action)
    before = {"status": application.status}
    application.status = target
    application.status_changed_at = now_utc()
    db.session.flush()
    audit.record(
        f"application.{action}",
        application,
        actor=actor,
        before=before,
        after={"status": target, **extra},
        comment=comment,
    )
    return application


def _require(actor, permission: Permission, message) -> None:
    """PermissionDenied unless actor holds the permission; MissingActor when actor is None."""
    if not can(require_actor(actor), permission):
        raise PermissionDenied(message)


def _require_applicant(actor, application: Application) -> None:
    """Only the candidate who filed the application may change it."""
    require_actor(actor)
    if not can(actor, Permission.APPLY) or application.applicant_id != getattr(actor, "id", None):
        raise PermissionDenied(_l("Only the candidate may change its application."))


def _new_technician(name, role, phone, id_number, **owner) -> Technician:
    """A checked staff record of an application or a station (owner), added and flushed."""
    if not (name or "").strip():
        raise DomainError(_l("Enter the person's name."), field="name")
    technician = Technician(
        name=name.strip(),
        role=StaffRole(role),
        phone=(phone or "").strip(),
        id_number=(id_number or "").strip().upper(),
        **owner,
    )
    _check_id_number(technician.id_number)
    db.session.add(technician)
    db.session.flush()
    return technician


def _check_id_number(value: str) -> None:
    if value and (len(value) != 18 or not value[:17].isdigit()):
        raise DomainError(
            _l("A resident ID number has 18 characters: 17 digits and a digit or X."),
            field="id_number",
        )
