"""Hostile input made harmless in one place: control characters, huge numbers, odd amounts.

Every query argument, form field (and field name) and URL part passes through `PortalRequest`,
which removes control characters (NUL, which PostgreSQL refuses in text, and the other C0
characters and DEL) while keeping tab and line breaks for multi-line fields. Numbers typed by
people go through `int_arg` (query arguments) or the core form fields in `portal.core.forms`,
which bound them to their column's range with a message instead of letting the database fail.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from flask import Request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from portal.core.db import MAX_ID
from portal.core.money import MONEY_LIMIT

# C0 controls except tab, line feed and carriage return; and DEL.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# An INTEGER column (PostgreSQL int4), the type of every id and count.
INT_MIN, INT_MAX = -(2**31), MAX_ID
# A Numeric(12, 2) money column holds at most ten digits before the point.
MONEY_MAX = MONEY_LIMIT


def clean_text(value):
    """value without control characters (tab and line breaks stay); non-strings unchanged."""
    if isinstance(value, str):
        return CONTROL_CHARS.sub("", value)
    return value


class CleanMultiDict(ImmutableMultiDict):
    """Query arguments, form fields and files with control characters removed from the text."""

    def __init__(self, mapping=None):
        if mapping is None:
            super().__init__()
            return
        items = MultiDict(mapping).items(multi=True)
        super().__init__([(clean_text(key), clean_text(value)) for key, value in items])


class PortalRequest(Request):
    """The request class of the portal: every parameter arrives cleaned."""

    parameter_storage_class = CleanMultiDict


def clean_view_args(_endpoint, values) -> None:
    """URL parts captured by a rule (strings only) lose their control characters too."""
    if values:
        for key, value in values.items():
            values[key] = clean_text(value)


def int_arg(args, name: str, *, minimum: int = INT_MIN, maximum: int = INT_MAX) -> int | None:
    """A whole-number query argument within [minimum, maximum]; None if absent or not one."""
    raw = (args.get(name) or "").strip()
    if not raw or len(raw) > 20:
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if minimum <= value <= maximum else None


# --- money typed by people ----------------------------------------------------------------

GROUPED = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
PLAIN = re.compile(r"^-?\d+(\.\d+)?$")


class AmountError(ValueError):
    """A typed amount the portal refuses; str() is the message for the person."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def parse_amount(
    text: str | None,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal = MONEY_MAX,
) -> Decimal:
    """A money amount typed by a person, exactly as typed: never rounded.

    Accepted: `1234.5`, `1234.50`, `1,234.50` (commas only between groups of three digits),
    full-width digits. Refused with a message: more than two decimal places, `12,5` (a decimal
    comma), exponents, and anything outside [minimum, maximum] (the column's range by default).
    """
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        raise AmountError(_l("Enter an amount."))
    if "," in raw:
        if not GROUPED.match(raw):
            raise AmountError(
                _l(
                    "Write the amount with a dot for decimals, like 1234.50 or 1,234.50 "
                    "(a comma only between groups of three digits)."
                )
            )
        raw = raw.replace(",", "")
    if len(raw) > 40 or not PLAIN.match(raw):
        raise AmountError(_l("Enter an amount in yuan, like 1234.50."))
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - PLAIN admits only valid decimals
        raise AmountError(_l("Enter an amount in yuan, like 1234.50.")) from exc
    if -amount.as_tuple().exponent > 2:
        raise AmountError(_l("An amount has at most two decimal places (fen)."))
    low = -maximum if minimum is None else minimum
    if amount > maximum or amount < low:
        raise AmountError(
            _l("Enter an amount between %(low)s and %(high)s.", low=f"{low:,}", high=f"{maximum:,}")
        )
    return amount
