"""Pure rules: credit code, compliance at the boundaries of every tier and city class."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portal.certification import rules

# SPEC 3.3 defaults, as seeded by the migration.
SPEC = {
    "accessory_point": rules.TierRequirements(Decimal("2000"), 1, 0, 0, Decimal("0"), Decimal("0")),
    "service_station": rules.TierRequirements(Decimal("5000"), 1, 2, 1, Decimal("8"), Decimal("0")),
    "service_center": rules.TierRequirements(
        Decimal("10000"), 1, 3, 2, Decimal("10"), Decimal("8")
    ),
}
ENGINEERS = {  # (tier, city class) -> certified engineers required
    ("accessory_point", "1"): 0,
    ("accessory_point", "2"): 0,
    ("accessory_point", "3"): 0,
    ("service_station", "1"): 2,
    ("service_station", "2"): 1,
    ("service_station", "3"): 1,
    ("service_center", "1"): 3,
    ("service_center", "2"): 2,
    ("service_center", "3"): 2,
}


def facts_meeting(tier: str, city_class: str, **over) -> rules.Facts:
    req = SPEC[tier]
    values = {
        "city_class": city_class,
        "deposit_balance": req.deposit,
        "coordinators": req.coordinators,
        "certified_engineers": req.engineers_for(city_class),
        "repair_area": req.repair_area,
        "storage_area": req.storage_area,
    }
    values.update(over)
    return rules.Facts(**values)


def by_key(results):
    return {r.key: r for r in results}


@pytest.mark.parametrize(("tier", "city_class"), list(ENGINEERS))
def test_exactly_meeting_every_requirement_is_clean(tier, city_class):
    results = rules.check_compliance(SPEC[tier], facts_meeting(tier, city_class))
    assert rules.is_clean(results)
    assert [r.key for r in results] == [
        "deposit",
        "coordinators",
        "certified_engineers",
        "repair_area",
        "storage_area",
    ]
    assert by_key(results)["certified_engineers"].required == ENGINEERS[(tier, city_class)]


@pytest.mark.parametrize(("tier", "city_class"), [k for k, v in ENGINEERS.items() if v > 0])
def test_one_engineer_short_fails_with_required_and_actual(tier, city_class):
    need = ENGINEERS[(tier, city_class)]
    results = rules.check_compliance(
        SPEC[tier], facts_meeting(tier, city_class, certified_engineers=need - 1)
    )
    gaps = rules.gaps(results)
    assert [(g.key, g.required, g.actual) for g in gaps] == [
        ("certified_engineers", need, need - 1)
    ]


@pytest.mark.parametrize("tier", list(SPEC))
def test_deposit_one_cent_short_fails(tier):
    results = rules.check_compliance(
        SPEC[tier],
        facts_meeting(tier, "2", deposit_balance=SPEC[tier].deposit - Decimal("0.01")),
    )
    assert [g.key for g in rules.gaps(results)] == ["deposit"]


@pytest.mark.parametrize("tier", list(SPEC))
def test_no_coordinator_fails(tier):
    results = rules.check_compliance(SPEC[tier], facts_meeting(tier, "3", coordinators=0))
    assert [g.key for g in rules.gaps(results)] == ["coordinators"]


def test_repair_area_7_99_against_8_fails_and_8_passes():
    station = SPEC["service_station"]
    short = by_key(
        rules.check_compliance(
            station, facts_meeting("service_station", "2", repair_area=Decimal("7.99"))
        )
    )["repair_area"]
    assert (short.required, short.actual, short.passed) == (Decimal("8"), Decimal("7.99"), False)
    exact = by_key(
        rules.check_compliance(
            station, facts_meeting("service_station", "2", repair_area=Decimal("8.00"))
        )
    )
    assert exact["repair_area"].passed


def test_service_center_areas_at_their_boundaries():
    center = SPEC["service_center"]
    results = rules.check_compliance(
        center,
        facts_meeting(
            "service_center", "1", repair_area=Decimal("9.99"), storage_area=Decimal("7.99")
        ),
    )
    assert [g.key for g in rules.gaps(results)] == ["repair_area", "storage_area"]


def test_accessory_point_needs_no_engineers_or_areas():
    results = rules.check_compliance(
        SPEC["accessory_point"],
        facts_meeting(
            "accessory_point",
            "1",
            certified_engineers=0,
            repair_area=Decimal(0),
            storage_area=Decimal(0),
        ),
    )
    assert rules.is_clean(results)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("91350100M000100Y43", None),
        ("91350100m000100y43", None),
        ("91350100M000100Y44", "check_digit"),
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y433", "length"),
        ("91350100M000100YI3", "characters"),
        ("", "length"),
    ],
)
def test_credit_code(code, problem):
    assert rules.credit_code_problem(code) == problem


def test_credit_code_check_char_completes_a_valid_code():
    first = "91110000600037341"
    assert rules.credit_code_problem(first + rules.credit_code_check_char(first)) is None


def test_certificate_valid_for_24_months_including_its_last_day():
    issued = dt.date(2024, 11, 23)
    expires = rules.certificate_expiry(issued)
    assert expires == dt.date(2026, 11, 22)
    assert rules.certificate_valid(issued, expires, None, on=expires)
    assert not rules.certificate_valid(issued, expires, None, on=expires + dt.timedelta(days=1))
    assert not rules.certificate_valid(issued, expires, None, on=issued - dt.timedelta(days=1))


def test_revoked_certificate_is_invalid_from_the_revocation_day():
    issued = dt.date(2026, 1, 1)
    expires = rules.certificate_expiry(issued)
    revoked = dt.date(2026, 6, 1)
    assert rules.certificate_valid(issued, expires, revoked, on=dt.date(2026, 5, 31))
    assert not rules.certificate_valid(issued, expires, revoked, on=revoked)


@pytest.mark.parametrize(
    ("issued", "last_day"),
    [
        # Issued on a leap day: 29 Feb 2026 does not exist, so it runs to 28 Feb (not the 27th).
        (dt.date(2024, 2, 29), dt.date(2026, 2, 28)),
        (dt.date(2024, 2, 28), dt.date(2026, 2, 27)),
        (dt.date(2024, 3, 1), dt.date(2026, 2, 28)),
        # Into a leap February: 29 Feb 2028 exists, so the day before it.
        (dt.date(2026, 2, 28), dt.date(2028, 2, 27)),
        (dt.date(2026, 3, 1), dt.date(2028, 2, 29)),
        (dt.date(2025, 12, 31), dt.date(2027, 12, 30)),
    ],
)
def test_certificate_expiry_at_month_ends_and_leap_days(issued, last_day):
    assert rules.certificate_expiry(issued) == last_day


def test_certificate_of_a_month_issued_on_the_31st_runs_to_the_end_of_a_short_month():
    assert rules.certificate_expiry(dt.date(2026, 1, 31), months=1) == dt.date(2026, 2, 28)
    assert rules.certificate_expiry(dt.date(2026, 1, 30), months=1) == dt.date(2026, 2, 28)
    assert rules.certificate_expiry(dt.date(2026, 1, 28), months=1) == dt.date(2026, 2, 27)


@pytest.mark.parametrize(
    ("theory", "practical", "passed"),
    [(60, 60, True), (59.9, 90, False), (90, 59, False), (100, 100, True)],
)
def test_attempt_pass_needs_both_scores(theory, practical, passed):
    assert rules.attempt_passed(Decimal(str(theory)), Decimal(str(practical))) is passed


def test_weighted_total_with_default_weights():
    weights = {
        "qualification": 15,
        "experience": 20,
        "personnel": 20,
        "site": 20,
        "equipment": 10,
        "financial": 15,
    }
    full = {k: Decimal(100) for k in weights}
    assert rules.weighted_total(weights, full) == Decimal("100.00")
    half = {k: Decimal(50) for k in weights}
    assert rules.weighted_total(weights, half) == Decimal("50.00")
    assert rules.weighted_total(weights, {"experience": Decimal(75)}) == Decimal("15.00")


@pytest.mark.parametrize(
    ("requested", "total", "clean", "expected"),
    [
        ("service_center", 80, {"service_center": True}, ("approve", "service_center")),
        (
            "service_center",
            80,
            {"service_center": False, "service_station": True},
            ("approve_lower", "service_station"),
        ),
        ("service_station", 69.99, {"service_station": True}, ("reject", None)),
        ("service_station", 70, {"service_station": False}, ("reject", None)),
        (
            "service_station",
            70,
            {"service_station": False, "accessory_point": True},
            ("approve_lower", "accessory_point"),
        ),
    ],
)
def test_recommendation(requested, total, clean, expected):
    got = rules.recommend(requested, Decimal(str(total)), Decimal(70), clean)
    assert got == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"MZ\x90\x00", None),
        (b"\x7fELF", None),
        (b"PK\x03\x04", None),
    ],
)
def test_file_type_by_content(head, expected):
    sniffed = rules.sniff_file_type(head)
    assert (sniffed[0] if sniffed else None) == expected


def test_id_number_mask():
    assert rules.mask_id_number("410102199001011234") == "410***********1234"
    assert rules.mask_id_number("") == ""


def test_station_code_format():
    assert rules.station_code("ha", "zz", 7) == "HA-ZZ-0007"
