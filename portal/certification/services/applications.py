"""Applying: sign-up, the application steps, staff, attachments, submission, queues."""

from __future__ import annotations

import os
import uuid
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from portal.auth import services as auth_services
from portal.certification import rules
from portal.certification.models import (
    Application,
    Attachment,
    Technician,
)
from portal.certification.services.common import (
    _move,
    _new_technician,
    _require,
    _require_applicant,
)
from portal.certification.states import (
    APPLICATION_FLOW,
    CANDIDATE_KINDS,
    ApplicationStatus,
    AttachmentKind,
    StaffRole,
)
from portal.core import audit, files
from portal.core.actors import is_system
from portal.core.audit import AuditEntry
from portal.core.db import now_utc
from portal.core.errors import DomainError, NotFound
from portal.core.permissions import Permission, Role, can
from portal.core.regions import PROVINCES
from portal.extensions import db
from portal.stations.services import EMAIL_PATTERN
from portal.stations.states import CityClass, Tier

APP_FIELDS_BY_STEP = {
    "company": (
        "company_name",
        "credit_code",
        "legal_representative",
        "address",
        "province",
        "city",
        "city_class",
        "requested_tier",
        "brands_serviced",
        "contact_phone",
        "contact_email",
        "no_counterfeit_declared",
    ),
    "areas": ("reception_area", "repair_area", "storage_area"),
    "equipment": (
        "has_tools",
        "has_computer",
        "has_test_instruments",
        "service_phone",
        "equipment_notes",
    ),
    "finances": ("financial_year", "total_assets", "revenue", "net_profit"),
}
STEPS = ("company", "staff", "areas", "equipment", "finances", "attachments")
STEP_LABELS = {
    "company": _l("Company"),
    "staff": _l("Staff"),
    "areas": _l("Site areas"),
    "equipment": _l("Equipment"),
    "finances": _l("Finances"),
    "attachments": _l("Attachments"),
}
CREDIT_CODE_MESSAGES = {
    "length": _l("A unified social credit code has exactly 18 characters."),
    "characters": _l(
        "A unified social credit code uses only digits and capital letters other than "
        "I, O, S, V and Z."
    ),
    "check_digit": _l(
        "The last character of this credit code does not match its check digit "
        "(GB 32100-2015). Please check the code for a typing mistake."
    ),
}


# --- who sees what -------------------------------------------------------------------------


def application_of(user) -> Application | None:
    """The application a candidate (or former candidate) filed."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.execute(
        select(Application).where(Application.applicant_id == user.id)
    ).scalar_one_or_none()


def may_see_application(user, application: Application) -> bool:
    if can(user, Permission.VIEW_APPLICATIONS):
        return True
    return can(user, Permission.APPLY) and application.applicant_id == user.id


def visible_application(user, application_id: int) -> Application | None:
    """The application if this user may see it, else None (the view answers 404)."""
    application = db.session.get(Application, application_id)
    if application is None or not may_see_application(user, application):
        return None
    return application


def is_candidate(user) -> bool:
    """A station-role user with no station yet."""
    return (
        getattr(user, "is_authenticated", False)
        and user.has_role(Role.STATION)
        and user.station_id is None
    )


# --- applying ------------------------------------------------------------------------------


def sign_up(
    *, username: str, password: str, display_name: str, email: str, company_name: str
) -> Application:
    """A public sign-up: a candidate account bound to a new draft application."""
    if not (company_name or "").strip():
        raise DomainError(_l("Enter the company name."), field="company_name")
    user = auth_services.create_user(
        None,
        username=username,
        password=password,
        roles=[Role.STATION],
        display_name=display_name,
        email=email,
        candidate=True,
    )
    application = Application(
        applicant_id=user.id,
        company_name=company_name.strip(),
        contact_email=(email or "").strip(),
        status=ApplicationStatus.DRAFT,
    )
    db.session.add(application)
    db.session.flush()
    audit.record(
        "application.created",
        application,
        actor=user,
        after={"status": application.status, "company_name": application.company_name},
    )
    return application


def credit_code_error(code: str):
    problem = rules.credit_code_problem(code)
    return CREDIT_CODE_MESSAGES[problem] if problem else None


NULLABLE_FIELDS = {
    "city_class",
    "requested_tier",
    "reception_area",
    "repair_area",
    "storage_area",
    "financial_year",
    "total_assets",
    "revenue",
    "net_profit",
}


def _clean(field: str, value):
    if isinstance(value, str):
        value = value.strip()
    if value is None and field not in NULLABLE_FIELDS:
        value = False if field.startswith(("has_", "no_")) else ""
    if field == "credit_code":
        value = (value or "").upper()
        if value:
            message = credit_code_error(value)
            if message:
                raise DomainError(message, field="credit_code")
    if field == "contact_email" and value and not EMAIL_PATTERN.match(value):
        raise DomainError(
            _l("Enter an e-mail address such as name@example.com."), field="contact_email"
        )
    if field == "province" and value and value not in PROVINCES:
        raise DomainError(_l("Choose a province."), field="province")
    if field == "city_class":
        return CityClass(value) if value else None
    if field == "requested_tier":
        return Tier(value) if value else None
    if field in ("reception_area", "repair_area", "storage_area"):
        if value is None or value == "":
            return None
        area = Decimal(str(value))
        if area < 0:
            raise DomainError(_l("An area cannot be negative."), field=field)
        return area.quantize(Decimal("0.01"))
    if field in ("total_assets", "revenue", "net_profit"):
        return None if value is None or value == "" else value
    return value


def save_step(actor, application: Application, step: str, values: dict) -> Application:
    """Save one step of the application form (draft or returned only)."""
    _require_applicant(actor, application)
    APPLICATION_FLOW.target(application.status, "edit")
    fields = APP_FIELDS_BY_STEP[step]
    cleaned = {f: _clean(f, values.get(f)) for f in fields if f in values}
    before = audit.snapshot(application, list(cleaned))
    for field, value in cleaned.items():
        setattr(application, field, value)
    db.session.flush()
    audit.record(
        "application.saved",
        application,
        actor=actor,
        before=before,
        after=audit.snapshot(application, list(cleaned)) | {"step": step},
    )
    return application


def add_staff(actor, application: Application, *, name, role, phone="", id_number=""):
    """Add a person to the application's staff list."""
    _require_applicant(actor, application)
    APPLICATION_FLOW.target(application.status, "edit")
    technician = _new_technician(name, role, phone, id_number, application=application)
    audit.record(
        "application.staff_added",
        application,
        actor=actor,
        after={"name": technician.name, "role": technician.role},
    )
    return technician


def remove_staff(actor, application: Application, technician: Technician) -> None:
    _require_applicant(actor, application)
    APPLICATION_FLOW.target(application.status, "edit")
    if technician.application_id != application.id or technician.station_id is not None:
        raise NotFound(_l("No such person on this application."))
    if technician.attempts:
        raise DomainError(_l("This person has certification records and cannot be removed."))
    audit.record(
        "application.staff_removed",
        application,
        actor=actor,
        before={"name": technician.name, "role": technician.role},
    )
    db.session.delete(technician)
    db.session.flush()


def upload_folder() -> str:
    folder = current_app.config.get("UPLOAD_FOLDER") or os.path.join(
        current_app.instance_path, "uploads"
    )
    os.makedirs(folder, exist_ok=True)
    return folder


def _max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_MB", 10)) * 1024 * 1024


def _check_application_limits(application: Application, size: int) -> None:
    """At most ATTACHMENT_MAX_COUNT files and ATTACHMENT_MAX_TOTAL_MB per application."""
    # Lock the application so two uploads at once cannot both take the last place.
    db.session.execute(
        select(Application.id).where(Application.id == application.id).with_for_update()
    )
    count, total = db.session.execute(
        select(func.count(Attachment.id), func.coalesce(func.sum(Attachment.size), 0)).where(
            Attachment.application_id == application.id
        )
    ).one()
    max_count = int(current_app.config.get("ATTACHMENT_MAX_COUNT", 20))
    if count >= max_count:
        raise DomainError(
            _l("An application holds at most %(n)d files; this one is full.", n=max_count),
            field="file",
        )
    max_total_mb = int(current_app.config.get("ATTACHMENT_MAX_TOTAL_MB", 50))
    if int(total) + size > max_total_mb * 1024 * 1024:
        raise DomainError(
            _l(
                "The files of an application may take at most %(mb)d MB together; "
                "this file does not fit.",
                mb=max_total_mb,
            ),
            field="file",
        )


def upload_attachment(actor, application: Application, kind, filename: str, stream):
    """Store a PDF/JPG/PNG checked by its content, under a generated name.

    The file is written under a temporary name and moved into place when the transaction
    commits (removed if it rolls back): a refused or failed request leaves no file.
    """
    kind = AttachmentKind(kind)
    if kind in CANDIDATE_KINDS:
        _require_applicant(actor, application)
        APPLICATION_FLOW.target(application.status, "edit")
    else:
        _require(actor, Permission.REVIEW_APPLICATIONS, _l("You may not add site-visit photos."))
        APPLICATION_FLOW.target(application.status, "screen")
    name = (filename or "").strip()
    if not name:
        raise DomainError(_l("Choose a file."), field="file")
    if "/" in name or "\\" in name or ".." in name or "\x00" in name or len(name) > 200:
        raise DomainError(_l("The file name is not acceptable."), field="file")
    limit = _max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise DomainError(
            _l(
                "The file is larger than %(mb)d MB.",
                mb=int(current_app.config.get("ATTACHMENT_MAX_MB", 10)),
            ),
            field="file",
        )
    if not data:
        raise DomainError(_l("The file is empty."), field="file")
    sniffed = rules.sniff_file_type(data[:16])
    if sniffed is None:
        raise DomainError(
            _l("Only PDF, JPG or PNG files are accepted; this file is none of these."),
            field="file",
        )
    content_type, ext = sniffed
    if kind is AttachmentKind.SITE_PHOTO and content_type == "application/pdf":
        raise DomainError(_l("A site-visit photo must be a JPG or PNG image."), field="file")
    _check_application_limits(application, len(data))
    stored = uuid.uuid4().hex + ext
    files.stage(db.session(), upload_folder(), stored, data)
    attachment = Attachment(
        application=application,
        kind=kind,
        original_name=name,
        stored_name=stored,
        content_type=content_type,
        size=len(data),
        uploaded_by_id=None if is_system(actor) else getattr(actor, "id", None),
    )
    db.session.add(attachment)
    db.session.flush()
    audit.record(
        "application.attachment_added",
        application,
        actor=actor,
        after={"kind": kind, "file": name, "size": len(data)},
    )
    return attachment


def attachment_path(attachment: Attachment) -> str:
    return os.path.join(upload_folder(), attachment.stored_name)


def missing_for_submission(application: Application) -> list:
    """What the application still lacks before it can be submitted (empty when complete)."""
    missing = []
    required = (
        ("company_name", _l("Company name")),
        ("credit_code", _l("Unified social credit code")),
        ("legal_representative", _l("Legal representative")),
        ("address", _l("Address")),
        ("province", _l("Province")),
        ("city", _l("City")),
        ("city_class", _l("City class")),
        ("requested_tier", _l("Requested tier")),
        ("contact_phone", _l("Contact phone")),
        ("reception_area", _l("Reception area")),
        ("repair_area", _l("Repair area")),
        ("storage_area", _l("Storage area")),
        ("service_phone", _l("Service phone")),
        ("financial_year", _l("Financial year")),
        ("total_assets", _l("Total assets")),
        ("revenue", _l("Revenue")),
        ("net_profit", _l("Net profit")),
    )
    for field, label in required:
        value = getattr(application, field)
        if value is None or value == "":
            missing.append(label)
    if application.credit_code and rules.credit_code_problem(application.credit_code):
        missing.append(_l("A valid unified social credit code"))
    if not application.no_counterfeit_declared:
        missing.append(_l("The declaration on counterfeit and compatible products"))
    if not any(s.role is StaffRole.COORDINATOR for s in application.staff):
        missing.append(_l("A coordinator in the staff list"))
    kinds = {a.kind for a in application.attachments}
    for kind in CANDIDATE_KINDS:
        if kind not in kinds:
            missing.append(kind.label)
    return missing


CHANGES = (
    "application.saved",
    "application.staff_added",
    "application.staff_removed",
    "application.attachment_added",
)


def _changed_since_return(application: Application) -> bool:
    """Whether the candidate saved a step, changed the staff or added an attachment since HQ
    returned the application (every such change is audited on the application; entries are
    ordered by id, which holds even when two share a timestamp)."""
    on_application = (
        AuditEntry.object_type == "Application",
        AuditEntry.object_id == str(application.id),
    )
    returned = db.session.execute(
        select(func.max(AuditEntry.id)).where(
            *on_application, AuditEntry.action == "application.return"
        )
    ).scalar()
    if returned is None:
        return True
    return (
        db.session.execute(
            select(AuditEntry.id)
            .where(*on_application, AuditEntry.action.in_(CHANGES), AuditEntry.id > returned)
            .limit(1)
        ).first()
        is not None
    )


def submit(actor, application: Application) -> Application:
    """Send the application to HQ (first time or after a return)."""
    _require_applicant(actor, application)
    APPLICATION_FLOW.target(application.status, "submit")
    if application.status == ApplicationStatus.RETURNED and not _changed_since_return(application):
        raise DomainError(
            _l(
                "HQ returned the application for more information: change what HQ asked for "
                "(a form step, the staff or an attachment) before you submit it again."
            )
        )
    missing = missing_for_submission(application)
    if missing:
        raise DomainError(
            _l(
                "The application is not complete. Missing: %(items)s.",
                items=", ".join(str(m) for m in missing),
            )
        )
    application.submitted_at = now_utc()
    return _move(actor, application, "submit")


# --- queues and timelines ------------------------------------------------------------------


CLOSED_OR_DRAFT = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.AUTHORIZED,
    ApplicationStatus.REJECTED,
)


def application_queue(status: ApplicationStatus | None, q: str = ""):
    """Applications in a state, or the open ones (drafts are the candidates' own, counted
    apart); `q` searches the company name and the credit code."""
    stmt = select(Application).order_by(Application.status_changed_at, Application.id)
    if status is not None:
        stmt = stmt.where(Application.status == status)
    else:
        stmt = stmt.where(Application.status.not_in(CLOSED_OR_DRAFT))
    q = (q or "").strip()[:100]
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(Application.company_name.ilike(like), Application.credit_code.ilike(like))
        )
    return list(db.session.execute(stmt.limit(500)).scalars())


def queue_counts() -> dict:
    rows = db.session.execute(
        select(Application.status, func.count()).group_by(Application.status)
    ).all()
    counts = dict.fromkeys(ApplicationStatus, 0)
    counts.update(dict(rows))
    return counts


def timeline(application: Application) -> list[AuditEntry]:
    return list(
        db.session.execute(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == "Application",
                AuditEntry.object_id == str(application.id),
            )
            .order_by(AuditEntry.id)
        ).scalars()
    )


def _stored_attachment_names():
    return db.session.execute(select(Attachment.stored_name)).scalars()


files.register_store("certification attachments", upload_folder, _stored_attachment_names)
