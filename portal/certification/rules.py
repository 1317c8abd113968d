"""Pure rules of certification: credit code, tier compliance, screening, certificates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from portal.certification.states import Recommendation
from portal.core.dates import add_months  # noqa: F401 - the one implementation, used from here

# GB 32100-2015: 18 characters from this alphabet (no I, O, S, V, Z); the last is a check.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

TIERS = ("accessory_point", "service_station", "service_center")

CERTIFICATE_MONTHS = 24
PASS_SCORE = Decimal(60)

# What a file starts with, for each accepted type.
MAGIC = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


def credit_code_problem(code: str) -> str | None:
    """None when the code is a valid unified social credit code, else what is wrong.

    The answer is one of "length", "characters", "check_digit".
    """
    code = (code or "").strip().upper()
    if len(code) != 18:
        return "length"
    if any(ch not in CREDIT_CODE_ALPHABET for ch in code):
        return "characters"
    total = sum(
        CREDIT_CODE_ALPHABET.index(ch) * w
        for ch, w in zip(code[:17], CREDIT_CODE_WEIGHTS, strict=True)
    )
    check = (31 - total % 31) % 31
    if CREDIT_CODE_ALPHABET[check] != code[17]:
        return "check_digit"
    return None


def credit_code_check_char(first17: str) -> str:
    """The check character that completes 17 characters into a valid code."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(ch) * w
        for ch, w in zip(first17.upper(), CREDIT_CODE_WEIGHTS[:17], strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def sniff_file_type(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from a file's first bytes, or None if not PDF/PNG/JPEG."""
    for magic, content_type, ext in MAGIC:
        if head.startswith(magic):
            return content_type, ext
    return None


@dataclass(frozen=True)
class TierRequirements:
    """What one tier requires (SPEC 3.3), as in force on some date."""

    deposit: Decimal
    coordinators: int
    engineers_class1: int
    engineers_class23: int
    repair_area: Decimal
    storage_area: Decimal

    def engineers_for(self, city_class: str) -> int:
        return self.engineers_class1 if str(city_class) == "1" else self.engineers_class23


@dataclass(frozen=True)
class Facts:
    """What a station or application actually has."""

    city_class: str
    deposit_balance: Decimal
    coordinators: int
    certified_engineers: int
    repair_area: Decimal
    storage_area: Decimal


@dataclass(frozen=True)
class RequirementResult:
    key: str
    required: Decimal | int
    actual: Decimal | int
    passed: bool


def check_compliance(req: TierRequirements, facts: Facts) -> list[RequirementResult]:
    """Every requirement of the tier with required value, actual value and pass/fail."""
    pairs = (
        ("deposit", req.deposit, facts.deposit_balance),
        ("coordinators", req.coordinators, facts.coordinators),
        ("certified_engineers", req.engineers_for(facts.city_class), facts.certified_engineers),
        ("repair_area", req.repair_area, facts.repair_area),
        ("storage_area", req.storage_area, facts.storage_area),
    )
    return [RequirementResult(key, need, have, have >= need) for key, need, have in pairs]


def is_clean(results: list[RequirementResult]) -> bool:
    return all(r.passed for r in results)


def gaps(results: list[RequirementResult]) -> list[RequirementResult]:
    return [r for r in results if not r.passed]


def weighted_total(weights: dict[str, int], ratings: dict[str, Decimal]) -> Decimal:
    """Screening total out of the weights' sum: each criterion rated 0-100 % of its weight."""
    total = Decimal(0)
    for key, weight in weights.items():
        rating = ratings.get(key)
        if rating is None:
            continue
        total += Decimal(weight) * Decimal(rating) / Decimal(100)
    return total.quantize(Decimal("0.01"))


def recommend(
    requested_tier: str, total: Decimal, pass_mark: Decimal, clean_by_tier: dict[str, bool]
) -> tuple[Recommendation, str | None]:
    """(APPROVE, tier), (APPROVE_LOWER, tier) or (REJECT, None)."""
    if total < pass_mark:
        return Recommendation.REJECT, None
    if clean_by_tier.get(requested_tier):
        return Recommendation.APPROVE, requested_tier
    for tier in reversed(TIERS[: TIERS.index(requested_tier)]):
        if clean_by_tier.get(tier):
            return Recommendation.APPROVE_LOWER, tier
    return Recommendation.REJECT, None


def tier_rank(tier: str) -> int:
    return TIERS.index(tier)


def attempt_passed(theory: Decimal, practical: Decimal, pass_score: Decimal = PASS_SCORE) -> bool:
    """A certification attempt passes when both scores reach the pass score."""
    return theory >= pass_score and practical >= pass_score


def certificate_expiry(issued_on: dt.date, months: int = CERTIFICATE_MONTHS) -> dt.date:
    """The last day a certificate is valid: the day before the same date months later.

    When that month has no such date (issued 29 February, or on the 31st), the certificate
    runs to the last day of that month: 29 Feb 2024 + 24 months ends on 28 Feb 2026.
    """
    same_date = add_months(issued_on, months)
    if same_date.day < issued_on.day:  # the month is shorter: add_months took its last day
        return same_date
    return same_date - dt.timedelta(days=1)


def certificate_valid(
    issued_on: dt.date, expires_on: dt.date, revoked_on: dt.date | None, on: dt.date
) -> bool:
    """Valid on a day: issued, not yet past its last day, not revoked by then."""
    if revoked_on is not None and revoked_on <= on:
        return False
    return issued_on <= on <= expires_on


def mask_id_number(id_number: str | None) -> str:
    """An ID number with all but the first 3 and last 4 characters hidden."""
    value = (id_number or "").strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def station_code(province: str, city_code: str, number: int) -> str:
    return f"{province.upper()}-{city_code.upper()}-{number:04d}"
