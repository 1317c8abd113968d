"""The month's settlement in a real browser: finance runs a month and watches the progress bar,
the station confirms, HQ approves, a second person in finance approves (the one who ran it may
not), and the workbook is exported and downloaded."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
from playwright.sync_api import expect

STATION = "HA-ZZ-0001"


def submit(page, locator):
    with page.expect_navigation():
        page.locator(locator).first.click()


def test_finance_runs_approves_and_downloads_the_month(new_context, sign_in, live_server, tmp_path):
    # Last month: the demo data holds its reports whole, and a month is locked only once it is
    # over (locking it leaves this month's stock and reports, which other browser tests change).
    this_month = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().replace(day=1)
    month = f"{this_month - dt.timedelta(days=1):%Y-%m}"

    # --- finance runs the month for the demo station and watches the progress bar ----------
    finance = new_context().new_page()
    sign_in(finance, "finance")
    finance.goto(f"{live_server}/settlement/run?month={month}")
    finance.fill("input[name=stations]", STATION)
    submit(finance, "[data-start-run]")
    bar = finance.locator("[data-job-progress]")
    expect(bar).to_be_visible()
    expect(bar.locator("[data-job-state]")).to_have_text("Finished", timeout=60_000)
    assert finance.locator("[data-job-bar]").evaluate("el => el.value") == 100
    submit(finance, "[data-job-result-link]")
    row = finance.locator(f'[data-settlement="{STATION}"]')
    expect(row).to_contain_text("Draft")
    submit(finance, f'[data-settlement="{STATION}"] a')
    settlement_url = finance.url
    assert re.search(r"/settlement/\d+$", settlement_url), settlement_url
    net = finance.locator("[data-net]").inner_text()

    # --- the station confirms, HQ approves ----------------------------------------------------
    station = new_context().new_page()
    sign_in(station, "station-a")
    station.goto(settlement_url)
    submit(station, "[data-action=confirm] button")
    expect(station.locator("[data-status]")).to_have_attribute("data-status", "confirmed")
    hq = new_context().new_page()
    sign_in(hq, "hq")
    hq.goto(settlement_url)
    submit(hq, "[data-action=hq_approve] button")
    expect(hq.locator("[data-status]")).to_have_attribute("data-status", "hq_approved")

    # --- whoever ran it is not offered the finance approval; a second finance person is ------
    finance.goto(settlement_url)
    expect(finance.locator("[data-action=finance_approve]")).to_have_count(0)
    approver = new_context().new_page()
    sign_in(approver, "finance-2")
    approver.goto(settlement_url)
    approver.once("dialog", lambda dialog: dialog.accept())
    submit(approver, "[data-action=finance_approve] button")
    expect(approver.locator("[data-status]")).to_have_attribute("data-status", "finance_approved")

    # --- the workbook: exported as a job, downloaded, checked ----------------------------------
    approver.goto(f"{live_server}/settlement/exports?month={month}")
    option = approver.locator("select[name=station_id] option", has_text=STATION)
    approver.select_option("select[name=station_id]", value=option.get_attribute("value"))
    submit(approver, "[data-start-export]")
    expect(approver.locator("[data-job-progress]")).to_be_visible()
    link = approver.locator("[data-export-download]").first
    expect(link).to_be_visible(timeout=60_000)  # the page reloads when the job is done
    sha = approver.locator("[data-sha256]").first.inner_text().strip()
    with approver.expect_download(timeout=60_000) as info:
        link.click()
    path = tmp_path / "month.xlsx"
    info.value.save_as(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    book = openpyxl.load_workbook(path, data_only=True)
    assert book.sheetnames[:1] == ["Summary"]
    assert {"Records", "Invalid", "Adjustments"} <= set(book.sheetnames)
    summary = book["Summary"]
    assert summary["A2"].value == STATION
    shown = Decimal(re.sub(r"[^\d.\-]", "", net))
    net_column = [c.value for c in summary[1]].index("Net payable") + 1
    assert Decimal(str(round(summary.cell(2, net_column).value, 2))) == shown
