"""Certification services: transitions, uploads, authorization, rules in force, certificates."""

from __future__ import annotations

import datetime as dt
import io
import os
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.certification import services
from portal.certification.models import StationCompliance
from portal.certification.states import (
    APPLICATION_FLOW,
    STATION_LIFE,
    ApplicationStatus,
    StaffRole,
)
from portal.core.actors import SYSTEM
from portal.core.audit import AuditEntry
from portal.core.errors import DomainError, InvalidTransition, PermissionDenied
from portal.spares import services as deposits
from portal.spares.models import DepositEntry
from portal.stations.states import StationStatus, Tier

A = ApplicationStatus
ACTIONS = sorted({action for (_state, action) in APPLICATION_FLOW.moves})


@pytest.fixture(autouse=True)
def _request(app, db):
    """Messages are lazy strings: render them as a request would (English)."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _audit_count(application) -> int:
    return len(services.timeline(application))


def _screened(make, hq, tier="service_station", **over):
    application = make.complete_application(tier=tier, **over)
    services.submit(application.applicant, application)
    services.start_screening(hq, application)
    services.save_screening(
        hq,
        application,
        ratings=dict.fromkeys(
            ("qualification", "experience", "personnel", "site", "equipment", "financial"), 80
        ),
        visited_on=dt.date(2026, 11, 1),
        visit_notes="ok",
    )
    return application


def _certify(make, hq, person):
    return services.record_attempt(
        hq,
        person,
        track="repair_technician",
        theory_score=80,
        practical_score=75,
        attempted_on=services.today() - dt.timedelta(days=3),
        examiner="examiner",
    )


# --- the transition table ------------------------------------------------------------------


# The moves of SPEC 3.1 and 3.4, written out here independently of the tables in states.py:
# (state, action) -> new state, as plain strings.
SPEC_APPLICATION_MOVES = {
    ("draft", "edit"): "draft",
    ("returned", "edit"): "returned",
    ("draft", "submit"): "submitted",
    ("returned", "submit"): "submitted",
    ("submitted", "start_screening"): "screening",
    ("submitted", "return"): "returned",
    ("screening", "return"): "returned",
    ("evaluated", "return"): "returned",
    ("screening", "screen"): "screening",
    ("screening", "evaluate"): "evaluated",
    ("evaluated", "approve"): "approved",
    ("submitted", "reject"): "rejected",
    ("screening", "reject"): "rejected",
    ("evaluated", "reject"): "rejected",
    ("approved", "authorize"): "authorized",
}
SPEC_STATION_MOVES = {
    ("active", "change_tier"): "active",
    ("suspended", "change_tier"): "suspended",
    ("active", "suspend"): "suspended",
    ("suspended", "reinstate"): "active",
    ("active", "revoke"): "revoked",
    ("suspended", "revoke"): "revoked",
}
APPLICATION_STATES = (
    "draft",
    "submitted",
    "returned",
    "screening",
    "evaluated",
    "approved",
    "authorized",
    "rejected",
)
ALL_APPLICATION_ACTIONS = sorted({a for _s, a in SPEC_APPLICATION_MOVES} | set(ACTIONS))
ALL_STATION_ACTIONS = sorted(
    {a for _s, a in SPEC_STATION_MOVES} | {a for _s, a in STATION_LIFE.moves}
)


def test_the_application_states_are_those_of_the_spec():
    assert sorted(s.value for s in A) == sorted(APPLICATION_STATES)


@pytest.mark.parametrize("state", APPLICATION_STATES)
@pytest.mark.parametrize("action", ALL_APPLICATION_ACTIONS)
def test_application_table_allows_exactly_the_spec_moves(state, action):
    expected = SPEC_APPLICATION_MOVES.get((state, action))
    if expected is not None:
        assert APPLICATION_FLOW.target(A(state), action).value == expected
    else:
        with pytest.raises(InvalidTransition) as info:
            APPLICATION_FLOW.target(A(state), action)
        assert action in str(info.value.message)


@pytest.mark.parametrize("state", ["active", "suspended", "revoked"])
@pytest.mark.parametrize("action", ALL_STATION_ACTIONS)
def test_station_life_allows_exactly_the_spec_moves(state, action):
    expected = SPEC_STATION_MOVES.get((state, action))
    if expected is not None:
        assert STATION_LIFE.target(StationStatus(state), action).value == expected
    else:
        with pytest.raises(InvalidTransition):
            STATION_LIFE.target(StationStatus(state), action)


def test_authorized_and_rejected_are_final():
    assert APPLICATION_FLOW.actions_from(A.AUTHORIZED) == []
    assert APPLICATION_FLOW.actions_from(A.REJECTED) == []


def test_illegal_move_changes_nothing(make):
    hq = make.user(role="hq")
    application = make.complete_application()
    before = _audit_count(application)
    for verb in (
        lambda: services.start_screening(hq, application),
        lambda: services.approve(hq, application, "service_station"),
        lambda: services.evaluate(hq, application),
        lambda: services.reject(hq, application, "no"),
        lambda: services.return_to_candidate(hq, application, "more"),
    ):
        with pytest.raises(InvalidTransition):
            verb()
        assert application.status is A.DRAFT
    assert _audit_count(application) == before


def test_every_legal_path_through_the_workflow(make):
    hq = make.user(role="hq")
    finance = make.user(role="finance")
    # draft -> submitted -> returned -> submitted -> rejected
    one = make.complete_application()
    services.submit(one.applicant, one)
    services.return_to_candidate(hq, one, "Please add the site photos.")
    assert (one.status, one.hq_comment) == (A.RETURNED, "Please add the site photos.")
    services.save_step(one.applicant, one, "areas", {"repair_area": "13"})
    services.submit(one.applicant, one)
    services.reject(hq, one, "Not suitable.")
    assert one.status is A.REJECTED
    # screening -> returned; evaluated -> returned; screening/evaluated -> rejected
    two = _screened(make, hq)
    services.return_to_candidate(hq, two, "again")
    assert two.status is A.RETURNED
    three = _screened(make, hq)
    services.evaluate(hq, three)
    services.return_to_candidate(hq, three, "again")
    assert three.status is A.RETURNED
    four = _screened(make, hq)
    services.reject(hq, four, "no")
    five = _screened(make, hq)
    services.evaluate(hq, five)
    services.reject(hq, five, "no")
    assert (four.status, five.status) == (A.REJECTED, A.REJECTED)
    # the whole way to authorized
    six = _screened(make, hq, tier="accessory_point")
    services.evaluate(hq, six)
    services.approve(hq, six, "accessory_point")
    services.record_application_deposit(
        finance, six, kind="paid", amount="2000", entry_on=dt.date(2026, 11, 2)
    )
    services.authorize(
        hq,
        six,
        city_code="kf",
        agreement_start_on=dt.date(2026, 11, 23),
        agreement_end_on=dt.date(2029, 11, 22),
    )
    assert six.status is A.AUTHORIZED
    actions = [e.action for e in services.timeline(six)]
    for action in ("submit", "start_screening", "screened", "evaluate", "approve", "authorize"):
        assert f"application.{action}" in actions


def test_every_move_is_audited_with_who_and_comment(make):
    hq = make.user(role="hq")
    application = make.complete_application()
    services.submit(application.applicant, application)
    services.return_to_candidate(hq, application, "Need the licence in colour.")
    entry = services.timeline(application)[-1]
    assert entry.action == "application.return"
    assert entry.actor_name == hq.username
    assert entry.comment == "Need the licence in colour."
    assert entry.before == {"status": "submitted"}
    assert entry.after["status"] == "returned"


def test_return_needs_a_comment_and_reject_a_reason(make):
    hq = make.user(role="hq")
    application = make.complete_application()
    services.submit(application.applicant, application)
    with pytest.raises(DomainError):
        services.return_to_candidate(hq, application, "  ")
    with pytest.raises(DomainError):
        services.reject(hq, application, "")
    assert application.status is A.SUBMITTED


def test_station_users_cannot_review_and_hq_cannot_edit(make):
    application = make.complete_application()
    services.submit(application.applicant, application)
    with pytest.raises(PermissionDenied):
        services.start_screening(application.applicant, application)
    other = make.candidate()
    with pytest.raises(PermissionDenied):
        services.save_step(other.applicant, application, "areas", {"repair_area": "1"})


def test_submit_says_what_is_missing(make):
    application = make.candidate()
    with pytest.raises(DomainError) as info:
        services.submit(application.applicant, application)
    message = str(info.value.message)
    for text in ("Unified social credit code", "Repair area", "coordinator", "Business licence"):
        assert text in message
    assert application.status is A.DRAFT


def test_returned_application_can_be_edited_and_submitted_again(make):
    hq = make.user(role="hq")
    application = make.complete_application()
    services.submit(application.applicant, application)
    with pytest.raises(InvalidTransition):
        services.save_step(application.applicant, application, "areas", {"repair_area": "20"})
    services.return_to_candidate(hq, application, "more")
    services.save_step(application.applicant, application, "areas", {"repair_area": "20"})
    services.submit(application.applicant, application)
    assert (application.status, application.repair_area) == (A.SUBMITTED, Decimal("20.00"))


def test_credit_code_is_checked_with_a_clear_message(make):
    application = make.candidate()
    with pytest.raises(DomainError) as info:
        services.save_step(
            application.applicant, application, "company", {"credit_code": "91350100M000100Y44"}
        )
    assert info.value.field == "credit_code"
    assert "check digit" in str(info.value.message)
    services.save_step(
        application.applicant, application, "company", {"credit_code": "91350100m000100y43"}
    )
    assert application.credit_code == "91350100M000100Y43"


# --- uploads -------------------------------------------------------------------------------


def test_upload_is_stored_under_a_generated_name(app, make):
    application = make.candidate()
    attachment = services.upload_attachment(
        application.applicant,
        application,
        "business_licence",
        "营业执照.jpg",
        io.BytesIO(b"\xff\xd8\xff\xe0 jpeg"),
    )
    assert attachment.content_type == "image/jpeg"
    assert attachment.stored_name != "营业执照.jpg"
    assert attachment.stored_name.endswith(".jpg")
    path = services.attachment_path(attachment)
    assert path.startswith(app.config["UPLOAD_FOLDER"])
    assert not path.startswith(app.static_folder)
    # Written under a temporary name until the transaction commits.
    assert not os.path.exists(path)
    assert os.path.exists(path + ".part")
    services.db.session.commit()
    assert not os.path.exists(path + ".part")
    with open(path, "rb") as handle:
        assert handle.read() == b"\xff\xd8\xff\xe0 jpeg"


def test_a_rolled_back_upload_leaves_no_file(app, make, db):
    application = make.candidate()
    db.session.commit()
    before = _files(app)
    attachment = services.upload_attachment(
        application.applicant,
        application,
        "business_licence",
        "licence.png",
        io.BytesIO(b"\x89PNG\r\n\x1a\n rolled back"),
    )
    path = services.attachment_path(attachment)
    assert _files(app) != before  # the temporary file
    db.session.rollback()
    assert _files(app) == before
    assert not os.path.exists(path)


def test_a_savepoint_commit_does_not_move_the_file_early(app, make, db):
    """Only the outermost commit puts a file in place: its row may still be rolled back."""
    application = make.candidate()
    db.session.commit()
    before = _files(app)
    attachment = services.upload_attachment(
        application.applicant,
        application,
        "business_licence",
        "licence.png",
        io.BytesIO(b"\x89PNG\r\n\x1a\n savepoint"),
    )
    path = services.attachment_path(attachment)
    with db.session.begin_nested():
        services.save_step(application.applicant, application, "company", {"city": "开封"})
    assert not os.path.exists(path)
    db.session.rollback()
    assert _files(app) == before


def test_an_application_holds_a_limited_number_and_size_of_files(app, make, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_COUNT", 3)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_TOTAL_MB", 1)
    application = make.candidate()

    def upload(size, name="f.pdf"):
        data = b"%PDF-1.4\n" + b"0" * (size - 9)
        return services.upload_attachment(
            application.applicant, application, "financial_report", name, io.BytesIO(data)
        )

    upload(600 * 1024)
    with pytest.raises(DomainError) as info:
        upload(500 * 1024)  # 1,100 KB together: over 1 MB
    assert "at most 1 MB together" in str(info.value.message)
    assert info.value.field == "file"
    upload(100 * 1024)
    upload(100 * 1024)
    with pytest.raises(DomainError) as info:
        upload(10)
    assert "at most 3 files" in str(info.value.message)
    assert len(application.attachments) == 3


def _files(app):
    return set(os.listdir(app.config["UPLOAD_FOLDER"]))


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("licence.pdf", b"MZ\x90\x00\x03 this is a windows program", "PDF, JPG or PNG"),
        ("../../etc/licence.pdf", b"%PDF-1.4", "file name"),
        ("..\\licence.pdf", b"%PDF-1.4", "file name"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(app, make, name, content, fragment):
    application = make.candidate()
    before = _files(app)
    with pytest.raises(DomainError) as info:
        services.upload_attachment(
            application.applicant, application, "business_licence", name, io.BytesIO(content)
        )
    assert fragment in str(info.value.message)
    assert _files(app) == before
    assert application.attachments == []


def test_oversized_upload_is_refused(app, make, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_MB", 1)
    application = make.candidate()
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024)
    with pytest.raises(DomainError) as info:
        services.upload_attachment(
            application.applicant, application, "financial_report", "big.pdf", io.BytesIO(big)
        )
    assert "1 MB" in str(info.value.message)
    exactly = b"%PDF-1.4\n" + b"0" * (1024 * 1024 - 9)
    services.upload_attachment(
        application.applicant, application, "financial_report", "ok.pdf", io.BytesIO(exactly)
    )


def test_site_photo_is_hq_only_during_screening_and_must_be_an_image(make):
    hq = make.user(role="hq")
    application = _screened(make, hq)
    with pytest.raises(PermissionDenied):
        services.upload_attachment(
            application.applicant,
            application,
            "site_photo",
            "a.png",
            io.BytesIO(b"\x89PNG\r\n\x1a\n"),
        )
    with pytest.raises(DomainError):
        services.upload_attachment(hq, application, "site_photo", "a.pdf", io.BytesIO(b"%PDF-1"))
    services.upload_attachment(
        hq, application, "site_photo", "a.png", io.BytesIO(b"\x89PNG\r\n\x1a\n")
    )


# --- evaluation, approval, deposit, authorization ------------------------------------------


def test_screening_total_uses_the_weights(make):
    hq = make.user(role="hq")
    application = make.complete_application()
    services.submit(application.applicant, application)
    services.start_screening(hq, application)
    sheet = services.save_screening(
        hq,
        application,
        ratings={
            "qualification": 100,
            "experience": 50,
            "personnel": 100,
            "site": 100,
            "equipment": 0,
            "financial": 100,
        },
    )
    assert sheet.total == Decimal("80.00")  # 15 + 10 + 20 + 20 + 0 + 15
    with pytest.raises(DomainError):
        services.save_screening(hq, application, ratings={"site": 101})


def test_evaluation_recommends_a_lower_tier_when_staffing_falls_short(make):
    hq = make.user(role="hq")
    # service station in a class-2 city needs one certified engineer; there is none.
    application = _screened(make, hq, tier="service_station")
    services.evaluate(hq, application)
    assert application.screening.recommendation == "approve_lower"
    assert application.screening.recommended_tier is Tier.ACCESSORY_POINT
    with pytest.raises(DomainError):
        services.approve(hq, application, "service_center")
    services.approve(hq, application, "accessory_point")
    assert application.approved_tier is Tier.ACCESSORY_POINT


def test_deposit_only_after_approval_and_authorization_needs_it_in_full(make):
    hq = make.user(role="hq")
    finance = make.user(role="finance")
    application = _screened(make, hq, tier="service_station")
    services.evaluate(hq, application)
    with pytest.raises(DomainError):
        services.record_application_deposit(
            finance, application, kind="paid", amount="2000", entry_on=dt.date(2026, 11, 1)
        )
    services.approve(hq, application, "accessory_point")
    with pytest.raises(PermissionDenied):
        services.record_application_deposit(
            hq, application, kind="paid", amount="2000", entry_on=dt.date(2026, 11, 1)
        )
    services.record_application_deposit(
        finance, application, kind="paid", amount="1999.99", entry_on=dt.date(2026, 11, 1)
    )
    with pytest.raises(DomainError) as info:
        services.authorize(
            hq,
            application,
            city_code="KF",
            agreement_start_on=dt.date(2026, 11, 23),
            agreement_end_on=dt.date(2029, 11, 22),
        )
    assert "Deposit" in str(info.value.message)
    assert application.status is A.APPROVED
    services.record_application_deposit(
        finance, application, kind="top_up", amount="0.01", entry_on=dt.date(2026, 11, 2)
    )
    station = services.authorize(
        hq,
        application,
        city_code="KF",
        agreement_start_on=dt.date(2026, 11, 23),
        agreement_end_on=dt.date(2029, 11, 22),
    )
    assert station.code == "HA-KF-0001"
    assert station.tier is Tier.ACCESSORY_POINT
    assert station.agreement_start_on == dt.date(2026, 11, 23)
    assert application.applicant.station_id == station.id
    assert application.station_id == station.id
    assert deposits.balance(deposits.account_for_station(station.id)) == Decimal("2000.00")
    staff = services.station_technicians(station.id)
    assert [s.role for s in staff] == [StaffRole.COORDINATOR]
    row = services.db.session.get(StationCompliance, station.id)
    assert row.compliant is True


def test_certified_candidate_engineers_count_and_move_to_the_station(make):
    hq = make.user(role="hq")
    finance = make.user(role="finance")
    application = make.complete_application(tier="service_station")
    engineer = services.add_staff(
        application.applicant, application, name="工程师", role="repair_technician"
    )
    services.submit(application.applicant, application)
    services.start_screening(hq, application)
    _certify(make, hq, engineer)
    services.save_screening(
        hq,
        application,
        ratings=dict.fromkeys(
            ("qualification", "experience", "personnel", "site", "equipment", "financial"), 90
        ),
    )
    services.evaluate(hq, application)
    assert application.screening.recommendation == "approve"
    services.approve(hq, application, "service_station")
    services.record_application_deposit(
        finance, application, kind="paid", amount="5000", entry_on=dt.date(2026, 11, 1)
    )
    station = services.authorize(
        hq,
        application,
        city_code="KF",
        agreement_start_on=dt.date(2026, 11, 23),
        agreement_end_on=dt.date(2029, 11, 22),
    )
    assert engineer.station_id == station.id
    assert services.rules.is_clean(services.check_station(station))


def test_station_codes_continue_after_existing_ones(make):
    make.station(code="HA-ZZ-0007", province="HA")
    assert services.next_station_code("HA", "zz") == "HA-ZZ-0008"
    assert services.next_station_code("HA", "ZZ") == "HA-ZZ-0009"
    assert services.next_station_code("GD", "ZZ") == "GD-ZZ-0001"


def test_authorize_refuses_a_bad_city_code(make):
    hq = make.user(role="hq")
    application = make.complete_application()
    with pytest.raises(InvalidTransition):
        services.authorize(
            hq,
            application,
            city_code="ZZ",
            agreement_start_on=dt.date(2026, 1, 1),
            agreement_end_on=dt.date(2027, 1, 1),
        )
    application.status = A.APPROVED
    application.approved_tier = Tier.ACCESSORY_POINT
    for code in ("Z", "ZZZZZ", "Z1", "郑州"):
        with pytest.raises(DomainError) as info:
            services.authorize(
                hq,
                application,
                city_code=code,
                agreement_start_on=dt.date(2026, 1, 1),
                agreement_end_on=dt.date(2027, 1, 1),
            )
        assert info.value.field == "city_code"


# --- tier rules as data --------------------------------------------------------------------


def _tier(deposit, class1, class23, repair, storage):
    return {
        "deposit": Decimal(deposit),
        "coordinators": 1,
        "engineers_class1": class1,
        "engineers_class23": class23,
        "repair_area": Decimal(repair),
        "storage_area": Decimal(storage),
    }


def _values(**over):
    base = {
        "accessory_point": _tier(2000, 0, 0, 0, 0),
        "service_station": _tier(6000, 2, 1, 9, 0),
        "service_center": _tier(10000, 3, 2, 10, 8),
    }
    base.update(over)
    return base


def test_spec_defaults_are_in_force():
    for tier, deposit in (
        (Tier.ACCESSORY_POINT, "2000"),
        (Tier.SERVICE_STATION, "5000"),
        (Tier.SERVICE_CENTER, "10000"),
    ):
        assert services.requirements_for(tier, dt.date(2026, 1, 1)).deposit == Decimal(deposit)
    station = services.requirements_for(Tier.SERVICE_STATION, dt.date(2026, 1, 1))
    assert (station.engineers_class1, station.engineers_class23, station.repair_area) == (
        2,
        1,
        Decimal(8),
    )


def test_new_rules_apply_from_their_date_and_history_is_kept(make, db):
    hq = make.user(role="hq")
    start = services.today() + dt.timedelta(days=10)
    services.create_rule_set(hq, effective_on=start, values=_values(), note="raise")
    day_before = start - dt.timedelta(days=1)
    assert services.requirements_for("service_station", day_before).deposit == Decimal(5000)
    assert services.requirements_for("service_station", start).deposit == Decimal(6000)
    assert services.requirements_for("service_station", start).repair_area == Decimal(9)
    with pytest.raises(DomainError):
        services.create_rule_set(hq, effective_on=start, values=_values())
    with pytest.raises(DomainError):
        services.create_rule_set(
            hq, effective_on=services.today() - dt.timedelta(days=1), values=_values()
        )
    with pytest.raises(PermissionDenied):
        services.create_rule_set(
            make.user(role="finance"), effective_on=start + dt.timedelta(days=1), values=_values()
        )


def test_screening_weights_must_add_up_to_100(make):
    hq = make.user(role="hq")
    start = services.today() + dt.timedelta(days=3)
    weights = {
        "qualification": 10,
        "experience": 20,
        "personnel": 20,
        "site": 20,
        "equipment": 10,
        "financial": 15,
    }
    with pytest.raises(DomainError):
        services.create_weight_set(hq, effective_on=start, weights=weights, pass_mark=70)
    weights["financial"] = 20
    services.create_weight_set(hq, effective_on=start, weights=weights, pass_mark=75)
    assert services.weights_in_force(start).pass_mark == 75
    assert services.weights_in_force(start - dt.timedelta(days=1)).pass_mark == 70


# --- certificates and station compliance ---------------------------------------------------


def _compliant_station(make, tier="service_station", city_class="2"):
    station = make.station(tier=tier, city_class=city_class)
    services.set_station_areas(
        SYSTEM, station, reception_area="10", repair_area="12", storage_area="9"
    )
    make.technician(station=station, role="coordinator")
    make.deposit(station, amount="10000")
    return station


def test_certificate_expiring_today_still_counts(make):
    station = _compliant_station(make)
    today = services.today()
    engineer = make.technician(station=station)
    issued = services.rules.add_months(today + dt.timedelta(days=1), -24)
    cert = make.certificate(engineer, issued_on=issued)
    assert cert.expires_on == today
    assert services.rules.is_clean(services.check_station(station, today))
    tomorrow = today + dt.timedelta(days=1)
    gaps = services.rules.gaps(services.check_station(station, tomorrow))
    assert [(g.key, g.required, g.actual) for g in gaps] == [("certified_engineers", 1, 0)]


def test_only_valid_repair_certificates_count(make):
    station = _compliant_station(make, city_class="1")  # needs 2
    today = services.today()
    a = make.technician(station=station)
    make.certificate(a, issued_on=today - dt.timedelta(days=30))
    b = make.technician(station=station)
    make.certificate(b, issued_on=today - dt.timedelta(days=30), revoked_on=today)
    c = make.technician(station=station)
    make.certificate(c, issued_on=today - dt.timedelta(days=30), track="service_clerk")
    d = make.technician(station=station)
    make.certificate(d, issued_on=today - dt.timedelta(days=800))
    facts = services.station_facts(station, today)
    assert facts.certified_engineers == 1


def test_attempt_issues_a_24_month_certificate_and_revocation_counts(make):
    hq = make.user(role="hq")
    station = _compliant_station(make)
    person = make.technician(station=station)
    failed = services.record_attempt(
        hq,
        person,
        track="repair_technician",
        theory_score=90,
        practical_score=59,
        attempted_on=dt.date(2026, 1, 10),
        examiner="e",
    )
    assert not failed.passed
    assert person.certificates == []
    attempt = _certify(make, hq, person)
    assert attempt.passed
    cert = person.certificates[0]
    assert cert.expires_on == services.rules.certificate_expiry(attempt.attempted_on)
    assert cert.number.startswith("RT")
    assert services.db.session.get(StationCompliance, station.id).compliant
    services.revoke_certificate(hq, cert, "cheated")
    row = services.db.session.get(StationCompliance, station.id)
    assert not row.compliant
    assert row.gaps == [{"key": "certified_engineers", "required": "1", "actual": "0"}]
    with pytest.raises(DomainError):
        services.revoke_certificate(hq, cert, "again")


def test_expiring_list_covers_the_next_60_days(make):
    hq = make.user(role="hq")
    station = make.station()
    person = make.technician(station=station)
    today = services.today()
    soon = make.certificate(
        person, issued_on=services.rules.add_months(today + dt.timedelta(days=1), -24)
    )
    assert soon.expires_on == today
    later = make.certificate(
        person, issued_on=services.rules.add_months(today + dt.timedelta(days=90), -24)
    )
    gone = make.certificate(person, issued_on=today - dt.timedelta(days=800))
    listed = services.expiring_certificates(hq)
    assert soon in listed
    assert later not in listed
    assert gone not in listed
    other_station_user = make.user(role="station")
    assert services.expiring_certificates(other_station_user) == []


def test_deposit_deduction_makes_the_station_non_compliant(make, runner):
    station = _compliant_station(make)
    engineer = make.technician(station=station)
    make.certificate(engineer, issued_on=services.today() - dt.timedelta(days=5))
    services.refresh_station_compliance(station, actor=SYSTEM)
    assert services.db.session.get(StationCompliance, station.id).compliant
    account = deposits.account_for_station(station.id)
    deposits.record_entry(
        make.cashier(), account, kind="deduction", amount="5000.01", entry_on=dt.date(2026, 11, 1)
    )
    checked, changed, failing = services.check_all_stations(SYSTEM)
    assert changed >= 1
    row = services.db.session.get(StationCompliance, station.id)
    assert not row.compliant
    assert row.gaps[0]["key"] == "deposit"
    assert station.id in [s.id for s, _row in services.non_compliant_stations()]
    audit = (
        services.db.session.execute(
            select(AuditEntry).where(
                AuditEntry.station_id == station.id,
                AuditEntry.action == "station.compliance_changed",
            )
        )
        .scalars()
        .all()
    )
    assert audit[-1].after["compliant"] is False


def test_check_compliance_command(make, runner):
    _compliant_station(make)
    result = runner.invoke(args=["certification", "check-compliance"])
    assert result.exit_code == 0, result.output
    assert "stations" in result.output


# --- deposit ledger -------------------------------------------------------------------------


def test_ledger_balance_is_the_sum_and_entries_are_never_edited(make, db):
    station = make.station()
    finance = make.user(role="finance")
    account = deposits.account_for_station(station.id, create=True)
    paid = deposits.record_entry(
        finance, account, kind="paid", amount="5000", entry_on=dt.date(2026, 1, 1)
    )
    deposits.record_entry(
        finance, account, kind="deduction", amount="120.50", entry_on=dt.date(2026, 2, 1)
    )
    assert deposits.balance(account) == Decimal("4879.50")
    with pytest.raises(DomainError):
        deposits.record_entry(
            finance, account, kind="refund", amount="4879.51", entry_on=dt.date(2026, 3, 1)
        )
    with pytest.raises(DomainError):
        deposits.record_entry(
            finance, account, kind="paid", amount="0", entry_on=dt.date(2026, 3, 1)
        )
    with pytest.raises(DomainError, match="below zero"):
        # Reversing the payment after a deduction would leave -120.50.
        deposits.reverse_entry(finance, paid, "typed the wrong amount", dt.date(2026, 3, 2))
    deduction = deposits.entries(account)[1]
    reversal = deposits.reverse_entry(finance, deduction, "wrong station", dt.date(2026, 3, 2))
    assert reversal.amount == Decimal("120.50")
    assert reversal.reverses_id == deduction.id
    assert deposits.balance(account) == Decimal("5000.00")
    with pytest.raises(DomainError):
        deposits.reverse_entry(finance, deduction, "twice", dt.date(2026, 3, 2))
    paid.amount = Decimal("1")
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()


def test_ledger_amounts_round_trip_exactly(make, db):
    station = make.station()
    account = deposits.account_for_station(station.id, create=True)
    for amount in ("0.10", "9999999999.99"):
        deposits.record_entry(
            make.cashier(), account, kind="paid", amount=amount, entry_on=dt.date(2026, 1, 1)
        )
    db.session.expire_all()
    stored = [e.amount for e in db.session.execute(select(DepositEntry)).scalars().all()[-2:]]
    assert stored == [Decimal("0.10"), Decimal("9999999999.99")]


# --- station life ---------------------------------------------------------------------------


def test_station_life_moves_are_audited(make):
    hq = make.user(role="hq")
    station = make.station()
    services.suspend(hq, station, "late reports")
    assert station.status is StationStatus.SUSPENDED
    with pytest.raises(InvalidTransition):
        services.suspend(hq, station, "again")
    services.reinstate(hq, station, "fixed")
    with pytest.raises(InvalidTransition):
        services.reinstate(hq, station, "again")
    with pytest.raises(DomainError):
        services.revoke(hq, station, "")
    make.deposit(station, amount="5000")
    deposits.record_entry(
        make.cashier(),
        deposits.account_for_station(station.id),
        kind="deduction",
        amount="300",
        entry_on=dt.date(2026, 11, 1),
    )
    services.revoke(hq, station, "sold counterfeit parts")
    assert station.status is StationStatus.REVOKED
    revoked = services.db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "station.revoke")
    ).scalar_one()
    assert revoked.after["deposit_to_refund"] == "4700.00"
    for verb in (services.suspend, services.reinstate, services.revoke):
        with pytest.raises(InvalidTransition):
            verb(hq, station, "x")
    actions = services.db.session.execute(
        select(AuditEntry.action, AuditEntry.comment)
        .where(AuditEntry.station_id == station.id, AuditEntry.action.like("station.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert ("station.revoke", "sold counterfeit parts") in actions
    assert ("station.suspend", "late reports") in actions


def test_tier_change_is_checked_against_the_new_tier(make):
    hq = make.user(role="hq")
    station = _compliant_station(make, tier="accessory_point", city_class="2")
    with pytest.raises(DomainError) as info:
        services.change_tier(hq, station, "service_station", "grow")
    assert "Certified engineers" in str(info.value.message)
    assert station.tier is Tier.ACCESSORY_POINT
    engineer = make.technician(station=station)
    make.certificate(engineer, issued_on=services.today() - dt.timedelta(days=1))
    services.change_tier(hq, station, "service_station", "grow")
    assert station.tier is Tier.SERVICE_STATION
    services.change_tier(hq, station, "accessory_point", "shrink")
    assert station.tier is Tier.ACCESSORY_POINT
    with pytest.raises(PermissionDenied):
        services.change_tier(make.user(role="finance"), station, "service_station", "x")


def test_station_user_must_have_a_station_unless_candidate(make):
    from portal.auth import services as auth_services

    with pytest.raises(DomainError):
        auth_services.create_user(
            None, username="lonely", password="long-enough-1", roles=["station"]
        )
    with pytest.raises(DomainError):
        auth_services.create_user(
            None, username="sneaky", password="long-enough-1", roles=["hq"], candidate=True
        )
    application = make.candidate()
    assert application.applicant.station_id is None


def test_hq_records_a_counterfeit_violation(make):
    hq = make.user(role="hq")
    application = make.complete_application()
    with pytest.raises(DomainError):
        services.record_counterfeit_violation(hq, application, " ")
    with pytest.raises(PermissionDenied):
        services.record_counterfeit_violation(application.applicant, application, "x")
    services.record_counterfeit_violation(hq, application, "sold compatible batteries")
    assert "sold compatible batteries" in application.counterfeit_violation
    assert services.timeline(application)[-1].action == "application.counterfeit_violation"


def test_submitting_again_after_a_return_needs_a_change(make):
    hq = make.user(role="hq")
    application = make.complete_application()
    services.submit(application.applicant, application)
    services.return_to_candidate(hq, application, "Please add the site photos.")
    with pytest.raises(DomainError, match="returned the application"):
        services.submit(application.applicant, application)
    assert application.status is A.RETURNED
    services.save_step(application.applicant, application, "areas", {"repair_area": "14"})
    services.submit(application.applicant, application)
    assert application.status is A.SUBMITTED
