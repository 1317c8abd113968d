"""Spare parts in a real browser: HQ sends a shipment, the station confirms it on a phone, a
repair consumes the part, the station returns the defective part, HQ confirms the return."""

from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE

PART = "LCD-W2"  # the demo catalogue has it; no demo station holds it


def submit(page, locator):
    with page.expect_navigation():
        page.locator(locator).first.click()


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def stock_of(page, part_no):
    """(good, defective) of a part on the station's stock page; a part not held has no row."""
    page.get_by_test_id("stock-table").wait_for()
    row = page.locator(f'[data-testid=stock-table] tr[data-part="{part_no}"]')
    if row.count() == 0:
        return (0, 0)
    return (
        int(row.locator("[data-col=good]").inner_text()),
        int(row.locator("[data-col=defective]").inner_text()),
    )


def test_shipment_receipt_repair_return(new_context, sign_in, live_server):
    stamp = f"{int(time.time()) % 1_000_000:06d}"
    serial = f"E2E{stamp}"

    # --- HQ makes a shipment to station A and sends it ---------------------------------------
    hq = new_context().new_page()
    sign_in(hq, "hq")
    hq.goto(live_server + "/spares/shipments/new")
    hq.fill("input[name=station_code]", "HA-ZZ-0001")
    submit(hq, "[data-testid=shipment-new] button[type=submit]")
    shipment_path = urlsplit(hq.url).path
    assert re.fullmatch(r"/spares/shipments/\d+", shipment_path), hq.url
    hq.fill("[data-testid=line-form] input[name=part_no]", PART)
    hq.fill("[data-testid=line-form] input[name=quantity]", "1")
    submit(hq, "[data-testid=add-line]")
    expect(hq.get_by_test_id("shipment-lines")).to_contain_text(PART)
    expect(hq.get_by_test_id("shipment-value")).to_contain_text("260.00")
    hq.once("dialog", lambda dialog: dialog.accept())
    submit(hq, "[data-testid=send-shipment]")
    expect(hq.get_by_test_id("shipment-status")).to_have_text("Sent")

    # --- the station confirms the receipt on a phone ---------------------------------------
    station = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    sign_in(station, "station-a")
    station.goto(live_server + "/")
    expect(station.get_by_test_id("dashboard-spares")).to_contain_text("Shipments to confirm")
    station.goto(live_server + shipment_path)
    assert fits_the_phone(station)
    form = station.get_by_test_id("receipt-form")
    expect(form.locator("input[type=number], input[name^=line_]").first).to_have_value("1")
    submit(station, "[data-testid=confirm-receipt]")
    expect(station.get_by_test_id("shipment-status")).to_have_text("Received")
    station.goto(live_server + "/spares/")
    assert urlsplit(station.url).path.startswith("/spares/stations/")
    stock_url = station.url
    assert fits_the_phone(station)
    good, defective = stock_of(station, PART)
    assert good >= 1

    # --- a repair uses the part: good to defective, with the faulty part's serial ------------
    station.goto(live_server + "/reports/")
    submit(station, "[data-testid=open-day]")
    if station.get_by_test_id("reopen-report").count():
        station.fill("#reopen-reason", "补录一条记录")
        submit(station, "[data-testid=reopen-report]")
    submit(station, "[data-testid=new-record]")
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
    start = max(now - dt.timedelta(minutes=90), now.replace(hour=0, minute=0))
    record = station.get_by_test_id("record-form")
    record.locator("input[name=ticket_no]").fill(f"E2E-SP-{stamp}")
    record.locator("input[name=received_at]").fill(start.strftime("%Y-%m-%d %H:%M"))
    record.locator("input[name=completed_at]").fill(
        (now - dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    )
    record.locator("input[name=customer_name]").fill("周八")
    record.locator("input[name=customer_phone]").fill("13900001234")
    record.locator("select[name=device_model]").select_option("W2")
    record.locator("input[name=serial_no]").fill(f"W2{stamp}00")
    record.locator("select[name=warranty]").select_option("paid")
    record.locator("select[name=fault_code]").select_option("D01")
    record.locator("select[name=repair_type]").select_option("instore_simple")
    record.locator("select[name=on_site]").select_option("instore")
    record.locator("input[name=parts], textarea[name=parts]").first.fill(f"{PART}*1#{serial}")
    record.locator("select[name=result]").select_option("repaired")
    with station.expect_navigation():
        record.locator("button[name=then][value=done]").click()
    expect(station.locator("main")).to_contain_text(f"E2E-SP-{stamp}")
    station.goto(stock_url)
    assert stock_of(station, PART) == (good - 1, defective + 1)

    # --- the station returns the defective part ----------------------------------------------
    station.goto(live_server + "/spares/returns")
    submit(station, "[data-testid=new-return]")
    batch_path = urlsplit(station.url).path
    assert re.fullmatch(r"/spares/returns/\d+", batch_path), station.url
    assert fits_the_phone(station)
    line = station.get_by_test_id("return-line-form")
    line.locator("input[name=part_no]").fill(PART)
    line.locator("input[name=quantity]").fill("1")
    line.locator("input[name=faulty_serial]").fill(serial)
    submit(station, "[data-testid=add-return-line]")
    expect(station.get_by_test_id("return-lines")).to_contain_text(serial)
    station.get_by_test_id("ship-form").locator("input[name=carrier_ref]").fill(f"SF{stamp}")
    submit(station, "[data-testid=ship-return]")
    expect(station.get_by_test_id("return-status")).to_have_text("Shipped to HQ")
    station.goto(stock_url)
    assert stock_of(station, PART) == (good - 1, defective)

    # --- HQ confirms what arrived ---------------------------------------------------------------
    hq.goto(live_server + "/spares/returns?status=shipped")
    expect(hq.get_by_test_id("returns")).to_contain_text(batch_path.rsplit("/", 1)[1].zfill(6))
    hq.goto(live_server + batch_path)
    hq.get_by_test_id("confirm-form").locator("select").first.select_option("received")
    submit(hq, "[data-testid=confirm-return]")
    expect(hq.get_by_test_id("return-status")).to_have_text("Confirmed by HQ")
    expect(hq.get_by_test_id("return-lines")).to_contain_text("Received")

    # Every movement is on the station's ledger with its source.
    hq.goto(
        live_server + stock_url[len(live_server) :].replace("/stations/", "/movements?station_id=")
    )
    movements = hq.get_by_test_id("movements")
    expect(movements).to_contain_text(f"E2E-SP-{stamp}")
    expect(movements).to_contain_text(shipment_path.rsplit("/", 1)[1].zfill(6))
