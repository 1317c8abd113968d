"""Services: one report per day, all-or-nothing batches, submit/reopen, the settlement lock,
deadlines, calendar, coverage, serial history, catalogues."""

import datetime as dt

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.core.audit import AuditEntry
from portal.core.dates import local_today
from portal.core.errors import DomainError, InvalidTransition, PermissionDenied
from portal.reports import services
from portal.reports.models import DailyReport, PartUsed, RepairRecord
from portal.reports.states import DayStatus, RecordSource, ReportStatus

CHINA_NOON = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai


def audit_entries(db, object_type, object_id):
    return list(
        db.session.execute(
            select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
            .order_by(AuditEntry.id)
        ).scalars()
    )


def count(db, model, **where):
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.execute(stmt).scalar_one()


def test_one_report_per_station_and_day_enforced_by_the_database(db, make):
    station = make.station()
    report = make.report(station, dt.date(2026, 11, 2))
    assert (
        services.open_report(make.reporter(station), station, dt.date(2026, 11, 2)).id == report.id
    )
    db.session.add(DailyReport(station_id=station.id, report_on=dt.date(2026, 11, 2)))
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_a_batch_with_one_bad_record_stores_nothing(db, make):
    station = make.station()
    report = make.report(station, dt.date(2026, 11, 3))
    day = report.report_on
    rows = [(i + 2, make.record_values(day, i)) for i in range(20)]
    rows[7][1]["fault_code"] = "NOPE"
    rows[12][1]["customer_phone"] = "12"
    with pytest.raises(services.RecordsRejected) as caught:
        services.import_records(make.reporter(report.station), report, rows, RecordSource.EXCEL)
    problems = caught.value.problems
    assert [(p["row"], p["field"]) for p in problems] == [
        (9, "fault_code"),
        (14, "customer_phone"),
    ]
    assert problems[0]["value"] == "NOPE"
    assert count(db, RepairRecord, station_id=station.id) == 0
    rows[7][1]["fault_code"] = "D01"
    rows[12][1]["customer_phone"] = "13900001111"
    result = services.import_records(
        make.reporter(report.station), report, rows, RecordSource.EXCEL
    )
    assert len(result.records) == 20
    assert count(db, RepairRecord, station_id=station.id) == 20
    assert count(db, PartUsed) >= 20


def test_ticket_numbers_are_unique_per_station(db, make):
    station, other = make.station(), make.station()
    day = dt.date(2026, 11, 4)
    report = make.report(station, day)
    services.add_record(
        make.reporter(report.station), report, make.record_values(day, 1, ticket_no="A-1")
    )
    with pytest.raises(services.RecordsRejected) as caught:
        services.import_records(
            make.reporter(station),
            report,
            [
                (2, make.record_values(day, 2, ticket_no="A-1")),
                (3, make.record_values(day, 3, ticket_no="A-2")),
                (4, make.record_values(day, 4, ticket_no="A-2")),
            ],
            RecordSource.EXCEL,
        )
    assert [(p["row"], p["field"]) for p in caught.value.problems] == [
        (2, "ticket_no"),
        (4, "ticket_no"),
    ]
    # Another station may use the same ticket number.
    other_report = make.report(other, day)
    services.add_record(
        make.reporter(other), other_report, make.record_values(day, 1, ticket_no="A-1")
    )


def test_submit_then_changes_are_refused_until_reopened(db, make):
    station = make.station()
    day = dt.date(2026, 11, 5)
    report = make.report(station, day, records=1)
    services.submit_report(make.reporter(report.station), report)
    assert report.status == ReportStatus.SUBMITTED
    first = report.first_submitted_at
    with pytest.raises(DomainError, match="Reopen"):
        services.add_record(make.reporter(report.station), report, make.record_values(day, 99))
    with pytest.raises(DomainError, match="Reopen"):
        services.submit_report(make.reporter(report.station), report)
    with pytest.raises(InvalidTransition):
        services.reopen_report(
            make.reporter(report.station),
            services.open_report(
                make.reporter(report.station), report.station, dt.date(2026, 11, 7)
            ),
        )
    services.reopen_report(make.reporter(report.station), report, "typo in a serial")
    services.update_record(
        make.reporter(report.station),
        report.records[0],
        {**services.record_raw(report.records[0]), "serial_no": "P30999"},
    )
    services.submit_report(make.reporter(report.station), report)
    assert report.first_submitted_at == first  # lateness is decided by the first submission
    assert report.records[0].serial_no == "P30999"


def test_amending_is_refused_once_the_settlement_leaves_draft(db, make):
    station = make.station()
    day = dt.date(2026, 10, 15)
    report = make.report(station, day, records=1, submit=True)
    settlement = make.settlement(station, day)
    services.reopen_report(
        make.reporter(report.station), report, "a record was missing"
    )  # draft settlement: amending is allowed
    services.submit_report(make.reporter(report.station), report)
    settlement.status = "confirmed"
    db.session.flush()
    with pytest.raises(DomainError, match="2026-10"):
        services.reopen_report(make.reporter(report.station), report)
    assert report.status == ReportStatus.SUBMITTED
    with pytest.raises(DomainError, match="2026-10"):
        services.open_report(make.reporter(station), station, dt.date(2026, 10, 16))
    # Another month of the same station is not affected.
    services.open_report(make.reporter(station), station, dt.date(2026, 11, 1))


def test_station_users_report_only_for_their_own_station(db, make):
    station, other = make.station(), make.station()
    user = make.user(role="station", station=station)
    hq = make.user(role="hq")
    report = make.report(other, dt.date(2026, 11, 6))
    with pytest.raises(PermissionDenied):
        services.open_report(user, other, dt.date(2026, 11, 6))
    with pytest.raises(PermissionDenied):
        services.submit_report(user, report)
    with pytest.raises(PermissionDenied):
        services.open_report(hq, station, dt.date(2026, 11, 6))


def test_no_report_for_a_future_day(db, make):
    station = make.station()
    with pytest.raises(DomainError, match="future"):
        services.open_report(make.reporter(station), station, local_today() + dt.timedelta(days=1))


@time_machine.travel(CHINA_NOON, tick=False)
def test_calendar_shows_on_time_late_missing_and_open_days(db, make):
    station = make.station()
    on_time = make.report(station, dt.date(2026, 11, 16), submit=True)
    on_time.first_submitted_at = dt.datetime(2026, 11, 17, 1, 59, tzinfo=dt.UTC)  # 09:59
    late = make.report(station, dt.date(2026, 11, 17), submit=True)
    late.first_submitted_at = dt.datetime(2026, 11, 18, 2, 1, tzinfo=dt.UTC)  # 10:01
    make.report(station, dt.date(2026, 11, 18))  # a draft, never submitted: missing
    db.session.flush()
    days = {d.day: d.status for d in services.month_calendar(station.id, dt.date(2026, 11, 1))}
    assert days[dt.date(2026, 11, 16)] == DayStatus.ON_TIME
    assert days[dt.date(2026, 11, 17)] == DayStatus.LATE
    assert days[dt.date(2026, 11, 18)] == DayStatus.MISSING
    assert days[dt.date(2026, 11, 15)] == DayStatus.MISSING
    assert days[dt.date(2026, 11, 19)] == DayStatus.MISSING  # was due at 10:00 today
    assert days[dt.date(2026, 11, 20)] == DayStatus.OPEN  # due at 10:00 tomorrow
    assert days[dt.date(2026, 11, 21)] == DayStatus.FUTURE


@time_machine.travel(CHINA_NOON, tick=False)
def test_the_deadline_is_a_setting_with_an_effective_date(db, make):
    hq = make.user(role="hq")
    station = make.station()
    report = make.report(station, dt.date(2026, 11, 20), submit=True)
    report.first_submitted_at = dt.datetime(2026, 11, 21, 6, 0, tzinfo=dt.UTC)  # 14:00
    db.session.flush()
    assert services.report_standing(report) == DayStatus.LATE
    setting = services.add_setting(hq, dt.date(2026, 11, 20), 1, dt.time(18, 0))
    assert services.report_standing(report) == DayStatus.ON_TIME
    # Days before the effective date keep the old deadline.
    assert services.due_for(dt.date(2026, 11, 19)) == dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
    entry = audit_entries(db, "ReportSetting", setting.id)[-1]
    assert entry.after == {
        "effective_on": "2026-11-20",
        "due_days_after": 1,
        "due_time": "18:00:00",
        "created_by_id": hq.id,
    }
    with pytest.raises(PermissionDenied):
        services.add_setting(make.user(role="finance"), dt.date(2026, 12, 1), 1, dt.time(9, 0))


@time_machine.travel(CHINA_NOON, tick=False)
def test_a_deadline_cannot_take_effect_before_today(db, make):
    hq = make.user(role="hq")
    before = services.settings_list()
    with pytest.raises(DomainError, match="before today") as caught:
        services.add_setting(hq, dt.date(2026, 11, 19), 1, dt.time(18, 0))  # yesterday
    assert caught.value.field == "effective_on"
    assert services.settings_list() == before
    # Today and later are accepted; an edit of a future version audits its old and new values.
    services.add_setting(hq, dt.date(2026, 11, 20), 1, dt.time(12, 0))
    later = services.add_setting(hq, dt.date(2026, 12, 1), 2, dt.time(9, 0))
    services.add_setting(hq, dt.date(2026, 12, 1), 1, dt.time(9, 0))
    entry = audit_entries(db, "ReportSetting", later.id)[-1]
    assert (entry.before, entry.after) == ({"due_days_after": 2}, {"due_days_after": 1})


def test_coverage_lists_active_stations_without_a_submitted_report(db, make):
    day = dt.date(2026, 11, 10)
    reported = make.station(province="HN", code="HN-TS-0901")
    silent = make.station(province="HN", code="HN-TS-0902")
    draft_only = make.station(province="HN", code="HN-TS-0903")
    make.station(province="HN", code="HN-TS-0904", status="suspended")
    make.report(reported, day, submit=True)
    make.report(draft_only, day)
    rows = services.coverage(day, "HN")
    assert len(rows) == 1
    row = rows[0]
    missing = {s.code for s in row.missing}
    assert silent.code in missing
    assert draft_only.code in missing
    assert reported.code not in missing
    assert "HN-TS-0904" not in missing
    assert row.reported == row.active - len(row.missing)


def test_serial_history_spans_stations_and_is_hq_only(db, make):
    a, b = make.station(), make.station()
    day1, day2 = dt.date(2026, 11, 1), dt.date(2026, 11, 8)
    services.add_record(
        make.reporter(a), make.report(a, day1), make.record_values(day1, 1, serial_no="P30777")
    )
    services.add_record(
        make.reporter(b), make.report(b, day2), make.record_values(day2, 2, serial_no="P30777")
    )
    history = services.serial_history(make.user(role="auditor"), "p30777")
    assert [r.station_id for r in history] == [a.id, b.id]
    with pytest.raises(PermissionDenied):
        services.serial_history(make.user(role="station", station=a), "P30777")


def test_catalogues_are_hq_edited_and_used_by_validation(db, make):
    make.catalogues()
    hq = make.user(role="hq")
    entry = services.save_catalogue_entry(
        hq,
        "models",
        code="x9",
        name="X9",
        serial_pattern=r"X9\d{4}",
        warranty_months=6,
        active=True,
    )
    assert entry.code == "X9"
    with pytest.raises(DomainError, match="taken"):
        services.save_catalogue_entry(
            hq, "models", code="X9", name="X9", serial_pattern="X", warranty_months=6
        )
    with pytest.raises(DomainError) as caught:
        services.save_catalogue_entry(
            hq, "models", code="X8", name="X8", serial_pattern="([", warranty_months=6
        )
    assert caught.value.field == "serial_pattern"
    with pytest.raises(PermissionDenied):
        services.save_catalogue_entry(
            make.user(role="station"), "faults", code="Z1", name_zh="z", name_en="z", category="c"
        )
    station = make.station()
    day = dt.date(2026, 11, 9)
    report = make.report(station, day)
    services.add_record(
        make.reporter(report.station),
        report,
        make.record_values(day, 1, device_model="X9", serial_no="X91234"),
    )
    services.save_catalogue_entry(
        hq, "models", entry, name="X9", serial_pattern=r"X9\d{4}", warranty_months=6, active=False
    )
    with pytest.raises(services.RecordsRejected) as caught:
        services.add_record(
            make.reporter(report.station), report, make.record_values(day, 2, device_model="X9")
        )
    assert caught.value.problems[0]["field"] == "device_model"


def test_reopening_needs_a_reason_which_is_audited(db, make):
    from sqlalchemy import select

    from portal.core.audit import AuditEntry

    report = make.report(make.station(), dt.date(2026, 11, 3), records=1, submit=True)
    user = make.reporter(report.station)
    with pytest.raises(DomainError, match="reason") as refused:
        services.reopen_report(user, report, "  \x00 ")
    assert refused.value.field == "reason"
    assert report.status == ReportStatus.SUBMITTED
    services.reopen_report(user, report, "漏报一条记录")
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "daily_report.reopened")
    ).scalar_one()
    assert entry.comment == "漏报一条记录"
