"""The home page per role: what waits, each count a link to a list with that many rows; and
"who has not reported" counting only the stations that owed the day's report."""

from __future__ import annotations

import datetime as dt
import re

import time_machine

from portal.certification import services as cert
from portal.core.actors import SYSTEM
from portal.reports import services as reports
from portal.reports.states import DayStatus

# 2026-03-10 12:00 in Shanghai: the report of 9 March was due at 10:00 today.
NOON = dt.datetime(2026, 3, 10, 4, 0, tzinfo=dt.UTC)
EARLY = dt.datetime(2026, 3, 10, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai: not yet due


def _counts(html: str) -> dict[str, int]:
    return {
        href.replace("&amp;", "&"): int(n)
        for href, n in re.findall(r'href="([^"]+)"[^>]*data-count="(\d+)"', html)
    }


def test_last_due_day_waits_for_the_deadline(app, db):
    with app.app_context():
        assert reports.last_due_day(NOON) == dt.date(2026, 3, 9)
        assert reports.last_due_day(EARLY) == dt.date(2026, 3, 8)


def test_only_stations_active_on_the_day_owe_its_report(app, db, make):
    day = dt.date(2026, 3, 9)
    with time_machine.travel(dt.datetime(2026, 3, 5, 4, 0, tzinfo=dt.UTC), tick=False):
        owes = make.station(agreement_start_on=dt.date(2026, 1, 1))
        later = make.station(agreement_start_on=dt.date(2026, 3, 10))  # authorized after it
        suspended_before = make.station()
        reported = make.station()
        suspended_after = make.station()
        cert.suspend(SYSTEM, suspended_before, "closed for renovation")
    with time_machine.travel(NOON, tick=False):
        make.report(reported, day=day, submit=True)
        cert.suspend(SYSTEM, suspended_after, "closed today")
        db.session.flush()
        missing = {s.code for row in reports.coverage(day) for s in row.missing}
        count = reports.missing_count(day)
    ours = {owes.code, later.code, suspended_before.code, reported.code, suspended_after.code}
    assert missing & ours == {owes.code, suspended_after.code}
    assert count == len(missing)


def test_calendar_marks_days_before_the_agreement_not_due(app, db, make):
    station = make.station(agreement_start_on=dt.date(2026, 3, 5))
    with time_machine.travel(NOON, tick=False):
        days = {
            d.day.day: d.status for d in reports.month_calendar(station.id, dt.date(2026, 3, 1))
        }
    assert days[4] == DayStatus.NOT_DUE
    assert days[5] == DayStatus.MISSING
    assert days[11] == DayStatus.FUTURE


def test_station_home_counts_link_to_lists_of_that_many_rows(client, login_as, make):
    station = make.station(tier="service_station")
    user = login_as("station", station=station)
    assert user.station_id == station.id
    report = make.report(station, records=1)
    bad = make.record_values(n=7, serial_no="NOT-A-SERIAL", repair_type="complex")
    reports.add_record(make.reporter(station), report, bad)
    html = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    counts = _counts(html)
    assert counts["/reports/warnings"] == 1
    page = client.get("/reports/warnings").get_data(as_text=True)
    assert page.count('data-testid="warning-record"') == 1
    assert "今天的日报" in html
    month = next(u for u in counts if u.startswith("/reports/calendar"))
    calendar = client.get(month).get_data(as_text=True)
    assert calendar.count('data-status="missing"') == counts[month]


def test_hq_and_finance_home_counts_match_their_lists(client, login_as, make, db):
    short = make.station(tier="service_center", city_class="1")
    cert.refresh_station_compliance(short, actor=SYSTEM)
    make.candidate(company_name="待审公司")
    login_as("hq")
    counts = _counts(client.get("/").get_data(as_text=True))
    assert counts["/certification/compliance"] >= 1
    for url, n in counts.items():
        page = client.get(url).get_data(as_text=True)
        rows = len(
            re.findall(
                r'data-testid="(?:application-row|noncompliant-row|expiring-row|missing-station)"',
                page,
            )
        )
        assert rows == n, url
    client.post("/logout")
    login_as("finance")
    counts = _counts(client.get("/").get_data(as_text=True))
    assert counts["/certification/compliance?gap=deposit"] >= 1
    page = client.get("/certification/compliance?gap=deposit").get_data(as_text=True)
    assert (
        page.count('data-testid="noncompliant-row"')
        == counts["/certification/compliance?gap=deposit"]
    )


def test_candidate_home_says_the_next_step_and_its_menu_has_no_station_pages(client, make):
    application = make.candidate(company_name="下一步公司")
    client.post(
        "/login", data={"username": application.applicant.username, "password": "secret-pass-1"}
    )
    html = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "下一步公司" in html
    assert "填写六个步骤" in html
    nav = re.search(r'(?s)data-testid="main-nav".*?</ul>', html).group(0)
    for href in re.findall(r'href="([^"#]+)"', nav):
        assert client.get(href).status_code in (200, 302), href
    assert "/reports/" not in nav
