"""Finance changes the settlement rules as new versions; HQ records adjustments by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.core.actors import SYSTEM
from portal.core.dates import local_today
from portal.core.errors import DomainError, PermissionDenied
from portal.core.forms import issue_form_token
from portal.settlement import adjustments as adj
from portal.settlement import catalogue


def test_the_rules_page_shows_the_seeded_spec_defaults(client, login_as):
    login_as("finance")
    page = client.get("/settlement/rules").get_data(as_text=True)
    assert "CN¥45.00" in page  # complex at a service center
    assert "CN¥16.50" in page
    assert "CN¥10.00" in page  # travel allowance


def test_finance_adds_a_fee_schedule_version_from_tomorrow(client, db, login_as):
    login_as("finance")
    tomorrow = local_today() + dt.timedelta(days=1)
    form = {
        "effective_on": tomorrow.isoformat(),
        "travel_allowance": "12.00",
        "fee__service_station__instore_simple": "21.00",
        "fee__service_center__complex": "1,045.00",
    }
    response = client.post("/settlement/rules/fees", data=form)
    assert response.status_code == 302
    versions = catalogue.load_versions(tomorrow)
    assert versions.fee_cents(tomorrow, "service_center", "complex") == 104500
    assert versions.fee_cents(local_today(), "service_center", "complex") == 4500
    assert versions.travel_cents(tomorrow) == 1200
    # A past date is refused next to its field, and nothing is saved.
    form["effective_on"] = (local_today() - dt.timedelta(days=1)).isoformat()
    response = client.post("/settlement/rules/fees", data=form)
    assert response.status_code == 422
    assert "cannot be before today" in response.get_data(as_text=True)
    assert len(catalogue.load_versions(dt.date.max).schedules) == 2


def test_validity_amounts_and_tier_scope_versions(make, db):
    finance = make.user(role="finance")
    tomorrow = local_today() + dt.timedelta(days=1)
    catalogue.add_validity_parameters(
        finance, effective_on=tomorrow, repeat_window_days=45, default_warranty_months=24
    )
    catalogue.add_rule_amount(
        finance, rule_code="late_report", effective_on=tomorrow, amount=Decimal("-25.00")
    )
    catalogue.set_tier_scope(
        finance,
        tier="accessory_point",
        effective_on=tomorrow,
        repair_types={"accessory_sale", "unit_swap"},
    )
    versions = catalogue.load_versions(tomorrow)
    assert versions.repeat_window_days(local_today()) == 30
    assert versions.repeat_window_days(tomorrow) == 45
    assert adj.rule_amount("late_report", local_today()) == Decimal("-20.00")
    assert adj.rule_amount("late_report", tomorrow) == Decimal("-25.00")
    assert not versions.tier_allows("accessory_point", "unit_swap", local_today())
    assert versions.tier_allows("accessory_point", "unit_swap", tomorrow)
    with pytest.raises(DomainError, match="penalty a negative"):
        catalogue.add_rule_amount(
            finance, rule_code="late_report", effective_on=tomorrow, amount="5"
        )
    with pytest.raises(DomainError, match="already exists"):
        catalogue.add_validity_parameters(
            finance, effective_on=tomorrow, repeat_window_days=1, default_warranty_months=1
        )
    with pytest.raises(PermissionDenied):
        catalogue.add_validity_parameters(
            make.user(role="hq"),
            effective_on=tomorrow,
            repeat_window_days=1,
            default_warranty_months=1,
        )


def test_hq_records_a_manual_penalty_with_a_reason_once(client, db, make, login_as):
    station = make.station()
    login_as("hq")
    token = issue_form_token()
    form = {
        "station_code": station.code.lower(),
        "on": local_today().isoformat(),
        "rule_code": "verified_complaint",
        "amount": "",
        "reason": "",
        "form_token": token,
    }
    response = client.post("/settlement/adjustments", data=form)
    assert response.status_code == 422  # no reason
    form["reason"] = "客户投诉核实：未按约上门"
    assert client.post("/settlement/adjustments", data=form).status_code == 302
    assert client.post("/settlement/adjustments", data=form).status_code == 422  # posted twice
    entries = (
        db.session.execute(select(adj.Adjustment).where(adj.Adjustment.station_id == station.id))
        .scalars()
        .all()
    )
    assert [(e.rule_code, e.amount, e.source_type) for e in entries] == [
        ("verified_complaint", Decimal("-200.00"), "manual")
    ]
    page = client.get("/settlement/adjustments").get_data(as_text=True)
    assert "客户投诉核实" in page
    assert station.name in page


def test_a_manual_entry_needs_the_permission_even_for_an_automatic_rule(make, db):
    station = make.station()
    with pytest.raises(PermissionDenied):
        adj.record_adjustment(
            make.user(role="auditor"),
            station_id=station.id,
            on=local_today(),
            rule_code="critical_item_failed",
            source_type="manual",
            source_id="x",
            reason="by hand",
            manual=True,
        )
    entry = adj.record_adjustment(
        SYSTEM,
        station_id=station.id,
        on=local_today(),
        rule_code="critical_item_failed",
        source_type="manual",
        source_id="y",
        reason="by hand",
        manual=True,
    )
    assert entry.amount == Decimal("-500.00")
