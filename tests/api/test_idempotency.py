"""Idempotency-Key: a creating call sent again with the same key returns the first answer and
stores nothing again; the same key with another request is refused."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, text

from portal.api.idempotency import HEADER, IdempotencyKey, prune_idempotency_keys
from portal.core.db import now_utc
from portal.reports import services
from portal.reports.models import DailyReport
from tests.api.test_api import api_record, bearer, records_of


def _headers(plain, key):
    return {**bearer(plain), HEADER: key}


def _draft(make, day, *numbers):
    return {
        "report_on": day.isoformat(),
        "received_count": len(numbers),
        "records": [api_record(make, day, n) for n in numbers],
    }


def test_the_same_key_and_body_return_the_first_answer_and_store_once(client, db, make):
    make.catalogues()
    station = make.station()
    _token, plain = make.api_token(station)
    day = services.local_today()
    body = _draft(make, day, 1, 2)
    first = client.post("/api/v1/reports", json=body, headers=_headers(plain, "batch-0001"))
    assert first.status_code == 201, first.json
    assert "Idempotent-Replayed" not in first.headers
    again = client.post("/api/v1/reports", json=body, headers=_headers(plain, "batch-0001"))
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert records_of(db, station) == 2
    # Without the key the same call is a new request (here: the tickets are taken).
    plain_again = client.post("/api/v1/reports", json=body, headers=bearer(plain))
    assert plain_again.status_code == 422


def test_a_replay_of_a_submitted_day_is_the_first_answer_not_a_conflict(client, db, make):
    station = make.station()
    _token, plain = make.api_token(station)
    day = services.local_today() - dt.timedelta(days=1)
    body = {"report_on": day.isoformat(), "received_count": 0, "records": [], "submit": True}
    first = client.post("/api/v1/reports", json=body, headers=_headers(plain, "day-1"))
    assert first.status_code == 201
    again = client.post("/api/v1/reports", json=body, headers=_headers(plain, "day-1"))
    assert (again.status_code, again.json) == (201, first.json)
    assert client.post("/api/v1/reports", json=body, headers=bearer(plain)).status_code == 409


def test_the_same_key_with_another_body_is_refused(client, db, make):
    make.catalogues()
    station = make.station()
    _token, plain = make.api_token(station)
    day = services.local_today()
    first = client.post(
        "/api/v1/reports", json=_draft(make, day, 1), headers=_headers(plain, "k-1")
    )
    assert first.status_code == 201
    other = client.post(
        "/api/v1/reports", json=_draft(make, day, 2), headers=_headers(plain, "k-1")
    )
    assert other.status_code == 422
    assert other.is_json
    assert HEADER in other.json["message"]
    assert HEADER in other.json["errors"]["headers"]
    assert records_of(db, station) == 1


def test_the_same_body_with_keys_in_another_order_is_the_same_request(client, db, make):
    station = make.station()
    _token, plain = make.api_token(station)
    day = services.local_today()
    one = f'{{"report_on": "{day.isoformat()}", "received_count": 3, "records": []}}'
    two = f'{{"records":[],"received_count":3,"report_on":"{day.isoformat()}"}}'
    headers = {**_headers(plain, "k-2"), "Content-Type": "application/json"}
    first = client.post("/api/v1/reports", data=one, headers=headers)
    again = client.post("/api/v1/reports", data=two, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"


def test_an_error_answer_is_not_kept_so_the_corrected_call_goes_through(client, db, make):
    make.catalogues()
    station = make.station()
    _token, plain = make.api_token(station)
    day = services.local_today()
    body = _draft(make, day, 1)
    body["records"][0]["device_model"] = "NOPE"
    refused = client.post("/api/v1/reports", json=body, headers=_headers(plain, "k-3"))
    assert refused.status_code == 422
    assert db.session.execute(select(func.count()).select_from(IdempotencyKey)).scalar_one() == 0
    fixed = client.post(
        "/api/v1/reports", json=_draft(make, day, 1), headers=_headers(plain, "k-3")
    )
    assert fixed.status_code == 201
    assert records_of(db, station) == 1


def test_keys_belong_to_the_station(client, db, make):
    first, second = make.station(), make.station()
    _t, one = make.api_token(first)
    _t, two = make.api_token(second)
    day = services.local_today()
    body = {"report_on": day.isoformat(), "received_count": 1, "records": []}
    a = client.post("/api/v1/reports", json=body, headers=_headers(one, "shared"))
    b = client.post("/api/v1/reports", json=body, headers=_headers(two, "shared"))
    assert (a.status_code, b.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in b.headers
    assert a.json["id"] != b.json["id"]


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\tkey", "中文"])
def test_a_malformed_key_is_refused_with_422(client, db, make, key):
    station = make.station()
    _token, plain = make.api_token(station)
    body = {"report_on": services.local_today().isoformat(), "records": []}
    headers = bearer(plain)
    response = client.post(
        "/api/v1/reports",
        json=body,
        headers=[*headers.items(), (HEADER, key.encode().decode("latin-1"))],
    )
    assert response.status_code == 422
    assert response.is_json
    assert services.find_report(station.id, services.local_today()) is None


def test_the_header_is_documented(client, db):
    spec = client.get("/api/v1/openapi.json").json
    parameters = spec["paths"]["/api/v1/reports"]["post"]["parameters"]
    assert [p["name"] for p in parameters if p["in"] == "header"] == [HEADER]


def test_old_keys_are_pruned(db, make, runner):
    station = make.station()
    now = now_utc()
    for key, age in (("old", dt.timedelta(hours=25)), ("new", dt.timedelta(hours=23))):
        db.session.add(
            IdempotencyKey(
                station_id=station.id,
                key=key,
                fingerprint="0" * 64,
                status_code=201,
                response_body="{}",
                created_at=now - age,
            )
        )
    db.session.flush()
    assert prune_idempotency_keys() == 1
    assert [k.key for k in db.session.execute(select(IdempotencyKey)).scalars()] == ["new"]
    result = runner.invoke(args=["prune-tokens"])
    assert result.exit_code == 0, result.output
    assert "0 idempotency keys" in result.output


@pytest.mark.postgres_only
def test_four_calls_with_one_key_at_once_store_once(app):
    from portal.extensions import db
    from tests.factories import Factories

    try:
        with app.app_context():
            make = Factories(db)
            station = make.station()
            _token, plain = make.api_token(station)
            station_id = station.id
            day = services.local_today() - dt.timedelta(days=1)
            db.session.commit()
            db.session.remove()
        body = {"report_on": day.isoformat(), "received_count": 4, "records": [], "submit": True}
        barrier = threading.Barrier(4)
        answers: list[tuple] = []

        def call():
            client = app.test_client()
            barrier.wait(timeout=30)
            with app.app_context():  # the test client expires this context's session after
                try:
                    response = client.post(
                        "/api/v1/reports", json=body, headers=_headers(plain, "same-moment")
                    )
                    replayed = response.headers.get("Idempotent-Replayed")
                    answers.append((response.status_code, replayed))
                except Exception as exc:  # reported below
                    answers.append(("error", repr(exc)))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(answers) == 4, answers
        assert answers.count((201, None)) == 1, answers
        assert answers.count((201, "true")) == 3, answers
        with app.app_context():
            reports = db.session.execute(
                select(func.count())
                .select_from(DailyReport)
                .where(DailyReport.station_id == station_id)
            ).scalar_one()
            assert reports == 1
            db.session.remove()
    finally:
        with app.app_context():
            db.session.execute(
                text(
                    "TRUNCATE idempotency_keys, daily_reports, api_tokens, audit_entries, "
                    "stations, users RESTART IDENTITY CASCADE"
                )
            )
            db.session.commit()
            db.session.remove()
