"""The JSON API: token authentication, scoping, all-or-nothing batches, JSON errors, limits."""

import datetime as dt

from sqlalchemy import func, select

from portal.api import services as token_services
from portal.core.dates import local_today
from portal.reports import services
from portal.reports.models import RepairRecord


def bearer(plain):
    return {"Authorization": f"Bearer {plain}"}


def api_record(make, day, n, **over):
    values = make.record_values(day, n)
    values.update(
        purchase_on=values["purchase_on"],
        satisfaction=5,
        parts=[{"part_no": "LCD-P30", "quantity": 1, "faulty_serial": "OLD1"}],
        return_visit_on=None,
    )
    values["received_at"] = f"{day.isoformat()}T09:30:00+08:00"
    values["completed_at"] = f"{day.isoformat()}T11:00:00"
    values.update(over)
    return values


def records_of(db, station):
    stmt = (
        select(func.count()).select_from(RepairRecord).where(RepairRecord.station_id == station.id)
    )
    return db.session.execute(stmt).scalar_one()


def test_no_token_is_401_json(client, db):
    response = client.get("/api/v1/station")
    assert response.status_code == 401
    assert response.is_json
    assert "token" in response.json["message"]


def test_a_portal_session_is_not_enough(client, db, make, login_as):
    login_as("station")
    response = client.get("/api/v1/station")
    assert response.status_code == 403
    assert response.is_json


def test_a_revoked_token_is_refused(client, db, make):
    station = make.station()
    token, plain = make.api_token(station)
    assert client.get("/api/v1/station", headers=bearer(plain)).status_code == 200
    owner = make.user(role="station", station=station)
    token_services.revoke_token(owner, token)
    db.session.flush()
    assert client.get("/api/v1/station", headers=bearer(plain)).status_code == 401
    assert client.get("/api/v1/station", headers=bearer(plain + "x")).status_code == 401


def test_tokens_are_stored_hashed(db, make):
    token, plain = make.api_token(make.station())
    assert plain not in (token.token_hash, token.prefix)
    assert token.token_hash == token_services.hash_token(plain)


def test_create_and_read_a_report_with_records(client, db, make):
    make.catalogues()
    station = make.station()
    _token, plain = make.api_token(station)
    day = local_today() - dt.timedelta(days=1)
    body = {
        "report_on": day.isoformat(),
        "received_count": 2,
        "completed_count": 2,
        "records": [api_record(make, day, 1), api_record(make, day, 2)],
        "submit": True,
    }
    response = client.post("/api/v1/reports", json=body, headers=bearer(plain))
    assert response.status_code == 201, response.json
    data = response.json
    assert data["status"] == "submitted"
    assert data["received_count"] == 2
    assert [r["customer_phone"] for r in data["records"]] == ["138****5678"] * 2
    assert data["records"][0]["parts"][0]["faulty_serial"] == "OLD1"
    assert data["records"][0]["received_at"].startswith(f"{day.isoformat()}T01:30:00")
    again = client.get(f"/api/v1/reports/{data['id']}", headers=bearer(plain))
    assert again.json["records"] == data["records"]
    listed = client.get("/api/v1/records?limit=1", headers=bearer(plain)).json
    assert len(listed["items"]) == 1
    rest = client.get(f"/api/v1/records?after_id={listed['next_after_id']}", headers=bearer(plain))
    assert len(rest.json["items"]) == 1
    assert rest.json["next_after_id"] is None
    days = client.get("/api/v1/reports", headers=bearer(plain)).json
    assert [(d["id"], d["records"], d["status"]) for d in days] == [(data["id"], 2, "submitted")]
    # A submitted day is not changed by a second call.
    conflict = client.post("/api/v1/reports", json=body, headers=bearer(plain))
    assert conflict.status_code == 409


def test_one_bad_record_refuses_the_batch_with_per_field_errors(client, db, make):
    make.catalogues()
    station = make.station()
    _token, plain = make.api_token(station)
    day = local_today()
    records = [api_record(make, day, n) for n in range(1, 6)]
    records[3]["device_model"] = "NOPE"
    records[3]["customer_phone"] = "12"
    body = {"report_on": day.isoformat(), "records": records}
    response = client.post("/api/v1/reports", json=body, headers=bearer(plain))
    assert response.status_code == 422
    errors = response.json["errors"]["json"]["records"]
    assert set(errors) == {"3"}
    assert set(errors["3"]) == {"device_model", "customer_phone"}
    assert records_of(db, station) == 0
    assert services.find_report(station.id, day) is None


def test_schema_errors_are_json_per_field(client, db, make):
    _token, plain = make.api_token(make.station())
    body = {"report_on": "yesterday", "records": [{"ticket_no": 5}]}
    response = client.post("/api/v1/reports", json=body, headers=bearer(plain))
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert "report_on" in errors
    assert "ticket_no" in errors["records"]["0"]


def test_another_stations_report_is_404(client, db, make):
    mine, theirs = make.station(), make.station()
    report = make.report(theirs, local_today(), records=1)
    _token, plain = make.api_token(mine)
    response = client.get(f"/api/v1/reports/{report.id}", headers=bearer(plain))
    assert response.status_code == 404
    assert response.is_json
    listed = client.get("/api/v1/records", headers=bearer(plain)).json
    assert listed["items"] == []


def test_requests_are_rate_limited_per_token(app, client, db, make):
    station = make.station()
    _t, first = make.api_token(station, "one")
    _t, second = make.api_token(station, "two")
    limit = app.config["API_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        codes = [client.get("/api/v1/station", headers=bearer(first)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert client.get("/api/v1/station", headers=bearer(second)).status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = limit


def test_station_manager_creates_and_revokes_tokens_shown_once(client, db, make, login_as):
    station = make.station()
    login_as("station", station=station)
    page = client.post("/api-tokens/", data={"name": "ERP"}).get_data(as_text=True)
    assert "pst_" in page
    tokens = token_services.tokens_of(station.id)
    assert len(tokens) == 1
    listing = client.get("/api-tokens/").get_data(as_text=True)
    assert tokens[0].prefix in listing
    assert tokens[0].token_hash not in listing
    client.post(f"/api-tokens/{tokens[0].id}/revoke")
    db.session.expire_all()
    assert token_services.tokens_of(station.id)[0].revoked_at is not None


def test_openapi_document_and_local_docs_page(client, db):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/reports" in spec["paths"]
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "<script>" not in page  # no inline script (CSP)
    assert "cdn" not in page.lower()


def test_adding_to_an_open_draft_keeps_counts_not_given(client, db, make):
    make.catalogues()
    station = make.station()
    _token, plain = make.api_token(station)
    day = local_today()
    first = {
        "report_on": day.isoformat(),
        "received_count": 7,
        "records": [api_record(make, day, 1)],
    }
    assert client.post("/api/v1/reports", json=first, headers=bearer(plain)).status_code == 201
    more = {"report_on": day.isoformat(), "records": [api_record(make, day, 2)]}
    response = client.post("/api/v1/reports", json=more, headers=bearer(plain))
    assert response.status_code == 201
    assert response.json["received_count"] == 7
    assert len(response.json["records"]) == 2


def test_extreme_dates_in_filters_are_not_server_errors(client, db, make):
    _token, plain = make.api_token(make.station())
    for query in ("date_from=0001-01-01", "date_to=9999-12-31"):
        response = client.get(f"/api/v1/records?{query}", headers=bearer(plain))
        assert response.status_code == 200


def test_the_api_takes_and_shows_travel_outside_the_home_city(client, db, make):
    make.catalogues()
    station = make.station()
    _token, plain = make.api_token(station)
    day = local_today() - dt.timedelta(days=1)
    away = api_record(
        make, day, 1, on_site="onsite", repair_type="onsite_repair", outside_home_city=True
    )
    body = {"report_on": day.isoformat(), "records": [away, api_record(make, day, 2)]}
    response = client.post("/api/v1/reports", json=body, headers=bearer(plain))
    assert response.status_code == 201, response.json
    assert [r["outside_home_city"] for r in response.json["records"]] == [True, False]
    body = {
        "report_on": (day - dt.timedelta(days=1)).isoformat(),
        "records": [api_record(make, day, 3, on_site="instore", outside_home_city=True)],
    }
    refused = client.post("/api/v1/reports", json=body, headers=bearer(plain))
    assert refused.status_code == 422
    assert "outside_home_city" in str(refused.json)
