"""Money: Decimal with two places, rounded half up in one place; never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import Numeric, types

CENT = Decimal("0.01")
# The largest amount a Numeric(12, 2) column holds.
MONEY_LIMIT = Decimal("9999999999.99")


class AmountOutOfRange(ValueError):
    """An amount too large for a money column (a form or service should have refused it)."""


def to_money(value) -> Decimal:
    """Any number-like value (never a float) as a Decimal rounded half up to cents."""
    if isinstance(value, float):
        raise TypeError("money must not be built from a float")
    if value is None:
        raise ValueError("money value is missing")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class Money(types.TypeDecorator):
    """Numeric(12, 2) that quantizes before writing (SQLite would round as a float)."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            # Read SQLite's REAL as float and convert exactly below (12 digits fit a double).
            return dialect.type_descriptor(Numeric(12, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(12, 2))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = to_money(value)
        if abs(amount) > MONEY_LIMIT:
            # PostgreSQL would refuse it; SQLite would silently keep a float.
            raise AmountOutOfRange(f"amount {amount} is beyond Numeric(12, 2)")
        if dialect.name == "sqlite":
            # SQLite keeps REAL; store the exact string and read it back as Decimal.
            return str(amount)
        return amount

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return to_money(repr(value) if isinstance(value, float) else value)
