"""Settlement states and the transition table (SPEC 8.4); moves are made in workflow.py."""

from flask_babel import lazy_gettext as _l

from portal.core.workflow import LabelledEnum, TransitionTable


class SettlementStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    CONFIRMED = "confirmed", _l("Confirmed by station")
    DISPUTED = "disputed", _l("Disputed")
    HQ_APPROVED = "hq_approved", _l("Approved by HQ")
    FINANCE_APPROVED = "finance_approved", _l("Approved by finance (locked)")
    PAID = "paid", _l("Paid")
    SUPERSEDED = "superseded", _l("Superseded")


S = SettlementStatus

SETTLEMENT_FLOW = TransitionTable(
    _l("settlement"),
    {
        (S.DRAFT, "confirm"): S.CONFIRMED,
        (S.DRAFT, "dispute"): S.DISPUTED,
        (S.DISPUTED, "answer"): S.DRAFT,
        (S.DISPUTED, "recompute"): S.DRAFT,
        (S.CONFIRMED, "hq_approve"): S.HQ_APPROVED,
        (S.HQ_APPROVED, "finance_approve"): S.FINANCE_APPROVED,
        (S.FINANCE_APPROVED, "pay"): S.PAID,
        # Reopening a locked settlement supersedes it; an amendment (new revision) replaces it.
        (S.FINANCE_APPROVED, "reopen"): S.SUPERSEDED,
        (S.PAID, "reopen"): S.SUPERSEDED,
    },
)

# Approved by finance (and then paid): the month's records, reports, stock movements and
# adjustments of the station are locked (portal/settlement/locks.py).
LOCKED_STATES = frozenset({S.FINANCE_APPROVED, S.PAID})


class InvalidReason(LabelledEnum):
    """Why a record is not paid (SPEC 8.2): the first validity rule it fails, in rule order."""

    NOT_REPORTED = "not_reported", _l("Not in a submitted daily report of the month")
    BAD_SERIAL = "bad_serial", _l("Serial number does not match the model's pattern")
    OUT_OF_WARRANTY = "out_of_warranty", _l("Claimed as warranty but out of warranty")
    REPEAT_REPAIR = "repeat_repair", _l("Repeat repair of the same fault within the window")
    TIER_SCOPE = "tier_scope", _l("Repair type not allowed for the station's tier")
    PART_NOT_HELD = "part_not_held", _l("Used a part the station did not hold")
    DUPLICATE_TICKET = "duplicate_ticket", _l("Same ticket number twice at the station")


def reason_label(code: str | None):
    """A reason code's name in the user's language (the code itself if unknown)."""
    try:
        return InvalidReason(code).label
    except ValueError:
        return code or ""
