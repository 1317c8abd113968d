"""Recomputing a disputed settlement and reopening a locked one (an amendment): both run the
month again for the station (portal.settlement.run.run_month)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.core.errors import DomainError, PermissionDenied
from portal.settlement import locks, workflow
from portal.settlement.models import Settlement
from portal.settlement.states import SettlementStatus as S
from tests.settlement.test_workflow import MONTH, _actions, settlement_of


def test_hq_recomputes_a_disputed_settlement(db, people, monkeypatch):
    s = settlement_of(db, people)
    workflow.dispute(people["station_user"], s, "Still wrong")
    calls = []
    monkeypatch.setattr(
        "portal.settlement.run.run_month",
        lambda month, station_ids, actor, progress=None: calls.append((month, station_ids)),
    )
    with pytest.raises(PermissionDenied):
        workflow.recompute(people["station_user"], s)
    workflow.recompute(people["hq"], s)
    assert s.status == S.DRAFT
    assert calls == [(MONTH, [people["station"].id])]
    assert _actions(db, s)[-1] == "settlement.recompute"


def test_reopening_makes_an_amendment_and_opens_the_month(db, people, monkeypatch):
    s = settlement_of(db, people, status="paid")

    def recomputed(month, station_ids, actor, progress=None):
        current = db.session.execute(
            select(Settlement).where(
                Settlement.station_id == station_ids[0],
                Settlement.month == month,
                Settlement.superseded_at.is_(None),
            )
        ).scalar_one()
        current.labour = Decimal("120.00")
        current.net = Decimal("110.00")
        current.valid_count = 4

    monkeypatch.setattr("portal.settlement.run.run_month", recomputed)
    with pytest.raises(DomainError):
        workflow.reopen(people["finance"], s, "")
    with pytest.raises(PermissionDenied):
        workflow.reopen(people["hq"], s, "a late record")
    amendment = workflow.reopen(people["finance"], s, "a record was wrongly refused")
    assert (s.status, s.superseded_by_id) == (S.SUPERSEDED, amendment.id)
    assert s.superseded_at is not None
    assert (amendment.revision, amendment.status) == (2, S.DRAFT)
    locks.ensure_month_open(people["station"].id, MONTH)  # open again for corrections
    assert workflow.previous_revision(amendment).id == s.id
    changed = {
        field: (old, new, delta) for field, old, new, delta in workflow.difference(amendment)
    }
    assert changed == {
        "valid_count": (3, 4, 1),
        "labour": (Decimal("90.00"), Decimal("120.00"), Decimal("30.00")),
        "net": (Decimal("80.00"), Decimal("110.00"), Decimal("30.00")),
    }
    with pytest.raises(DomainError, match="superseded"):
        workflow.confirm(people["station_user"], s)
    assert workflow.allowed_actions(people["finance"], s) == []
    assert "settlement.reopen" in _actions(db, s)


def test_a_real_month_locked_reopened_corrected_and_recomputed(db, make, people):
    """Run, confirm, approve twice (locked: a new record is refused), reopen, add the record,
    recompute: the amendment is paid one record more and shows the difference."""
    from portal.core.dates import local_today
    from portal.reports import services as report_services
    from portal.reports.states import RecordSource
    from portal.settlement.run import run_month

    month = (local_today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    day = month.replace(day=12)
    station = make.station(agreement_start_on=day, agreement_end_on=day)
    user = make.user(role="station", station=station)
    make.report(station, day, records=2, submit=True, on_time=True, parts="")
    run_month(month, [station.id], people["runner"])
    first = db.session.execute(
        select(Settlement).where(Settlement.station_id == station.id, Settlement.month == month)
    ).scalar_one()
    assert first.valid_count == 2
    workflow.confirm(user, first)
    workflow.hq_approve(people["hq"], first)
    workflow.finance_approve(people["finance"], first)
    report = report_services.find_report(station.id, day)
    with pytest.raises(locks.MonthLocked):
        report_services.reopen_report(user, report, "one record was missing")

    amendment = workflow.reopen(people["finance"], first, "one record was missing")
    assert (amendment.revision, amendment.status, amendment.valid_count) == (2, S.DRAFT, 2)
    assert workflow.difference(amendment) == []  # same data, same figures
    report_services.reopen_report(user, report, "one record was missing")
    extra = make.record_values(day, 990_001, parts="")
    report_services.import_records(user, report, [(None, extra)], RecordSource.FORM)
    report_services.submit_report(user, report)
    run_month(month, [station.id], people["runner"])
    db.session.refresh(amendment)
    assert amendment.valid_count == 3
    changed = {field: delta for field, _old, _new, delta in workflow.difference(amendment)}
    assert changed["valid_count"] == 1
    assert changed["labour"] == amendment.labour - first.labour > 0
    assert db.session.get(Settlement, first.id).status == S.SUPERSEDED


def test_reopening_from_the_page_shows_the_amendment_and_its_difference(
    client, db, make, login_as, monkeypatch
):
    station = make.station()
    paid = settlement_of(db, {"station": station, "runner": make.user(role="finance")}, "paid")

    def recomputed(month, station_ids, actor, progress=None):
        current = db.session.execute(
            select(Settlement).where(
                Settlement.station_id == station_ids[0],
                Settlement.month == month,
                Settlement.superseded_at.is_(None),
            )
        ).scalar_one()
        current.net = Decimal("95.50")

    monkeypatch.setattr("portal.settlement.run.run_month", recomputed)
    login_as("finance")
    response = client.post(
        f"/settlement/{paid.id}/reopen", data={"version": str(paid.version), "reason": ""}
    )
    assert response.status_code == 422
    assert "Say why the settlement is reopened." in response.get_data(as_text=True)
    response = client.post(
        f"/settlement/{paid.id}/reopen",
        data={"version": str(paid.version), "reason": "a refused record was valid"},
    )
    assert response.status_code == 302
    amendment = db.session.execute(
        select(Settlement).where(Settlement.station_id == station.id, Settlement.revision == 2)
    ).scalar_one()
    assert response.headers["Location"].endswith(f"/settlement/{amendment.id}")
    page = client.get(f"/settlement/{amendment.id}").get_data(as_text=True)
    assert "data-difference" in page
    assert "15.50" in page  # 95.50 now against 80.00 before
    assert "Revision 2" in page
    old = client.get(f"/settlement/{paid.id}").get_data(as_text=True)
    assert "superseded by an amendment" in old
    assert "data-action=" not in old
    listing = client.get("/settlement/?month=2026-10").get_data(as_text=True)
    assert f"/settlement/{amendment.id}" in listing
    assert f'/settlement/{paid.id}"' not in listing
