"""Station registry: isolation between stations, list filters, create and edit."""

from __future__ import annotations

import pytest

from portal.certification import services
from portal.core.audit import AuditEntry
from portal.stations.models import Station
from portal.stations.states import StationStatus, Tier


def test_station_user_sees_own_station_and_404_for_another(client, login_as, make):
    own = make.station(name="自己的站")
    other = make.station(name="别人的站")
    login_as("station", station=own)
    assert "自己的站" in client.get(f"/stations/{own.id}").get_data(as_text=True)
    assert client.get(f"/stations/{other.id}").status_code == 404
    assert client.get(f"/stations/{other.id}/edit").status_code == 403


def test_two_station_users_are_isolated(app, make):
    a, b = make.station(), make.station()
    user_a = make.user(role="station", station=a, password="pass-a-123")
    user_b = make.user(role="station", station=b, password="pass-b-123")
    client_a, client_b = app.test_client(), app.test_client()
    client_a.post("/login", data={"username": user_a.username, "password": "pass-a-123"})
    client_b.post("/login", data={"username": user_b.username, "password": "pass-b-123"})
    assert client_a.get(f"/stations/{b.id}").status_code == 404
    assert client_b.get(f"/stations/{a.id}").status_code == 404
    assert client_a.get(f"/stations/{a.id}").status_code == 200
    assert client_b.get(f"/stations/{b.id}").status_code == 200


def test_station_list_redirects_station_user_to_own_station(client, login_as, make):
    own = make.station()
    login_as("station", station=own)
    response = client.get("/stations/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/stations/{own.id}")


def test_list_filters_and_search(client, login_as, make):
    login_as("auditor")
    make.station(
        code="SC-CD-0901", name="成都锦城站", province="SC", city="成都", tier="service_center"
    )
    make.station(code="SC-MY-0902", name="绵阳涪城站", province="SC", city="绵阳")
    make.station(
        code="GD-GZ-0903", name="广州番禺站", province="GD", city="广州", status="suspended"
    )
    html = client.get("/stations/?province=SC").get_data(as_text=True)
    assert "SC-CD-0901" in html
    assert "SC-MY-0902" in html
    assert "GD-GZ-0903" not in html
    html = client.get("/stations/?tier=service_center&province=SC").get_data(as_text=True)
    assert "SC-CD-0901" in html
    assert "SC-MY-0902" not in html
    html = client.get("/stations/?status=suspended&q=番禺").get_data(as_text=True)
    assert "GD-GZ-0903" in html
    assert "SC-CD-0901" not in html
    html = client.get("/stations/?q=绵阳").get_data(as_text=True)
    assert "SC-MY-0902" in html
    assert "SC-CD-0901" not in html


def test_keyset_pagination_walks_every_station_once(client, login_as, make, app):
    login_as("hq")
    codes = [make.station(code=f"XJ-WL-{n:04d}", province="XJ").code for n in range(1, 8)]
    app.config["PAGE_SIZE"] = 3
    try:
        seen, url = [], "/stations/?province=XJ"
        for _ in range(5):
            html = client.get(url).get_data(as_text=True)
            seen += [c for c in codes if f">{c}<" in html]
            marker = 'href="/stations/?after='
            if marker not in html:
                break
            start = html.index(marker) + len('href="')
            url = html[start : html.index('"', start)].replace("&amp;", "&")
        assert seen == codes
        back = client.get("/stations/?province=XJ&before=XJ-WL-0004").get_data(as_text=True)
        assert [c for c in codes if f">{c}<" in back] == codes[:3]
    finally:
        app.config["PAGE_SIZE"] = 50


def test_hq_creates_station_and_it_is_audited(client, login_as, db):
    login_as("hq")
    response = client.post(
        "/stations/new",
        data={
            "code": "hn-cs-0042",
            "name": "长沙新站",
            "tier": "service_station",
            "province": "HN",
            "city": "长沙",
            "city_class": "1",
            "status": "active",
            "agreement_start_on": "2026-01-01",
            "agreement_end_on": "2028-12-31",
        },
    )
    assert response.status_code == 302
    station = db.session.query(Station).filter_by(code="HN-CS-0042").one()
    entry = (
        db.session.query(AuditEntry)
        .filter_by(object_type="Station", object_id=str(station.id), action="station.created")
        .one()
    )
    assert entry.after["name"] == "长沙新站"
    assert entry.actor_name.startswith("hq-")


def test_create_refuses_bad_code_and_keeps_input(client, login_as, db):
    login_as("hq")
    response = client.post(
        "/stations/new",
        data={
            "code": "GD-GZ-1",
            "name": "输入保留",
            "tier": "service_station",
            "province": "HN",
            "city": "长沙",
            "city_class": "1",
            "status": "active",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "A station code looks like" in html
    assert 'value="输入保留"' in html
    assert db.session.query(Station).filter_by(name="输入保留").count() == 0


def test_agreement_end_before_start_is_refused(client, login_as):
    login_as("admin")
    response = client.post(
        "/stations/new",
        data={
            "code": "HN-CS-0043",
            "name": "日期错",
            "tier": "service_station",
            "province": "HN",
            "city": "长沙",
            "city_class": "1",
            "status": "active",
            "agreement_start_on": "2026-05-01",
            "agreement_end_on": "2026-04-01",
        },
    )
    assert "The agreement cannot end before it starts." in response.get_data(as_text=True)


def test_edit_records_before_and_after(client, login_as, make, db):
    login_as("hq")
    station = make.station(name="旧名")
    response = client.post(
        f"/stations/{station.id}/edit",
        data={
            "code": station.code,
            "name": "新名",
            "province": station.province,
            "city": station.city,
            "city_class": "1",
            "version": str(station.version),
        },
    )
    assert response.status_code == 302
    entry = (
        db.session.query(AuditEntry)
        .filter_by(action="station.updated", object_id=str(station.id))
        .one()
    )
    assert entry.before["name"] == "旧名"
    assert entry.after["name"] == "新名"
    assert "tier" not in entry.after
    assert "status" not in entry.after


def test_edit_form_cannot_change_tier_or_status(client, login_as, make, db):
    """The probe of issue 8.1: a revoked accessory point posted as an active service center."""
    hq = login_as("hq")
    station = make.station(tier="accessory_point", city_class="3")
    services.revoke(hq, station, "sold counterfeit parts")
    db.session.commit()
    page = client.get(f"/stations/{station.id}/edit").get_data(as_text=True)
    assert 'name="tier"' not in page
    assert 'name="status"' not in page
    response = client.post(
        f"/stations/{station.id}/edit",
        data={
            "code": station.code,
            "name": "改名",
            "tier": "service_center",
            "status": "active",
            "province": station.province,
            "city": station.city,
            "city_class": "3",
            "version": str(station.version),
        },
    )
    assert response.status_code == 302
    fresh = db.session.get(Station, station.id)
    assert (fresh.name, fresh.tier, fresh.status) == (
        "改名",
        Tier.ACCESSORY_POINT,
        StationStatus.REVOKED,
    )


def test_update_station_refuses_tier_and_status(make, app):
    from portal.core.errors import DomainError
    from portal.stations import services as station_services

    station = make.station()
    hq = make.user(role="hq")
    with app.test_request_context():
        for values in ({"tier": "service_center"}, {"status": "revoked"}):
            with pytest.raises(DomainError) as info:
                station_services.update_station(hq, station, **values)
            assert info.value.field in values
    assert (station.tier, station.status) == (Tier.SERVICE_STATION, StationStatus.ACTIVE)


def test_contact_email_is_validated(client, login_as, make, db):
    login_as("hq")
    station = make.station()
    response = client.post(
        f"/stations/{station.id}/edit",
        data={
            "code": station.code,
            "name": station.name,
            "province": station.province,
            "city": station.city,
            "city_class": "1",
            "contact_email": "not an address",
            "version": str(station.version),
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter an e-mail address such as name@example.com." in html
    assert 'value="not an address"' in html
    assert db.session.get(Station, station.id).contact_email == ""


def test_service_refuses_a_bad_contact_email(make, app):
    from portal.core.errors import DomainError
    from portal.stations import services as station_services

    hq = make.user(role="hq")
    with app.test_request_context():
        with pytest.raises(DomainError) as info:
            make.station(contact_email="a@b")
        assert info.value.field == "contact_email"
        station = make.station()
        with pytest.raises(DomainError):
            station_services.update_station(hq, station, contact_email="@example.com")
        station_services.update_station(hq, station, contact_email=" ops@example.com ")
    assert station.contact_email == "ops@example.com"


def test_edit_with_stale_version_is_refused(client, login_as, make, db):
    login_as("hq")
    station = make.station(name="原名")
    stale = station.version
    client.post(
        f"/stations/{station.id}/edit",
        data={
            "code": station.code,
            "name": "第一人",
            "province": station.province,
            "city": station.city,
            "city_class": "1",
            "version": str(stale),
        },
    )
    response = client.post(
        f"/stations/{station.id}/edit",
        data={
            "code": station.code,
            "name": "第二人",
            "province": station.province,
            "city": station.city,
            "city_class": "1",
            "version": str(stale),
        },
    )
    assert "Someone else changed this meanwhile" in response.get_data(as_text=True)
    assert db.session.get(Station, station.id).name == "第一人"


def test_station_timeline_shows_its_own_life_only(client, login_as, make):
    from portal.core import audit

    login_as("hq")
    station = make.station()
    from portal.core.actors import SYSTEM

    audit.record(
        "daily_report.opened",
        actor=SYSTEM,
        object_type="DailyReport",
        object_id=1,
        station_id=station.id,
    )
    html = client.get(f"/stations/{station.id}", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    # Events by their names in the user's language, never the event codes.
    assert "服务站已创建" in html
    assert "station.created" not in html
    assert "已开始填写日报" not in html
    assert f"/audit/?station={station.code}" in html


def test_ids_no_row_can_have_are_not_found(client, login_as):
    login_as("admin")
    assert client.get("/stations/99999999999").status_code == 404
    assert client.get("/users/99999999999").status_code == 404


def test_hq_station_page_links_to_the_stations_reports_calendar_records_ledger_and_audit(
    client, db, make, login_as
):
    station = make.station()
    login_as("hq")
    html = client.get(f"/stations/{station.id}").get_data(as_text=True)
    links = html.split('data-testid="station-links"')[1].split("</nav>")[0]
    for href in (
        f"/reports/?station_id={station.id}",
        f"/reports/calendar?station_id={station.id}",
        f"/reports/records?station_id={station.id}",
        f"/spares/stations/{station.id}",
        f"/audit/?station={station.code}",
    ):
        assert href in links, href
    for href in (
        f"/reports/records?station_id={station.id}",
        f"/spares/stations/{station.id}",
        f"/audit/?station={station.code}",
    ):
        assert client.get(href).status_code == 200, href
