"""Spares pages: what each person sees and does; refusals keep the input and answer 422."""

from __future__ import annotations

import io

from portal.core.forms import issue_form_token
from portal.spares import shipments, stock
from portal.spares.states import ShipmentStatus
from tests.spares.test_excel import opening_file, parts_file


def post(client, url, data=None, **kwargs):
    """Post a form with a fresh one-time token, as a page shown by the portal carries."""
    data = dict(data or {})
    data.setdefault("form_token", issue_form_token())
    return client.post(url, data=data, **kwargs)


def test_hq_sees_the_network_with_values_and_coverage(client, login_as, spares, db):
    station = spares.station(deposit="5000")
    lcd = spares.part("LCD-P30", value="1000.00")
    spares.give(station, lcd, good=6)
    login_as("hq")
    html = client.get("/spares/").get_data(as_text=True)
    assert station.code in html
    assert "CN¥6,000.00" in html
    assert 'data-testid="over-cap"' in html  # 6,000 of stock against a 5,000 deposit


def test_a_station_user_is_sent_to_its_own_stock_and_not_another(client, login_as, spares, db):
    station, other = spares.station(), spares.station()
    user = login_as("station", station=station)
    response = client.get("/spares/")
    assert response.headers["Location"].endswith(f"/spares/stations/{user.station_id}")
    assert client.get(f"/spares/stations/{other.id}").status_code == 404


def test_the_station_page_shows_the_shortfall_against_the_tier(client, login_as, spares, db):
    station = spares.station(deposit="3000")  # a service station needs 5,000
    login_as("station", station=station)
    html = client.get(f"/spares/stations/{station.id}").get_data(as_text=True)
    assert 'data-testid="shortfall">CN¥2,000.00' in html


def test_the_station_page_shows_stock_by_part(client, login_as, spares, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="320.00", name="P30 屏幕")
    spares.give(station, lcd, good=2, defective=1)
    login_as("finance")
    html = client.get(f"/spares/stations/{station.id}").get_data(as_text=True)
    assert 'data-part="LCD-P30"' in html
    assert "CN¥640.00" in html
    assert "Opening stock import" in html


def test_a_part_with_three_decimals_is_refused_next_to_its_field(client, login_as, spares, db):
    spares.make.catalogues()
    login_as("hq")
    response = post(
        client,
        "/spares/parts/new",
        data={"part_no": "ODD-1", "name": "odd", "unit_value": "0.105", "active": "y"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "At most two decimals" in html
    assert 'value="0.105"' in html
    ok = post(
        client,
        "/spares/parts/new",
        data={"part_no": "ok-1", "name": "ok", "unit_value": "1,234.50", "model_codes": ["P30"]},
    )
    assert ok.status_code == 302
    listing = client.get("/spares/parts").get_data(as_text=True)
    assert "OK-1" in listing
    assert "CN¥1,234.50" in listing


def test_hq_makes_and_sends_a_shipment_and_a_refusal_shows_the_numbers(
    client, login_as, spares, db
):
    station = spares.station(deposit="1000")
    spares.part("LCD-P30", value="600.00")
    login_as("hq")
    response = post(client, "/spares/shipments/new", data={"station_code": station.code.lower()})
    assert response.status_code == 302
    shipment_id = int(response.headers["Location"].rsplit("/", 1)[1])
    bad = post(
        client, f"/spares/shipments/{shipment_id}/lines", data={"part_no": "NOPE", "quantity": "1"}
    )
    assert bad.status_code == 422
    assert "No active part NOPE" in bad.get_data(as_text=True)
    post(
        client, f"/spares/shipments/{shipment_id}/lines", data={"part_no": "lcd-p30", "quantity": 2}
    )
    refused = post(client, f"/spares/shipments/{shipment_id}/send")
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "CN¥1,200.00" in text
    assert "CN¥1,000.00" in text
    post(client, f"/spares/shipments/{shipment_id}/lines/{_line(db, shipment_id)}/remove", data={})
    post(
        client, f"/spares/shipments/{shipment_id}/lines", data={"part_no": "LCD-P30", "quantity": 1}
    )
    assert post(client, f"/spares/shipments/{shipment_id}/send").status_code == 302
    assert _shipment(db, shipment_id).status == ShipmentStatus.SENT


def _shipment(db, shipment_id):
    from portal.spares.stock_models import Shipment

    return db.session.get(Shipment, shipment_id)


def _line(db, shipment_id):
    return _shipment(db, shipment_id).lines[0].id


def test_the_station_confirms_a_receipt_on_its_phone_form(client, login_as, spares, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    shipment = spares.shipment(station, [(lcd, 3)], send=True)
    login_as("station", station=station)
    page = client.get(f"/spares/shipments/{shipment.id}").get_data(as_text=True)
    assert 'data-testid="receipt-form"' in page
    line_id = shipment.lines[0].id
    bad = post(client, f"/spares/shipments/{shipment.id}/receive", data={f"line_{line_id}": "-1"})
    assert bad.status_code == 422
    ok = post(client, f"/spares/shipments/{shipment.id}/receive", data={f"line_{line_id}": "2"})
    assert ok.status_code == 302
    assert spares.held(station, lcd) == (2, 0)
    assert _shipment(db, shipment.id).status == ShipmentStatus.DIFFERENCE
    again = post(client, f"/spares/shipments/{shipment.id}/receive", data={f"line_{line_id}": "2"})
    assert again.status_code == 422
    assert "already confirmed" in again.get_data(as_text=True)
    assert spares.held(station, lcd) == (2, 0)


def test_a_station_does_not_see_draft_shipments(client, login_as, spares, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    draft = spares.shipment(station, [(lcd, 1)])
    login_as("station", station=station)
    assert client.get(f"/spares/shipments/{draft.id}").status_code == 404


def test_hq_resolves_a_difference(client, login_as, spares, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    shipment = spares.shipment(station, [(lcd, 3)], send=True)
    shipments.confirm_receipt(spares.station_user(station), shipment, {shipment.lines[0].id: 1})
    db.session.commit()
    login_as("hq")
    line_id = shipment.lines[0].id
    missing = post(client, f"/spares/shipments/{shipment.id}/resolve", data={})
    assert missing.status_code == 422
    ok = post(
        client,
        f"/spares/shipments/{shipment.id}/resolve",
        data={f"line_{line_id}": "received_stands", f"note_{line_id}": "lost"},
    )
    assert ok.status_code == 302
    assert _shipment(db, shipment.id).status == ShipmentStatus.RESOLVED


def test_a_station_returns_defective_parts_and_hq_confirms(client, app, login_as, spares, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    spares.give(station, lcd, defective=2)
    login_as("station", station=station)
    created = post(client, "/spares/returns/new", data={"note": "week 47"})
    batch_id = int(created.headers["Location"].rsplit("/", 1)[1])
    too_many = post(
        client, f"/spares/returns/{batch_id}/lines", data={"part_no": "LCD-P30", "quantity": "3"}
    )
    assert too_many.status_code == 422
    assert "holds 2 more defective LCD-P30" in too_many.get_data(as_text=True)
    post(
        client,
        f"/spares/returns/{batch_id}/lines",
        data={"part_no": "LCD-P30", "quantity": "2", "faulty_serial": "s1"},
    )
    assert (
        post(client, f"/spares/returns/{batch_id}/ship", data={"carrier_ref": "SF1"}).status_code
        == 302
    )
    assert spares.held(station, lcd) == (0, 0)
    hq = app.test_client()
    hq_user = spares.make.user(role="hq", password="secret-pass-1")
    hq.post("/login", data={"username": hq_user.username, "password": "secret-pass-1"})
    from portal.spares.stock_models import ReturnBatch

    line_id = db.session.get(ReturnBatch, batch_id).lines[0].id
    response = post(
        hq,
        f"/spares/returns/{batch_id}/confirm",
        data={f"line_{line_id}": "missing", f"note_{line_id}": "empty box"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 302
    assert spares.held(station, lcd) == (0, 2)


def test_the_opening_stock_page_lists_every_bad_row(client, login_as, spares, db):
    station = spares.station()
    spares.part("LCD-P30")
    login_as("hq")
    bad = opening_file([(station.code, "NOPE", 1, 0), ("XX", "LCD-P30", "x", 0)])
    response = post(
        client,
        "/spares/opening-stock",
        data={"file": (io.BytesIO(bad), "opening.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="import-errors"' in html
    assert "No such part in the catalogue." in html
    assert "良品数量 / Good quantity" in html
    good = opening_file([(station.code, "LCD-P30", 2, 1)])
    response = post(
        client,
        "/spares/opening-stock",
        data={"file": (io.BytesIO(good), "opening.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    movements = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "opening.xlsx" in movements


def test_the_parts_import_page(client, login_as, spares, db):
    spares.make.catalogues()
    login_as("hq")
    data = parts_file([("NEW-1", "新件", "P30", "12.30", "no")])
    response = post(
        client,
        "/spares/parts/import",
        data={"file": (io.BytesIO(data), "parts.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert "NEW-1" in client.get("/spares/parts").get_data(as_text=True)
    template = client.get("/spares/parts/template.xlsx")
    assert template.status_code == 200
    assert template.data[:2] == b"PK"


def test_movements_link_their_sources_newest_first(client, login_as, spares, make, db):
    from portal.reports import services as report_services

    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    spares.give(station, lcd, good=2)
    user = spares.station_user(station)
    make.catalogues()
    report = report_services.open_report(user, station, report_services.local_today())
    record = report_services.add_record(user, report, make.record_values(n=3))
    shipment = spares.shipment(station, [(lcd, 1)], send=True)
    shipments.confirm_receipt(user, shipment, {shipment.lines[0].id: 1})
    db.session.commit()
    login_as("auditor")
    html = client.get(f"/spares/movements?station_id={station.id}").get_data(as_text=True)
    assert html.index(shipment.number) < html.index(record.ticket_no)
    assert f"/reports/records/{record.id}" in html
    assert f"/spares/shipments/{shipment.id}" in html
    only = client.get(f"/spares/movements?station_id={station.id}&source=shipment")
    assert record.ticket_no not in only.get_data(as_text=True)
    export = client.get(f"/spares/movements.xlsx?station_id={station.id}")
    assert export.status_code == 200


def test_an_auditor_records_a_count(client, login_as, spares, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    spares.give(station, lcd, good=3)
    login_as("auditor")
    form = client.get(f"/spares/stations/{station.id}/count").get_data(as_text=True)
    assert f"q_{lcd.id}_good" in form
    bad = post(client, f"/spares/stations/{station.id}/count", data={f"q_{lcd.id}_good": "-2"})
    assert bad.status_code == 422
    response = post(
        client,
        f"/spares/stations/{station.id}/count",
        data={f"q_{lcd.id}_good": "2", "note": "sampled"},
    )
    assert response.status_code == 302
    assert spares.held(station, lcd) == (2, 0)
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "sampled" in detail


def test_settings_take_effect_from_today_with_history(client, login_as, spares, db, today):
    import datetime as dt

    login_as("hq")
    past = post(
        client,
        "/spares/settings",
        data={
            "effective_on": (today - dt.timedelta(days=1)).isoformat(),
            "coverage_factor": "1.5",
            "return_days": "30",
        },
    )
    assert past.status_code == 422
    assert "today or later" in past.get_data(as_text=True)
    ok = post(
        client,
        "/spares/settings",
        data={"effective_on": today.isoformat(), "coverage_factor": "1.5", "return_days": "20"},
    )
    assert ok.status_code == 302
    html = client.get("/spares/settings").get_data(as_text=True)
    assert "× 1.5" in html
    assert stock.catalogue.settings_in_force().return_days == 20


def test_home_and_station_pages_show_spares(client, login_as, spares, db):
    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    spares.shipment(station, [(lcd, 1)], send=True)
    db.session.commit()
    login_as("station", station=station)
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="dashboard-spares"' in home
    assert "Shipments to confirm</a>: 1" in home
    detail = client.get(f"/stations/{station.id}").get_data(as_text=True)
    assert 'data-testid="spares-panel"' in detail


def test_pages_in_chinese(client, login_as, spares, db):
    station = spares.station()
    login_as("station", station=station)
    html = client.get(
        f"/spares/stations/{station.id}", headers={"Accept-Language": "zh-CN"}
    ).get_data(as_text=True)
    assert "备件" in html


def test_spares_pages_have_no_inline_style_or_script(client, login_as, spares, db):
    import re

    station = spares.station()
    lcd = spares.part("LCD-P30", value="10.00")
    spares.give(station, lcd, good=1, defective=1)
    shipment = spares.shipment(station, [(lcd, 1)])
    db.session.commit()
    login_as("admin")
    for url in (
        "/spares/",
        f"/spares/stations/{station.id}",
        f"/spares/stations/{station.id}/count",
        f"/spares/shipments/{shipment.id}",
        "/spares/movements",
        "/spares/parts",
        "/spares/settings",
    ):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"\sstyle=", html), url
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, (url, tag)


def test_hostile_input_gets_no_server_error(client, login_as, spares, db):
    station = spares.station()
    spares.part("LCD-P30")
    login_as("hq")
    nul = "A\x00B"
    for url in (
        f"/spares/?q={nul}&after={'x' * 500}&province={nul}",
        f"/spares/movements?station_id=99999999999999&part_no={nul}&source={nul}",
        f"/spares/parts?q={nul}&model={nul}&active={nul}",
        f"/spares/shipments?status={nul}&after=-1",
        f"/spares/stations/{station.id}/count?add_part={nul}",
    ):
        assert client.get(url).status_code < 500, url
    response = post(client, "/spares/shipments/new", data={"station_code": nul, "note": nul})
    assert response.status_code == 422
    data = opening_file([("XX" * 300, "-", "1e999", "9" * 40)])
    response = post(
        client,
        "/spares/opening-stock",
        data={"file": (io.BytesIO(data), "o\x00.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    response = post(
        client, "/spares/parts/new", data={"part_no": nul, "name": nul, "unit_value": "9" * 30}
    )
    assert response.status_code == 422


def test_finance_exports_every_station_with_its_coverage(client, login_as, spares, db):
    import openpyxl

    station = spares.station(deposit="1000")
    lcd = spares.part("LCD-P30", value="600.00")
    spares.give(station, lcd, good=2)
    login_as("finance")
    response = client.get("/spares/network.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["Stations"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[station.code][4] == 1200
    assert rows[station.code][11] == "yes"


def test_a_stock_form_posted_twice_is_recorded_once(client, login_as, spares, db):
    import re

    station = spares.station()
    spares.part("LCD-P30", value="10.00")
    shipment = spares.shipment(station, [])
    db.session.commit()
    login_as("hq")
    page = client.get(f"/spares/shipments/{shipment.id}").get_data(as_text=True)
    form = re.search(r'data-testid="line-form".*?</form>', page, re.S).group(0)
    token = re.search(r'name="form_token"[^>]*value="([^"]+)"', form).group(1)
    data = {"part_no": "LCD-P30", "quantity": "2", "form_token": token}
    first = client.post(f"/spares/shipments/{shipment.id}/lines", data=data)
    assert first.status_code == 302
    second = client.post(f"/spares/shipments/{shipment.id}/lines", data=data)
    assert second.status_code == 422
    assert "already sent and is recorded once" in second.get_data(as_text=True)
    assert [ln.quantity_sent for ln in _shipment(db, shipment.id).lines] == [2]
    missing = client.post(
        f"/spares/shipments/{shipment.id}/lines", data={"part_no": "LCD-P30", "quantity": "2"}
    )
    assert missing.status_code == 422
    assert [ln.quantity_sent for ln in _shipment(db, shipment.id).lines] == [2]


def test_an_opening_stock_file_posted_twice_is_imported_once(client, login_as, spares, db):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    login_as("hq")
    token = issue_form_token()
    data = opening_file([(station.code, "LCD-P30", 2, 0)])
    for expected in (302, 422):
        response = client.post(
            "/spares/opening-stock",
            data={"file": (io.BytesIO(data), "opening.xlsx"), "form_token": token},
            content_type="multipart/form-data",
        )
        assert response.status_code == expected
    assert "already sent" in response.get_data(as_text=True)
    assert spares.held(station, lcd) == (2, 0)
