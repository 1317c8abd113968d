"""The words for the message keys of reports/rules.py (rules stay free of Flask)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    "required": _l("This field is required."),
    "control_chars": _l("Contains control characters (such as line breaks or tabs)."),
    "max_length": _l("At most %(n)d characters."),
    "phone": _l(
        "Not a phone number: a mobile has 11 digits starting with 1, "
        "a landline starts with its area code."
    ),
    "datetime": _l("Not a date and time; write it like 2026-11-20 09:30."),
    "received_after_day": _l("Received after the report's day (%(day)s)."),
    "completed_after_day": _l("Completed after the report's day (%(day)s)."),
    "completed_before_received": _l("Completed before it was received."),
    "date": _l("Not a date; write it like 2026-11-20."),
    "purchased_after_received": _l("Purchased after the device was received."),
    "visit_before_received": _l("The return visit is before the device was received."),
    "warranty_word": _l("Write warranty or paid."),
    "warranty_needs_purchase": _l("A warranty repair needs the purchase date."),
    "location_word": _l("Write onsite or instore."),
    "yes_no_word": _l("Write yes or no."),
    "onsite_type_in_store": _l(
        "An in-store record cannot have the repair type on-site repair: choose another type "
        "or mark the record on site."
    ),
    "outside_needs_onsite": _l(
        "Only an on-site repair can be outside the home city (travel allowance)."
    ),
    "unknown_model": _l("Unknown device model; use a code from the list."),
    "unknown_fault": _l("Unknown fault code; use a code from the list."),
    "unknown_type": _l("Unknown repair type; use a code from the list."),
    "unknown_result": _l("Unknown result; use a code from the list."),
    "swap_needs_standby": _l("A unit swap needs the serial of the standby unit handed over."),
    "satisfaction": _l("Satisfaction is a whole number from 1 to 5."),
    "too_many_parts": _l("At most %(n)d parts per record."),
    "bad_part": _l(
        "Cannot read the part %(part)s; write PART*QTY or PART*QTY#FAULTY-SERIAL, separated by ;"
    ),
    "serial_pattern": _l("The serial does not match the model's pattern."),
    "out_of_warranty": _l("Purchased more than %(n)d months before; out of warranty."),
    "tier_scope": _l(
        "The station's tier may not do this repair type on this day: the settlement will not "
        "pay it."
    ),
    "count": _l("A whole number, 0 or more."),
    "ticket_twice": _l("The ticket number appears twice."),
    "ticket_twice_row": _l("The ticket number appears twice (also row %(row)s)."),
    "ticket_taken": _l("This ticket number is already reported by the station."),
}


def message(key: str, params: dict | None = None) -> str:
    """The user's words for a rules message key, in the current language."""
    text = str(MESSAGES[key])
    return text % params if params else text
