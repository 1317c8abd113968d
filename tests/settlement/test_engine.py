"""The validity engine of SPEC 8.2 at its boundaries: pure, no database."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.settlement import rules

UTC = dt.UTC
DAY = dt.date(2026, 10, 15)


class FakeRules:
    def __init__(self, *, window=30, warranty=12, scope=None, fees=None, travel=1000):
        self.window = window
        self.warranty = warranty
        self.scope = scope or {
            "accessory_point": {"accessory_sale"},
            "service_station": {"onsite_repair", "instore_simple", "unit_swap"},
            "service_center": {"onsite_repair", "instore_simple", "unit_swap", "complex"},
        }
        self.fees = fees or {
            ("service_station", "instore_simple"): 2000,
            ("service_station", "onsite_repair"): 3000,
            ("service_center", "complex"): 4500,
            ("service_center", "instore_simple"): 2200,
        }
        self.travel = travel
        self.categories = {"D01": "display", "D02": "display", "B01": "battery"}

    def serial_pattern(self, model, day):
        return re.compile(r"P30\d{9}\Z") if model == "P30" else None

    def warranty_months(self, model, day):
        return self.warranty

    def fault_category(self, code, day):
        return self.categories.get(code, code)

    def tier_allows(self, tier, repair_type, day):
        return repair_type in self.scope.get(tier, set())

    def fee_cents(self, day, tier, repair_type):
        return self.fees.get((tier, repair_type))

    def travel_cents(self, day):
        return self.travel

    def repeat_window_days(self, day):
        return self.window


def record(n=1, *, received=None, **changes) -> rules.RecordFact:
    received = received or dt.datetime(2026, 10, 15, 1, 30, tzinfo=UTC)
    completed = received + dt.timedelta(hours=2)
    values = {
        "id": n,
        "station_id": 1,
        "ticket_no": f"T{n}",
        "received_at": received,
        "received_day": received.date(),
        "completed_at": completed,
        "completed_day": completed.date(),
        "serial_no": "P30000000001",
        "device_model": "P30",
        "fault_code": "D01",
        "warranty": True,
        "purchase_on": received.date() - dt.timedelta(days=100),
        "repair_type": "instore_simple",
        "on_site": False,
        "outside_home_city": False,
        "result": "repaired",
        "part_not_held": False,
        "reported": True,
        "tier": "service_station",
    }
    values.update(changes)
    return rules.RecordFact(**values)


def judge(records, history=(), fake=None, **kw):
    return rules.judge(records, rules.RepairHistory(history), fake or FakeRules(), **kw)


def prior(days_before: float, received: dt.datetime, **changes) -> rules.PriorRepair:
    values = {
        "record_id": 999,
        "serial_no": "P30000000001",
        "fault_code": "D01",
        "completed_at": received - dt.timedelta(days=days_before),
    }
    values.update(changes)
    return rules.PriorRepair(**values)


def test_a_clean_warranty_record_earns_its_tier_fee():
    (j,) = judge([record()])
    assert j.valid
    assert j.fee_cents == 2000
    assert j.travel_cents == 0


def test_an_onsite_repair_outside_the_home_city_adds_the_travel_allowance():
    (inside,) = judge([record(repair_type="onsite_repair", on_site=True)])
    (outside,) = judge([record(repair_type="onsite_repair", on_site=True, outside_home_city=True)])
    assert (inside.fee_cents, inside.travel_cents) == (3000, 0)
    assert (outside.fee_cents, outside.travel_cents) == (3000, 1000)


def test_a_paid_repair_is_valid_workload_without_a_fee():
    (j,) = judge([record(warranty=False)])
    assert j.valid
    assert j.fee_cents == 0


@pytest.mark.parametrize(
    ("days", "reason"),
    [(29, rules.REPEAT_REPAIR), (30, rules.REPEAT_REPAIR), (30.01, None), (31, None)],
)
def test_repeat_window_is_at_most_thirty_days(days, reason):
    received = dt.datetime(2026, 10, 15, 1, 30, tzinfo=UTC)
    (j,) = judge([record(received=received)], [prior(days, received)])
    assert j.reason == reason


def test_repeat_counts_across_stations_and_the_month_boundary():
    received = dt.datetime(2026, 10, 2, 1, 0, tzinfo=UTC)
    # Completed on 20 September at another station (its record of last month, paid or not).
    earlier = prior(12, received, record_id=5)
    (j,) = judge([record(received=received, station_id=7)], [earlier])
    assert j.reason == rules.REPEAT_REPAIR


def test_repeat_needs_the_same_fault_category_and_an_earlier_completion():
    received = dt.datetime(2026, 10, 15, 1, 30, tzinfo=UTC)
    same_category = prior(5, received, fault_code="D02")
    other_category = prior(5, received, fault_code="B01")
    later = prior(-1, received)
    assert judge([record(received=received)], [same_category])[0].reason == rules.REPEAT_REPAIR
    assert judge([record(received=received)], [other_category])[0].valid
    assert judge([record(received=received)], [later])[0].valid


def test_a_record_does_not_repeat_itself():
    received = dt.datetime(2026, 10, 15, 1, 30, tzinfo=UTC)
    itself = rules.PriorRepair(1, "P30000000001", "D01", received - dt.timedelta(hours=1))
    assert judge([record(1, received=received)], [itself])[0].valid


@pytest.mark.parametrize(
    ("purchase", "reason"),
    [
        (dt.date(2025, 10, 15), None),  # exactly 12 months before the received day
        (dt.date(2025, 10, 14), rules.OUT_OF_WARRANTY),
        (dt.date(2025, 10, 16), None),
    ],
)
def test_warranty_of_exactly_twelve_months_is_still_in_warranty(purchase, reason):
    (j,) = judge([record(purchase_on=purchase)])
    assert j.reason == reason


def test_a_paid_repair_is_not_judged_for_warranty():
    (j,) = judge([record(warranty=False, purchase_on=dt.date(2020, 1, 1))])
    assert j.valid


def test_tier_scope_uses_the_tier_on_the_completion_day():
    as_station = record(repair_type="complex", tier="service_station")
    as_center = record(2, repair_type="complex", tier="service_center", ticket_no="T2")
    judged = judge([as_station, as_center])
    assert [j.reason for j in judged] == [rules.TIER_SCOPE, None]
    assert judged[1].fee_cents == 4500


def test_an_accessory_point_may_sell_accessories_only_and_earns_no_fee():
    sale = record(repair_type="accessory_sale", tier="accessory_point")
    repair = record(2, repair_type="instore_simple", tier="accessory_point", ticket_no="T2")
    judged = judge([sale, repair])
    assert judged[0].valid
    assert judged[0].fee_cents == 0
    assert judged[1].reason == rules.TIER_SCOPE


def test_a_part_not_held_and_a_duplicate_ticket():
    assert judge([record(part_not_held=True)])[0].reason == rules.PART_NOT_HELD
    first = record(1, ticket_no="X")
    second = record(2, ticket_no="X", received=first.received_at + dt.timedelta(hours=1))
    second = replace(second, serial_no="P30000000002")
    judged = judge([second, first])
    assert [(j.record.id, j.reason) for j in judged] == [(1, None), (2, rules.DUPLICATE_TICKET)]
    (earlier,) = judge([record(ticket_no="OLD")], earlier_tickets={(1, "OLD")})
    assert earlier.reason == rules.DUPLICATE_TICKET


def test_rules_apply_in_order_and_the_first_failure_names_the_reason():
    everything_wrong = record(
        reported=False,
        serial_no="BAD",
        purchase_on=dt.date(2020, 1, 1),
        repair_type="complex",
        part_not_held=True,
    )
    assert judge([everything_wrong])[0].reason == rules.NOT_REPORTED
    assert judge([replace(everything_wrong, reported=True)])[0].reason == rules.BAD_SERIAL
    fixed = replace(everything_wrong, reported=True, serial_no="P30000000001")
    assert judge([fixed])[0].reason == rules.OUT_OF_WARRANTY
    fixed = replace(fixed, purchase_on=dt.date(2026, 9, 1))
    assert judge([fixed])[0].reason == rules.TIER_SCOPE
    fixed = replace(fixed, repair_type="instore_simple")
    assert judge([fixed])[0].reason == rules.PART_NOT_HELD
    assert list(rules.REASONS) == [
        "not_reported",
        "bad_serial",
        "out_of_warranty",
        "repeat_repair",
        "tier_scope",
        "part_not_held",
        "duplicate_ticket",
    ]


def test_records_are_judged_in_received_order():
    late = record(2, received=dt.datetime(2026, 10, 15, 5, tzinfo=UTC), ticket_no="A")
    early = record(1, received=dt.datetime(2026, 10, 15, 1, tzinfo=UTC), ticket_no="A")
    judged = judge([late, early])
    assert [j.record.id for j in judged] == [1, 2]
    assert judged[1].reason == rules.DUPLICATE_TICKET


@pytest.mark.parametrize(
    ("figures", "expected"),
    [
        ((10000, 1000, 20000, 5000, 3000, 0), (23000, 0)),
        ((1000, 0, 0, 5000, 0, 0), (0, 4000)),
        ((6000, 0, 0, 0, 0, 4000), (2000, 0)),
        ((0, 0, 0, 0, 0, 4000), (0, 4000)),
    ],
)
def test_a_negative_net_is_paid_as_zero_and_carried(figures, expected):
    assert rules.settle_cents(*figures) == expected


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["instore_simple", "onsite_repair", "complex", "unit_swap"]),
            st.booleans(),
            st.booleans(),
        ),
        max_size=60,
    ),
    st.integers(min_value=0, max_value=99999),
)
def test_totals_equal_the_sum_of_the_rounded_lines(lines, odd_fee):
    """Every line is whole fen; the station's total is their exact sum (no rounding drift)."""
    fake = FakeRules(
        fees={("service_center", t): odd_fee for t in ("instore_simple", "onsite_repair")}
        | {("service_center", "complex"): 4501, ("service_center", "unit_swap"): 1650},
        travel=999,
    )
    records = [
        record(
            n + 1,
            ticket_no=f"T{n}",
            serial_no=f"P30{n:09d}",
            repair_type=kind,
            on_site=onsite,
            outside_home_city=outside,
            tier="service_center",
        )
        for n, (kind, onsite, outside) in enumerate(lines)
    ]
    judged = rules.judge(records, rules.RepairHistory([]), fake)
    from portal.settlement.run import money

    total = sum((money(j.fee_cents) + money(j.travel_cents) for j in judged), Decimal("0.00"))
    assert total == money(sum(j.fee_cents + j.travel_cents for j in judged))
    assert total.as_tuple().exponent == -2
