"""Inspection, checklist and rectification states, answers and grades (SPEC 4)."""

from flask_babel import lazy_gettext as _l

from portal.core.workflow import LabelledEnum, TransitionTable


class VersionStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    PUBLISHED = "published", _l("Published")


class InspectionKind(LabelledEnum):
    STATION = "station", _l("Station inspection")
    SITE_VISIT = "site_visit", _l("Site visit of an application")


class InspectionStatus(LabelledEnum):
    PLANNED = "planned", _l("Planned")
    IN_PROGRESS = "in_progress", _l("Being filled in")
    SUBMITTED = "submitted", _l("Submitted")
    CANCELLED = "cancelled", _l("Cancelled")


class AnswerResult(LabelledEnum):
    PASS = "pass", _l("Pass")
    PARTIAL = "partial", _l("Partial")
    FAIL = "fail", _l("Fail")


class Grade(LabelledEnum):
    EXCELLENT = "excellent", _l("Excellent")
    GOOD = "good", _l("Good")
    NEEDS_RECTIFICATION = "needs_rectification", _l("Needs rectification")
    FAIL = "fail", _l("Fail")


class RectificationStatus(LabelledEnum):
    OPEN = "open", _l("Open")
    ANSWERED = "answered", _l("Answered, waiting for review")
    ACCEPTED = "accepted", _l("Accepted (closed)")
    REJECTED = "rejected", _l("Rejected, to be answered again")


class RectificationSource(LabelledEnum):
    ITEM = "item", _l("Checklist item")
    STOCK = "stock", _l("Stock count")
    MANUAL = "manual", _l("Added by the auditor")


class FilePurpose(LabelledEnum):
    PHOTO = "photo", _l("Inspection photo")
    EVIDENCE = "evidence", _l("Rectification evidence")


IS = InspectionStatus

INSPECTION_FLOW = TransitionTable(
    _l("inspection"),
    {
        (IS.PLANNED, "fill"): IS.IN_PROGRESS,
        (IS.IN_PROGRESS, "fill"): IS.IN_PROGRESS,
        (IS.PLANNED, "submit"): IS.SUBMITTED,
        (IS.IN_PROGRESS, "submit"): IS.SUBMITTED,
        (IS.PLANNED, "cancel"): IS.CANCELLED,
        (IS.IN_PROGRESS, "cancel"): IS.CANCELLED,
        (IS.SUBMITTED, "add_rectification"): IS.SUBMITTED,
    },
)

R = RectificationStatus

RECTIFICATION_FLOW = TransitionTable(
    _l("rectification"),
    {
        (R.OPEN, "answer"): R.ANSWERED,
        (R.REJECTED, "answer"): R.ANSWERED,
        (R.ANSWERED, "accept"): R.ACCEPTED,
        (R.ANSWERED, "reject"): R.REJECTED,
    },
)

# Still the station's to do: these can be overdue and are reminded.
UNRESOLVED = (R.OPEN, R.REJECTED)
# Not closed yet (listed as open rectifications).
NOT_CLOSED = (R.OPEN, R.ANSWERED, R.REJECTED)

V = VersionStatus
