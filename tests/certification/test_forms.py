"""Action forms: validated before acting; refused ones come back with the input and the error
next to its field, answering 422 (issue 7.9, 8.4)."""

from __future__ import annotations

import datetime as dt
import html
import re

from portal.certification import services
from portal.certification.models import Application, Technician
from portal.certification.states import ApplicationStatus
from portal.core.actors import SYSTEM
from portal.core.audit import AuditEntry
from portal.spares.models import DepositEntry
from portal.stations.models import Station
from portal.stations.states import Tier

TODAY = dt.date(2026, 11, 24)


def _field_error(page: str, name: str) -> str | None:
    """The error text shown right after the input, textarea or select named `name`, if any."""
    element = (
        r"(?:<input[^>]*>|<textarea[^>]*>[^<]*</textarea>"
        r"|<select[^>]*>(?:(?!</select>).)*</select>)"
    )
    for match in re.finditer(
        element + r'\s*<div class="invalid-feedback">([^<]+)</div>', page, re.S
    ):
        tag = match.group(0)[: match.group(0).index(">")]
        if f'name="{name}"' in tag and "is-invalid" in tag:
            return html.unescape(match.group(1))
    return None


def _submitted(make):
    application = make.complete_application()
    services.submit(application.applicant, application)
    return application


# --- review actions -----------------------------------------------------------------------


def test_an_over_long_review_comment_is_refused_and_nothing_moves(client, make, login_as, db):
    """review_action ignored its form: a 5,000-character comment went past Length(max=4000)."""
    application = _submitted(make)
    db.session.commit()
    login_as("hq")
    comment = "长" * 5000
    response = client.post(
        f"/certification/applications/{application.id}/review/return", data={"comment": comment}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(page, "comment") == "Field cannot be longer than 4000 characters."
    assert comment in page  # what was typed is kept
    fresh = db.session.get(Application, application.id)
    assert fresh.status is ApplicationStatus.SUBMITTED
    assert fresh.hq_comment == ""


def test_a_return_without_a_comment_is_shown_next_to_the_field(client, make, login_as, db):
    application = _submitted(make)
    db.session.commit()
    login_as("hq")
    response = client.post(
        f"/certification/applications/{application.id}/review/return", data={"comment": "  "}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(page, "comment") == "Tell the candidate what is needed."
    assert db.session.get(Application, application.id).status is ApplicationStatus.SUBMITTED


def test_a_violation_needs_a_description(client, make, login_as, db):
    application = _submitted(make)
    db.session.commit()
    login_as("hq")
    response = client.post(
        f"/certification/applications/{application.id}/review/violation", data={"comment": ""}
    )
    assert response.status_code == 422
    assert _field_error(response.get_data(as_text=True), "comment")
    assert db.session.get(Application, application.id).counterfeit_violation == ""


def test_a_good_return_still_redirects(client, make, login_as, db):
    application = _submitted(make)
    db.session.commit()
    login_as("hq")
    response = client.post(
        f"/certification/applications/{application.id}/review/return",
        data={"comment": "请补充照片"},
    )
    assert response.status_code == 302
    assert db.session.get(Application, application.id).status is ApplicationStatus.RETURNED


def test_approve_with_a_tier_above_the_request_is_shown_on_the_report(client, make, login_as, db):
    hq = make.user(role="hq")
    application = make.complete_application(tier="accessory_point")
    services.submit(application.applicant, application)
    services.start_screening(hq, application)
    services.save_screening(
        hq,
        application,
        ratings=dict.fromkeys(
            ("qualification", "experience", "personnel", "site", "equipment", "financial"), 90
        ),
    )
    services.evaluate(hq, application)
    db.session.commit()
    login_as("hq")
    response = client.post(
        f"/certification/applications/{application.id}/approve",
        data={"tier": "service_center", "comment": "保留的意见"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(page, "tier") == (
        "Approve at the requested tier or a lower one, not above it."
    )
    assert "保留的意见" in page
    assert db.session.get(Application, application.id).status is ApplicationStatus.EVALUATED


# --- deposits ------------------------------------------------------------------------------


def test_a_bad_station_deposit_comes_back_with_its_input(client, make, login_as, db):
    station = make.station()
    db.session.commit()
    login_as("finance")
    response = client.post(
        f"/certification/stations/{station.id}/deposit",
        data={"kind": "paid", "amount": "abc", "entry_on": "2026-11-20", "reference": "BANK-77"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(page, "amount")
    assert 'value="BANK-77"' in page
    assert db.session.query(DepositEntry).count() == 0


def test_a_bad_application_deposit_is_shown_on_the_application_page(client, make, login_as, db):
    hq = make.user(role="hq")
    application = make.complete_application(tier="accessory_point")
    services.submit(application.applicant, application)
    services.start_screening(hq, application)
    services.save_screening(
        hq,
        application,
        ratings=dict.fromkeys(
            ("qualification", "experience", "personnel", "site", "equipment", "financial"), 90
        ),
    )
    services.evaluate(hq, application)
    services.approve(hq, application, "accessory_point")
    db.session.commit()
    login_as("finance")
    response = client.post(
        f"/certification/applications/{application.id}/deposit",
        data={"kind": "paid", "amount": "", "entry_on": "2026-11-20", "reference": "R-1"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(page, "amount")
    assert 'value="R-1"' in page
    assert db.session.query(DepositEntry).count() == 0


# --- station panel: technicians, tier, life --------------------------------------------------


def test_a_technician_with_a_bad_id_number_keeps_the_name(client, make, login_as, db):
    station = make.station()
    db.session.commit()
    login_as("hq")
    response = client.post(
        f"/certification/stations/{station.id}/technicians",
        data={"name": "李工", "role": "repair_technician", "id_number": "123"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(page, "id_number").startswith("A resident ID number has 18 characters")
    assert 'value="李工"' in page
    assert db.session.query(Technician).filter_by(station_id=station.id).count() == 0


def test_a_tier_change_the_station_does_not_meet_is_shown_next_to_the_tier(
    client, make, login_as, db
):
    station = make.station(tier="accessory_point")
    db.session.commit()
    login_as("hq")
    response = client.post(
        f"/certification/stations/{station.id}/tier",
        data={"tier": "service_center", "reason": "保留的理由"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(page, "tier").startswith("The station does not meet the requirements")
    assert "保留的理由" in page
    assert db.session.get(Station, station.id).tier is Tier.ACCESSORY_POINT


def test_a_station_life_action_without_a_reason_is_refused_in_place(client, make, login_as, db):
    station = make.station()
    db.session.commit()
    login_as("hq")
    response = client.post(f"/certification/stations/{station.id}/life/suspend", data={})
    assert response.status_code == 422
    assert _field_error(response.get_data(as_text=True), "reason") == "This field is required."
    assert db.session.query(AuditEntry).filter_by(action="station.suspend").count() == 0


def test_a_certificate_revocation_without_a_reason_is_refused_in_place(client, make, login_as, db):
    station = make.station()
    person = make.technician(station=station)
    certificate = make.certificate(person, issued_on=TODAY - dt.timedelta(days=10))
    db.session.commit()
    login_as("hq")
    response = client.post(f"/certification/certificates/{certificate.id}/revoke", data={})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(page, "reason") == "This field is required."
    assert certificate.revoked_on is None


# --- rules ---------------------------------------------------------------------------------


def test_tier_rules_dated_in_the_past_come_back_with_422(client, make, login_as):
    login_as("hq")
    data = {"effective_on": "2026-01-01", "note": "保留"}
    for tier in Tier:
        for field in ("deposit", "coordinators", "engineers_class1", "engineers_class23"):
            data[f"{tier.value}__{field}"] = "1"
        data[f"{tier.value}__repair_area"] = "1"
        data[f"{tier.value}__storage_area"] = "1"
    response = client.post("/certification/rules/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(page, "effective_on").startswith("The rules take effect today or later")
    assert 'value="保留"' in page


def test_screening_weights_not_adding_up_come_back_with_422(client, make, login_as):
    login_as("hq")
    data = {"effective_on": "2026-12-01", "pass_mark": "70"}
    data.update(dict.fromkeys(("qualification", "experience", "personnel"), "10"))
    response = client.post("/certification/rules/weights/new", data=data)
    assert response.status_code == 422
    assert "The weights must add up to 100." in response.get_data(as_text=True)


def test_the_station_panel_forms_still_work(client, make, login_as, db):
    station = make.station()
    services.set_station_areas(
        SYSTEM, station, reception_area="1", repair_area="1", storage_area="1"
    )
    db.session.commit()
    login_as("hq")
    response = client.post(
        f"/certification/stations/{station.id}/technicians",
        data={"name": "王工", "role": "other", "id_number": ""},
    )
    assert response.status_code == 302
    assert db.session.query(Technician).filter_by(station_id=station.id).count() == 1
