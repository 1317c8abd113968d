"""HQ review: screening, evaluation, return, rejection, approval."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from portal.certification import rules
from portal.certification.models import (
    Application,
    ScreeningSheet,
    ScreeningWeightSet,
)
from portal.certification.services.common import _move, _require, today
from portal.certification.services.compliance import check_application
from portal.certification.states import (
    APPLICATION_FLOW,
    CRITERIA,
    Recommendation,
)
from portal.core import audit, versioning
from portal.core.db import now_utc
from portal.core.errors import DomainError, PermissionDenied
from portal.core.permissions import Permission, can
from portal.extensions import db
from portal.spares import services as deposits
from portal.stations.states import Tier

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
    found = versioning.in_force(ScreeningWeightSet, on)
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


def record_site_visit(
    actor, application: Application, *, rating: Decimal, visited_on: dt.date, reference: str
) -> ScreeningSheet | None:
    """A submitted site-visit inspection rates the site criterion of the screening sheet.

    Called by the inspections module when the visit's auditor submits it; an application that
    has left screening meanwhile keeps its sheet as it is (None is returned).
    """
    if not (
        can(actor, Permission.CONDUCT_INSPECTIONS) or can(actor, Permission.REVIEW_APPLICATIONS)
    ):
        raise PermissionDenied(_l("You may not rate the site of an application."))
    if not APPLICATION_FLOW.can(application.status, "screen"):
        return None
    sheet = application.screening
    if sheet is None:
        sheet = ScreeningSheet(application=application, weight_set=weights_in_force())
        db.session.add(sheet)
    rating = max(Decimal(0), min(Decimal(100), Decimal(rating)))
    ratings = dict(sheet.ratings or {})
    ratings["site"] = str(rating)
    sheet.ratings = ratings
    sheet.total = rules.weighted_total(
        sheet.weight_set.weights, {k: Decimal(v) for k, v in ratings.items()}
    )
    sheet.visited_on = visited_on
    line = f"{visited_on.isoformat()} {reference}: {rating} %"
    sheet.visit_notes = f"{sheet.visit_notes}\n{line}".strip() if sheet.visit_notes else line
    sheet.updated_at = now_utc()
    db.session.flush()
    audit.record(
        "application.site_visit_rated",
        application,
        actor=actor,
        after={"site": rating, "total": sheet.total, "visited_on": visited_on, "by": reference},
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
    sheet.recommendation = report["recommendation"].value
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
        else (Recommendation.REJECT, None)
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
