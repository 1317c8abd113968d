"""Scores, grades, due dates and overdue weeks, at their boundaries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portal.inspections import rules

LIMITS = rules.Thresholds()


def _items(*specs):
    return [rules.ScoredItem(m, c, r, Decimal(s)) for m, c, r, s in specs]


@pytest.mark.parametrize(
    ("pct", "grade"),
    [
        ("100", "excellent"),
        ("90.00", "excellent"),
        ("89.99", "good"),
        ("80", "good"),
        ("79.99", "needs_rectification"),
        ("60", "needs_rectification"),
        ("59.99", "fail"),
        ("0", "fail"),
    ],
)
def test_grade_boundaries(pct, grade):
    assert rules.grade_for(Decimal(pct), False, LIMITS) == grade


def test_a_failed_critical_item_fails_whatever_the_score():
    items = _items((10, True, "fail", 0), *[(10, False, "pass", 10)] * 19)
    result = rules.outcome(items, LIMITS)
    assert result.percent == Decimal("95.00")
    assert result.critical_failed
    assert result.grade == "fail"


def test_a_partial_critical_item_does_not_force_fail():
    items = _items((10, True, "partial", 5), *[(10, False, "pass", 10)] * 9)
    result = rules.outcome(items, LIMITS)
    assert result.percent == Decimal("95.00")
    assert result.grade == "excellent"


def test_percent_is_rounded_half_up_to_two_places():
    assert rules.percent(Decimal("2"), 3) == Decimal("66.67")
    assert rules.percent(Decimal("1"), 8) == Decimal("12.50")
    assert rules.percent(Decimal("0.5"), 400) == Decimal("0.13")  # 0.125 -> 0.13
    assert rules.percent(Decimal("1"), 0) == Decimal("0.00")


def test_grade_limits_come_from_the_settings():
    strict = rules.Thresholds(excellent=95, good=85, passing=70)
    assert rules.grade_for(Decimal("92"), False, strict) == "good"
    assert rules.grade_for(Decimal("69.99"), False, strict) == "fail"


@pytest.mark.parametrize(
    ("result", "score", "problem"),
    [
        (None, "3", "result"),
        ("pass", None, "score"),
        ("pass", "6", "range"),
        ("partial", "-1", "range"),
        ("fail", "5", "fail_full"),
        ("pass", "0", "pass_zero"),
        ("pass", "5", None),
        ("partial", "2.5", None),
        ("fail", "0", None),
    ],
)
def test_answer_problems(result, score, problem):
    value = Decimal(score) if score is not None else None
    assert rules.answer_problem(result, value, 5) == problem


def test_default_scores():
    assert rules.default_score("pass", 5) == Decimal(5)
    assert rules.default_score("partial", 5) == Decimal("2.5")
    assert rules.default_score("partial", 10) == Decimal(5)
    assert rules.default_score("fail", 5) == Decimal(0)
    assert rules.default_score(None, 5) is None


def test_due_dates_15_days_or_7_for_critical():
    day = dt.date(2026, 3, 1)
    assert rules.due_on(day, False, LIMITS) == dt.date(2026, 3, 16)
    assert rules.due_on(day, True, LIMITS) == dt.date(2026, 3, 8)


@pytest.mark.parametrize(
    ("late_days", "weeks"), [(-1, 0), (0, 0), (1, 1), (7, 1), (8, 2), (14, 2), (15, 3)]
)
def test_a_started_week_counts_whole(late_days, weeks):
    due = dt.date(2026, 3, 16)
    assert rules.overdue_weeks(due, due + dt.timedelta(days=late_days)) == weeks


def test_overdue_week_starts():
    due = dt.date(2026, 3, 30)
    assert rules.overdue_week_start(due, 1) == dt.date(2026, 3, 31)
    assert rules.overdue_week_start(due, 2) == dt.date(2026, 4, 7)


def test_reminder_window():
    due = dt.date(2026, 3, 16)
    assert not rules.due_soon(due, dt.date(2026, 3, 12), 3)
    assert rules.due_soon(due, dt.date(2026, 3, 13), 3)
    assert rules.due_soon(due, due, 3)
    assert not rules.due_soon(due, dt.date(2026, 3, 17), 3)


def test_stock_difference():
    assert rules.stock_difference(5, 4) == -1
    assert rules.stock_difference(5, 5) == 0
    assert rules.stock_difference(None, 4) is None
