"""Daily-report statuses, the day's standing for the calendar, and how records arrived."""

from flask_babel import lazy_gettext as _l

from portal.core.workflow import LabelledEnum, TransitionTable


class ReportStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    SUBMITTED = "submitted", _l("Submitted")
    REOPENED = "reopened", _l("Reopened for amendment")


R = ReportStatus

REPORT_FLOW = TransitionTable(
    _l("daily report"),
    {
        (R.DRAFT, "submit"): R.SUBMITTED,
        (R.SUBMITTED, "reopen"): R.REOPENED,
        (R.REOPENED, "submit"): R.SUBMITTED,
    },
)

EDITABLE_STATUSES = frozenset({R.DRAFT, R.REOPENED})


class DayStatus(LabelledEnum):
    """A station's standing for one calendar day (computed, never stored)."""

    ON_TIME = "on_time", _l("Submitted on time")
    LATE = "late", _l("Submitted late")
    MISSING = "missing", _l("Missing")
    OPEN = "open", _l("Not due yet")
    FUTURE = "future", _l("Future")
    NOT_DUE = "not_due", _l("Not due (before the agreement)")


class RecordSource(LabelledEnum):
    FORM = "form", _l("Web form")
    EXCEL = "excel", _l("Excel upload")
    API = "api", _l("API")


class UploadOutcome(LabelledEnum):
    IMPORTED = "imported", _l("Imported")
    REJECTED = "rejected", _l("Rejected")


class Payment(LabelledEnum):
    """Who pays for a repair: the manufacturer's warranty or the customer."""

    WARRANTY = "warranty", _l("Warranty")
    PAID = "paid", _l("Paid")


class Location(LabelledEnum):
    """Where a repair was done."""

    INSTORE = "instore", _l("In store")
    ONSITE = "onsite", _l("On site")


class RepairTypeCode(LabelledEnum):
    """Repair-type codes that rules name (the catalogue holds every type and its label)."""

    UNIT_SWAP = "unit_swap", _l("Unit swap (standby unit given)")
