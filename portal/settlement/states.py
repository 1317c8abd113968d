"""Settlement states and the transition table (SPEC 8.4); moves are made in workflow.py."""

from flask_babel import lazy_gettext as _l

from portal.core.workflow import LabelledEnum, TransitionTable


class SettlementStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    CONFIRMED = "confirmed", _l("Confirmed by station")
    DISPUTED = "disputed", _l("Disputed")
    HQ_APPROVED = "hq_approved", _l("Approved by HQ")
    FINANCE_APPROVED = "finance_approved", _l("Approved by finance (locked)")
    PAID = "paid", _l("Paid out")
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
