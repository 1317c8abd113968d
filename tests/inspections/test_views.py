"""Pages and the JSON autosave: access, isolation, conflicts, the sheet, the lists."""

from __future__ import annotations

import io

from sqlalchemy import select

from portal.inspections import services
from portal.inspections.models import Rectification
from tests.inspections.helpers import answer_all, jpeg


def _sign_in(client, user):
    response = client.post("/login", data={"username": user.username, "password": "secret-pass-1"})
    assert response.status_code == 302


def test_autosave_answers_and_conflicts_as_json(client, people, planned):
    _sign_in(client, people["auditor"])
    item_id = planned.answers[0].item_id
    url = f"/inspections/{planned.id}/answers/{item_id}"
    ok = client.post(url, json={"base_rev": 0, "result": "pass", "score": "5", "note": "好"})
    assert ok.status_code == 200
    assert ok.json["answer"]["rev"] == 1
    stale = client.post(url, json={"base_rev": 0, "result": "fail", "score": "0"})
    assert stale.status_code == 409
    assert stale.json["current"]["result"] == "pass"
    assert stale.json["current"]["note"] == "好"
    bad = client.post(url, json={"base_rev": 1, "score": "99"})
    assert bad.status_code == 422
    assert bad.json["field"] == "score"
    state = client.get(f"/inspections/{planned.id}/state.json").json
    assert state["status"] == "in_progress"
    assert state["csrf_token"]


def test_another_auditor_is_refused_and_sent_to_the_overview(client, people, planned):
    _sign_in(client, people["other_auditor"])
    item_id = planned.answers[0].item_id
    answer = client.post(f"/inspections/{planned.id}/answers/{item_id}", json={"base_rev": 0})
    assert answer.status_code == 403
    page = client.get(f"/inspections/{planned.id}/fill")
    assert page.status_code == 302
    assert page.headers["Location"].endswith(f"/inspections/{planned.id}")


def test_a_locked_inspection_answers_423(client, people, planned):
    answer_all(people["auditor"], planned)
    services.submit_inspection(people["auditor"], planned)
    _sign_in(client, people["auditor"])
    item = planned.answers[0]
    response = client.post(
        f"/inspections/{planned.id}/answers/{item.item_id}", json={"base_rev": item.rev}
    )
    assert response.status_code == 423


def test_fill_page_carries_everything_the_script_needs(client, people, planned):
    _sign_in(client, people["auditor"])
    html = client.get(f"/inspections/{planned.id}/fill").get_data(as_text=True)
    assert 'data-testid="sync-status"' in html
    assert "inspection-fill.js" in html
    assert 'capture="environment"' in html
    assert "<script>" not in html  # no inline script: the CSP forbids it
    assert "style=" not in html


def test_service_worker_is_served_for_the_inspection_pages(client):
    response = client.get("/inspections/sw.js")
    assert response.status_code == 200
    assert response.headers["Service-Worker-Allowed"] == "/inspections/"
    assert "caches" in response.get_data(as_text=True)


def test_submit_with_gaps_goes_back_to_the_form(client, people, planned):
    _sign_in(client, people["auditor"])
    response = client.post(f"/inspections/{planned.id}/submit", data={"summary": ""})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/fill")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "cannot be submitted yet" in page


def test_station_sees_its_own_and_never_another(client, make, people, planned):
    answer_all(people["auditor"], planned, {1: "partial"})
    services.submit_inspection(people["auditor"], planned)
    stranger = make.user(role="station")
    _sign_in(client, stranger)
    assert client.get(f"/inspections/{planned.id}").status_code == 404
    assert client.get(f"/inspections/{planned.id}/sheet").status_code == 404
    photo = services.photos_of(planned)[0]
    assert client.get(f"/inspections/files/{photo.id}/preview").status_code == 404
    assert planned.number not in client.get("/inspections/").get_data(as_text=True)


def test_station_answers_with_evidence_and_auditor_closes(client, app, db, people, planned):
    answer_all(people["auditor"], planned, {1: "partial"})
    services.submit_inspection(people["auditor"], planned)
    db.session.commit()
    item = db.session.execute(
        select(Rectification).where(Rectification.inspection_id == planned.id)
    ).scalar_one()
    _sign_in(client, people["station_user"])
    listed = client.get("/inspections/rectifications").get_data(as_text=True)
    assert item.number in listed
    refused = client.post(
        f"/inspections/rectifications/{item.id}",
        data={"description": "done", "files": (io.BytesIO(b"not an image"), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "JPG or PNG photo or a PDF" in refused.get_data(as_text=True)
    sent = client.post(
        f"/inspections/rectifications/{item.id}",
        data={"description": "done", "files": (io.BytesIO(jpeg()), "fix.jpg")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    client.post("/logout")
    auditor = app.test_client()
    _sign_in(auditor, people["auditor"])
    auditor.post(f"/inspections/rectifications/{item.id}/review", data={"decision": "accept"})
    db.session.expire_all()
    assert item.status.value == "accepted"


def test_original_photo_only_for_hq_side(client, people, planned):
    photo = services.add_photo(
        people["auditor"], planned, planned.answers[0].item_id, None, "a.jpg", io.BytesIO(jpeg())
    )
    from portal.extensions import db

    db.session.commit()
    _sign_in(client, people["station_user"])
    clean = client.get(f"/inspections/files/{photo.id}?original=1")
    assert clean.status_code == 200
    from portal.inspections import files

    with open(files.path_of(photo.clean_name), "rb") as handle:
        assert clean.data == handle.read()


def test_sheet_prints_with_signature_lines(client, people, planned):
    answer_all(people["auditor"], planned, {1: "partial", 13: "fail"})
    services.submit_inspection(people["auditor"], planned)
    _sign_in(client, people["station_user"])
    html = client.get(f"/inspections/{planned.id}/sheet").get_data(as_text=True)
    assert "Rectification confirmation sheet" in html
    assert html.count("signature-line") == 4
    assert "inspections.css" in html


def test_pages_render_in_chinese(client, people, planned):
    answer_all(people["auditor"], planned, {1: "partial"})
    services.submit_inspection(people["auditor"], planned)
    _sign_in(client, people["hq"])
    zh = {"Accept-Language": "zh-CN"}
    for url in (
        "/inspections/",
        "/inspections/rectifications",
        "/inspections/network",
        f"/inspections/{planned.id}",
        f"/inspections/stations/{people['station'].id}",
        "/inspections/checklists",
        f"/inspections/checklists/versions/{planned.version_id}",
        "/inspections/settings",
        "/",
    ):
        client.post("/language", data={"lang": "zh", "next": "/"}, headers=zh)
        response = client.get(url, headers=zh)
        assert response.status_code == 200, url
    assert "检查" in client.get("/inspections/", headers=zh).get_data(as_text=True)


def test_network_lists_latest_scores_filtered_by_province(client, make, people, planned):
    answer_all(people["auditor"], planned)
    services.submit_inspection(people["auditor"], planned)
    _sign_in(client, people["hq"])
    code = people["station"].code
    assert code in client.get("/inspections/network?province=HA").get_data(as_text=True)
    assert code not in client.get("/inspections/network?province=GD").get_data(as_text=True)
    trend = client.get(f"/inspections/stations/{people['station'].id}").get_data(as_text=True)
    assert 'data-testid="score-trend"' in trend


def test_plan_refuses_an_unknown_station_with_422(client, people, version):
    _sign_in(client, people["auditor"])
    response = client.post(
        "/inspections/plan",
        data={
            "station_code": "XX-NO-9999",
            "planned_on": "2026-03-10",
            "auditor_id": people["auditor"].id,
            "version_id": version.id,
        },
    )
    assert response.status_code == 422
    assert "No station has this code." in response.get_data(as_text=True)


def test_settings_take_effect_today_or_later(client, people):
    _sign_in(client, people["hq"])
    values = {
        "excellent": 95,
        "good": 85,
        "passing": 65,
        "due_days": 10,
        "due_days_critical": 5,
        "remind_days": 2,
    }
    past = client.post("/inspections/settings", data={"effective_on": "2020-01-01", **values})
    assert past.status_code == 422
    future = services.today().replace(year=services.today().year + 1)
    ok = client.post("/inspections/settings", data={"effective_on": future.isoformat(), **values})
    assert ok.status_code == 302
    assert services.thresholds(future).excellent == 95
    assert services.thresholds(services.today()).excellent == 90


def test_screening_sheet_plans_a_site_visit(client, make, people, version):
    from portal.certification import services as certification

    application = make.complete_application()
    certification.submit(application.applicant, application)
    certification.start_screening(people["hq"], application)
    _sign_in(client, people["hq"])
    sheet = client.get(f"/certification/applications/{application.id}/screening")
    assert 'data-testid="plan-site-visit-link"' in sheet.get_data(as_text=True)
    response = client.post(
        f"/inspections/site-visit/{application.id}",
        data={
            "planned_on": services.today().isoformat(),
            "auditor_id": people["auditor"].id,
            "version_id": version.id,
        },
    )
    assert response.status_code == 302
    listed = client.get(f"/certification/applications/{application.id}/screening")
    assert "I0" in listed.get_data(as_text=True)
