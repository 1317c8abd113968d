"""The whole certification path in a real browser: a candidate applies, HQ screens and
approves, finance records the deposit, HQ authorizes, the candidate manages the new station."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

PASSWORD = "candidate-pass-1"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def submit(page, locator):
    with page.expect_navigation():
        page.locator(locator).click()


def test_candidate_to_station_manager(new_context, sign_in, live_server):
    # --- the candidate signs up and fills in the application ---------------------------------
    candidate = new_context().new_page()
    candidate.goto(live_server + "/certification/signup")
    candidate.fill("input[name=company_name]", "开封汴梁通讯维修有限公司")
    candidate.fill("input[name=display_name]", "赵经理")
    candidate.fill("input[name=email]", "zhao@example.com")
    candidate.fill("input[name=username]", "e2e-candidate")
    candidate.fill("input[name=password]", PASSWORD)
    candidate.fill("input[name=confirm]", PASSWORD)
    submit(candidate, "[data-testid=signup-form] button[type=submit]")
    # Signed in at once, on the new application.
    assert urlsplit(candidate.url).path.startswith("/certification/applications/")
    expect(candidate.locator('[data-nav="stations"]')).to_have_count(0)
    with candidate.expect_navigation():
        candidate.locator('[data-nav="my-application"]').click()
    match = re.fullmatch(r"/certification/applications/(\d+)", urlsplit(candidate.url).path)
    assert match, candidate.url
    application_url = live_server + match.group(0)
    expect(candidate.get_by_test_id("application-status")).to_have_text("Draft")

    submit(candidate, "[data-testid=step-company]")
    candidate.fill("input[name=credit_code]", "91350100M000100Y44")
    submit(candidate, "[data-testid=save-draft]")
    expect(candidate.locator("main")).to_contain_text("check digit")
    candidate.fill("input[name=credit_code]", "91350100M000100Y43")
    candidate.fill("input[name=legal_representative]", "赵建国")
    candidate.fill("input[name=address]", "开封市鼓楼区中山路 8 号")
    candidate.select_option("select[name=province]", "HA")
    candidate.fill("input[name=city]", "开封")
    candidate.select_option("select[name=city_class]", "2")
    candidate.select_option("select[name=requested_tier]", "service_station")
    candidate.fill("textarea[name=brands_serviced]", "华为、中兴")
    candidate.fill("input[name=contact_phone]", "13700001111")
    candidate.check("input[name=no_counterfeit_declared]")
    submit(candidate, "[data-testid=save-next]")

    candidate.fill("[data-testid=staff-form] input[name=name]", "钱协调")
    candidate.select_option("[data-testid=staff-form] select[name=role]", "coordinator")
    submit(candidate, "[data-testid=add-staff]")
    expect(candidate.get_by_test_id("staff-table")).to_contain_text("钱协调")

    submit(candidate, "[data-testid=tab-areas]")
    candidate.fill("input[name=reception_area]", "15")
    candidate.fill("input[name=repair_area]", "10")
    candidate.fill("input[name=storage_area]", "5")
    submit(candidate, "[data-testid=save-next]")
    candidate.check("input[name=has_tools]")
    candidate.fill("input[name=service_phone]", "0371-22220000")
    submit(candidate, "[data-testid=save-next]")
    candidate.fill("input[name=financial_year]", "2025")
    candidate.fill("input[name=total_assets]", "800000")
    candidate.fill("input[name=revenue]", "1500000")
    candidate.fill("input[name=net_profit]", "90000")
    submit(candidate, "[data-testid=save-next]")

    for kind, name in (("business_licence", "licence.pdf"), ("financial_report", "report.pdf")):
        candidate.select_option("[data-testid=upload-form] select[name=kind]", kind)
        candidate.set_input_files(
            "[data-testid=upload-form] input[name=file]",
            {"name": name, "mimeType": "application/pdf", "buffer": PDF},
        )
        submit(candidate, "[data-testid=upload]")
        expect(candidate.get_by_test_id("attachments")).to_contain_text(name)

    submit(candidate, "[data-testid=to-summary]")
    submit(candidate, "[data-testid=submit-application]")
    expect(candidate.get_by_test_id("application-status")).to_have_text("Submitted")

    # --- HQ screens, evaluates and approves at a lower tier ----------------------------------
    hq = new_context().new_page()
    sign_in(hq, "hq")
    hq.goto(live_server + "/certification/applications?status=submitted")
    expect(hq.get_by_test_id("queue")).to_contain_text("开封汴梁通讯维修有限公司")
    hq.goto(application_url)
    submit(hq, "[data-testid=start-screening]")
    expect(hq.get_by_test_id("application-status")).to_have_text("Screening")
    submit(hq, "[data-testid=open-screening]")
    for key in ("qualification", "experience", "personnel", "site", "equipment", "financial"):
        hq.fill(f"input[name={key}]", "80")
    hq.fill("textarea[name=visit_notes]", "场地整洁，工具齐全。")
    submit(hq, "[data-testid=save-screening]")
    expect(hq.get_by_test_id("screening-total")).to_have_text("80.00")
    submit(hq, "[data-testid=complete-evaluation]")
    # No certified engineer yet: the station tier fails, the accessory point passes.
    expect(hq.get_by_test_id("recommendation")).to_contain_text("lower tier")
    hq.select_option("[data-testid=approve-form] select[name=tier]", "accessory_point")
    submit(hq, "[data-testid=approve]")
    expect(hq.get_by_test_id("application-status")).to_have_text("Approved")
    expect(hq.get_by_test_id("approved-tier")).to_contain_text("accessory point")

    # --- finance records the deposit ---------------------------------------------------------
    finance = new_context().new_page()
    sign_in(finance, "finance")
    finance.goto(application_url)
    finance.select_option("[data-testid=deposit-form] select[name=kind]", "paid")
    finance.fill("[data-testid=deposit-form] input[name=amount]", "2000")
    finance.fill("[data-testid=deposit-form] input[name=reference]", "BANK-E2E-1")
    submit(finance, "[data-testid=deposit-form] button[type=submit]")
    expect(finance.get_by_test_id("deposit-balance")).to_contain_text("2,000.00")

    # --- HQ authorizes -----------------------------------------------------------------------
    hq.goto(application_url)
    submit(hq, "[data-testid=open-authorize]")
    hq.fill("input[name=city_code]", "kf")
    submit(hq, "[data-testid=authorize]")
    assert re.fullmatch(r"/stations/\d+", urlsplit(hq.url).path), hq.url
    expect(hq.locator("main h1")).to_contain_text("HA-KF-0001")
    expect(hq.get_by_test_id("compliance-badge")).to_have_text("Compliant")

    # --- the candidate signs in as the new station's manager ---------------------------------
    manager = new_context().new_page()
    sign_in(manager, "e2e-candidate", PASSWORD)
    expect(manager.locator('[data-nav="my-application"]')).to_have_count(0)
    with manager.expect_navigation():
        manager.locator('[data-nav="my-station"]').click()
    expect(manager.locator("main h1")).to_contain_text("开封汴梁通讯维修有限公司")
    expect(manager.locator("main h1")).to_contain_text("HA-KF-0001")
    expect(manager.get_by_test_id("station-deposit-balance")).to_contain_text("2,000.00")
