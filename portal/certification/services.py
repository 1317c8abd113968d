"""Certification verbs: apply, screen, evaluate, approve, authorize; rules; technicians.

Every verb checks permission, moves state through a transition table, writes an audit entry
and flushes. None commits.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from portal.auth import services as auth_services
from portal.auth.models import User
from portal.certification import rules
from portal.certification.models import (
    Application,
    Attachment,
    Certificate,
    CertificationAttempt,
    ScreeningSheet,
    ScreeningWeightSet,
    StationCodeSequence,
    StationCompliance,
    StationProfile,
    Technician,
    TierRequirement,
    TierRuleSet,
)
from portal.certification.states import (
    APPLICATION_FLOW,
    CANDIDATE_KINDS,
    CRITERIA,
    REQUIREMENT_LABELS,
    STATION_LIFE,
    ApplicationStatus,
    AttachmentKind,
    StaffRole,
    Track,
)
from portal.core import audit
from portal.core.audit import AuditEntry
from portal.core.db import now_utc
from portal.core.errors import DomainError, NotFound, PermissionDenied
from portal.core.permissions import Permission, Role, can
from portal.core.regions import PROVINCES
from portal.extensions import db
from portal.spares import services as deposits
from portal.spares import stock as spares_stock
from portal.spares.locks import lock_station
from portal.stations import services as station_services
from portal.stations.models import Station
from portal.stations.states import CityClass, StationStatus, Tier

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
DEFAULT_WEIGHTS = {
    "qualification": 15,
    "experience": 20,
    "personnel": 20,
    "site": 20,
    "equipment": 10,
    "financial": 15,
}
DEFAULT_PASS_MARK = 70
RULES_EPOCH = dt.date(2000, 1, 1)


def today() -> dt.date:
    """Today in the portal's time zone."""
    from portal.core.i18n import local_tz

    return now_utc().astimezone(local_tz()).date()


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
    if actor is not None and not can(actor, permission):
        raise PermissionDenied(message)


def _require_applicant(actor, application: Application) -> None:
    if actor is not None and (
        not can(actor, Permission.APPLY) or application.applicant_id != actor.id
    ):
        raise PermissionDenied(_l("Only the candidate may change its application."))


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


def upload_folder() -> str:
    folder = current_app.config.get("UPLOAD_FOLDER") or os.path.join(
        current_app.instance_path, "uploads"
    )
    os.makedirs(folder, exist_ok=True)
    return folder


def _max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_MB", 10)) * 1024 * 1024


def upload_attachment(actor, application: Application, kind, filename: str, stream):
    """Store a PDF/JPG/PNG checked by its content, under a generated name."""
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
    stored = uuid.uuid4().hex + ext
    path = os.path.join(upload_folder(), stored)
    with open(path, "xb") as handle:
        handle.write(data)
    attachment = Attachment(
        application=application,
        kind=kind,
        original_name=name,
        stored_name=stored,
        content_type=content_type,
        size=len(data),
        uploaded_by_id=getattr(actor, "id", None),
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


def submit(actor, application: Application) -> Application:
    """Send the application to HQ (first time or after a return)."""
    _require_applicant(actor, application)
    APPLICATION_FLOW.target(application.status, "submit")
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


# --- HQ review -----------------------------------------------------------------------------


def _require_reviewer(actor) -> None:
    _require(actor, Permission.REVIEW_APPLICATIONS, _l("You may not review applications."))


def start_screening(actor, application: Application, comment: str = "") -> Application:
    _require_reviewer(actor)
    return _move(actor, application, "start_screening", comment)


def return_to_candidate(actor, application: Application, comment: str) -> Application:
    """Send back for more information; the comment tells the candidate what is needed."""
    _require_reviewer(actor)
    APPLICATION_FLOW.target(application.status, "return")
    if not (comment or "").strip():
        raise DomainError(_l("Tell the candidate what is needed."), field="comment")
    application.hq_comment = comment.strip()
    return _move(actor, application, "return", comment.strip())


def reject(actor, application: Application, reason: str) -> Application:
    _require_reviewer(actor)
    APPLICATION_FLOW.target(application.status, "reject")
    if not (reason or "").strip():
        raise DomainError(_l("Give the reason for the rejection."), field="comment")
    application.decision_reason = reason.strip()
    return _move(actor, application, "reject", reason.strip())


def record_counterfeit_violation(actor, application: Application, note: str) -> Application:
    """HQ records that the candidate (or the station it became) sold counterfeit products."""
    _require_reviewer(actor)
    if not (note or "").strip():
        raise DomainError(_l("Describe the violation."), field="comment")
    before = {"counterfeit_violation": application.counterfeit_violation}
    stamp = today().isoformat()
    entry = f"{stamp}: {note.strip()}"
    application.counterfeit_violation = (
        f"{application.counterfeit_violation}\n{entry}"
        if application.counterfeit_violation
        else entry
    )
    db.session.flush()
    audit.record(
        "application.counterfeit_violation",
        application,
        actor=actor,
        before=before,
        after={"counterfeit_violation": application.counterfeit_violation},
        comment=note.strip(),
    )
    return application


def weights_in_force(on: dt.date | None = None) -> ScreeningWeightSet:
    """The newest screening weights effective on the day."""
    on = on or today()
    found = db.session.execute(
        select(ScreeningWeightSet)
        .where(ScreeningWeightSet.effective_on <= on)
        .order_by(ScreeningWeightSet.effective_on.desc())
        .limit(1)
    ).scalar_one_or_none()
    if found is None:
        found = ScreeningWeightSet(
            effective_on=RULES_EPOCH, weights=dict(DEFAULT_WEIGHTS), pass_mark=DEFAULT_PASS_MARK
        )
        db.session.add(found)
        db.session.flush()
    return found


def save_screening(
    actor, application: Application, *, ratings: dict, visited_on=None, visit_notes: str = ""
) -> ScreeningSheet:
    """Fill in the screening sheet: each criterion rated 0-100 % of its weight."""
    _require_reviewer(actor)
    APPLICATION_FLOW.target(application.status, "screen")
    clean = {}
    for key, _label in CRITERIA:
        value = ratings.get(key)
        if value is None or value == "":
            continue
        try:
            rating = Decimal(str(value))
        except InvalidOperation:
            raise DomainError(_l("Enter a number from 0 to 100."), field=key) from None
        if not Decimal(0) <= rating <= Decimal(100):
            raise DomainError(_l("Enter a number from 0 to 100."), field=key)
        clean[key] = str(rating)
    sheet = application.screening
    if sheet is None:
        sheet = ScreeningSheet(application=application, weight_set=weights_in_force())
        db.session.add(sheet)
    sheet.ratings = clean
    sheet.total = rules.weighted_total(
        sheet.weight_set.weights, {k: Decimal(v) for k, v in clean.items()}
    )
    sheet.visited_on = visited_on
    sheet.visit_notes = (visit_notes or "").strip()
    sheet.screener = getattr(actor, "username", "") or ""
    sheet.updated_at = now_utc()
    db.session.flush()
    audit.record(
        "application.screened",
        application,
        actor=actor,
        after={"ratings": clean, "total": sheet.total, "visited_on": visited_on},
    )
    return sheet


def evaluate(actor, application: Application) -> Application:
    """Close screening: store the recommendation from the scores and the tier check."""
    _require_reviewer(actor)
    APPLICATION_FLOW.target(application.status, "evaluate")
    sheet = application.screening
    if sheet is None or len(sheet.ratings or {}) < len(CRITERIA):
        raise DomainError(_l("Rate every criterion of the screening sheet first."))
    report = evaluation(application)
    sheet.recommendation = report["recommendation"]
    sheet.recommended_tier = Tier(report["tier"]) if report["tier"] else None
    sheet.evaluated_at = now_utc()
    return _move(
        actor,
        application,
        "evaluate",
        recommendation=sheet.recommendation,
        recommended_tier=report["tier"],
    )


def evaluation(application: Application, on: dt.date | None = None) -> dict:
    """The evaluation report: scores, the check for every tier, the recommendation."""
    on = on or today()
    sheet = application.screening
    weight_set = sheet.weight_set if sheet else weights_in_force(on)
    checks = {tier: check_application(application, tier, on) for tier in Tier}
    clean = {tier.value: rules.is_clean(results) for tier, results in checks.items()}
    # The deposit is paid after approval: the recommendation looks at everything else.
    clean_without_deposit = {
        tier.value: all(r.passed for r in results if r.key != "deposit")
        for tier, results in checks.items()
    }
    total = sheet.total if sheet else Decimal(0)
    requested = application.requested_tier.value if application.requested_tier else None
    kind, tier = (
        rules.recommend(requested, total, Decimal(weight_set.pass_mark), clean_without_deposit)
        if requested
        else ("reject", None)
    )
    return {
        "sheet": sheet,
        "weights": weight_set,
        "checks": checks,
        "clean": clean,
        "clean_without_deposit": clean_without_deposit,
        "recommendation": kind,
        "tier": tier,
        "passed_screening": total >= Decimal(weight_set.pass_mark),
    }


def approve(actor, application: Application, tier, comment: str = "") -> Application:
    """Approve at the requested tier or a lower one."""
    _require_reviewer(actor)
    APPLICATION_FLOW.target(application.status, "approve")
    tier = Tier(tier)
    if rules.tier_rank(tier.value) > rules.tier_rank(application.requested_tier.value):
        raise DomainError(
            _l("Approve at the requested tier or a lower one, not above it."), field="tier"
        )
    application.approved_tier = tier
    application.decision_reason = (comment or "").strip()
    deposits.account_for_application(application.id, create=True)
    return _move(actor, application, "approve", comment, approved_tier=tier)


def record_application_deposit(actor, application: Application, **entry):
    """Finance records the candidate's deposit payment in its (future station's) ledger."""
    _require(actor, Permission.RECORD_DEPOSITS, _l("You may not record deposit entries."))
    if application.status is not ApplicationStatus.APPROVED:
        raise DomainError(
            _l(
                "A deposit is recorded once the application is approved; it is %(state)s.",
                state=application.status.label,
            )
        )
    account = deposits.account_for_application(application.id, create=True)
    return deposits.record_entry(actor, account, **entry)


def application_deposit(application: Application) -> Decimal:
    account = deposits.account_for_application(application.id)
    if account is None and application.station_id:
        account = deposits.account_for_station(application.station_id)
    return deposits.balance(account)


def next_station_code(province: str, city_code: str) -> str:
    """The next free code PROV-CITY-NNNN; concurrent callers never get the same one."""
    province, city_code = province.upper(), city_code.upper()
    seq = StationCodeSequence.__table__
    bump = (
        update(seq)
        .where(seq.c.province == province, seq.c.city_code == city_code)
        .values(last_number=seq.c.last_number + 1)
        .returning(seq.c.last_number)
    )
    number = db.session.execute(bump).scalar_one_or_none()
    if number is None:
        prefix = f"{province}-{city_code}-"
        codes = db.session.execute(
            select(Station.code).where(Station.code.like(prefix + "%"))
        ).scalars()
        start = max((int(c[len(prefix) :]) for c in codes if c[len(prefix) :].isdigit()), default=0)
        try:
            with db.session.begin_nested():
                db.session.execute(
                    insert(seq).values(
                        province=province, city_code=city_code, last_number=start + 1
                    )
                )
            number = start + 1
        except IntegrityError:
            # Someone else created the row meanwhile: take the next number from it.
            number = db.session.execute(bump).scalar_one()
    return rules.station_code(province, city_code, number)


def authorize(
    actor,
    application: Application,
    *,
    city_code: str,
    agreement_start_on: dt.date,
    agreement_end_on: dt.date,
    authorized_region: str = "",
) -> Station:
    """Make the approved candidate a station: code, profile, ledger, station manager."""
    _require_reviewer(actor)
    APPLICATION_FLOW.target(application.status, "authorize")
    city_code = (city_code or "").strip().upper()
    if not (2 <= len(city_code) <= 4 and city_code.isascii() and city_code.isalpha()):
        raise DomainError(_l("A city code has 2 to 4 letters, e.g. ZZ."), field="city_code")
    if agreement_start_on is None or agreement_end_on is None:
        raise DomainError(_l("Enter the agreement dates."), field="agreement_start_on")
    if agreement_end_on < agreement_start_on:
        raise DomainError(
            _l("The agreement cannot end before it starts."), field="agreement_end_on"
        )
    results = check_application(application, application.approved_tier)
    if not rules.is_clean(results):
        raise DomainError(
            _l(
                "The compliance check is not clean: %(gaps)s.",
                gaps=describe_gaps(rules.gaps(results)),
            )
        )
    code = next_station_code(application.province, city_code)
    coordinator = next(
        (s for s in application.staff if s.role is StaffRole.COORDINATOR and s.active), None
    )
    station = station_services.create_station(
        actor,
        code=code,
        name=application.company_name,
        tier=application.approved_tier,
        province=application.province,
        city=application.city,
        city_class=application.city_class,
        address=application.address,
        authorized_region=(authorized_region or "").strip() or application.city,
        contact_name=coordinator.name if coordinator else "",
        contact_phone=application.contact_phone,
        contact_email=application.contact_email,
        status=StationStatus.ACTIVE,
        agreement_start_on=agreement_start_on,
        agreement_end_on=agreement_end_on,
        notes="",
    )
    db.session.add(
        StationProfile(
            station_id=station.id,
            reception_area=application.reception_area or Decimal(0),
            repair_area=application.repair_area or Decimal(0),
            storage_area=application.storage_area or Decimal(0),
        )
    )
    for person in application.staff:
        person.station_id = station.id
    account = deposits.account_for_application(application.id, create=True)
    deposits.attach_to_station(account, station.id)
    manager = db.session.get(User, application.applicant_id)
    manager.station_id = station.id
    audit.record(
        "user.bound_to_station",
        manager,
        actor=actor,
        station_id=station.id,
        before={"station_id": None},
        after={"station_id": station.id},
    )
    application.station_id = station.id
    _move(actor, application, "authorize", station_code=code)
    refresh_station_compliance(station, actor=actor)
    return station


# --- tier rules and compliance -------------------------------------------------------------


def rule_set_in_force(on: dt.date | None = None) -> TierRuleSet:
    """The newest tier rule set effective on the day."""
    on = on or today()
    found = db.session.execute(
        select(TierRuleSet)
        .where(TierRuleSet.effective_on <= on)
        .order_by(TierRuleSet.effective_on.desc())
        .limit(1)
    ).scalar_one_or_none()
    if found is None:
        raise DomainError(_l("No tier rules are in force on %(day)s.", day=on.isoformat()))
    return found


def requirements_for(tier, on: dt.date | None = None) -> rules.TierRequirements:
    tier = Tier(tier)
    rule_set = rule_set_in_force(on)
    row = next(r for r in rule_set.requirements if r.tier is tier)
    return rules.TierRequirements(
        deposit=row.deposit,
        coordinators=row.coordinators,
        engineers_class1=row.engineers_class1,
        engineers_class23=row.engineers_class23,
        repair_area=row.repair_area,
        storage_area=row.storage_area,
    )


RULE_FIELDS = (
    "deposit",
    "coordinators",
    "engineers_class1",
    "engineers_class23",
    "repair_area",
    "storage_area",
)


def create_rule_set(actor, *, effective_on: dt.date, values: dict, note: str = ""):
    """New tier requirements from a date; the sets before it stay as history."""
    _require(actor, Permission.MANAGE_TIER_RULES, _l("You may not change the tier rules."))
    if effective_on is None or effective_on < today():
        raise DomainError(
            _l("The rules take effect today or later; the past is not rewritten."),
            field="effective_on",
        )
    exists = db.session.execute(
        select(TierRuleSet.id).where(TierRuleSet.effective_on == effective_on)
    ).first()
    if exists:
        raise DomainError(_l("A rule set already takes effect on that day."), field="effective_on")
    rule_set = TierRuleSet(
        effective_on=effective_on,
        note=(note or "").strip(),
        created_by=getattr(actor, "username", "system") or "system",
    )
    for tier in Tier:
        row = values[tier.value]
        for field in RULE_FIELDS:
            if row.get(field) is None or Decimal(str(row[field])) < 0:
                raise DomainError(
                    _l("Every requirement needs a value of zero or more."),
                    field=f"{tier.value}__{field}",
                )
        rule_set.requirements.append(TierRequirement(tier=tier, **{f: row[f] for f in RULE_FIELDS}))
    db.session.add(rule_set)
    db.session.flush()
    audit.record(
        "tier_rules.created",
        rule_set,
        actor=actor,
        after={"effective_on": effective_on}
        | {t.value: {f: values[t.value][f] for f in RULE_FIELDS} for t in Tier},
        comment=rule_set.note,
    )
    return rule_set


def create_weight_set(actor, *, effective_on: dt.date, weights: dict, pass_mark: int):
    """New screening weights from a date; the weights must add up to 100."""
    _require(actor, Permission.MANAGE_TIER_RULES, _l("You may not change the screening weights."))
    if effective_on is None or effective_on < today():
        raise DomainError(
            _l("The rules take effect today or later; the past is not rewritten."),
            field="effective_on",
        )
    if db.session.execute(
        select(ScreeningWeightSet.id).where(ScreeningWeightSet.effective_on == effective_on)
    ).first():
        raise DomainError(_l("Weights already take effect on that day."), field="effective_on")
    clean = {key: int(weights.get(key) or 0) for key, _label in CRITERIA}
    if any(v < 0 for v in clean.values()) or sum(clean.values()) != 100:
        raise DomainError(_l("The weights must add up to 100."), field="weights")
    if not 0 < int(pass_mark) <= 100:
        raise DomainError(_l("The pass mark is between 1 and 100."), field="pass_mark")
    weight_set = ScreeningWeightSet(
        effective_on=effective_on,
        weights=clean,
        pass_mark=int(pass_mark),
        created_by=getattr(actor, "username", "system") or "system",
    )
    db.session.add(weight_set)
    db.session.flush()
    audit.record(
        "screening_weights.created",
        weight_set,
        actor=actor,
        after={"effective_on": effective_on, "weights": clean, "pass_mark": int(pass_mark)},
    )
    return weight_set


def _valid_engineers(technicians, on: dt.date) -> int:
    count = 0
    for person in technicians:
        if not person.active:
            continue
        if any(
            c.track is Track.REPAIR_TECHNICIAN
            and rules.certificate_valid(c.issued_on, c.expires_on, c.revoked_on, on)
            for c in person.certificates
        ):
            count += 1
    return count


def application_facts(application: Application, on: dt.date) -> rules.Facts:
    staff = [s for s in application.staff if s.active]
    return rules.Facts(
        city_class=application.city_class.value if application.city_class else "3",
        deposit_balance=application_deposit(application),
        coordinators=sum(1 for s in staff if s.role is StaffRole.COORDINATOR),
        certified_engineers=_valid_engineers(staff, on),
        repair_area=application.repair_area or Decimal(0),
        storage_area=application.storage_area or Decimal(0),
    )


def station_technicians(station_id: int) -> list[Technician]:
    return list(
        db.session.execute(
            select(Technician)
            .where(Technician.station_id == station_id)
            .order_by(Technician.name, Technician.id)
        ).scalars()
    )


def station_facts(station: Station, on: dt.date, balance: Decimal | None = None) -> rules.Facts:
    staff = [t for t in station_technicians(station.id) if t.active]
    profile = db.session.get(StationProfile, station.id)
    if balance is None:
        balance = deposits.balance(deposits.account_for_station(station.id))
    return rules.Facts(
        city_class=station.city_class.value,
        deposit_balance=balance,
        coordinators=sum(1 for s in staff if s.role is StaffRole.COORDINATOR),
        certified_engineers=_valid_engineers(staff, on),
        repair_area=profile.repair_area if profile else Decimal(0),
        storage_area=profile.storage_area if profile else Decimal(0),
    )


def check_application(application: Application, tier=None, on: dt.date | None = None):
    on = on or today()
    tier = tier or application.approved_tier or application.requested_tier or Tier.ACCESSORY_POINT
    return rules.check_compliance(requirements_for(tier, on), application_facts(application, on))


def check_station(station: Station, on: dt.date | None = None, tier=None, balance=None):
    on = on or today()
    return rules.check_compliance(
        requirements_for(tier or station.tier, on), station_facts(station, on, balance)
    )


def describe_gaps(gap_results) -> str:
    return "; ".join(f"{REQUIREMENT_LABELS[g.key]} {g.actual} < {g.required}" for g in gap_results)


def _plain_gaps(results) -> list:
    return [
        {"key": r.key, "required": str(r.required), "actual": str(r.actual)}
        for r in rules.gaps(results)
    ]


def refresh_station_compliance(station: Station, on=None, actor=None, balance=None) -> bool:
    """Re-check one station and store the result; True when compliance changed."""
    results = check_station(station, on, balance=balance)
    clean = rules.is_clean(results)
    gap_list = _plain_gaps(results)
    row = db.session.get(StationCompliance, station.id)
    now = now_utc()
    if row is None:
        row = StationCompliance(
            station_id=station.id, compliant=clean, gaps=gap_list, checked_at=now, changed_at=now
        )
        db.session.add(row)
        changed = True
        before = None
    else:
        changed = row.compliant != clean or row.gaps != gap_list
        before = {"compliant": row.compliant, "gaps": row.gaps}
        row.checked_at = now
        if changed:
            row.compliant, row.gaps, row.changed_at = clean, gap_list, now
    db.session.flush()
    if changed:
        audit.record(
            "station.compliance_changed",
            station,
            actor=actor,
            before=before,
            after={"compliant": clean, "gaps": gap_list},
        )
    return changed


def check_all_stations(on: dt.date | None = None) -> tuple[int, int, int]:
    """Re-check every active or suspended station: (checked, changed, non-compliant)."""
    on = on or today()
    stations = list(
        db.session.execute(
            select(Station).where(Station.status != StationStatus.REVOKED).order_by(Station.id)
        ).scalars()
    )
    balances = deposits.station_balances(s.id for s in stations)
    checked = changed = failing = 0
    for station in stations:
        checked += 1
        if refresh_station_compliance(station, on, balance=balances.get(station.id)):
            changed += 1
        if not db.session.get(StationCompliance, station.id).compliant:
            failing += 1
    return checked, changed, failing


def non_compliant_stations():
    """Active stations whose last check found gaps, by code."""
    return db.session.execute(
        select(Station, StationCompliance)
        .join(StationCompliance, StationCompliance.station_id == Station.id)
        .where(StationCompliance.compliant.is_(False), Station.status == StationStatus.ACTIVE)
        .order_by(Station.code)
    ).all()


def set_station_areas(actor, station: Station, *, reception_area, repair_area, storage_area):
    """HQ records a station's floor areas (after a visit or a move)."""
    _require(actor, Permission.MANAGE_STATIONS, _l("You may not edit stations."))
    profile = db.session.get(StationProfile, station.id)
    if profile is None:
        profile = StationProfile(station_id=station.id)
        db.session.add(profile)
        db.session.flush()
    fields = ("reception_area", "repair_area", "storage_area")
    before = audit.snapshot(profile, fields)
    for field, value in zip(fields, (reception_area, repair_area, storage_area), strict=True):
        setattr(profile, field, _clean(field, value) or Decimal(0))
    profile.updated_at = now_utc()
    db.session.flush()
    audit.record(
        "station.areas_changed",
        station,
        actor=actor,
        before=before,
        after=audit.snapshot(profile, fields),
    )
    refresh_station_compliance(station, actor=actor)
    return profile


def record_station_deposit(actor, station: Station, **entry):
    """Finance records a deposit movement of a station; its compliance is re-checked."""
    account = deposits.account_for_station(station.id, create=True)
    lock_station(station.id)
    recorded = deposits.record_entry(actor, account, **entry)
    if recorded.amount < 0:
        spares_stock.check_deposit_covers_stock(station.id)
    refresh_station_compliance(station, actor=actor)
    return recorded


def reverse_deposit(actor, entry, reason: str):
    """Correct a deposit entry with a reversing one; the station's compliance is re-checked."""
    if entry.account.station_id:
        lock_station(entry.account.station_id)
    reversal = deposits.reverse_entry(actor, entry, reason, today())
    if entry.account.station_id:
        if reversal.amount < 0:
            spares_stock.check_deposit_covers_stock(entry.account.station_id)
        station = db.session.get(Station, entry.account.station_id)
        refresh_station_compliance(station, actor=actor)
    return reversal


# --- technicians and certificates ----------------------------------------------------------


def _require_technician_admin(actor) -> None:
    _require(actor, Permission.MANAGE_TECHNICIANS, _l("You may not manage technicians."))


def add_technician(actor, station: Station, *, name, role, phone="", id_number=""):
    _require_technician_admin(actor)
    technician = _new_technician(name, role, phone, id_number, station_id=station.id)
    audit.record(
        "technician.added",
        technician,
        actor=actor,
        after={"name": technician.name, "role": technician.role},
    )
    refresh_station_compliance(station, actor=actor)
    return technician


def record_attempt(
    actor, technician: Technician, *, track, theory_score, practical_score, attempted_on, examiner
) -> CertificationAttempt:
    """Record an exam; a pass issues a certificate valid 24 months from the exam day."""
    _require_technician_admin(actor)
    if attempted_on is None or attempted_on > today():
        raise DomainError(_l("The exam date cannot be in the future."), field="attempted_on")
    if not (examiner or "").strip():
        raise DomainError(_l("Enter the examiner."), field="examiner")
    scores = []
    for field, value in (("theory_score", theory_score), ("practical_score", practical_score)):
        try:
            score = Decimal(str(value))
        except InvalidOperation:
            raise DomainError(_l("Enter a score from 0 to 100."), field=field) from None
        if not Decimal(0) <= score <= Decimal(100):
            raise DomainError(_l("Enter a score from 0 to 100."), field=field)
        scores.append(score)
    track = Track(track)
    passed = rules.attempt_passed(*scores)
    attempt = CertificationAttempt(
        technician_id=technician.id,
        station_id=technician.station_id,
        track=track,
        theory_score=scores[0],
        practical_score=scores[1],
        attempted_on=attempted_on,
        examiner=examiner.strip(),
        passed=passed,
    )
    db.session.add(attempt)
    db.session.flush()
    after = {
        "track": track,
        "theory_score": scores[0],
        "practical_score": scores[1],
        "attempted_on": attempted_on,
        "examiner": attempt.examiner,
        "passed": passed,
    }
    if passed:
        certificate = Certificate(
            number=f"PENDING-{uuid.uuid4().hex[:12]}",
            technician_id=technician.id,
            attempt_id=attempt.id,
            track=track,
            issued_on=attempted_on,
            expires_on=rules.certificate_expiry(attempted_on),
        )
        db.session.add(certificate)
        db.session.flush()
        prefix = "SC" if track is Track.SERVICE_CLERK else "RT"
        certificate.number = f"{prefix}{attempted_on.year}-{certificate.id:06d}"
        db.session.flush()
        after |= {"certificate": certificate.number, "expires_on": certificate.expires_on}
    audit.record(
        "technician.certification_attempt",
        technician,
        actor=actor,
        station_id=technician.station_id,
        after=after,
    )
    db.session.refresh(technician)
    if technician.station_id:
        refresh_station_compliance(technician.station, actor=actor)
    return attempt


def revoke_certificate(actor, certificate: Certificate, reason: str) -> Certificate:
    _require_technician_admin(actor)
    if certificate.revoked_on is not None:
        raise DomainError(_l("This certificate is already revoked."))
    if not (reason or "").strip():
        raise DomainError(_l("Give the reason for the revocation."), field="reason")
    certificate.revoked_on = today()
    certificate.revoke_reason = reason.strip()
    db.session.flush()
    technician = certificate.technician
    audit.record(
        "technician.certificate_revoked",
        technician,
        actor=actor,
        station_id=technician.station_id,
        after={"certificate": certificate.number, "revoked_on": certificate.revoked_on},
        comment=certificate.revoke_reason,
    )
    if technician.station_id:
        refresh_station_compliance(technician.station, actor=actor)
    return certificate


def expiring_certificates(user, on: dt.date | None = None, days: int = 60):
    """Valid certificates whose last day falls in the next `days` days."""
    on = on or today()
    stmt = (
        select(Certificate)
        .join(Technician, Technician.id == Certificate.technician_id)
        .where(
            Certificate.revoked_on.is_(None),
            Certificate.expires_on >= on,
            Certificate.expires_on <= on + dt.timedelta(days=days),
        )
        .order_by(Certificate.expires_on, Certificate.id)
    )
    from portal.core.scoping import scope_to_user

    return list(db.session.execute(scope_to_user(stmt, Technician.station_id, user)).scalars())


# --- station life --------------------------------------------------------------------------


def _station_move(actor, station: Station, action: str, reason: str, note=None, **after):
    _require(actor, Permission.MANAGE_STATIONS, _l("You may not change stations."))
    target = STATION_LIFE.target(station.status, action)
    if not (reason or "").strip():
        raise DomainError(_l("Give the reason."), field="reason")
    before = {"status": station.status, "tier": station.tier}
    station.status = target
    for key, value in after.items():
        setattr(station, key, value)
    db.session.flush()
    audit.record(
        f"station.{action}",
        station,
        actor=actor,
        before=before,
        after={"status": station.status, "tier": station.tier} | (note or {}),
        comment=reason.strip(),
    )
    return station


def change_tier(actor, station: Station, new_tier, reason: str) -> Station:
    """Upgrade or downgrade; the station must meet the new tier's requirements."""
    try:
        new_tier = Tier(new_tier)
    except ValueError:
        raise DomainError(_l("Choose a tier."), field="tier") from None
    STATION_LIFE.target(station.status, "change_tier")
    if new_tier is station.tier:
        raise DomainError(_l("The station already has this tier."), field="tier")
    results = check_station(station, tier=new_tier)
    if not rules.is_clean(results):
        raise DomainError(
            _l(
                "The station does not meet the requirements of %(tier)s: %(gaps)s.",
                tier=new_tier.label,
                gaps=describe_gaps(rules.gaps(results)),
            ),
            field="tier",
        )
    _station_move(actor, station, "change_tier", reason, tier=new_tier)
    refresh_station_compliance(station, actor=actor)
    return station


def suspend(actor, station: Station, reason: str) -> Station:
    return _station_move(actor, station, "suspend", reason)


def reinstate(actor, station: Station, reason: str) -> Station:
    return _station_move(actor, station, "reinstate", reason)


def revoke(actor, station: Station, reason: str) -> Station:
    """End the authorization; the deposit balance (after open deductions) is due back."""
    balance = deposits.balance(deposits.account_for_station(station.id))
    return _station_move(actor, station, "revoke", reason, note={"deposit_to_refund": balance})


STATION_ACTIONS = {"suspend": suspend, "reinstate": reinstate, "revoke": revoke}


# --- queues and timelines ------------------------------------------------------------------


def application_queue(status: ApplicationStatus | None):
    stmt = select(Application).order_by(Application.status_changed_at, Application.id)
    if status is not None:
        stmt = stmt.where(Application.status == status)
    else:
        stmt = stmt.where(
            Application.status.not_in([ApplicationStatus.AUTHORIZED, ApplicationStatus.REJECTED])
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
