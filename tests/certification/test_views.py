"""Certification pages: sign-up, a candidate sees only its own application, downloads, HQ pages."""

from __future__ import annotations

import datetime as dt
import io
import re

from portal.certification import services
from portal.certification.models import Application
from portal.certification.states import ApplicationStatus
from portal.core.actors import SYSTEM
from portal.core.forms import issue_form_token


def _sign_in(client, username, password="secret-pass-1"):  # noqa: S107
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302


def test_sign_up_creates_a_candidate_with_a_draft_application(client, db):
    page = client.get("/certification/signup")
    assert page.status_code == 200
    response = client.post(
        "/certification/signup",
        data={
            "company_name": "洛阳新兴通讯有限公司",
            "display_name": "李经理",
            "email": "li@example.com",
            "username": "xinxing",
            "password": "long-password-1",
            "confirm": "long-password-1",
        },
    )
    assert response.status_code == 302
    from portal.auth.services import find_user

    user = find_user("xinxing")
    application = services.application_of(user)
    assert application.status is ApplicationStatus.DRAFT
    assert user.station_id is None
    # Signed in by the sign-up itself: no second sign-in.
    assert response.headers["Location"].endswith("/certification/my-application")
    response = client.get("/certification/my-application")
    assert response.headers["Location"].endswith(f"/certification/applications/{application.id}")
    assert client.get("/stations/").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert "/certification/my-application" in home


def test_sign_up_refuses_an_address_that_is_not_an_e_mail(client, db):
    response = client.post(
        "/certification/signup",
        data={
            "company_name": "某公司",
            "display_name": "王",
            "email": "not-an-address",
            "username": "no-mail",
            "password": "long-password-1",
            "confirm": "long-password-1",
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter an e-mail address such as name@example.com." in html
    assert 'value="not-an-address"' in html


def test_login_focuses_its_first_field_and_links_to_sign_up(client):
    html = client.get("/login").get_data(as_text=True)
    assert re.search(
        r'<input[^>]*autofocus[^>]*name="username"|<input[^>]*name="username"[^>]*autofocus', html
    )
    assert 'href="/certification/signup"' in html
    assert 'href="#main"' in html  # the skip link


def test_sign_up_keeps_input_on_error(client, db, make):
    make.user(role="hq", username="taken")
    response = client.post(
        "/certification/signup",
        data={
            "company_name": "某公司",
            "display_name": "王",
            "email": "w@example.com",
            "username": "taken",
            "password": "long-password-1",
            "confirm": "long-password-1",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "某公司" in html
    assert "is-invalid" in html


def test_a_candidate_sees_only_its_own_application(client, make):
    mine = make.complete_application()
    theirs = make.complete_application()
    _sign_in(client, mine.applicant.username)
    assert client.get(f"/certification/applications/{mine.id}").status_code == 200
    assert client.get(f"/certification/applications/{theirs.id}").status_code == 404
    assert client.get(f"/certification/applications/{theirs.id}/step/company").status_code == 404
    assert client.post(f"/certification/applications/{theirs.id}/submit").status_code == 404
    theirs_file = theirs.attachments[0].id
    assert client.get(f"/certification/attachments/{theirs_file}").status_code == 404
    assert client.get("/certification/applications").status_code == 403
    assert theirs.status is ApplicationStatus.DRAFT


def test_download_is_an_attachment_for_those_allowed(client, make, login_as):
    application = make.complete_application()
    attachment = application.attachments[0]
    login_as("finance")
    response = client.get(f"/certification/attachments/{attachment.id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data.startswith(b"%PDF-")
    assert response.mimetype == "application/pdf"


def test_renamed_executable_is_refused_by_the_upload_page(client, make):
    application = make.candidate()
    _sign_in(client, application.applicant.username)
    response = client.post(
        f"/certification/applications/{application.id}/attachments",
        data={
            "kind": "business_licence",
            "file": (io.BytesIO(b"MZ\x90\x00\x03\x00 program"), "licence.pdf"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Only PDF, JPG or PNG" in response.get_data(as_text=True)
    assert application.attachments == []


def test_candidate_fills_a_step_and_a_bad_credit_code_is_shown_next_to_the_field(client, make):
    application = make.candidate()
    _sign_in(client, application.applicant.username)
    url = f"/certification/applications/{application.id}/step/company"
    response = client.post(
        url,
        data={"company_name": "新名字", "credit_code": "91350100M000100Y44", "city": "许昌"},
        headers={"Accept-Language": "en"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "check digit" in html
    assert 'value="许昌"' in html
    response = client.post(
        url, data={"company_name": "新名字", "credit_code": "91350100M000100Y43", "city": "许昌"}
    )
    assert response.status_code == 302
    db_app = services.db.session.get(Application, application.id)
    assert db_app.city == "许昌"


def test_submit_page_lists_what_is_missing(client, make):
    application = make.candidate()
    _sign_in(client, application.applicant.username)
    response = client.post(
        f"/certification/applications/{application.id}/submit",
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert "not complete" in response.get_data(as_text=True)
    assert application.status is ApplicationStatus.DRAFT


def test_hq_pages_render(client, make, login_as):
    application = make.complete_application()
    services.submit(application.applicant, application)
    station = make.station()
    login_as("hq")
    for url in (
        "/certification/applications",
        f"/certification/applications/{application.id}",
        f"/certification/applications/{application.id}/report",
        "/certification/rules",
        "/certification/rules/new",
        "/certification/rules/weights/new",
        "/certification/compliance",
        "/certification/certificates/expiring",
        f"/stations/{station.id}",
    ):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/stations/{station.id}").get_data(as_text=True)
    assert 'data-testid="compliance-table"' in page


def test_illegal_move_from_the_page_is_refused_with_a_message(client, make, login_as):
    application = make.complete_application()
    login_as("hq")
    response = client.post(
        f"/certification/applications/{application.id}/review/start_screening",
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert "is not allowed" in response.get_data(as_text=True)
    assert application.status is ApplicationStatus.DRAFT


def test_station_page_shows_gaps_and_non_compliant_list(client, make, login_as):
    station = make.station(tier="service_center", city_class="1")
    services.refresh_station_compliance(station, actor=SYSTEM)
    login_as("hq")
    listing = client.get("/certification/compliance").get_data(as_text=True)
    assert station.code in listing
    page = client.get(f"/stations/{station.id}").get_data(as_text=True)
    assert "table-danger" in page


def test_station_user_sees_its_panel_without_hq_actions(client, make, login_as):
    station = make.station()
    person = make.technician(station=station, id_number="410102199001011234")
    make.certificate(person, issued_on=dt.date(2026, 1, 1))
    login_as("station", station=station)
    page = client.get(f"/stations/{station.id}").get_data(as_text=True)
    assert "410***********1234" in page
    assert "410102199001011234" not in page
    assert "/life/" not in page
    tech = client.get(f"/certification/technicians/{person.id}").get_data(as_text=True)
    assert "410102199001011234" not in tech
    other = make.technician(station=make.station())
    assert client.get(f"/certification/technicians/{other.id}").status_code == 404


def test_sign_up_is_rate_limited(client, db, app):
    limit = int(app.config.get("SIGNUP_LIMIT", "10 per hour").split()[0])
    statuses = [
        client.post("/certification/signup", data={"username": f"x{n}"}).status_code
        for n in range(limit + 1)
    ]
    assert statuses[:limit] == [422] * limit  # refused as incomplete, not yet limited
    assert statuses[limit] == 429


def test_home_page_shows_gaps_to_hq_and_the_application_to_a_candidate(client, make, login_as):
    station = make.station(tier="service_center", city_class="1")
    services.refresh_station_compliance(station, actor=SYSTEM)
    application = make.candidate(company_name="首页测试公司")
    _sign_in(client, application.applicant.username)
    home = client.get("/").get_data(as_text=True)
    assert "首页测试公司" in home
    assert station.code not in home
    client.post("/logout")
    login_as("hq")
    home = client.get("/").get_data(as_text=True)
    # A count that links to the list behind it; the list names the station.
    assert re.search(r'href="/certification/compliance"[^>]*data-count="1"', home)
    assert station.code in client.get("/certification/compliance").get_data(as_text=True)


def test_hq_and_finance_forms_work_end_to_end(client, make, login_as):
    from portal.certification.models import Certificate, TierRuleSet
    from portal.spares import services as deposits
    from portal.stations.states import StationStatus

    station = make.station(tier="service_station", city_class="2")
    hq = login_as("hq")
    start = services.today() + dt.timedelta(days=30)
    data = {"effective_on": start.isoformat(), "note": "2027 rules"}
    for tier, values in {
        "accessory_point": (2000, 1, 0, 0, 0, 0),
        "service_station": (6000, 1, 2, 1, 8, 0),
        "service_center": (10000, 1, 3, 2, 10, 8),
    }.items():
        for field, value in zip(
            (
                "deposit",
                "coordinators",
                "engineers_class1",
                "engineers_class23",
                "repair_area",
                "storage_area",
            ),
            values,
            strict=True,
        ):
            data[f"{tier}__{field}"] = str(value)
    response = client.post("/certification/rules/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert services.db.session.query(TierRuleSet).filter_by(effective_on=start).one()
    weights = {
        "effective_on": start.isoformat(),
        "pass_mark": "72",
        "qualification": "15",
        "experience": "20",
        "personnel": "20",
        "site": "20",
        "equipment": "10",
        "financial": "15",
    }
    assert client.post("/certification/rules/weights/new", data=weights).status_code == 302

    base = f"/certification/stations/{station.id}"
    client.post(
        f"{base}/areas", data={"reception_area": "10", "repair_area": "8", "storage_area": "0"}
    )
    client.post(f"{base}/technicians", data={"name": "协调员", "role": "coordinator"})
    client.post(f"{base}/technicians", data={"name": "工程师", "role": "repair_technician"})
    engineer = [t for t in services.station_technicians(station.id) if t.name == "工程师"][0]
    response = client.post(
        f"/certification/technicians/{engineer.id}",
        data={
            "track": "repair_technician",
            "theory_score": "75",
            "practical_score": "80",
            "attempted_on": services.today().isoformat(),
            "examiner": "考官",
        },
    )
    assert response.status_code == 302
    certificate = services.db.session.query(Certificate).filter_by(technician_id=engineer.id).one()
    client.post(f"{base}/life/suspend", data={"reason": "检查整改"})
    assert station.status is StationStatus.SUSPENDED
    client.post(f"{base}/life/reinstate", data={"reason": "整改完成"})
    assert station.status is StationStatus.ACTIVE
    client.post("/logout")

    login_as("finance")
    client.post(
        f"{base}/deposit",
        data={
            "kind": "paid",
            "amount": "5000",
            "entry_on": "2026-11-01",
            "reference": "B1",
            "form_token": issue_form_token(),
        },
    )
    account = deposits.account_for_station(station.id)
    assert deposits.balance(account) == 5000
    entry = deposits.entries(account)[0]
    client.post(
        f"/certification/deposits/{entry.id}/reverse",
        data={"note": "录错", "form_token": issue_form_token()},
    )
    assert deposits.balance(account) == 0
    client.post(
        f"{base}/deposit",
        data={
            "kind": "paid",
            "amount": "5,000.00",
            "entry_on": "2026-11-02",
            "reference": "B2",
            "form_token": issue_form_token(),
        },
    )
    assert deposits.balance(account) == 5000  # grouped as finance types it, like every money field
    client.post("/logout")

    login_as("hq")
    page = client.get(f"/stations/{station.id}").get_data(as_text=True)
    assert 'data-testid="compliance-badge">Compliant' in page
    client.post(f"/certification/certificates/{certificate.id}/revoke", data={"reason": "违规"})
    assert certificate.revoked_on == services.today()
    page = client.get(f"/stations/{station.id}").get_data(as_text=True)
    assert "Not compliant" in page
    assert hq.username in page or "station.compliance_changed" in page


def test_the_queue_searches_company_and_credit_code_and_counts_drafts_apart(
    client, db, make, login_as
):
    submitted = make.complete_application(company_name="甲乙通讯有限公司")
    services.submit(submitted.applicant, submitted)
    draft = make.complete_application(company_name="丙丁电子有限公司")
    login_as("hq")
    html = client.get("/certification/applications").get_data(as_text=True)
    assert "甲乙通讯" in html
    assert "丙丁电子" not in html  # a draft is the candidate's own, not open work for HQ
    assert 'data-testid="open-count">1<' in html
    drafts = client.get("/certification/applications?status=draft").get_data(as_text=True)
    assert "丙丁电子" in drafts
    found = client.get("/certification/applications?q=甲乙").get_data(as_text=True)
    assert "甲乙通讯" in found
    by_code = client.get(f"/certification/applications?q={submitted.credit_code[-6:]}").get_data(
        as_text=True
    )
    assert "甲乙通讯" in by_code
    none = client.get("/certification/applications?q=不存在").get_data(as_text=True)
    assert "甲乙通讯" not in none
    assert draft.status.value == "draft"
