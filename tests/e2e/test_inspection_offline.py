"""An auditor fills in an inspection on a 375 px phone, loses the network half way, reloads
the page offline, and finds every answer on the server once the network is back."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

PHONE_375 = {"width": 375, "height": 812}
ONLINE_ITEMS = range(1, 7)
OFFLINE_ITEMS = range(7, 13)
RESULTS = {1: "pass", 2: "partial", 3: "pass", 4: "fail", 5: "pass", 6: "partial"}
RESULTS |= {7: "pass", 8: "fail", 9: "partial", 10: "pass", 11: "partial", 12: "pass"}


def _answer(page, number: int) -> None:
    item = page.get_by_test_id(f"item-{number}")
    item.get_by_test_id(f"result-{RESULTS[number]}").click()
    note = item.locator("textarea[data-field=note]")
    note.fill(f"note {number} 备注")
    note.blur()  # leaving the field saves at once (typing saves after a pause)


def test_offline_answers_reach_the_server(new_context, sign_in, live_server):
    context = new_context(viewport=PHONE_375, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, "auditor")

    # Plan an inspection for today and open its form.
    page.goto(live_server + "/inspections/plan")
    page.fill("input[name=station_code]", "HA-LY-0001")
    with page.expect_navigation():
        page.get_by_test_id("plan-submit").click()
    assert re.fullmatch(r"/inspections/\d+", urlsplit(page.url).path), page.url
    with page.expect_navigation():
        page.get_by_test_id("fill-link").click()
    fill_url = page.url
    state_url = fill_url.rsplit("/", 1)[0] + "/state.json"
    status = page.get_by_test_id("sync-status")
    expect(page.locator("#inspection-fill[data-offline-ready='1']")).to_have_count(1)
    # Nothing sticks out sideways on a 375 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    # First half online: each answer saves itself.
    for number in ONLINE_ITEMS:
        _answer(page, number)
    expect(status).to_have_attribute("data-state", "saved", timeout=20_000)

    # The network goes away; the auditor goes on.
    context.set_offline(True)
    for number in OFFLINE_ITEMS:
        _answer(page, number)
    expect(status).to_have_attribute("data-state", "offline", timeout=10_000)
    expect(status).to_have_attribute("data-pending", "6")

    # Reload without a network: the service worker serves the form, the browser kept the rest.
    page.reload()
    for number in [*ONLINE_ITEMS, *OFFLINE_ITEMS]:
        item = page.get_by_test_id(f"item-{number}")
        expect(item.locator(f"input[data-field=result][value={RESULTS[number]}]")).to_be_checked()
        expect(item.locator("textarea[data-field=note]")).to_have_value(f"note {number} 备注")
    expect(status).to_have_attribute("data-state", "offline")

    # Back online: everything is sent.
    context.set_offline(False)
    expect(status).to_have_attribute("data-state", "saved", timeout=30_000)

    # Every answer is on the server.
    saved = context.request.get(state_url).json()
    answers = {a["item_id"]: a for a in saved["answers"]}
    items = page.locator("[data-item]")
    for index in range(items.count()):
        number = index + 1
        item_id = int(items.nth(index).get_attribute("data-item"))
        if number in RESULTS:
            assert answers[item_id]["result"] == RESULTS[number], number
            assert answers[item_id]["note"] == f"note {number} 备注", number
            assert answers[item_id]["score"] != "", number
        else:
            assert answers[item_id]["result"] == "", number
    assert saved["status"] == "in_progress"
