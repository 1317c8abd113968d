"""Names, never codes: what a person sees for a catalogue code, a state, an event, an object
type, a field and a value, in the user's language (STYLE.md, "What a person sees").

Templates use the filters and globals registered by `init_names`:

- `{{ code|repair_type_name }}`, `result_name`, `fault_name`, `model_name`: a catalogue code
  by its name (the catalogues are read once per request);
- `{{ entry.action|event_name }}`, `{{ entry.object_type|object_type_name }}`;
- `audit_changes(entry)`: (field name, old, new) with names and values shown as words;
- `audit_object(entry)`: (text, url) for the object an entry is about, linked where a page
  shows it.

The registries below are complete for every event the portal writes:
`tests/core/test_names.py` fails when a service records an event or a field with no name here.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Any

from flask import Flask, g, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from werkzeug.routing import BuildError

# --- events ---------------------------------------------------------------------------------

EVENT_NAMES: dict[str, Any] = {
    "adjustment.recorded": _l("Reward or penalty recorded"),
    "api_token.created": _l("API token created"),
    "api_token.revoked": _l("API token revoked"),
    "application.approve": _l("Application approved"),
    "application.attachment_added": _l("Attachment added"),
    "application.authorize": _l("Station authorized"),
    "application.counterfeit_violation": _l("Counterfeit-product violation recorded"),
    "application.created": _l("Application created"),
    "application.edit": _l("Application edited"),
    "application.evaluate": _l("Evaluation completed"),
    "application.reject": _l("Application rejected"),
    "application.return": _l("Returned to the candidate"),
    "application.saved": _l("Application saved"),
    "application.screen": _l("Screening sheet saved"),
    "application.screened": _l("Screening sheet saved"),
    "application.site_visit_rated": _l("Site visit rated"),
    "application.staff_added": _l("Staff member added"),
    "application.staff_removed": _l("Staff member removed"),
    "application.start_screening": _l("Screening started"),
    "application.submit": _l("Submitted to HQ"),
    "auth.login": _l("Signed in"),
    "auth.password_changed": _l("Password changed"),
    "catalogue.faults.saved": _l("Fault code saved"),
    "catalogue.models.saved": _l("Device model saved"),
    "catalogue.models.fact_versioned": _l("Serial pattern or warranty changed from a date"),
    "catalogue.faults.fact_versioned": _l("Fault category changed from a date"),
    "catalogue.results.saved": _l("Repair result saved"),
    "catalogue.types.saved": _l("Repair type saved"),
    "checklist.draft_created": _l("Checklist draft created"),
    "checklist.item_deleted": _l("Checklist item deleted"),
    "checklist.item_saved": _l("Checklist item saved"),
    "checklist.published": _l("Checklist published"),
    "checklist.section_deleted": _l("Checklist section deleted"),
    "checklist.section_saved": _l("Checklist section saved"),
    "daily_report.counts": _l("Report counts saved"),
    "daily_report.demo_backdated": _l("Demo report dated back"),
    "daily_report.opened": _l("Daily report opened"),
    "daily_report.records_imported": _l("Records imported"),
    "daily_report.reopened": _l("Daily report reopened"),
    "daily_report.submitted": _l("Daily report submitted"),
    "deposit.account_attached": _l("Deposit account moved to the station"),
    "deposit.deduction": _l("Deposit deduction recorded"),
    "deposit.paid": _l("Deposit payment recorded"),
    "deposit.refund": _l("Deposit refund recorded"),
    "deposit.reversed": _l("Deposit entry reversed"),
    "deposit.top_up": _l("Deposit top-up recorded"),
    "inspection.cancelled": _l("Inspection cancelled"),
    "inspection.photo_added": _l("Inspection photo added"),
    "inspection.evidence_added": _l("Rectification evidence added"),
    "inspection.photo_deleted": _l("Inspection photo deleted"),
    "inspection.stock_line_added": _l("Stock count line added"),
    "inspection.stock_line_changed": _l("Stock count line changed"),
    "job.queued": _l("Background job queued"),
    "job.restarted": _l("Background job restarted"),
    "inspection.planned": _l("Inspection planned"),
    "inspection.settings_changed": _l("Grades and deadlines changed"),
    "inspection.started": _l("Inspection started"),
    "inspection.submitted": _l("Inspection submitted"),
    "rectification.accepted": _l("Rectification accepted"),
    "rectification.answered": _l("Rectification answered"),
    "rectification.opened": _l("Rectification opened"),
    "rectification.rejected": _l("Rectification rejected"),
    "rectification.reminded_due_soon": _l("Reminder: rectification due soon"),
    "rectification.reminded_overdue": _l("Reminder: rectification overdue"),
    "repair_record.deleted": _l("Repair record deleted"),
    "repair_record.personal_data_shown": _l("Customer data shown"),
    "repair_record.updated": _l("Repair record changed"),
    "report_setting.saved": _l("Report deadline changed"),
    "report_upload.imported": _l("Excel upload imported"),
    "report_upload.rejected": _l("Excel upload refused"),
    "return_batch.cancel": _l("Return batch cancelled"),
    "return_batch.confirm": _l("Return batch confirmed"),
    "return_batch.created": _l("Return batch created"),
    "return_batch.line_added": _l("Return line added"),
    "return_batch.line_removed": _l("Return line removed"),
    "return_batch.ship": _l("Return batch shipped"),
    "screening_weights.created": _l("Screening weights changed"),
    "settlement.amendment_created": _l("Settlement reopened as an amendment"),
    "settlement.computed": _l("Settlement computed"),
    "settlement.exported": _l("Settlement exported"),
    "settlement.earlier_repairs_imported": _l("Earlier repairs imported"),
    "settlement.fee_schedule_added": _l("Fee schedule added"),
    "settlement.rule_amount_added": _l("Reward or penalty amount added"),
    "settlement.tier_scope_changed": _l("Repair types per tier changed"),
    "settlement.validity_parameters_added": _l("Validity rules added"),
    "shipment.cancel": _l("Shipment cancelled"),
    "shipment.created": _l("Shipment drafted"),
    "shipment.line_added": _l("Shipment line added"),
    "shipment.line_removed": _l("Shipment line removed"),
    "shipment.receive": _l("Shipment received"),
    "shipment.receive_with_difference": _l("Shipment received with a difference"),
    "shipment.resolve": _l("Shipment difference resolved"),
    "shipment.send": _l("Shipment sent"),
    "spare_part.changed": _l("Spare part changed"),
    "spare_part.created": _l("Spare part created"),
    "spare_part.imported": _l("Parts catalogue imported"),
    "spares_setting.saved": _l("Coverage and return period changed"),
    "station.areas_changed": _l("Floor areas changed"),
    "station.change_tier": _l("Tier changed"),
    "station.compliance_changed": _l("Compliance changed"),
    "station.created": _l("Station created"),
    "station.reinstate": _l("Station reinstated"),
    "station.revoke": _l("Station revoked"),
    "station.suspend": _l("Station suspended"),
    "station.updated": _l("Station master data changed"),
    "stock.counted": _l("Stock counted"),
    "stock.opening_imported": _l("Opening stock imported"),
    "stock.repair_parts": _l("Parts used by a repair"),
    "stock.unreturned_charged": _l("Unreturned defective parts charged"),
    "technician.added": _l("Technician added"),
    "technician.certificate_revoked": _l("Certificate revoked"),
    "technician.certification_attempt": _l("Certification exam recorded"),
    "tier_rules.created": _l("Tier rules changed"),
    "user.activated": _l("User activated"),
    "user.bound_to_station": _l("User bound to the station"),
    "user.created": _l("User created"),
    "user.deactivated": _l("User deactivated"),
    "user.locale": _l("Language changed"),
    "user.updated": _l("User changed"),
}

OBJECT_TYPE_NAMES: dict[str, Any] = {
    "Adjustment": _l("Reward or penalty"),
    "ApiToken": _l("API token"),
    "Application": _l("Application"),
    "Attachment": _l("Attachment"),
    "Certificate": _l("Certificate"),
    "CertificationAttempt": _l("Certification exam"),
    "ChecklistItem": _l("Checklist item"),
    "ChecklistSection": _l("Checklist section"),
    "ChecklistTemplate": _l("Checklist"),
    "ChecklistVersion": _l("Checklist version"),
    "DailyReport": _l("Daily report"),
    "DepositAccount": _l("Deposit account"),
    "DepositEntry": _l("Deposit entry"),
    "DeviceModel": _l("Device model"),
    "FaultCode": _l("Fault code"),
    "Inspection": _l("Inspection"),
    "InspectionSetting": _l("Grades and deadlines"),
    "Part": _l("Spare part"),
    "Rectification": _l("Rectification"),
    "RepairRecord": _l("Repair record"),
    "RepairResult": _l("Repair result"),
    "RectificationResponse": _l("Rectification answer"),
    "RepairType": _l("Repair type"),
    "ReportSetting": _l("Report deadline"),
    "ReportUpload": _l("Excel upload"),
    "ReturnBatch": _l("Defective return"),
    "ScreeningSheet": _l("Screening sheet"),
    "ScreeningWeightSet": _l("Screening weights"),
    "ScreeningWeights": _l("Screening weights"),
    "Settlement": _l("Settlement"),
    "SettlementExport": _l("Settlement export"),
    "SettlementLine": _l("Settlement line"),
    "FeeSchedule": _l("Fee schedule"),
    "EarlierRepair": _l("Earlier repair"),
    "EarlierRepairImport": _l("Earlier repairs import"),
    "DeviceModelFact": _l("Device model facts"),
    "FaultCategoryFact": _l("Fault category"),
    "FeeRate": _l("Fee rate"),
    "ValidityParameters": _l("Validity rules"),
    "AdjustmentRuleVersion": _l("Reward or penalty amount"),
    "TierScope": _l("Repair types per tier"),
    "Job": _l("Background job"),
    "Shipment": _l("Shipment"),
    "SparesSetting": _l("Coverage and return period"),
    "Station": _l("Station"),
    "StationCompliance": _l("Tier compliance"),
    "StationProfile": _l("Station profile"),
    "StockCount": _l("Stock count"),
    "StockImport": _l("Opening stock import"),
    "Technician": _l("Technician"),
    "TierRequirement": _l("Tier rules"),
    "TierRuleSet": _l("Tier rules"),
    "TierRules": _l("Tier rules"),
    "UploadBatch": _l("Excel upload"),
    "User": _l("User"),
}

FIELD_NAMES: dict[str, Any] = {
    "active": _l("Active"),
    "address": _l("Address"),
    "agreement_end_on": _l("Agreement ends"),
    "agreement_start_on": _l("Agreement starts"),
    "amount": _l("Amount"),
    "answers": _l("Answers"),
    "application_id": _l("Application"),
    "approved_tier": _l("Approved tier"),
    "attempted_on": _l("Exam date"),
    "auditor": _l("Auditor"),
    "authorized_region": _l("Authorized region"),
    "balance": _l("Balance"),
    "brands_serviced": _l("Brands serviced"),
    "carrier_ref": _l("Carrier reference"),
    "category": _l("Category"),
    "centers_only": _l("Service centers only"),
    "certificate": _l("Certificate"),
    "checklist": _l("Checklist"),
    "city": _l("City"),
    "city_class": _l("City class"),
    "code": _l("Code"),
    "comment": _l("Comment"),
    "company_name": _l("Company name"),
    "complaint_count": _l("Complaints"),
    "completed_at": _l("Completed"),
    "completed_count": _l("Completed"),
    "compliant": _l("Compliant"),
    "contact_email": _l("Contact e-mail"),
    "contact_name": _l("Contact person"),
    "contact_phone": _l("Contact phone"),
    "coverage_factor": _l("Coverage factor"),
    "coverage_limit": _l("Coverage limit"),
    "coverage_used": _l("Coverage used"),
    "credit_code": _l("Unified social credit code"),
    "critical": _l("Critical"),
    "critical_failed": _l("Critical item failed"),
    "customer_name": _l("Customer"),
    "customer_phone": _l("Customer phone"),
    "days": _l("Days"),
    "device_model": _l("Device model"),
    "display_name": _l("Name"),
    "due_days_after": _l("Due days after"),
    "due_on": _l("Due on"),
    "due_time": _l("Due time"),
    "effective_on": _l("Effective from"),
    "email": _l("E-mail"),
    "emailed_to": _l("E-mailed to"),
    "entry_on": _l("Date"),
    "equipment_notes": _l("Equipment notes"),
    "examiner": _l("Examiner"),
    "expires_on": _l("Valid until"),
    "fault_code": _l("Fault code"),
    "faulty_serial": _l("Faulty part serial"),
    "file": _l("File"),
    "filename": _l("File"),
    "files": _l("Files"),
    "financial_year": _l("Financial year"),
    "finding": _l("Finding"),
    "first_id": _l("First record"),
    "first_submitted_at": _l("First submitted"),
    "gaps": _l("Gaps"),
    "grade": _l("Grade"),
    "has_computer": _l("Computer"),
    "has_test_instruments": _l("Test instruments"),
    "has_tools": _l("Tools"),
    "id_number": _l("ID number"),
    "is_standby": _l("Standby unit"),
    "items": _l("Items"),
    "kind": _l("Kind"),
    "last_id": _l("Last record"),
    "legal_representative": _l("Legal representative"),
    "line_total": _l("Lines"),
    "lines": _l("Lines"),
    "locale": _l("Language"),
    "model_codes": _l("Device models"),
    "month": _l("Month"),
    "movements": _l("Stock movements"),
    "name": _l("Name"),
    "name_en": _l("Name (English)"),
    "name_zh": _l("Name (Chinese)"),
    "net_profit": _l("Net profit"),
    "no_counterfeit_declared": _l("No counterfeit declared"),
    "not_held": _l("Parts not held"),
    "note": _l("Note"),
    "notes": _l("Notes"),
    "number": _l("Number"),
    "outcome": _l("Outcome"),
    "occurrence": _l("Occurrence"),
    "on_site": _l("On site"),
    "part_no": _l("Part number"),
    "parts": _l("Parts"),
    "passed": _l("Passed"),
    "pending_count": _l("Pending"),
    "phone": _l("Phone"),
    "planned_on": _l("Planned for"),
    "practical_score": _l("Practical score"),
    "province": _l("Province"),
    "purchase_on": _l("Purchase date"),
    "quantity": _l("Quantity"),
    "ratings": _l("Ratings"),
    "reason": _l("Reason"),
    "received_at": _l("Received"),
    "received_count": _l("Received"),
    "reception_area": _l("Reception area"),
    "recommendation": _l("Recommendation"),
    "recommended_tier": _l("Recommended tier"),
    "records": _l("Records"),
    "reference": _l("Reference"),
    "removing": _l("Removed"),
    "repair_area": _l("Repair area"),
    "repair_type": _l("Repair type"),
    "report_on": _l("Report day"),
    "requested_tier": _l("Requested tier"),
    "result": _l("Repair result"),
    "return_days": _l("Return period"),
    "return_visit_on": _l("Return visit"),
    "return_visit_outcome": _l("Return-visit outcome"),
    "returned_count": _l("Returned to factory"),
    "revenue": _l("Revenue"),
    "reverses_id": _l("Reverses"),
    "role": _l("Role"),
    "roles": _l("Roles"),
    "rows": _l("Rows"),
    "rule_code": _l("Rule"),
    "satisfaction": _l("Satisfaction"),
    "score": _l("Score"),
    "serial_no": _l("Serial number"),
    "serial_pattern": _l("Serial pattern"),
    "service_phone": _l("Service phone"),
    "sha256": _l("File fingerprint"),
    "size": _l("Size"),
    "sort_order": _l("Order"),
    "source": _l("Source"),
    "source_id": _l("Source"),
    "source_type": _l("Source type"),
    "standby_serial": _l("Standby unit serial"),
    "station_code": _l("Station code"),
    "station_id": _l("Station"),
    "stations": _l("Stations"),
    "status": _l("Status"),
    "step": _l("Step"),
    "storage_area": _l("Storage area"),
    "submitted_at": _l("Submitted"),
    "submitted_by_id": _l("Submitted by"),
    "theory_score": _l("Theory score"),
    "ticket_no": _l("Ticket"),
    "tier": _l("Tier"),
    "total": _l("Total"),
    "total_assets": _l("Total assets"),
    "track": _l("Track"),
    "unit_value": _l("Unit value"),
    "username": _l("Username"),
    "value": _l("Value"),
    "visited_on": _l("Visited on"),
    "warranty": _l("Warranty"),
    "warranty_months": _l("Warranty months"),
}


def _enum_fields() -> dict[tuple[str | None, str], type[enum.Enum]]:
    """(object type or None for any, field) -> the enum whose labels name its values."""
    from portal.certification.states import (
        ApplicationStatus,
        AttachmentKind,
        Recommendation,
        StaffRole,
        Track,
    )
    from portal.inspections.states import (
        Grade,
        InspectionKind,
        InspectionStatus,
        RectificationStatus,
    )
    from portal.reports.states import RecordSource, ReportStatus, UploadOutcome
    from portal.spares.models import DepositEntryKind
    from portal.spares.states import (
        MovementSource,
        ReturnOutcome,
        ReturnStatus,
        ShipmentStatus,
    )
    from portal.stations.states import CityClass, StationStatus, Tier

    return {
        ("Application", "status"): ApplicationStatus,
        ("Station", "status"): StationStatus,
        ("DailyReport", "status"): ReportStatus,
        ("Inspection", "status"): InspectionStatus,
        ("Rectification", "status"): RectificationStatus,
        ("Shipment", "status"): ShipmentStatus,
        ("ReturnBatch", "status"): ReturnStatus,
        ("Application", "kind"): AttachmentKind,
        ("DepositEntry", "kind"): DepositEntryKind,
        ("RepairRecord", "source"): RecordSource,
        ("DailyReport", "source"): RecordSource,
        ("Inspection", "kind"): InspectionKind,
        ("ReportUpload", "outcome"): UploadOutcome,
        ("ReturnBatch", "outcome"): ReturnOutcome,
        (None, "tier"): Tier,
        (None, "approved_tier"): Tier,
        (None, "requested_tier"): Tier,
        (None, "recommended_tier"): Tier,
        (None, "role"): StaffRole,
        (None, "track"): Track,
        (None, "grade"): Grade,
        (None, "recommendation"): Recommendation,
        (None, "city_class"): CityClass,
        ("StockMovement", "source"): MovementSource,
    }


SOURCE_TYPE_NAMES: dict[str, Any] = {
    "inspection_answer": _l("Inspection item"),
    "rectification": _l("Rectification"),
    "unreturned_defective": _l("Defective part not returned in time"),
}

_CATALOGUE_FIELDS = {
    "repair_type": "types",
    "result": "results",
    "fault_code": "faults",
    "device_model": "models",
}


# --- catalogues -----------------------------------------------------------------------------


def _catalogues() -> dict[str, dict[str, str]]:
    """The repair catalogues' names in the user's language, read once per request."""
    cached = g.get("_catalogue_names")
    if cached is not None:
        return cached
    from portal.extensions import db
    from portal.reports.models import DeviceModel, FaultCode, RepairResult, RepairType

    chinese = str(get_locale() or "zh").startswith("zh")
    names: dict[str, dict[str, str]] = {}
    for key, model in (("types", RepairType), ("results", RepairResult), ("faults", FaultCode)):
        rows = db.session.execute(select(model.code, model.name_zh, model.name_en)).all()
        names[key] = {code: (zh if chinese else en) or zh or code for code, zh, en in rows}
    names["models"] = dict(db.session.execute(select(DeviceModel.code, DeviceModel.name)).all())
    g._catalogue_names = names
    return names


def catalogue_name(kind: str, code: str | None) -> str:
    """A catalogue code by its name ('' for none; the code itself when the catalogue lost it)."""
    if not code:
        return ""
    return _catalogues()[kind].get(code, code)


def repair_type_name(code):
    return catalogue_name("types", code)


def result_name(code):
    return catalogue_name("results", code)


def fault_name(code):
    return catalogue_name("faults", code)


def model_name(code):
    return catalogue_name("models", code)


def coded(kind: str, code: str | None) -> Markup:
    """The name, with the code as a hover (for lists where the code helps a person)."""
    if not code:
        return Markup("")
    return Markup('<span title="{}">{}</span>').format(code, catalogue_name(kind, code))


# --- events, objects, fields, values --------------------------------------------------------


def _humanize(code: str) -> str:
    return code.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def event_name(action: str) -> str:
    """An audit event by its name (an unknown one readable, never dotted)."""
    label = EVENT_NAMES.get(action)
    return str(label) if label is not None else _humanize(action)


def object_type_name(object_type: str) -> str:
    label = OBJECT_TYPE_NAMES.get(object_type)
    return str(label) if label is not None else object_type


def field_name(field: str) -> str:
    label = FIELD_NAMES.get(field)
    return str(label) if label is not None else _humanize(field)


def _enum_label(object_type: str | None, field: str, value: str) -> str | None:
    fields = _enum_fields()
    enum_cls = fields.get((object_type, field), fields.get((None, field)))
    if enum_cls is None:
        return None
    try:
        return str(enum_cls(value).label)
    except ValueError:
        return None


def value_text(object_type: str | None, field: str, value: Any) -> str:
    """A stored audit value as words: enums and catalogue codes by name, yes/no, dates."""
    from flask_babel import gettext

    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list):
        return ", ".join(value_text(object_type, field, v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(
            f"{field_name(k)}: {value_text(object_type, k, v)}" for k, v in value.items()
        )
    text = str(value)
    if field == "station_id" and text.isdigit():
        return _station_codes([int(text)]).get(int(text), text)
    if field == "source_type" and text in SOURCE_TYPE_NAMES:
        return str(SOURCE_TYPE_NAMES[text])
    if field in _CATALOGUE_FIELDS:
        return catalogue_name(_CATALOGUE_FIELDS[field], text)
    if field == "province":
        from portal.core.regions import province_label

        return str(province_label(text))
    if field == "rule_code":
        from portal.settlement.adjustments import RULES

        rule = RULES.get(text)
        return str(rule.label) if rule else text
    if field == "locale":
        from flask import current_app

        return str(current_app.config["LANGUAGES"].get(text, text))
    label = _enum_label(object_type, field, text)
    if label is not None:
        return label
    if field.endswith("_at"):
        try:
            from portal.core.i18n import local_datetime

            return local_datetime(dt.datetime.fromisoformat(text))
        except ValueError:
            return text
    return text


def audit_changes(entry) -> list[tuple[str, str, str | None]]:
    """(field name, old value or None when created, new value) of an entry, as words."""
    before = entry.before or {}
    rows = []
    for key, old, new in entry.changes():
        rows.append(
            (
                field_name(key),
                value_text(entry.object_type, key, old) if key in before else None,
                value_text(entry.object_type, key, new),
            )
        )
    return rows


def status_after(entry) -> str:
    """The state an entry moved its object to, by name ('' when it moved none)."""
    after = entry.after or {}
    if not after.get("status"):
        return ""
    return value_text(entry.object_type, "status", after["status"])


_URLS = {
    "Station": ("stations.detail", "station_id"),
    "Application": ("certification.application", "application_id"),
    "DailyReport": ("reports.detail", "report_id"),
    "RepairRecord": ("reports.record_detail", "record_id"),
    "Inspection": ("inspections.detail", "inspection_id"),
    "Rectification": ("inspections.rectification", "rectification_id"),
    "Shipment": ("spares.shipment", "shipment_id"),
    "ReturnBatch": ("spares.return_batch", "batch_id"),
    "Technician": ("certification.technician", "technician_id"),
    "StockCount": ("spares.count_detail", "count_id"),
    "Part": ("spares.part_edit", "part_id"),
    "User": ("users.edit", "user_id"),
}

_STATION_SUFFIX = re.compile(r"\s*#\d+$")


def _station_codes(ids) -> dict[int, str]:
    from portal.extensions import db
    from portal.stations.models import Station

    cache = g.setdefault("_station_codes", {})
    missing = {i for i in ids if i is not None and i not in cache}
    if missing:
        rows = db.session.execute(select(Station.id, Station.code).where(Station.id.in_(missing)))
        cache.update(dict(rows.all()))
    return cache


def prefetch_objects(entries) -> str:
    """Read the station codes of a page of audit entries in one query (renders nothing)."""
    _station_codes({e.station_id for e in entries})
    return ""


def audit_object(entry) -> tuple[str, str | None]:
    """How an entry's object is shown: its code or title (never `#8`), and its page if any."""
    code = _station_codes([entry.station_id]).get(entry.station_id) if entry.station_id else None
    label = _STATION_SUFFIX.sub("", entry.object_label or "")
    after = entry.after or {}
    if entry.object_type == "Station":
        label = label or code or ""
    elif entry.object_type == "Adjustment":
        label = " ".join(
            x
            for x in (
                value_text("Adjustment", "rule_code", after.get("rule_code")),
                str(after.get("amount") or ""),
                str(after.get("month") or "")[:7],
            )
            if x and x != "—"
        )
    elif entry.object_type == "DepositEntry" and after.get("kind"):
        label = f"{value_text('DepositEntry', 'kind', after['kind'])} {after.get('amount', '')}"
    elif entry.object_type == "DepositAccount":
        label = ""
    if code and entry.object_type != "Station" and code not in label:
        label = f"{code} {label}".strip()
    url = None
    route = _URLS.get(entry.object_type)
    if entry.object_type == "User":
        from flask_login import current_user

        from portal.core.permissions import Permission, can

        if not can(current_user, Permission.MANAGE_USERS):
            route = None
    if route and entry.object_id.isdigit():
        try:
            url = url_for(route[0], **{route[1]: int(entry.object_id)})
        except BuildError:
            url = None
    return label or object_type_name(entry.object_type), url


def object_cell(entry) -> Markup:
    """The object of an audit entry: its type's name and its code or title, linked."""
    label, url = audit_object(entry)
    kind = escape(object_type_name(entry.object_type))
    if url:
        return Markup('{} <a href="{}">{}</a>').format(kind, url, label)
    return Markup("{} {}").format(kind, label)


def init_names(app: Flask) -> None:
    app.jinja_env.filters.update(
        repair_type_name=repair_type_name,
        result_name=result_name,
        fault_name=fault_name,
        model_name=model_name,
        event_name=event_name,
        object_type_name=object_type_name,
        field_name=field_name,
    )
    app.jinja_env.globals.update(
        coded=coded,
        audit_changes=audit_changes,
        audit_object=audit_object,
        object_cell=object_cell,
        status_after=status_after,
        prefetch_objects=prefetch_objects,
    )
