"""The settlement workflow (SPEC 8.4), every move through SETTLEMENT_FLOW.

    draft -> confirmed (the station agrees) | disputed (the station objects, with a reason)
    disputed -> draft (HQ answers, or recomputes the station's month)
    confirmed -> hq_approved (HQ) -> finance_approved (finance: locked) -> paid (reference, date)
    finance_approved | paid -> superseded, with a new revision in draft (reopening: an amendment)

Each move takes the version the person saw: when the settlement changed meanwhile (someone else
acted first), the move is refused with "it changed" and nothing is written. Two moves at the same
moment are decided by the row's version column: one UPDATE matches, the other finds nothing and
is refused the same way. Whoever ran the settlement or approved it for HQ cannot give the finance
approval. Every move is audited with every changed field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.core import audit
from portal.core.actors import is_system, require_actor
from portal.core.db import now_utc
from portal.core.errors import ConcurrentChange, DomainError, PermissionDenied
from portal.core.forms import CHANGED_MEANWHILE
from portal.core.permissions import Permission, can
from portal.extensions import db
from portal.settlement.models import Settlement
from portal.settlement.states import SETTLEMENT_FLOW, SettlementStatus

S = SettlementStatus
MAX_TEXT = 1000


@dataclass(frozen=True)
class Action:
    name: str
    label: object
    permission: Permission
    style: str = "primary"
    needs_text: str | None = None  # the form field a person must fill in
    confirm: object | None = None


ACTIONS = {
    a.name: a
    for a in (
        Action("confirm", _l("Confirm the settlement"), Permission.CONFIRM_SETTLEMENTS, "success"),
        Action(
            "dispute",
            _l("Dispute the settlement"),
            Permission.CONFIRM_SETTLEMENTS,
            "outline-danger",
            needs_text="reason",
        ),
        Action(
            "answer",
            _l("Answer the dispute"),
            Permission.REVIEW_SETTLEMENTS,
            "outline-primary",
            needs_text="answer",
        ),
        Action("recompute", _l("Recompute"), Permission.REVIEW_SETTLEMENTS, "outline-primary"),
        Action("hq_approve", _l("Approve for HQ"), Permission.REVIEW_SETTLEMENTS, "success"),
        Action(
            "finance_approve",
            _l("Approve for payment (locks the month)"),
            Permission.APPROVE_SETTLEMENT_PAYMENTS,
            "success",
            confirm=_l("Approve and lock this settlement? Its month can then no longer change."),
        ),
        Action(
            "pay",
            _l("Mark as paid"),
            Permission.APPROVE_SETTLEMENT_PAYMENTS,
            "primary",
            needs_text="paid_reference",
        ),
        Action(
            "reopen",
            _l("Reopen as an amendment"),
            Permission.APPROVE_SETTLEMENT_PAYMENTS,
            "outline-danger",
            needs_text="reason",
            confirm=_l("Reopen this locked settlement? A new revision is made in draft."),
        ),
    )
}

# The transition table's action of a workflow action, where the names differ.
FLOW_ACTION: dict[str, str] = {}


def _text(value: str | None, field: str, message) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise DomainError(message, field=field)
    if len(text) > MAX_TEXT:
        raise DomainError(
            _l("Write at most %(n)s characters.", n=MAX_TEXT),
            field=field,
        )
    return text


def _check(actor, settlement: Settlement, action: str, expected_version: int | None) -> S:
    """The target state, after permission, scope, freshness and the transition table."""
    require_actor(actor)
    spec = ACTIONS[action]
    if not can(actor, spec.permission, settlement):
        raise PermissionDenied(_l("You may not do this with this settlement."))
    if expected_version is not None and expected_version != settlement.version:
        raise ConcurrentChange(CHANGED_MEANWHILE)
    if settlement.status == S.SUPERSEDED and action != "reopen":
        raise DomainError(_l("This revision is superseded; act on the current one."))
    return SETTLEMENT_FLOW.target(settlement.status, FLOW_ACTION.get(action, action))


def _done(action: str, tracker, actor, comment: str = "") -> None:
    # The version column makes the UPDATE conditional: a concurrent move raises StaleDataError
    # here (answered "it changed" by the page), never a lost update.
    audit.record_changes(f"settlement.{action}", tracker, actor=actor, comment=comment)


def confirm(actor, settlement: Settlement, *, expected_version: int | None = None) -> Settlement:
    """The station agrees with its settlement."""
    target = _check(actor, settlement, "confirm", expected_version)
    tracker = audit.track(settlement)
    settlement.status = target
    _done("confirm", tracker, actor)
    return settlement


def dispute(
    actor, settlement: Settlement, reason: str, *, expected_version: int | None = None
) -> Settlement:
    """The station objects, saying why; HQ answers or recomputes."""
    target = _check(actor, settlement, "dispute", expected_version)
    reason = _text(reason, "reason", _l("Say what is wrong with the settlement."))
    tracker = audit.track(settlement)
    settlement.status = target
    settlement.dispute_reason = reason
    _done("dispute", tracker, actor, comment=reason)
    return settlement


def answer(
    actor, settlement: Settlement, text: str, *, expected_version: int | None = None
) -> Settlement:
    """HQ answers a dispute without changing the figures; the station decides again."""
    target = _check(actor, settlement, "answer", expected_version)
    text = _text(text, "answer", _l("Write the answer to the station."))
    tracker = audit.track(settlement)
    settlement.status = target
    settlement.answer = text
    _done("answer", tracker, actor, comment=text)
    return settlement


def recompute(actor, settlement: Settlement, *, expected_version: int | None = None) -> Settlement:
    """HQ recomputes a disputed settlement from the current data (back to draft)."""
    target = _check(actor, settlement, "recompute", expected_version)
    from portal.settlement.run import run_month

    tracker = audit.track(settlement)
    settlement.status = target
    _done("recompute", tracker, actor)
    db.session.flush()
    run_month(settlement.month, [settlement.station_id], actor)
    db.session.flush()
    db.session.refresh(settlement)
    return settlement


def hq_approve(actor, settlement: Settlement, *, expected_version: int | None = None) -> Settlement:
    """HQ approves a settlement the station confirmed."""
    target = _check(actor, settlement, "hq_approve", expected_version)
    tracker = audit.track(settlement)
    settlement.status = target
    settlement.hq_approved_by_id = getattr(actor, "id", None)
    settlement.hq_approved_at = now_utc()
    _done("hq_approve", tracker, actor)
    return settlement


def check_month_over(settlement: Settlement) -> None:
    """A month is locked only once it is over: its last reports may still come in until then."""
    from portal.core.dates import local_today
    from portal.settlement.adjustments import next_month

    first_open_day = next_month(settlement.month)
    if local_today() < first_open_day:
        raise DomainError(
            _l(
                "The month is not over yet: finance can approve (and lock) it from %(day)s.",
                day=first_open_day.isoformat(),
            )
        )


def check_separation(actor, settlement: Settlement) -> None:
    """Whoever ran the settlement or approved it for HQ may not give the finance approval."""
    if is_system(actor):
        raise PermissionDenied(_l("The finance approval is given by a person."))
    involved = {settlement.run_by_id, settlement.computed_by_id, settlement.hq_approved_by_id}
    if actor.id in involved:
        raise PermissionDenied(
            _l(
                "You ran this settlement or approved it for HQ: another person in finance gives "
                "the finance approval."
            )
        )


def finance_approve(
    actor, settlement: Settlement, *, expected_version: int | None = None
) -> Settlement:
    """Finance approves: the settlement and its station's month are locked."""
    target = _check(actor, settlement, "finance_approve", expected_version)
    check_separation(actor, settlement)
    check_month_over(settlement)
    tracker = audit.track(settlement)
    settlement.status = target
    settlement.finance_approved_by_id = actor.id
    settlement.finance_approved_at = now_utc()
    _done("finance_approve", tracker, actor)
    return settlement


def mark_paid(
    actor,
    settlement: Settlement,
    reference: str,
    paid_on: dt.date | None,
    *,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> Settlement:
    """Finance records the payment: its bank reference and the day it was paid."""
    from portal.core.dates import local_today

    target = _check(actor, settlement, "pay", expected_version)
    reference = _text(reference, "paid_reference", _l("Enter the payment reference."))
    if len(reference) > 100:
        raise DomainError(_l("Write at most %(n)s characters.", n=100), field="paid_reference")
    if paid_on is None:
        raise DomainError(_l("Enter the day it was paid."), field="paid_on")
    if paid_on > (today or local_today()):
        raise DomainError(_l("The payment day cannot be in the future."), field="paid_on")
    if settlement.finance_approved_at is not None and paid_on < settlement.month:
        raise DomainError(_l("The payment day is before the settled month."), field="paid_on")
    tracker = audit.track(settlement)
    settlement.status = target
    settlement.paid_reference = reference
    settlement.paid_on = paid_on
    _done("pay", tracker, actor, comment=reference)
    return settlement


AMOUNT_FIELDS = (
    "valid_count",
    "invalid_count",
    "labour",
    "travel",
    "rewards",
    "penalties",
    "deductions",
    "carried_in",
    "carried_out",
    "net",
)
COPIED_FIELDS = ("station_id", "month", *AMOUNT_FIELDS, "rule_versions")


def reopen(
    actor, settlement: Settlement, reason: str, *, expected_version: int | None = None
) -> Settlement:
    """Reopen a locked settlement: it is kept, marked superseded, and a new revision in draft
    takes its place (recomputed from the current data); the difference is shown on its page."""
    target = _check(actor, settlement, "reopen", expected_version)
    reason = _text(reason, "reason", _l("Say why the settlement is reopened."))
    from portal.settlement.run import run_month

    tracker = audit.track(settlement)
    settlement.status = target
    settlement.superseded_at = now_utc()
    db.session.flush()
    amendment = Settlement(
        **{field: getattr(settlement, field) for field in COPIED_FIELDS},
        revision=settlement.revision + 1,
        status=S.DRAFT,
    )
    db.session.add(amendment)
    db.session.flush()
    settlement.superseded_by_id = amendment.id
    _done("reopen", tracker, actor, comment=reason)
    audit.record_created("settlement.amendment_created", amendment, actor=actor, comment=reason)
    run_month(settlement.month, [settlement.station_id], actor)
    db.session.flush()
    db.session.refresh(amendment)
    return amendment


def previous_revision(settlement: Settlement) -> Settlement | None:
    """The revision this one amends (None for the first)."""
    return db.session.execute(
        select(Settlement).where(Settlement.superseded_by_id == settlement.id)
    ).scalar_one_or_none()


def difference(settlement: Settlement) -> list[tuple[str, object, object, object]]:
    """(field, before, now, now - before) of each figure an amendment changed."""
    before = previous_revision(settlement)
    if before is None:
        return []
    rows = []
    for field in AMOUNT_FIELDS:
        old, new = getattr(before, field), getattr(settlement, field)
        if old != new:
            rows.append((field, old, new, (new or 0) - (old or 0)))
    return rows


def allowed_actions(user, settlement: Settlement) -> list[Action]:
    """The moves this person may make on this settlement now (what the page offers)."""
    if settlement.status == S.SUPERSEDED:
        return []
    found = []
    for name, spec in ACTIONS.items():
        if not SETTLEMENT_FLOW.can(settlement.status, FLOW_ACTION.get(name, name)):
            continue
        if not can(user, spec.permission, settlement):
            continue
        if name == "finance_approve":
            try:
                check_separation(user, settlement)
                check_month_over(settlement)
            except (PermissionDenied, DomainError):
                continue
        found.append(spec)
    return found


def run(actor, settlement: Settlement, action: str, form: dict) -> Settlement:
    """One move from a page's form: the action's own service with the form's values."""
    version = form.get("version")
    try:
        expected = int(version) if version not in (None, "") else None
    except (TypeError, ValueError):
        expected = None
    if action == "confirm":
        return confirm(actor, settlement, expected_version=expected)
    if action == "dispute":
        return dispute(actor, settlement, form.get("reason", ""), expected_version=expected)
    if action == "answer":
        return answer(actor, settlement, form.get("answer", ""), expected_version=expected)
    if action == "recompute":
        return recompute(actor, settlement, expected_version=expected)
    if action == "hq_approve":
        return hq_approve(actor, settlement, expected_version=expected)
    if action == "finance_approve":
        return finance_approve(actor, settlement, expected_version=expected)
    if action == "pay":
        paid_on = None
        try:
            paid_on = dt.date.fromisoformat((form.get("paid_on") or "").strip())
        except ValueError:
            raise DomainError(_l("Enter the day it was paid."), field="paid_on") from None
        return mark_paid(
            actor, settlement, form.get("paid_reference", ""), paid_on, expected_version=expected
        )
    if action == "reopen":
        return reopen(actor, settlement, form.get("reason", ""), expected_version=expected)
    raise DomainError(_l("Unknown action."))
