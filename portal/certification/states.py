"""Application states and moves, staff roles, certificate tracks, station-life moves."""

from flask_babel import lazy_gettext as _l

from portal.core.workflow import LabelledEnum, TransitionTable
from portal.stations.states import StationStatus, Tier


class ApplicationStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    SUBMITTED = "submitted", _l("Submitted")
    RETURNED = "returned", _l("Returned for more information")
    SCREENING = "screening", _l("Screening")
    EVALUATED = "evaluated", _l("Evaluated")
    APPROVED = "approved", _l("Approved")
    AUTHORIZED = "authorized", _l("Authorized")
    REJECTED = "rejected", _l("Rejected")


A = ApplicationStatus

# Actions are verbs; "edit" keeps the state and says when the candidate may change the form.
APPLICATION_FLOW = TransitionTable(
    _l("application"),
    {
        (A.DRAFT, "edit"): A.DRAFT,
        (A.RETURNED, "edit"): A.RETURNED,
        (A.DRAFT, "submit"): A.SUBMITTED,
        (A.RETURNED, "submit"): A.SUBMITTED,
        (A.SUBMITTED, "start_screening"): A.SCREENING,
        (A.SUBMITTED, "return"): A.RETURNED,
        (A.SCREENING, "return"): A.RETURNED,
        (A.EVALUATED, "return"): A.RETURNED,
        (A.SCREENING, "screen"): A.SCREENING,
        (A.SCREENING, "evaluate"): A.EVALUATED,
        (A.EVALUATED, "approve"): A.APPROVED,
        (A.SUBMITTED, "reject"): A.REJECTED,
        (A.SCREENING, "reject"): A.REJECTED,
        (A.EVALUATED, "reject"): A.REJECTED,
        (A.APPROVED, "authorize"): A.AUTHORIZED,
    },
)

ACTION_LABELS = {
    "edit": _l("Edit"),
    "submit": _l("Submit"),
    "start_screening": _l("Start screening"),
    "return": _l("Return to the candidate"),
    "screen": _l("Screening sheet"),
    "evaluate": _l("Complete the evaluation"),
    "approve": _l("Approve"),
    "reject": _l("Reject"),
    "authorize": _l("Authorize"),
}

S = StationStatus

STATION_LIFE = TransitionTable(
    _l("station"),
    {
        (S.ACTIVE, "change_tier"): S.ACTIVE,
        (S.SUSPENDED, "change_tier"): S.SUSPENDED,
        (S.ACTIVE, "suspend"): S.SUSPENDED,
        (S.SUSPENDED, "reinstate"): S.ACTIVE,
        (S.ACTIVE, "revoke"): S.REVOKED,
        (S.SUSPENDED, "revoke"): S.REVOKED,
    },
)

STATION_ACTION_LABELS = {
    "change_tier": _l("Change tier"),
    "suspend": _l("Suspend"),
    "reinstate": _l("Reinstate"),
    "revoke": _l("Revoke"),
}

TIER_ORDER = [Tier.ACCESSORY_POINT, Tier.SERVICE_STATION, Tier.SERVICE_CENTER]


class StaffRole(LabelledEnum):
    COORDINATOR = "coordinator", _l("Coordinator")
    SERVICE_CLERK = "service_clerk", _l("Service clerk")
    REPAIR_TECHNICIAN = "repair_technician", _l("Repair technician")
    OTHER = "other", _l("Other")


class Track(LabelledEnum):
    SERVICE_CLERK = "service_clerk", _l("Service clerk")
    REPAIR_TECHNICIAN = "repair_technician", _l("Repair technician")


class AttachmentKind(LabelledEnum):
    BUSINESS_LICENCE = "business_licence", _l("Business licence")
    FINANCIAL_REPORT = "financial_report", _l("Audited financial report")
    SITE_PHOTO = "site_photo", _l("Site-visit photo")


CANDIDATE_KINDS = (AttachmentKind.BUSINESS_LICENCE, AttachmentKind.FINANCIAL_REPORT)


class Recommendation(LabelledEnum):
    APPROVE = "approve", _l("Approve at the requested tier")
    APPROVE_LOWER = "approve_lower", _l("Approve at a lower tier")
    REJECT = "reject", _l("Reject")


REQUIREMENT_LABELS = {
    "deposit": _l("Deposit balance (CNY)"),
    "coordinators": _l("Coordinators"),
    "certified_engineers": _l("Certified engineers"),
    "repair_area": _l("Repair area (m²)"),
    "storage_area": _l("Storage area (m²)"),
}

CRITERIA = (
    ("qualification", _l("Qualification and reputation")),
    ("experience", _l("After-sales experience")),
    ("personnel", _l("Personnel")),
    ("site", _l("Site")),
    ("equipment", _l("Equipment")),
    ("financial", _l("Financial health")),
)
