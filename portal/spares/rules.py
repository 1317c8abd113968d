"""Pure rules of spare parts: amounts, part numbers, coverage, consumption, overdue returns.

No Flask, no database: plain values in, plain values out (the services feed them).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
# Numeric(12, 2): the largest amount a money column holds.
MAX_AMOUNT = Decimal("9999999999.99")
MAX_QUANTITY = 1_000_000
PART_NO_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,39}$")
PLAIN_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
GROUPED_AMOUNT = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")

DEFAULT_COVERAGE_FACTOR = Decimal("1.0")
DEFAULT_RETURN_DAYS = 30


class AmountError(ValueError):
    """Why a text is not an amount: empty, not_a_number, negative, too_many_decimals, too_large."""


def parse_amount(value, *, allow_zero: bool = True) -> Decimal:
    """An amount of CNY from user input or a spreadsheet cell, exactly as given.

    `1,234.50` is read as 1234.50 (thousands separated by commas); more than two decimals are
    refused, not rounded; so is anything a Numeric(12, 2) column cannot hold.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise AmountError("empty")
    if isinstance(value, bool):
        raise AmountError("not_a_number")
    if isinstance(value, float):
        # A spreadsheet's number: its shortest repr is the value the user typed.
        text = repr(value)
        if "e" in text or "E" in text or text in ("nan", "inf", "-inf"):
            raise AmountError("not_a_number")
    else:
        text = str(value).strip()
    negative = text.startswith("-")
    if negative:
        text = text[1:]
    if GROUPED_AMOUNT.match(text):
        text = text.replace(",", "")
    elif not PLAIN_AMOUNT.match(text):
        raise AmountError("not_a_number")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise AmountError("not_a_number") from None
    if negative and amount != 0:
        raise AmountError("negative")
    if amount != amount.quantize(CENT):
        raise AmountError("too_many_decimals")
    if amount > MAX_AMOUNT:
        raise AmountError("too_large")
    if amount == 0 and not allow_zero:
        raise AmountError("zero")
    return amount.quantize(CENT)


def parse_quantity(value, *, allow_zero: bool = False) -> int:
    """A whole number of parts (ValueError when it is not one, or out of range)."""
    if value is None or isinstance(value, bool):
        raise ValueError("empty")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not_whole")
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not text:
            raise ValueError("empty")
        if not re.fullmatch(r"\d+(\.0+)?", text):
            raise ValueError("not_whole")
        number = int(text.split(".")[0])
    if number < 0 or number > MAX_QUANTITY or (number == 0 and not allow_zero):
        raise ValueError("range")
    return number


def normalize_part_no(value) -> str:
    """A part number as stored: trimmed, upper case ('' when it is not a valid one)."""
    text = str(value or "").strip().upper()
    return text if PART_NO_PATTERN.match(text) else ""


def money(value) -> Decimal:
    """A computed amount rounded half up to cents (the one rounding of this module)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def stock_value(quantities: dict[int, int], unit_values: dict[int, Decimal]) -> Decimal:
    """The value of {part id: quantity} at the parts' unit values."""
    total = sum(
        (Decimal(q) * unit_values.get(pid, Decimal(0)) for pid, q in quantities.items()),
        Decimal(0),
    )
    return money(total)


# --- coverage ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """How much good stock a station may hold, and how much it holds or has coming."""

    balance: Decimal
    factor: Decimal
    good_value: Decimal
    in_transit_value: Decimal

    @property
    def limit(self) -> Decimal:
        return money(max(self.balance, Decimal(0)) * self.factor)

    @property
    def used(self) -> Decimal:
        return money(self.good_value + self.in_transit_value)

    @property
    def room(self) -> Decimal:
        return money(self.limit - self.used)

    @property
    def over(self) -> bool:
        return self.used > self.limit

    @property
    def percent(self) -> Decimal | None:
        """Coverage used in percent of the limit (None when the limit is 0)."""
        if self.limit <= 0:
            return None
        return (self.used * 100 / self.limit).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def allows(self, adding: Decimal) -> bool:
        """Whether stock worth `adding` more keeps the station within its limit."""
        return self.used + adding <= self.limit


def shortfall(required: Decimal, balance: Decimal) -> Decimal:
    """How much the deposit lacks of what the tier requires (0 when it is enough)."""
    return money(max(Decimal(required) - Decimal(balance), Decimal(0)))


# --- consumption by repair records -----------------------------------------------------------


@dataclass(frozen=True)
class PartsPlan:
    """What one record's parts do to the stock.

    moves: (part id, faulty serial, delta); delta > 0 takes delta from good into defective
    stock, delta < 0 puts it back. not_held: some part was unknown or not in stock.
    blocked: part ids whose defective part is no longer at the station to be put back.
    """

    moves: list[tuple[int, str, int]] = field(default_factory=list)
    not_held: bool = False
    unknown: list[str] = field(default_factory=list)
    short: list[int] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)


def _by_key(lines, known: dict[str, int], unknown: list | None = None) -> dict:
    out: dict[tuple[int, str], int] = defaultdict(int)
    for part_no, quantity, serial in lines:
        part_id = known.get(part_no)
        if part_id is None:
            if unknown is not None:
                unknown.append(part_no)
            continue
        out[(part_id, serial or "")] += quantity
    return out


def plan_parts(
    lines: list[tuple[str, int, str]],
    known: dict[str, int],
    consumed: dict[tuple[int, str], int],
    good: dict[int, int],
    defective: dict[int, int],
    previous: list[tuple[str, int, str]] = (),
) -> PartsPlan:
    """Move stock so that a record's parts lines are consumed where they were held.

    lines: the record's (part no, quantity, faulty serial) now, [] when it is deleted;
    previous: its lines before this change ([] for a new record). known: part no -> part id of
    the catalogue; consumed: what the ledger says the record has consumed, by (part id,
    serial). good and defective are the station's on-hand quantities; they are updated in
    place so that several records of one batch share them.

    Each line is judged when it is entered: what is added is taken from good stock if the
    station holds all of it at this moment, else nothing is taken and the record is flagged;
    a line that was not held stays flagged (stock arriving later does not change that). What
    a record no longer uses goes back from defective to good stock.
    """
    unknown: list[str] = []
    wanted = _by_key(lines, known, unknown)
    before = _by_key(previous, known)
    keys = sorted(set(wanted) | set(before) | {k for k, q in consumed.items() if q})
    moves: list[tuple[int, str, int]] = []
    blocked = []
    after = {key: consumed.get(key, 0) for key in keys}
    # Put back first: a changed serial or quantity frees good stock for the new lines.
    for key in keys:
        part_id, serial = key
        back = after[key] - wanted.get(key, 0)
        if back > 0:
            if defective.get(part_id, 0) < back:
                blocked.append(part_id)
                continue
            defective[part_id] = defective.get(part_id, 0) - back
            good[part_id] = good.get(part_id, 0) + back
            after[key] -= back
            moves.append((part_id, serial, -back))
    short = []
    for key in keys:
        part_id, serial = key
        want = wanted.get(key, 0)
        take = want - max(before.get(key, 0), after[key])
        if take > 0:
            if good.get(part_id, 0) < take:
                short.append(part_id)
                continue
            good[part_id] -= take
            defective[part_id] = defective.get(part_id, 0) + take
            after[key] += take
            moves.append((part_id, serial, take))
    not_held = bool(unknown) or any(after[key] < wanted.get(key, 0) for key in keys)
    return PartsPlan(
        moves=moves,
        not_held=not_held,
        unknown=unknown,
        short=short,
        blocked=blocked,
    )


# --- unreturned defective parts --------------------------------------------------------------


def overdue_quantity(on_hand: int, recent_inflow: int) -> int:
    """Defective parts held longer than the return period.

    Returns and deductions take the oldest parts first, so what is still held beyond the parts
    that arrived within the period is overdue.
    """
    return max(0, min(on_hand, on_hand - recent_inflow))
