"""Technicians, their exams and certificates."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.certification import rules
from portal.certification.models import (
    Certificate,
    CertificationAttempt,
    Technician,
)
from portal.certification.services.common import _new_technician, _require, today
from portal.certification.services.compliance import refresh_station_compliance
from portal.certification.states import Track
from portal.core import audit
from portal.core.errors import DomainError
from portal.core.permissions import Permission
from portal.extensions import db
from portal.stations.models import Station

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
