"""Pure rules of daily reports: record checks, deadlines, day standing, masking, parts syntax.

No Flask, no database: every channel (form, Excel, API) turns its input into a dict of raw
values and calls clean_record(), so the three refuse the same things with the same words. A
problem carries a message key and its parameters; `portal/reports/messages.py` words it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from portal.core.dates import add_months
from portal.core.masking import mask_name, mask_phone
from portal.reports.states import DayStatus, Location, Payment, RepairTypeCode, ReportStatus

MAX_PARTS = 20
PHONE_PATTERN = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
PART_PATTERN = re.compile(
    r"^(?P<part>[A-Za-z0-9][A-Za-z0-9._/-]{0,39})\s*[*xX×]\s*(?P<qty>\d{1,4})"
    r"(?:\s*[#＃]\s*(?P<serial>[A-Za-z0-9._/-]{1,40}))?$"
)
WARRANTY_WORDS = {
    Payment.WARRANTY.value: True,
    "保修": True,
    Payment.PAID.value: False,
    "付费": False,
    "自费": False,
}
YES_NO_WORDS = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "是": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
    "否": False,
}
LOCATION_WORDS = {
    Location.ONSITE.value: True,
    "上门": True,
    Location.INSTORE.value: False,
    "店内": False,
    "到店": False,
}
DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
MIN_YEAR, MAX_YEAR = 2000, 2100
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")

# The fields of a repair record, in template order.
RECORD_FIELDS = (
    "ticket_no",
    "received_at",
    "completed_at",
    "customer_name",
    "customer_phone",
    "device_model",
    "serial_no",
    "purchase_on",
    "warranty",
    "fault_code",
    "repair_type",
    "on_site",
    "outside_home_city",
    "parts",
    "standby_serial",
    "result",
    "satisfaction",
    "return_visit_on",
    "return_visit_outcome",
)


@dataclass(frozen=True)
class ModelRule:
    serial_pattern: re.Pattern | None
    warranty_months: int


@dataclass
class Catalogues:
    """The active catalogue codes a record is checked against."""

    models: dict[str, ModelRule]
    faults: set[str]
    types: dict[str, bool]  # code -> allowed for service centers only
    results: set[str]


@dataclass
class Problem:
    """What is wrong with one field: a message key (see reports/messages.py) and its params."""

    field: str
    message: str
    value: object = None
    params: dict = field(default_factory=dict)


@dataclass
class CleanRecord:
    values: dict
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


WHITESPACE = re.compile(r"\s+")


def normalize_serial(value) -> str:
    """A serial number as SPEC 5 stores and judges it: full-width characters folded to ASCII
    (NFKC), every space removed (full-width ones too), letters upper-cased."""
    text = unicodedata.normalize("NFKC", _text(value))
    return WHITESPACE.sub("", text).upper()


def compile_serial_pattern(pattern: str) -> re.Pattern | None:
    """The compiled serial pattern (matched whole), None if it is not a valid expression."""
    try:
        return re.compile(rf"(?:{pattern})\Z")
    except re.error:
        return None


# Personal fields of a record and how each is masked wherever it is shown or kept.
PERSONAL_FIELDS = {"customer_name": mask_name, "customer_phone": mask_phone}


def mask_personal(field_name: str, value):
    """A record field's value, masked when the field is personal (a customer's name, phone)."""
    mask = PERSONAL_FIELDS.get(field_name)
    if mask is None or value is None:
        return value
    return mask(_text(value))


def record_fields(record, tz: ZoneInfo, *, masked: bool) -> dict:
    """A stored record as RECORD_FIELDS, in the raw shape clean_record reads back.

    The one place a record becomes a dict: the edit and copy forms (unmasked), the API and the
    Excel export (masked). Times are aware, in tz; parts in the PART*QTY#SERIAL syntax.
    """
    values = {
        "ticket_no": record.ticket_no,
        "received_at": record.received_at.astimezone(tz),
        "completed_at": record.completed_at.astimezone(tz),
        "customer_name": record.customer_name,
        "customer_phone": record.customer_phone,
        "device_model": record.device_model,
        "serial_no": record.serial_no,
        "purchase_on": record.purchase_on,
        "warranty": Payment.WARRANTY if record.warranty else Payment.PAID,
        "fault_code": record.fault_code,
        "repair_type": record.repair_type,
        "on_site": Location.ONSITE if record.on_site else Location.INSTORE,
        "outside_home_city": "yes" if record.outside_home_city else "no",
        "parts": format_parts(record.parts),
        "standby_serial": record.standby_serial,
        "result": record.result,
        "satisfaction": record.satisfaction,
        "return_visit_on": record.return_visit_on,
        "return_visit_outcome": record.return_visit_outcome,
    }
    if masked:
        values = {name: mask_personal(name, value) for name, value in values.items()}
    return {name: values[name] for name in RECORD_FIELDS}


# --- deadlines and day standing ----------------------------------------------------------


def due_at(report_on: dt.date, due_days_after: int, due_time: dt.time, tz: ZoneInfo) -> dt.datetime:
    """When the report of report_on is due, as an aware datetime in UTC."""
    local = dt.datetime.combine(report_on + dt.timedelta(days=due_days_after), due_time, tzinfo=tz)
    return local.astimezone(dt.UTC)


def day_status(
    day: dt.date,
    today: dt.date,
    now: dt.datetime,
    due: dt.datetime,
    status: ReportStatus | None,
    first_submitted_at: dt.datetime | None,
    first_due_day: dt.date | None = None,
) -> DayStatus:
    """A station's standing for a day: on time, late, missing, not due yet, or in the future.

    Days before first_due_day (the agreement start) are not due at all.
    """
    if day > today:
        return DayStatus.FUTURE
    if first_due_day is not None and day < first_due_day and first_submitted_at is None:
        return DayStatus.NOT_DUE
    if first_submitted_at is not None and status is not None:
        return DayStatus.ON_TIME if first_submitted_at <= due else DayStatus.LATE
    return DayStatus.MISSING if now > due else DayStatus.OPEN


# --- parsing raw values ------------------------------------------------------------------


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    """A cell or form value as text: 13812345678.0 from a spreadsheet becomes 13812345678."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value).strip()


def parse_datetime(value, tz: ZoneInfo) -> dt.datetime:
    """A date and time as aware UTC; a value without an offset is local time."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        parsed = None
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            for fmt in DATETIME_FORMATS:
                try:
                    parsed = dt.datetime.strptime(text, fmt)  # noqa: DTZ007 - local, tz added below
                    break
                except ValueError:
                    continue
        if parsed is None or not re.search(r"\d{1,2}:\d{2}", text):
            raise ValueError
    else:
        raise ValueError
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(dt.UTC)


def parse_date(value) -> dt.date:
    """A calendar date from a date, a midnight datetime or text like 2026-11-20."""
    day = _parse_date(value)
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValueError
    return day


def _parse_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise ValueError
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for fmt in DATE_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date only
            except ValueError:
                continue
    raise ValueError


def parse_parts(value) -> list[tuple[str, int, str]]:
    """Parts as `PART*QTY` or `PART*QTY#FAULTY-SERIAL`, separated by `;`."""
    text = _text(value)
    if not text:
        return []
    parts = []
    for chunk in re.split(r"[;；\n]", text):
        chunk = unicodedata.normalize("NFKC", chunk).strip()
        if not chunk:
            continue
        match = PART_PATTERN.match(chunk)
        if not match or int(match.group("qty")) < 1:
            raise ValueError(chunk)
        parts.append(
            (
                match.group("part").upper(),
                int(match.group("qty")),
                normalize_serial(match.group("serial") or ""),
            )
        )
    if len(parts) > MAX_PARTS:
        raise OverflowError
    return parts


def format_parts(parts) -> str:
    """The parts of a record in the syntax parse_parts reads."""
    out = []
    for part in parts:
        no, qty, serial = (
            (part.part_no, part.quantity, part.faulty_serial) if hasattr(part, "part_no") else part
        )
        out.append(f"{no}*{qty}" + (f"#{serial}" if serial else ""))
    return "; ".join(out)


def _choice(value, words: Mapping[str, bool]) -> bool:
    if isinstance(value, bool):
        return value
    key = _text(value).lower()
    if key not in words:
        raise ValueError
    return words[key]


def clean_record(
    raw: Mapping,
    catalogues: Catalogues,
    *,
    report_on: dt.date,
    tz: ZoneInfo,
    allowed_types: frozenset[str] | set[str] | None = None,
) -> CleanRecord:
    """Check one record's raw values; every problem is listed, none stops the others.

    `allowed_types` are the repair types the station's tier may do on the report's day (the
    versioned scope of SPEC 3.3); None when unknown, and then no tier warning is given.
    """
    out = CleanRecord(values={})
    v = out.values

    def err(name, message, **params):
        out.errors.append(Problem(name, message, raw.get(name), params))

    def required(name) -> bool:
        if _blank(raw.get(name)):
            err(name, "required")
            return False
        return True

    def text_field(name, max_len, *, upper=False, need=True, serial=False):
        if need and not required(name):
            return
        text = normalize_serial(raw.get(name)) if serial else _text(raw.get(name))
        if CONTROL_CHARS.search(text):
            err(name, "control_chars")
            return
        if len(text) > max_len:
            err(name, "max_length", n=max_len)
            return
        v[name] = text.upper() if upper else text

    text_field("ticket_no", 40)
    text_field("customer_name", 80)
    text_field("serial_no", 40, serial=True)
    text_field("standby_serial", 40, serial=True, need=False)
    text_field("return_visit_outcome", 200, need=False)

    if required("customer_phone"):
        phone = re.sub(r"[\s()]", "", _text(raw.get("customer_phone")))
        if phone.startswith("+86"):
            phone = phone[3:]
        if PHONE_PATTERN.match(phone):
            v["customer_phone"] = phone
        else:
            err("customer_phone", "phone")

    for name in ("received_at", "completed_at"):
        if required(name):
            try:
                v[name] = parse_datetime(raw.get(name), tz)
            except ValueError:
                err(name, "datetime")
    received, completed = v.get("received_at"), v.get("completed_at")
    if received and received.astimezone(tz).date() > report_on:
        err("received_at", "received_after_day", day=report_on.isoformat())
    if completed and completed.astimezone(tz).date() > report_on:
        err("completed_at", "completed_after_day", day=report_on.isoformat())
    if received and completed and completed < received:
        err("completed_at", "completed_before_received")

    for name in ("purchase_on", "return_visit_on"):
        if not _blank(raw.get(name)):
            try:
                v[name] = parse_date(raw.get(name))
            except ValueError:
                err(name, "date")
        else:
            v[name] = None
    if v.get("purchase_on") and received and v["purchase_on"] > received.astimezone(tz).date():
        err("purchase_on", "purchased_after_received")
    if (
        v.get("return_visit_on")
        and received
        and v["return_visit_on"] < received.astimezone(tz).date()
    ):
        err("return_visit_on", "visit_before_received")

    if required("warranty"):
        try:
            v["warranty"] = _choice(raw.get("warranty"), WARRANTY_WORDS)
        except ValueError:
            err("warranty", "warranty_word")
    if v.get("warranty") and not v.get("purchase_on") and _blank(raw.get("purchase_on")):
        err("purchase_on", "warranty_needs_purchase")

    if required("on_site"):
        try:
            v["on_site"] = _choice(raw.get("on_site"), LOCATION_WORDS)
        except ValueError:
            err("on_site", "location_word")

    # An on-site repair outside the station's home city earns the travel allowance (SPEC 8.1).
    outside = raw.get("outside_home_city")
    if isinstance(outside, bool) or _blank(outside):
        v["outside_home_city"] = bool(outside)
    else:
        try:
            v["outside_home_city"] = _choice(outside, YES_NO_WORDS)
        except ValueError:
            err("outside_home_city", "yes_no_word")
    if v.get("outside_home_city") and v.get("on_site") is False:
        err("outside_home_city", "outside_needs_onsite")
    if v.get("on_site") is False and _text(raw.get("repair_type")).lower() == "onsite_repair":
        err("repair_type", "onsite_type_in_store")

    model = None
    if required("device_model"):
        code = _text(raw.get("device_model")).upper()
        model = catalogues.models.get(code)
        if model is None:
            err("device_model", "unknown_model")
        else:
            v["device_model"] = code
    for name, known, message in (
        ("fault_code", catalogues.faults, "unknown_fault"),
        ("repair_type", catalogues.types, "unknown_type"),
        ("result", catalogues.results, "unknown_result"),
    ):
        if required(name):
            code = _text(raw.get(name))
            code = code.upper() if name == "fault_code" else code.lower()
            if code in known:
                v[name] = code
            else:
                err(name, message)

    if v.get("repair_type") == RepairTypeCode.UNIT_SWAP and not v.get("standby_serial"):
        err("standby_serial", "swap_needs_standby")

    if _blank(raw.get("satisfaction")):
        v["satisfaction"] = None
    else:
        text = _text(raw.get("satisfaction"))
        if text.isdigit() and 1 <= int(text) <= 5:
            v["satisfaction"] = int(text)
        else:
            err("satisfaction", "satisfaction")

    try:
        v["parts"] = parse_parts(raw.get("parts"))
    except OverflowError:
        err("parts", "too_many_parts", n=MAX_PARTS)
    except ValueError as exc:
        err("parts", "bad_part", part=str(exc))

    # Warnings: accepted, but the settlement will not pay the record (SPEC 8.2).
    if model is not None and v.get("serial_no"):
        if model.serial_pattern is not None and not model.serial_pattern.match(v["serial_no"]):
            out.warnings.append(Problem("serial_no", "serial_pattern", v["serial_no"]))
        if v.get("warranty") and v.get("purchase_on") and received:
            ends = add_months(v["purchase_on"], model.warranty_months)
            if received.astimezone(tz).date() > ends:
                out.warnings.append(
                    Problem(
                        "warranty",
                        "out_of_warranty",
                        raw.get("warranty"),
                        {"n": model.warranty_months},
                    )
                )
    if v.get("repair_type") and allowed_types is not None and v["repair_type"] not in allowed_types:
        out.warnings.append(Problem("repair_type", "tier_scope", v["repair_type"]))
    return out


def check_counts(counts: Mapping[str, object]) -> tuple[dict[str, int], list[Problem]]:
    """The day's counts as non-negative whole numbers."""
    clean, problems = {}, []
    for name in (
        "received_count",
        "completed_count",
        "pending_count",
        "returned_count",
        "complaint_count",
    ):
        value = counts.get(name)
        text = _text(value) if value is not None else "0"
        if text == "":
            text = "0"
        if not text.isdigit() or int(text) > 1_000_000:
            problems.append(Problem(name, "count", value))
        else:
            clean[name] = int(text)
    return clean, problems
