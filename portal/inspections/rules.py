"""Pure rules of inspections: answers, score and grade, due dates, overdue weeks, stock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

PASS, PARTIAL, FAIL = "pass", "partial", "fail"
EXCELLENT, GOOD, NEEDS_RECTIFICATION, GRADE_FAIL = (
    "excellent",
    "good",
    "needs_rectification",
    "fail",
)
HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class Thresholds:
    """Grade limits in percent and rectification deadlines in days (SPEC 4.2, 4.3)."""

    excellent: int = 90
    good: int = 80
    passing: int = 60
    due_days: int = 15
    due_days_critical: int = 7
    remind_days: int = 3


@dataclass(frozen=True)
class ScoredItem:
    max_score: int
    critical: bool
    result: str | None
    score: Decimal | None


@dataclass(frozen=True)
class Outcome:
    points: Decimal
    max_points: int
    percent: Decimal
    grade: str
    critical_failed: bool


def answer_problem(result: str | None, score: Decimal | None, max_score: int) -> str | None:
    """What is wrong with one item's answer, or None: "result", "score", "range", "fail_full",
    "pass_zero"."""
    if result not in (PASS, PARTIAL, FAIL):
        return "result"
    if score is None:
        return "score"
    if score < 0 or score > max_score:
        return "range"
    if result == FAIL and max_score > 0 and score >= max_score:
        return "fail_full"
    if result == PASS and max_score > 0 and score == 0:
        return "pass_zero"
    return None


def default_score(result: str | None, max_score: int) -> Decimal | None:
    """The score a result suggests: full for a pass, half for a partial, none for a fail."""
    if result == PASS:
        return Decimal(max_score)
    if result == PARTIAL:
        return (Decimal(max_score) / 2).quantize(Decimal("0.5"), rounding=ROUND_HALF_UP)
    if result == FAIL:
        return Decimal(0)
    return None


def percent(points: Decimal, max_points: int) -> Decimal:
    """Points as a percentage of the maximum, two places, half up (0 for an empty list)."""
    if max_points <= 0:
        return Decimal("0.00")
    return (Decimal(points) * 100 / Decimal(max_points)).quantize(HUNDREDTH, ROUND_HALF_UP)


def grade_for(pct: Decimal, critical_failed: bool, limits: Thresholds) -> str:
    """Excellent >= 90, good >= 80, needs rectification >= 60, else fail; a failed critical
    item fails the inspection whatever the score."""
    if critical_failed:
        return GRADE_FAIL
    if pct >= limits.excellent:
        return EXCELLENT
    if pct >= limits.good:
        return GOOD
    if pct >= limits.passing:
        return NEEDS_RECTIFICATION
    return GRADE_FAIL


def outcome(items: list[ScoredItem], limits: Thresholds) -> Outcome:
    """Total score, percentage and grade of fully answered items."""
    points = sum((Decimal(i.score or 0) for i in items), Decimal(0))
    max_points = sum(i.max_score for i in items)
    critical_failed = any(i.critical and i.result == FAIL for i in items)
    pct = percent(points, max_points)
    grade = grade_for(pct, critical_failed, limits)
    return Outcome(points, max_points, pct, grade, critical_failed)


def needs_rectification(result: str | None) -> bool:
    """A partial or failed item opens a rectification."""
    return result in (PARTIAL, FAIL)


def due_on(opened_on: dt.date, critical: bool, limits: Thresholds) -> dt.date:
    """15 days after the inspection (7 for a critical item), by default."""
    days = limits.due_days_critical if critical else limits.due_days
    return opened_on + dt.timedelta(days=days)


def overdue_weeks(due: dt.date, today: dt.date) -> int:
    """Weeks overdue, a started week counting whole: 1 on the day after the due date."""
    late = (today - due).days
    if late <= 0:
        return 0
    return (late + 6) // 7


def overdue_week_start(due: dt.date, week: int) -> dt.date:
    """The first day of the n-th overdue week (week 1 starts the day after the due date)."""
    return due + dt.timedelta(days=7 * (week - 1) + 1)


def due_soon(due: dt.date, today: dt.date, remind_days: int) -> bool:
    """Whether a reminder is due: within remind_days before the due date (and not past it)."""
    return 0 <= (due - today).days <= remind_days


def stock_difference(expected: int | None, counted: int | None) -> int | None:
    """counted - expected, or None while either is unknown."""
    if expected is None or counted is None:
        return None
    return counted - expected


def score_to_rating(pct: Decimal) -> Decimal:
    """An inspection's percentage as a screening rating (0-100 % of the criterion's weight)."""
    return max(Decimal(0), min(Decimal(100), Decimal(pct))).quantize(HUNDREDTH, ROUND_HALF_UP)
