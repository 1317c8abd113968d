"""The validity engine of SPEC 8.2: a pure function from records and rules to judgements.

No Flask, no database. The run (`run.py`) loads plain facts, calls `judge`, and writes what it
returns. Records are judged in order of received time; the rules apply in the order below and
the first that fails names the reason. Money is integer fen inside; the run turns the sums into
Decimal at the edge.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from flask_babel import lazy_gettext as _l

from portal.core.dates import add_months

NOT_REPORTED = "not_reported"
BAD_SERIAL = "bad_serial"
OUT_OF_WARRANTY = "out_of_warranty"
REPEAT_REPAIR = "repeat_repair"
TIER_SCOPE = "tier_scope"
PART_NOT_HELD = "part_not_held"
DUPLICATE_TICKET = "duplicate_ticket"

# In the order the rules apply.
REASONS = (
    NOT_REPORTED,
    BAD_SERIAL,
    OUT_OF_WARRANTY,
    REPEAT_REPAIR,
    TIER_SCOPE,
    PART_NOT_HELD,
    DUPLICATE_TICKET,
)
REASON_LABELS = {
    NOT_REPORTED: _l("Not in a submitted daily report"),
    BAD_SERIAL: _l("Serial number does not match the model's pattern"),
    OUT_OF_WARRANTY: _l("Claimed as warranty but out of warranty"),
    REPEAT_REPAIR: _l("Repeat repair within the window (rework)"),
    TIER_SCOPE: _l("Repair type not allowed for the station's tier"),
    PART_NOT_HELD: _l("Used a part the station did not hold"),
    DUPLICATE_TICKET: _l("Ticket number used twice at the station"),
}
REPAIRED = "repaired"


def reason_label(code: str | None):
    """A reason code's name in the user's language."""
    return REASON_LABELS.get(code, code or "")


@dataclass(slots=True)
class RecordFact:
    """What the engine reads of one repair record (times aware UTC, days local)."""

    id: int
    station_id: int
    ticket_no: str
    received_at: dt.datetime
    received_day: dt.date
    completed_at: dt.datetime
    completed_day: dt.date
    serial_no: str
    device_model: str
    fault_code: str
    warranty: bool
    purchase_on: dt.date | None
    repair_type: str
    on_site: bool
    outside_home_city: bool
    result: str
    part_not_held: bool
    reported: bool  # it belongs to a submitted daily report
    tier: str | None  # the station's tier on the completion day


@dataclass(slots=True)
class PriorRepair:
    """A repaired record that can make a later one a repeat (any station, any month, a report
    submitted or not, or an earlier repair imported from before the portal)."""

    record_id: int | None
    serial_no: str
    fault_code: str
    completed_at: dt.datetime


class Rules(Protocol):
    """The versioned facts and rules the engine asks, each for a day."""

    def serial_pattern(self, model: str, day: dt.date) -> re.Pattern | None: ...
    def warranty_months(self, model: str, day: dt.date) -> int: ...
    def fault_category(self, fault_code: str, day: dt.date) -> str: ...
    def tier_allows(self, tier: str, repair_type: str, day: dt.date) -> bool: ...
    def fee_cents(self, day: dt.date, tier: str, repair_type: str) -> int | None: ...
    def travel_cents(self, day: dt.date) -> int: ...
    def repeat_window_days(self, day: dt.date) -> int: ...


@dataclass(slots=True)
class Judgement:
    record: RecordFact
    reason: str | None
    fee_cents: int
    travel_cents: int

    @property
    def valid(self) -> bool:
        return self.reason is None


class RepairHistory:
    """Repaired records by serial, sorted by completion time, for the repeat rule."""

    def __init__(self, repairs: Iterable[PriorRepair]):
        by_serial: dict[str, list[tuple[dt.datetime, int, str]]] = {}
        for repair in repairs:
            by_serial.setdefault(repair.serial_no, []).append(
                (repair.completed_at, repair.record_id or 0, repair.fault_code)
            )
        for rows in by_serial.values():
            rows.sort()
        self._by_serial = by_serial
        self._times = {serial: [row[0] for row in rows] for serial, rows in by_serial.items()}

    def repeats(self, record: RecordFact, window: dt.timedelta, category_of) -> bool:
        """Whether another repaired record of the serial and fault category was completed at
        most `window` before this record was received."""
        rows = self._by_serial.get(record.serial_no)
        if not rows:
            return False
        times = self._times[record.serial_no]
        high = bisect.bisect_right(times, record.received_at)
        low = bisect.bisect_left(times, record.received_at - window)
        if low >= high:
            return False
        category = category_of(record.fault_code)
        return any(
            record_id != record.id and category_of(fault) == category
            for _at, record_id, fault in rows[low:high]
        )


def judge(
    records: Sequence[RecordFact],
    history: RepairHistory,
    rules: Rules,
    *,
    earlier_tickets: set[tuple[int, str]] | frozenset = frozenset(),
) -> list[Judgement]:
    """Judge records in received-time order; the first failing rule gives the reason.

    `earlier_tickets` are (station, ticket) pairs already used before the portal: a record that
    repeats one is a duplicate ticket, as is the second record of a ticket within `records`.
    """
    seen = set(earlier_tickets)
    judged = []
    for record in sorted(records, key=lambda r: (r.received_at, r.id)):
        day = record.completed_day
        reason = _first_failure(record, day, history, rules)
        key = (record.station_id, record.ticket_no)
        if reason is None and key in seen:
            reason = DUPLICATE_TICKET
        seen.add(key)
        fee = travel = 0
        if reason is None and record.warranty and record.tier:
            # Only warranty repairs are paid by HQ; paid repairs count for workload only.
            fee = rules.fee_cents(day, record.tier, record.repair_type) or 0
            if fee and record.on_site and record.outside_home_city:
                travel = rules.travel_cents(day)
        judged.append(Judgement(record, reason, fee, travel))
    return judged


def _first_failure(record: RecordFact, day: dt.date, history: RepairHistory, rules: Rules):
    if not record.reported:
        return NOT_REPORTED
    pattern = rules.serial_pattern(record.device_model, day)
    if pattern is None or not pattern.match(record.serial_no):
        return BAD_SERIAL
    if record.warranty and record.purchase_on is not None:
        months = rules.warranty_months(record.device_model, day)
        if record.purchase_on < add_months(record.received_day, -months):
            return OUT_OF_WARRANTY
    window = dt.timedelta(days=rules.repeat_window_days(day))
    if history.repeats(record, window, lambda code: rules.fault_category(code, day)):
        return REPEAT_REPAIR
    if record.tier is None or not rules.tier_allows(record.tier, record.repair_type, day):
        return TIER_SCOPE
    if record.part_not_held:
        return PART_NOT_HELD
    return None


def settle_cents(
    labour: int, travel: int, rewards: int, penalties: int, deductions: int, carried_in: int
) -> tuple[int, int]:
    """(net, carried_out) in fen: a negative balance is paid as 0 and carried to next month.

    penalties, deductions and carried_in are given as positive amounts owed by the station.
    """
    balance = labour + travel + rewards - penalties - deductions - carried_in
    if balance >= 0:
        return balance, 0
    return 0, -balance
