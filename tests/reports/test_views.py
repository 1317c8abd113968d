"""Pages: the day's report by form, upload, calendar, HQ coverage, serial lookup, export."""

import datetime as dt
import io
import re

import openpyxl
from sqlalchemy import select

from portal.core.dates import local_today
from portal.reports import services
from portal.reports.models import DailyReport, RepairRecord
from tests.reports.xlsx_helpers import fill_template


def _form(values: dict) -> dict:
    return {k: ("" if v is None else v) for k, v in values.items()}


def test_station_reports_a_day_by_form(client, db, make, login_as):
    make.catalogues()
    station = make.station()
    login_as("station", station=station)
    day = local_today() - dt.timedelta(days=1)
    response = client.post("/reports/open", data={"report_on": day.isoformat()})
    assert response.status_code == 302
    report = services.find_report(station.id, day)
    new_url = f"/reports/{report.id}/records/new"
    assert client.get(new_url).status_code == 200
    values = make.record_values(day, 1, customer_phone="13912345678")
    response = client.post(new_url, data={**_form(values), "then": "copy"})
    assert response.status_code == 302
    record = db.session.execute(
        select(RepairRecord).where(RepairRecord.station_id == station.id)
    ).scalar_one()
    assert f"copy={record.id}" in response.headers["Location"]
    # The copy keeps the repetitive fields and clears the customer and the device.
    copy_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="LCD-P30*1#OLD123"' in copy_page
    assert "13912345678" not in copy_page
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "139****5678" in page
    assert "13912345678" not in page
    response = client.post(
        f"/reports/{report.id}/counts",
        data={
            "received_count": 3,
            "completed_count": 1,
            "pending_count": 2,
            "returned_count": 0,
            "complaint_count": 0,
            "version": report.version,
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    report = db.session.get(DailyReport, report.id)
    response = client.post(f"/reports/{report.id}/submit", data={"version": report.version})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(DailyReport, report.id).status.value == "submitted"


def test_form_errors_are_shown_next_to_fields_with_input_kept(client, db, make, login_as):
    make.catalogues()
    station = make.station()
    login_as("station", station=station)
    report = make.report(station, local_today())
    values = make.record_values(report.report_on, 1, customer_phone="555", serial_no="P30ABC123")
    values["repair_type"] = "unit_swap"
    db.session.commit()  # as a real request would find it (the view rolls back on errors)
    response = client.post(f"/reports/{report.id}/records/new", data=_form(values))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Not a phone number" in page
    assert "A unit swap needs the serial" in page
    assert 'value="P30ABC123"' in page
    stmt = select(RepairRecord).where(RepairRecord.station_id == station.id)
    assert db.session.execute(stmt).first() is None


def test_another_stations_report_is_404(client, db, make, login_as):
    mine, theirs = make.station(), make.station()
    report = make.report(theirs, local_today(), records=1)
    login_as("station", station=mine)
    assert client.get(f"/reports/{report.id}").status_code == 404
    assert client.get(f"/reports/records/{report.records[0].id}").status_code == 404
    assert client.post(f"/reports/{report.id}/submit").status_code == 404


def test_reopen_is_refused_with_a_message_once_settled(client, db, make, login_as):
    station = make.station()
    day = dt.date(2026, 10, 3)
    report = make.report(station, day, records=1, submit=True)
    make.settlement(station, day, status="hq_approved")
    db.session.commit()
    login_as("station", station=station)
    response = client.post(f"/reports/{report.id}/reopen", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "has left draft" in page
    assert db.session.get(DailyReport, report.id).status.value == "submitted"


def test_upload_page_imports_and_shows_errors(client, db, make, login_as):
    make.catalogues()
    station = make.station()
    login_as("station", station=station)
    day = local_today()
    template = client.get("/reports/template.xlsx")
    assert template.status_code == 200
    rows = [make.record_values(day, i) for i in range(1, 4)]
    rows[2]["device_model"] = "ZZZ"
    bad = fill_template(template.data, rows)
    response = client.post(
        "/reports/upload",
        data={"report_on": day.isoformat(), "file": (io.BytesIO(bad), "day.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was imported" in page
    assert "Unknown device model" in page
    assert "ZZZ" in page
    link = re.search(r'href="([^"]+errors\.xlsx)"', page).group(1)
    errors = openpyxl.load_workbook(io.BytesIO(client.get(link).data))["Errors"]
    assert errors.cell(row=2, column=1).value == 4
    rows[2]["device_model"] = "P40"
    rows[2]["serial_no"] = "P40000000001"
    good = fill_template(template.data, rows)
    response = client.post(
        "/reports/upload",
        data={
            "report_on": day.isoformat(),
            "file": (io.BytesIO(good), "day.xlsx"),
            "submit_after": "y",
        },
        content_type="multipart/form-data",
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 records imported" in page
    report = services.find_report(station.id, day)
    assert report.status.value == "submitted"
    assert len(report.records) == 3


def test_hq_sees_coverage_serial_history_calendar_and_export(client, db, make, login_as):
    make.catalogues()
    station = make.station(province="SC", code="SC-TS-0777")
    silent = make.station(province="SC", code="SC-TS-0778")
    day = local_today()
    make.report(station, day, submit=True)
    login_as("hq")
    page = client.get(f"/reports/coverage?day={day.isoformat()}&province=SC").get_data(as_text=True)
    assert silent.code in page
    assert f">{station.code}" not in page
    other_day = day - dt.timedelta(days=2)
    r2 = make.report(station, other_day, records=1)
    serial = r2.records[0].serial_no
    page = client.get(f"/reports/serial?serial={serial}").get_data(as_text=True)
    assert r2.records[0].ticket_no in page
    assert "138****5678" in page
    page = client.get(f"/reports/calendar?station_id={station.id}&month={day:%Y-%m}")
    assert page.status_code == 200
    # HQ picks a station by its code in a search box; no list of every station is sent.
    page = client.get(f"/reports/calendar?station={station.code.lower()}&month={day:%Y-%m}")
    html = page.get_data(as_text=True)
    assert f'value="{station.code}"' in html
    assert "<select" not in html.split("<main")[-1].split("</form>")[0]
    missing = client.get("/reports/calendar?station=XX-NO-0000").get_data(as_text=True)
    assert "XX-NO-0000" in missing
    export = client.get(f"/reports/records/export.xlsx?station_id={station.id}")
    sheet = openpyxl.load_workbook(io.BytesIO(export.data))["Records"]
    assert sheet.max_row == 2
    assert sheet.cell(row=2, column=7).value == "138****5678"


def test_station_users_cannot_use_hq_views(client, db, make, login_as):
    login_as("station")
    assert client.get("/reports/coverage").status_code == 403
    assert client.get("/reports/serial?serial=X").status_code == 403
    assert client.get("/reports/catalogues").status_code == 403


def test_hq_edits_catalogues_and_the_deadline(client, db, make, login_as):
    login_as("hq")
    response = client.post(
        "/reports/catalogues/models/new",
        data={
            "code": "q1",
            "name": "Q1",
            "serial_pattern": "([",
            "warranty_months": 12,
            "active": "y",
        },
    )
    assert "Not a valid pattern" in response.get_data(as_text=True)
    response = client.post(
        "/reports/catalogues/models/new",
        data={
            "code": "q1",
            "name": "Q1",
            "serial_pattern": r"Q1\d{6}",
            "warranty_months": 12,
            "active": "y",
        },
    )
    assert response.status_code == 302
    response = client.post(
        "/reports/settings",
        data={"effective_on": "2027-01-01", "due_days_after": 1, "due_time": "12:00"},
    )
    assert response.status_code == 302
    assert services.setting_for(dt.date(2027, 1, 2)).due_time == dt.time(12, 0)


def test_the_edit_form_shows_personal_data_whole_and_logs_it(client, db, make, login_as):
    from portal.core.audit import AuditEntry

    station = make.station()
    report = make.report(station, local_today(), records=1)
    record = report.records[0]
    user = login_as("station", station=station)
    page = client.get(f"/reports/records/{record.id}/edit").get_data(as_text=True)
    assert 'value="13812345678"' in page
    shown = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "repair_record.personal_data_shown",
            AuditEntry.object_id == str(record.id),
        )
    ).scalar_one()
    assert shown.actor_id == user.id
    detail = client.get(f"/reports/records/{record.id}").get_data(as_text=True)
    assert "13812345678" not in detail


def test_extreme_days_in_query_arguments_fall_back(client, db, make, login_as):
    login_as("hq")
    for url in (
        "/reports/coverage?day=9999-12-31",
        "/reports/coverage?day=0001-01-01",
        "/reports/records?date_from=0001-01-01&date_to=9999-12-31",
        "/reports/calendar?month=9999-12",
    ):
        assert client.get(url).status_code == 200, url


def test_control_characters_in_query_arguments_are_not_server_errors(client, db, make, login_as):
    login_as("hq")
    for url in (
        "/reports/coverage?province=%00",
        "/reports/records?province=%00&serial=%00&ticket=%00&device_model=%00&result=%00",
        "/reports/records/export.xlsx?province=%00&repair_type=%00",
        "/reports/serial?serial=%00",
        "/reports/?station_id=%00",
        "/reports/calendar?station_id=%00&month=%00",
    ):
        assert client.get(url).status_code == 200, url


def test_control_characters_in_catalogue_forms_are_refused(client, db, make, login_as):
    login_as("hq")
    response = client.post(
        "/reports/catalogues/faults/new",
        # NUL and the like never arrive (core cleans every parameter); a tab or a line break
        # does, and a one-line catalogue name refuses it.
        data={"code": "Z9", "name_zh": "坏\t坏", "name_en": "bad", "category": "x", "active": "y"},
    )
    assert response.status_code == 200
    assert "control characters" in response.get_data(as_text=True)


def test_control_characters_in_a_reason_or_token_name_are_cleaned(client, db, make, login_as):
    station = make.station()
    report = make.report(station, dt.date(2026, 11, 2), submit=True)
    db.session.commit()
    login_as("station", station=station)
    response = client.post(f"/reports/{report.id}/reopen", data={"reason": "typo\x00"})
    assert response.status_code == 302
    response = client.post("/api-tokens/", data={"name": "ERP\x00"})
    assert response.status_code == 200


def test_huge_ids_are_404_or_ignored_not_server_errors(client, db, make, login_as):
    login_as("hq")
    big = 2**40
    for url, codes in (
        (f"/reports/{big}", {404}),
        (f"/reports/records/{big}", {404}),
        (f"/reports/uploads/{big}", {404}),
        (f"/reports/?station_id={big}&after={big}", {200}),
        (f"/reports/records?station_id={big}&before={big}", {200}),
        (f"/reports/calendar?station_id={big}", {200, 404}),
        (f"/reports/catalogues/models/{big}/edit", {404}),
    ):
        assert client.get(url).status_code in codes, url


def test_the_new_record_form_preselects_nothing_a_person_must_choose(client, db, make, login_as):
    import re

    make.catalogues()
    station = make.station()
    login_as("station", station=station)
    day = local_today() - dt.timedelta(days=1)
    client.post("/reports/open", data={"report_on": day.isoformat()})
    report = services.find_report(station.id, day)
    page = client.get(f"/reports/{report.id}/records/new").get_data(as_text=True)
    for name in ("device_model", "fault_code", "repair_type", "result"):
        select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
        first = re.search(r"<option([^>]*)>", select_html).group(1)
        assert 'value=""' in first, name
        assert "selected" not in select_html, name
    values = make.record_values(day, 1)
    values["repair_type"] = ""
    response = client.post(f"/reports/{report.id}/records/new", data=_form(values))
    assert response.status_code in (200, 422)
    assert "is-invalid" in response.get_data(as_text=True)
    assert services.find_report(station.id, day).records == []


def test_the_report_page_warns_about_counts_and_record_warnings(client, db, make, login_as):
    station = make.station()
    day = local_today() - dt.timedelta(days=1)
    report = make.report(station, day, records=2, parts="")
    make.update(report.records[0], serial_no="BAD")
    db.session.commit()
    login_as("station", station=station)
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'data-testid="counts-disagree"' in page  # 0 completed, 2 records
    assert page.count('data-testid="record-warning"') == 1
    client.post(
        f"/reports/{report.id}/counts",
        data={
            "received_count": "2",
            "completed_count": "2",
            "pending_count": "0",
            "returned_count": "0",
            "complaint_count": "0",
            "version": str(report.version),
        },
    )
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'data-testid="counts-disagree"' not in page
