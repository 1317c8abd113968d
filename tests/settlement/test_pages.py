"""The month list, a settlement's page and the moves made from it; a station sees its own."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from portal.core.dates import local_today
from portal.settlement.models import Settlement, SettlementLine
from portal.settlement.states import SettlementStatus as S
from tests.settlement.test_workflow import MONTH, settlement_of


def _line(db, settlement, n, valid=True, reason=None, fee="30.00"):
    line = SettlementLine(
        settlement_id=settlement.id,
        record_id=None,
        ticket_no=f"T-{n}",
        received_at=dt.datetime(2026, 10, 2, 1, n % 60, tzinfo=dt.UTC),
        repair_type="onsite_repair",
        valid=valid,
        reason_code=reason,
        fee=Decimal(fee) if valid else Decimal("0.00"),
        travel=Decimal("0.00"),
    )
    db.session.add(line)
    db.session.flush()
    return line


def test_month_list_filters_and_totals(client, db, make, login_as):
    a = make.station(province="HA", tier="service_center")
    b = make.station(province="GD", code="GD-TS-0901", city="广州")
    runner = make.user(role="finance")
    people_a = {"station": a, "runner": runner}
    people_b = {"station": b, "runner": runner}
    settlement_of(db, people_a, net=Decimal("100.10"), labour=Decimal("100.10"))
    disputed = settlement_of(db, people_b, status="disputed", net=Decimal("0.05"))
    disputed.dispute_reason = "wrong"
    db.session.flush()
    login_as("finance")
    page = client.get("/settlement/?month=2026-10").get_data(as_text=True)
    assert a.code in page
    assert b.code in page
    assert "2 settlements" in page
    assert "100.15" in page  # net total
    page = client.get("/settlement/?month=2026-10&province=GD").get_data(as_text=True)
    assert b.code in page
    assert a.code not in page
    page = client.get("/settlement/?month=2026-10&tier=service_center").get_data(as_text=True)
    assert a.code in page
    assert b.code not in page
    page = client.get("/settlement/?month=2026-10&disputed=1").get_data(as_text=True)
    assert b.code in page
    assert a.code not in page
    page = client.get("/settlement/?month=2026-10&state=draft").get_data(as_text=True)
    assert a.code in page
    assert b.code not in page
    assert "1 settlements" in page
    assert "0 settlements" in client.get("/settlement/?month=2026-09").get_data(as_text=True)


def test_station_sees_only_its_own_and_confirms_there(client, db, make, login_as):
    station = make.station()
    other = make.station()
    runner = make.user(role="finance")
    mine = settlement_of(db, {"station": station, "runner": runner})
    theirs = settlement_of(db, {"station": other, "runner": runner})
    _line(db, mine, 1)
    _line(db, mine, 2, valid=False, reason="bad_serial")
    login_as("station", station=station)
    listing = client.get("/settlement/?month=2026-10").get_data(as_text=True)
    assert station.code in listing
    assert other.code not in listing
    assert client.get(f"/settlement/{theirs.id}").status_code == 404
    assert client.post(f"/settlement/{theirs.id}/confirm").status_code == 404
    page = client.get(f"/settlement/{mine.id}").get_data(as_text=True)
    assert "T-1" in page
    assert "T-2" in page
    assert 'data-action="confirm"' in page
    assert 'data-action="dispute"' in page
    assert 'data-action="hq_approve"' not in page
    response = client.post(
        f"/settlement/{mine.id}/dispute", data={"version": str(mine.version), "reason": ""}
    )
    assert response.status_code == 422
    assert "Say what is wrong" in response.get_data(as_text=True)
    response = client.post(f"/settlement/{mine.id}/confirm", data={"version": str(mine.version)})
    assert response.status_code == 302
    assert db.session.get(Settlement, mine.id).status == S.CONFIRMED


def test_a_move_on_a_settlement_that_changed_is_told_so(client, db, make, login_as):
    station = make.station()
    s = settlement_of(db, {"station": station, "runner": make.user(role="finance")})
    seen = s.version
    s.dispute_reason = "changed by someone else"
    db.session.flush()
    login_as("station", station=station)
    response = client.post(
        f"/settlement/{s.id}/confirm", data={"version": str(seen)}, follow_redirects=True
    )
    assert "changed this meanwhile" in response.get_data(as_text=True)
    assert db.session.get(Settlement, s.id).status == S.DRAFT


def test_pages_offer_each_role_its_moves(client, db, make, login_as):
    station = make.station()
    runner = make.user(role="finance")
    s = settlement_of(db, {"station": station, "runner": runner}, status="hq_approved")
    login_as("finance")
    page = client.get(f"/settlement/{s.id}").get_data(as_text=True)
    assert 'data-action="finance_approve"' in page
    response = client.post(f"/settlement/{s.id}/finance_approve", data={"version": str(s.version)})
    assert response.status_code == 302
    page = client.get(f"/settlement/{s.id}").get_data(as_text=True)
    assert 'data-action="pay"' in page
    assert 'data-action="reopen"' in page
    today = local_today()
    response = client.post(
        f"/settlement/{s.id}/pay",
        data={
            "version": str(db.session.get(Settlement, s.id).version),
            "paid_reference": "",
            "paid_on": today.isoformat(),
        },
    )
    assert response.status_code == 422
    assert "Enter the payment reference." in response.get_data(as_text=True)
    response = client.post(
        f"/settlement/{s.id}/pay",
        data={
            "version": str(db.session.get(Settlement, s.id).version),
            "paid_reference": "BANK-1",
            "paid_on": today.isoformat(),
        },
    )
    assert response.status_code == 302
    assert db.session.get(Settlement, s.id).status == S.PAID
    page = client.get(f"/settlement/{s.id}").get_data(as_text=True)
    assert "BANK-1" in page
    assert 'data-action="finance_approve"' not in page


def test_runner_is_not_offered_the_finance_approval(client, db, make, login_as):
    runner = login_as("finance")
    s = settlement_of(db, {"station": make.station(), "runner": runner}, status="hq_approved")
    page = client.get(f"/settlement/{s.id}").get_data(as_text=True)
    assert 'data-action="finance_approve"' not in page
    response = client.post(
        f"/settlement/{s.id}/finance_approve",
        data={"version": str(s.version)},
        follow_redirects=True,
    )
    assert "another person in finance" in response.get_data(as_text=True)
    assert db.session.get(Settlement, s.id).status == S.HQ_APPROVED


def test_month_default_is_last_month(client, db, login_as):
    login_as("hq")
    first = local_today().replace(day=1)
    last = (first - dt.timedelta(days=1)).replace(day=1)
    page = client.get("/settlement/").get_data(as_text=True)
    assert f'value="{last:%Y-%m}"' in page
    assert MONTH.year == 2026


def test_records_are_paged_on_the_settlement_page(client, db, make, login_as, app):
    station = make.station()
    s = settlement_of(db, {"station": station, "runner": make.user(role="finance")})
    size = app.config["PAGE_SIZE"]
    for n in range(size + 3):
        _line(db, s, n)
    login_as("hq")
    page = client.get(f"/settlement/{s.id}").get_data(as_text=True)
    assert "T-0<" in page or ">T-0<" in page
    match = re.search(r'href="([^"]*after=\d+[^"]*)"', page)
    assert match, "no next-page link"
    second = client.get(match.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert f">T-{size + 2}<" in second
    assert f">T-{size + 2}<" not in page


def test_home_page_lists_what_waits(client, db, make, login_as):
    station = make.station()
    runner = make.user(role="finance")
    settlement_of(db, {"station": station, "runner": runner})
    other = settlement_of(db, {"station": make.station(), "runner": runner}, status="hq_approved")
    login_as("station", station=station)
    page = client.get("/").get_data(as_text=True)
    assert "2026-10: to confirm or dispute</a>: 1" in page
    client.post("/logout")
    login_as("finance")
    page = client.get("/").get_data(as_text=True)
    assert "2026-10: approved by HQ, to approve for payment</a>: 1" in page
    assert "to confirm or dispute" not in page
    assert other.status == S.HQ_APPROVED


def _walk(client, url):
    """Every station code of a listing, following its next links; and the pages' URLs."""
    codes, urls = [], []
    while url:
        urls.append(url)
        page = client.get(url).get_data(as_text=True)
        codes += re.findall(r'data-settlement="([^"]+)"', page)
        found = re.search(r'href="([^"]+)" rel="next"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    return codes, urls


def test_month_list_sorts_by_code_or_net_with_keyset_pages(client, db, make, login_as, app):
    runner = make.user(role="finance")
    nets = ["10.00", "99.99", "10.00", "0.00", "250.50"]
    stations = []
    for net in nets:
        station = make.station()
        settlement_of(db, {"station": station, "runner": runner}, net=Decimal(net))
        stations.append((station.code, Decimal(net)))
    login_as("finance")
    size = app.config["PAGE_SIZE"]
    app.config["PAGE_SIZE"] = 2
    try:
        by_code, urls = _walk(client, "/settlement/?month=2026-10")
        assert by_code == sorted(code for code, _ in stations)
        assert len(urls) == 3
        by_net, _urls = _walk(client, "/settlement/?month=2026-10&sort=net")
        assert sorted(by_net) == sorted(by_code)
        assert [dict(stations)[c] for c in by_net] == sorted((n for _, n in stations), reverse=True)
        # Back from the last page gives the page before it.
        last = client.get(urls[-1]).get_data(as_text=True)
        back = re.search(r'href="([^"]+)" rel="prev"', last).group(1).replace("&amp;", "&")
        page = client.get(back).get_data(as_text=True)
        assert re.findall(r'data-settlement="([^"]+)"', page) == by_code[2:4]
        assert client.get("/settlement/?month=2026-10&sort=net&after=rubbish").status_code == 200
    finally:
        app.config["PAGE_SIZE"] = size
