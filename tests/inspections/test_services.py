"""Checklists, filling in, submitting, rectifications, penalties, reminders."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from portal.core.errors import DomainError, InvalidTransition, PermissionDenied
from portal.inspections import services
from portal.inspections.models import (
    ChecklistItem,
    PublishedVersionChanged,
    Rectification,
    RectificationReminder,
    StationInspectionSummary,
)
from portal.inspections.states import Grade, InspectionStatus, RectificationStatus
from portal.settlement.adjustments import Adjustment
from tests.inspections.helpers import answer_all, jpeg

FROZEN = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)  # 10 March, 10:00 in Shanghai


# --- checklists ----------------------------------------------------------------------------


def test_default_checklist_follows_spec_4_1(version):
    items = version.items()
    assert [s.title_en for s in version.sections] == [
        "Records and reports",
        "Repair management",
        "Spare parts",
        "Storefront image",
    ]
    assert sum(i.max_score for i in items) == 100
    critical = [i for i in items if i.critical]
    assert [i.text_en for i in critical] == ["No counterfeit or compatible parts"]
    assert any(i.stock_count for i in items)
    assert version.is_published


def test_loading_the_default_twice_changes_nothing(people, version):
    again = services.load_default_template(people["hq"])
    assert again.id == version.id


def test_a_published_version_never_changes(db, people, version):
    item = version.items()[0]
    with pytest.raises(DomainError):
        services.save_item(people["hq"], version, {"section_id": item.section_id}, item)
    item.max_score = 50
    with pytest.raises(PublishedVersionChanged):
        db.session.flush()
    db.session.rollback()


def test_a_published_version_refuses_new_items_even_by_hand(db, people, version):
    section = version.sections[0]
    db.session.add(
        ChecklistItem(version_id=version.id, section_id=section.id, text_zh="x", max_score=1)
    )
    with pytest.raises(PublishedVersionChanged):
        db.session.flush()
    db.session.rollback()


def test_editing_makes_a_draft_and_old_inspections_keep_their_version(db, people, planned):
    hq = people["hq"]
    old_version = planned.checklist
    draft = services.new_draft(hq, old_version.template)
    assert draft.number == 2
    assert services.new_draft(hq, old_version.template).id == draft.id  # one draft at a time
    first = draft.items()[0]
    services.save_item(
        hq,
        draft,
        {
            "section_id": first.section_id,
            "text_zh": "新检查项",
            "text_en": "New item",
            "max_score": 5,
            "critical": True,
        },
        first,
    )
    services.publish(hq, draft)
    assert services.latest_published(old_version.template_id).id == draft.id
    assert planned.checklist.id == old_version.id
    assert planned.checklist.items()[0].text_en == "Daily reports complete and on time"
    assert planned.answers[0].item.text_en == "Daily reports complete and on time"


def test_only_hq_edits_checklists(people, version):
    with pytest.raises(PermissionDenied):
        services.new_draft(people["auditor"], version.template)


# --- filling in ----------------------------------------------------------------------------


def test_answers_save_item_by_item_and_start_the_inspection(people, planned):
    auditor = people["auditor"]
    item = planned.answers[0].item
    answer = services.save_answer(auditor, planned, item.id, 0, {"result": "pass", "score": "5"})
    assert answer.rev == 1
    assert answer.score == Decimal("5.00")
    assert planned.status is InspectionStatus.IN_PROGRESS


def test_two_devices_merge_items_and_the_same_item_is_refused(people, planned):
    auditor = people["auditor"]
    first, second = (a.item_id for a in planned.answers[:2])
    services.save_answer(auditor, planned, first, 0, {"result": "pass", "score": "5"})
    # The other device, which also saw revision 0, saves another item: both are kept.
    services.save_answer(auditor, planned, second, 0, {"result": "fail", "score": "0"})
    # ... and the first item: refused, with the answer it did not see.
    with pytest.raises(services.Conflict) as refused:
        services.save_answer(auditor, planned, first, 0, {"result": "fail", "score": "0"})
    assert refused.value.current["result"] == "pass"
    assert refused.value.current["rev"] == 1
    answers = {a.item_id: a for a in planned.answers}
    assert answers[first].result.value == "pass"
    assert answers[second].result.value == "fail"


def test_only_the_assigned_auditor_fills_in(people, planned):
    item_id = planned.answers[0].item_id
    for who in ("other_auditor", "hq", "station_user"):
        with pytest.raises(PermissionDenied):
            services.save_answer(people[who], planned, item_id, 0, {"result": "pass"})


def test_a_score_above_the_maximum_is_refused(people, planned):
    item = planned.answers[0].item
    with pytest.raises(DomainError) as error:
        services.save_answer(people["auditor"], planned, item.id, 0, {"score": "6"})
    assert error.value.field == "score"


def test_stock_lines_come_from_the_device_key_once(people, planned):
    key = "6f1c6c8e-1d4b-4d86-9b55-1d3b1a2b3c4d"
    auditor = people["auditor"]
    line = services.save_stock_line(
        auditor, planned, key, 0, {"part_number": "lcd-p30", "expected_qty": 5, "counted_qty": 4}
    )
    assert line.part_number == "LCD-P30"
    assert line.difference == -1
    assert not line.expected_from_ledger  # no stock ledger: the auditor enters it
    with pytest.raises(services.Conflict):
        services.save_stock_line(auditor, planned, key, 0, {"part_number": "X"})
    services.save_stock_line(auditor, planned, key, 1, {"part_number": "X", "counted_qty": 5})
    assert len(planned.stock_lines) == 1


# --- submitting ----------------------------------------------------------------------------


def test_submit_lists_every_missing_answer_and_photo(people, planned):
    answer_all(people["auditor"], planned, photos=False, upto=3)
    with pytest.raises(services.Problems) as refused:
        services.submit_inspection(people["auditor"], planned)
    messages = [str(p["message"]) for p in refused.value.problems]
    assert messages.count("Choose pass, partial or fail.") == len(planned.answers) - 3
    assert "A photo is required." in messages
    assert "Count at least one sampled part." in messages
    assert planned.status is InspectionStatus.IN_PROGRESS


@time_machine.travel(FROZEN, tick=False)
def test_submit_scores_grades_locks_and_opens_rectifications(db, people, planned):
    auditor = people["auditor"]
    answer_all(auditor, planned, {1: "partial", 5: "fail"}, stock=(5, 3))
    services.submit_inspection(auditor, planned, "总结")
    assert planned.status is InspectionStatus.SUBMITTED
    # 100 points less 2.5 (partial of 5) and 5 (fail of 5) = 92.5
    assert planned.score == Decimal("92.50")
    assert planned.grade is Grade.EXCELLENT
    rows = list(
        db.session.execute(
            select(Rectification).where(Rectification.inspection_id == planned.id)
        ).scalars()
    )
    assert len(rows) == 3  # two items and the stock difference
    assert {r.due_on for r in rows} == {dt.date(2026, 3, 25)}
    assert any("-2" in r.finding for r in rows)
    summary = db.session.get(StationInspectionSummary, people["station"].id)
    assert summary.last_id == planned.id
    with pytest.raises(services.Locked):
        services.save_answer(auditor, planned, planned.answers[0].item_id, 1, {"note": "x"})


@time_machine.travel(FROZEN, tick=False)
def test_a_failed_critical_item_fails_and_costs_500_once(db, people, planned):
    auditor = people["auditor"]
    critical = next(n for n, a in enumerate(planned.answers, 1) if a.item.critical)
    answer_all(auditor, planned, {critical: "fail"})
    services.submit_inspection(auditor, planned)
    assert planned.score == Decimal("90.00")
    assert planned.grade is Grade.FAIL
    rectification = db.session.execute(
        select(Rectification).where(Rectification.inspection_id == planned.id)
    ).scalar_one()
    assert rectification.critical
    assert rectification.due_on == dt.date(2026, 3, 17)
    penalty = db.session.execute(select(Adjustment)).scalar_one()
    assert penalty.amount == Decimal("-500.00")
    assert penalty.rule_code == "critical_item_failed"
    assert penalty.month == dt.date(2026, 3, 1)
    assert penalty.station_id == people["station"].id


def test_a_submitted_inspection_cannot_be_submitted_or_cancelled_again(people, planned):
    answer_all(people["auditor"], planned)
    services.submit_inspection(people["auditor"], planned)
    with pytest.raises(InvalidTransition):
        services.submit_inspection(people["auditor"], planned)
    with pytest.raises(InvalidTransition):
        services.cancel_inspection(people["hq"], planned, "no")


# --- rectifications ------------------------------------------------------------------------


@pytest.fixture
def rectification(db, people, planned):
    answer_all(people["auditor"], planned, {1: "partial"})
    services.submit_inspection(people["auditor"], planned)
    return db.session.execute(
        select(Rectification).where(Rectification.inspection_id == planned.id)
    ).scalar_one()


def _evidence(name="fix.jpg"):
    return [(name, io.BytesIO(jpeg()))]


def test_rectification_answer_reject_answer_accept(people, rectification):
    station_user, auditor = people["station_user"], people["auditor"]
    services.answer_rectification(station_user, rectification, "已整改", _evidence())
    assert rectification.status is RectificationStatus.ANSWERED
    with pytest.raises(DomainError):
        services.review_rectification(auditor, rectification, False, "")
    services.review_rectification(auditor, rectification, False, "照片不清楚")
    assert rectification.status is RectificationStatus.REJECTED
    services.answer_rectification(station_user, rectification, "重拍", _evidence())
    services.review_rectification(auditor, rectification, True)
    assert rectification.status is RectificationStatus.ACCEPTED
    assert rectification.closed_at is not None
    assert [r.verdict for r in rectification.responses] == [
        RectificationStatus.REJECTED,
        RectificationStatus.ACCEPTED,
    ]
    with pytest.raises(InvalidTransition):
        services.answer_rectification(station_user, rectification, "again", _evidence())


def test_an_open_rectification_cannot_be_accepted(people, rectification):
    with pytest.raises(InvalidTransition):
        services.review_rectification(people["auditor"], rectification, True)


def test_another_station_cannot_answer(make, people, rectification):
    stranger = make.user(role="station")
    with pytest.raises(PermissionDenied):
        services.answer_rectification(stranger, rectification, "x", _evidence())


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("fake.jpg", b"MZ\x90\x00 not a picture at all"),
        ("empty.png", b""),
        ("truncated.jpg", jpeg()[:40]),
        ("script.pdf.exe", b"#!/bin/sh\necho"),
    ],
)
def test_evidence_must_really_be_a_photo_or_pdf(people, rectification, name, data):
    with pytest.raises(DomainError):
        services.answer_rectification(
            people["station_user"], rectification, "x", [(name, io.BytesIO(data))]
        )


def test_evidence_needs_a_file_and_a_pdf_is_accepted(people, rectification):
    with pytest.raises(DomainError):
        services.answer_rectification(people["station_user"], rectification, "x", [])
    response = services.answer_rectification(
        people["station_user"], rectification, "x", [("r.pdf", io.BytesIO(b"%PDF-1.4 x"))]
    )
    assert response.files[0].content_type == "application/pdf"


def test_evidence_larger_than_the_limit_is_refused(app, people, rectification):
    app.config["INSPECTION_PHOTO_MAX_MB"] = 1
    try:
        with pytest.raises(DomainError) as error:
            services.answer_rectification(
                people["station_user"],
                rectification,
                "x",
                [("big.jpg", io.BytesIO(jpeg() + b"\0" * (1024 * 1024)))],
            )
        assert "1 MB" in str(error.value.message)
    finally:
        app.config["INSPECTION_PHOTO_MAX_MB"] = 15


def test_overdue_weeks_each_cost_100_once(db, people, rectification):
    due = rectification.due_on
    actor = services.system_actor()
    assert services.penalize_overdue(actor, due) == 0
    assert services.penalize_overdue(actor, due + dt.timedelta(days=1)) == 1
    assert services.penalize_overdue(actor, due + dt.timedelta(days=8)) == 1
    assert services.penalize_overdue(actor, due + dt.timedelta(days=8)) == 0
    rows = list(db.session.execute(select(Adjustment).order_by(Adjustment.id)).scalars())
    assert [(r.occurrence, r.amount) for r in rows] == [(1, Decimal("-100.00"))] * 1 + [
        (2, Decimal("-100.00"))
    ]


def test_an_answered_rectification_is_not_overdue(people, rectification):
    services.answer_rectification(people["station_user"], rectification, "done", _evidence())
    later = rectification.due_on + dt.timedelta(days=30)
    assert services.penalize_overdue(services.system_actor(), later) == 0
    assert not services.is_overdue(rectification, later)


def test_reminders_once_each_and_mail_only_with_a_server(app, db, people, rectification):
    people["station_user"].email = "station@example.com"
    soon = rectification.due_on - dt.timedelta(days=2)
    assert services.send_reminders(services.system_actor(), soon) == (1, 0)
    assert services.send_reminders(services.system_actor(), soon) == (0, 0)
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(host)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message["To"])

    app.config["MAIL_SERVER"] = "mail.test"
    try:
        import smtplib

        original = smtplib.SMTP
        smtplib.SMTP = FakeSMTP
        try:
            late = rectification.due_on + dt.timedelta(days=1)
            assert services.send_reminders(services.system_actor(), late) == (1, 1)
        finally:
            smtplib.SMTP = original
    finally:
        app.config["MAIL_SERVER"] = None
    assert sent == ["mail.test", "station@example.com"]
    kinds = db.session.execute(select(RectificationReminder.kind)).scalars().all()
    assert sorted(kinds) == ["due_soon", "overdue"]


# --- who sees what ---------------------------------------------------------------------------


def test_station_users_see_only_their_own(make, people, rectification, planned):
    stranger = make.user(role="station")
    flt = services.InspectionFilter()
    from portal.extensions import db

    own = db.session.execute(services.inspection_query(people["station_user"], flt)).scalars()
    assert [i.id for i in own] == [planned.id]
    other = db.session.execute(services.inspection_query(stranger, flt)).scalars()
    assert list(other) == []
    rect = db.session.execute(
        services.rectification_query(stranger, services.RectificationFilter())
    ).scalars()
    assert list(rect) == []


# --- the site visit of an application ------------------------------------------------------


def _in_screening(make, hq):
    from portal.certification import services as certification

    application = make.complete_application()
    certification.submit(application.applicant, application)
    certification.start_screening(hq, application)
    return application


def test_a_site_visit_rates_the_site_on_the_screening_sheet(make, people, version):
    hq, auditor = people["hq"], people["auditor"]
    application = _in_screening(make, hq)
    with pytest.raises(PermissionDenied):
        services.plan_site_visit(
            auditor,
            application,
            planned_on=services.today(),
            auditor=auditor,
            version=version,
        )
    visit = services.plan_site_visit(
        hq, application, planned_on=services.today(), auditor=auditor, version=version
    )
    assert visit.station_id is None
    answer_all(auditor, visit, {1: "fail", 2: "partial"})  # no stock count at a candidate
    services.submit_inspection(auditor, visit)
    # 100 - 5 - 2.5 = 92.5 % of the site weight
    sheet = application.screening
    assert sheet.ratings["site"] == "92.50"
    assert sheet.visited_on == services.today()
    assert visit.number in sheet.visit_notes
    assert sheet.total == Decimal("18.50")  # 20 x 92.5 %, the other criteria not rated yet
    from portal.extensions import db

    assert db.session.execute(select(Rectification)).first() is None


def test_a_site_visit_needs_an_application_in_screening(make, people, version):
    application = make.complete_application()
    with pytest.raises(InvalidTransition):
        services.plan_site_visit(
            people["hq"],
            application,
            planned_on=services.today(),
            auditor=people["auditor"],
            version=version,
        )
