"""A station reports its day by Excel in a real browser: download the portal's template, fill
it in, upload it, see the records; a bad file is refused with its error list."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import openpyxl
from playwright.sync_api import expect

from portal.reports.excel import COLUMNS, RECORDS_SHEET


def _rows(day: dt.date, prefix: str, n: int) -> list[dict]:
    rows = []
    for i in range(1, n + 1):
        rows.append(
            {
                "ticket_no": f"{prefix}-{i:03d}",
                "received_at": dt.datetime.combine(day, dt.time(9, i)),
                "completed_at": dt.datetime.combine(day, dt.time(11, i)),
                "customer_name": "赵六",
                "customer_phone": f"1390000{i:04d}",
                "device_model": "P30",
                "serial_no": f"P30{int(prefix[-6:]):06d}{i:03d}",
                "purchase_on": day - dt.timedelta(days=60),
                "warranty": "warranty",
                "fault_code": "D01",
                "repair_type": "instore_simple",
                "on_site": "instore",
                "parts": "LCD-P30*1",
                "result": "repaired",
                "satisfaction": 5,
            }
        )
    return rows


def _fill(template_path: str, rows: list[dict], out_path) -> None:
    workbook = openpyxl.load_workbook(template_path)
    sheet = workbook[RECORDS_SHEET]
    for r, values in enumerate(rows, start=2):
        for c, column in enumerate(COLUMNS, start=1):
            if values.get(column.field) not in (None, ""):
                sheet.cell(row=r, column=c).value = values[column.field]
    workbook.save(out_path)


def _upload(page, live_server, day, path):
    page.goto(f"{live_server}/reports/upload?day={day.isoformat()}")
    page.get_by_test_id("upload-form").locator('input[type="file"]').set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_test_id("upload-submit").click()


def test_station_downloads_fills_and_uploads_the_template(page, sign_in, live_server, tmp_path):
    sign_in(page, "station-a")
    page.goto(f"{live_server}/reports/upload")
    with page.expect_download() as download_info:
        page.get_by_test_id("template-link").first.click()
    template = tmp_path / "template.xlsx"
    download_info.value.save_as(template)

    day = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    prefix = f"E2E-{int(time.time()) % 1_000_000:06d}"
    rows = _rows(day, prefix, 5)

    # A bad row refuses the whole file, with the row, the column, the value and the reason.
    bad = [dict(r) for r in rows]
    bad[2]["device_model"] = "NOSUCH"
    bad_path = tmp_path / "bad.xlsx"
    _fill(str(template), bad, bad_path)
    _upload(page, live_server, day, bad_path)
    expect(page.get_by_test_id("upload-rejected")).to_be_visible()
    errors = page.get_by_test_id("upload-errors")
    expect(errors).to_contain_text("NOSUCH")
    expect(errors.locator("tbody tr")).to_have_count(1)
    with page.expect_download() as error_download:
        page.get_by_test_id("error-workbook").click()
    error_path = tmp_path / "errors.xlsx"
    error_download.value.save_as(error_path)
    error_book = openpyxl.load_workbook(error_path)
    assert error_book["Errors"].cell(row=2, column=1).value == 4

    good_path = tmp_path / "good.xlsx"
    _fill(str(template), rows, good_path)
    _upload(page, live_server, day, good_path)
    expect(page.get_by_test_id("upload-imported")).to_contain_text("5")
    with page.expect_navigation():
        page.get_by_test_id("open-report").click()
    table = page.get_by_test_id("records-table")
    for row in rows:
        expect(table).to_contain_text(row["ticket_no"])
    expect(table).to_contain_text("139****0001")
    expect(table).not_to_contain_text("13900000001")

    # The same file again is recognised and refused; nothing is imported twice.
    _upload(page, live_server, day, good_path)
    expect(page.locator(".alert-danger")).to_contain_text("already imported")


def test_api_documentation_renders_from_the_portal_alone(page, live_server):
    requests: list[str] = []
    console_errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
    page.goto(f"{live_server}/api/v1/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("Service network portal API")
    expect(page.locator(".swagger-ui").get_by_text("/api/v1/reports").first).to_be_visible()
    assert all(url.startswith(live_server) for url in requests), requests
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors
