"""Pure rules of spare parts: amounts, quantities, coverage, consumption, overdue returns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.spares import rules


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0", Decimal("0.00")),
        ("12.5", Decimal("12.50")),
        ("1,234.50", Decimal("1234.50")),
        ("12,345,678.90", Decimal("12345678.90")),
        (12.5, Decimal("12.50")),
        (7, Decimal("7.00")),
        ("9999999999.99", Decimal("9999999999.99")),
    ],
)
def test_amounts_are_read_exactly(given, expected):
    assert rules.parse_amount(given) == expected


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("0.105", "too_many_decimals"),
        (0.105, "too_many_decimals"),
        ("10000000000.00", "too_large"),
        ("-1", "negative"),
        ("1,23.4", "not_a_number"),
        ("12,3456.00", "not_a_number"),
        ("1e3", "not_a_number"),
        ("abc", "not_a_number"),
        ("NaN", "not_a_number"),
        ("", "empty"),
        (None, "empty"),
        (True, "not_a_number"),
    ],
)
def test_amounts_that_are_refused_not_rounded(given, reason):
    with pytest.raises(rules.AmountError) as info:
        rules.parse_amount(given)
    assert str(info.value) == reason


def test_zero_amount_can_be_refused():
    with pytest.raises(rules.AmountError):
        rules.parse_amount("0", allow_zero=False)


@pytest.mark.parametrize(
    ("given", "expected"), [("3", 3), (3.0, 3), ("4.0", 4), (1_000_000, 1_000_000)]
)
def test_quantities(given, expected):
    assert rules.parse_quantity(given) == expected


@pytest.mark.parametrize("given", ["0", "-1", "1.5", 2.5, "x", None, 1_000_001, True])
def test_bad_quantities(given):
    with pytest.raises(ValueError):  # noqa: PT011 - the reason is not the point
        rules.parse_quantity(given)


def test_zero_quantity_allowed_when_asked():
    assert rules.parse_quantity("0", allow_zero=True) == 0


def test_part_numbers_are_normalized():
    assert rules.normalize_part_no(" lcd-p30 ") == "LCD-P30"
    assert rules.normalize_part_no("LCD P30") == ""
    assert rules.normalize_part_no("-LCD") == ""
    assert rules.normalize_part_no("A" * 41) == ""


def test_coverage_limit_and_room():
    cov = rules.Coverage(
        balance=Decimal("5000.00"),
        factor=Decimal("1.0"),
        good_value=Decimal("3000.00"),
        in_transit_value=Decimal("1500.00"),
    )
    assert cov.limit == Decimal("5000.00")
    assert cov.used == Decimal("4500.00")
    assert cov.room == Decimal("500.00")
    assert cov.allows(Decimal("500.00"))
    assert not cov.allows(Decimal("500.01"))
    assert cov.percent == Decimal("90.0")
    assert not cov.over


def test_coverage_factor_and_a_station_over_its_cap():
    cov = rules.Coverage(Decimal("1000"), Decimal("1.5"), Decimal("1600"), Decimal("0"))
    assert cov.limit == Decimal("1500.00")
    assert cov.over
    assert not cov.allows(Decimal("0.01"))
    zero = rules.Coverage(Decimal("0"), Decimal("1"), Decimal("0"), Decimal("0"))
    assert zero.percent is None
    assert zero.allows(Decimal("0"))


def test_shortfall_against_the_tier():
    assert rules.shortfall(Decimal("5000"), Decimal("3000.50")) == Decimal("1999.50")
    assert rules.shortfall(Decimal("5000"), Decimal("6000")) == Decimal("0.00")


KNOWN = {"LCD": 1, "BAT": 2}


def test_a_new_record_takes_what_is_held():
    good, defective = {1: 2}, {}
    plan = rules.plan_parts([("LCD", 1, "OLD1")], KNOWN, {}, good, defective)
    assert plan.moves == [(1, "OLD1", 1)]
    assert not plan.not_held
    assert good == {1: 1}
    assert defective == {1: 1}


def test_a_part_not_held_in_full_moves_nothing_and_flags():
    good, defective = {1: 1}, {}
    plan = rules.plan_parts([("LCD", 2, "")], KNOWN, {}, good, defective)
    assert plan.moves == []
    assert plan.not_held
    assert plan.short == [1]
    assert good == {1: 1}


def test_an_unknown_part_flags_but_the_known_one_is_taken():
    good, defective = {2: 1}, {}
    plan = rules.plan_parts([("NOPE", 1, ""), ("BAT", 1, "")], KNOWN, {}, good, defective)
    assert plan.moves == [(2, "", 1)]
    assert plan.not_held
    assert plan.unknown == ["NOPE"]


def test_deleting_puts_everything_back():
    good, defective = {1: 0}, {1: 1}
    plan = rules.plan_parts([], KNOWN, {(1, "S1"): 1}, good, defective, [("LCD", 1, "S1")])
    assert plan.moves == [(1, "S1", -1)]
    assert good == {1: 1}
    assert defective == {1: 0}


def test_putting_back_a_part_already_shipped_is_blocked():
    good, defective = {1: 0}, {1: 0}
    plan = rules.plan_parts([], KNOWN, {(1, "S1"): 1}, good, defective, [("LCD", 1, "S1")])
    assert plan.blocked == [1]
    assert plan.moves == []


def test_an_unchanged_line_is_not_judged_again():
    # Not held when entered; stock arrived since: an edit of other fields takes nothing.
    good, defective = {1: 5}, {}
    plan = rules.plan_parts([("LCD", 1, "")], KNOWN, {}, good, defective, [("LCD", 1, "")])
    assert plan.moves == []
    assert plan.not_held
    assert good == {1: 5}


def test_a_changed_serial_moves_back_and_takes_again():
    good, defective = {1: 0}, {1: 1}
    plan = rules.plan_parts(
        [("LCD", 1, "NEW")], KNOWN, {(1, "OLD"): 1}, good, defective, [("LCD", 1, "OLD")]
    )
    assert plan.moves == [(1, "OLD", -1), (1, "NEW", 1)]
    assert not plan.not_held
    assert good == {1: 0}
    assert defective == {1: 1}


def test_a_larger_quantity_takes_only_the_increase():
    good, defective = {1: 1}, {1: 1}
    plan = rules.plan_parts(
        [("LCD", 2, "")], KNOWN, {(1, ""): 1}, good, defective, [("LCD", 1, "")]
    )
    assert plan.moves == [(1, "", 1)]
    assert not plan.not_held


def test_one_batch_shares_the_stock():
    good, defective = {1: 1}, {}
    first = rules.plan_parts([("LCD", 1, "")], KNOWN, {}, good, defective)
    second = rules.plan_parts([("LCD", 1, "")], KNOWN, {}, good, defective)
    assert not first.not_held
    assert second.not_held
    assert good == {1: 0}


@pytest.mark.parametrize(
    ("on_hand", "recent", "expected"),
    [(5, 0, 5), (5, 2, 3), (5, 5, 0), (2, 5, 0), (0, 0, 0)],
)
def test_overdue_quantity(on_hand, recent, expected):
    assert rules.overdue_quantity(on_hand, recent) == expected
