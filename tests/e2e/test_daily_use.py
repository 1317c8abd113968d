"""Daily use in a real browser, in Chinese, for every role: the home page's counts lead to
lists of that many rows, no page shows a raw code, the station manager's pages fit a 390 px
phone, and axe-core (vendored in tests/e2e/vendor, injected by the test, never a CDN) finds no
serious or critical accessibility violation."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, PHONE

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
ROLES = ["station-a", "hq", "finance", "auditor", "admin", "cand-returned", "cand-approved"]
# Rows of the lists a home-page count links to.
ROW_SELECTOR = (
    ", ".join(
        f"[data-testid={name}]"
        for name in (
            "application-row",
            "noncompliant-row",
            "expiring-row",
            "missing-station",
            "warning-record",
        )
    )
    + ", [data-status=missing]"
)
SKIP = re.compile(
    r"/logout|/language|export|\.xlsx|/download|/files/|/sheet|template|/static/|/api/v1/|"
    r"/photos/|/attachments/|sw\.js|state\.json"
)
# Pages whose purpose is to show the codes (catalogue maintenance).
CODE_PAGES = re.compile(r"^/reports/catalogues")


def _zh_context(new_context, **options):
    options.setdefault("locale", "zh-CN")
    return new_context(**options)


def _sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert not page.url.endswith("/login"), f"sign-in as {username} failed"


def _pattern(path: str) -> str:
    parts = urlsplit(path)
    keys = "&".join(sorted(parse_qs(parts.query)))
    return re.sub(r"\d+", "N", parts.path) + ("?" + keys if keys else "")


def _crawl(context, base: str, per_pattern: int = 1, limit: int = 120) -> dict[str, str]:
    """Every page a person can reach by links from the home page (one per URL shape)."""
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    pages: dict[str, str] = {}
    queue = ["/"]
    while queue and len(pages) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        shape = _pattern(path)
        if shapes.get(shape, 0) >= per_pattern:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        response = context.request.get(base + path)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        assert response.status < 500, f"{path} answered {response.status}"
        if response.status != 200:
            continue
        body = response.text()
        pages[path] = body
        for href in re.findall(r'href="([^"#]+)"', body):
            href = htmllib.unescape(href)
            if href.startswith(base):
                href = href[len(base) :]
            if href.startswith("/") and not href.startswith("//") and not SKIP.search(href):
                queue.append(href)
    return pages


def _visible(body: str) -> str:
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", body)
    body = re.sub(r"(?s)<[^>]+>", " ", body)
    return htmllib.unescape(body)


def _codes() -> re.Pattern:
    """Catalogue codes, event names, object types and multi-word state codes of the portal."""
    import importlib

    from portal.core import names
    from portal.core.workflow import LabelledEnum

    for module in (
        "portal.certification.states",
        "portal.inspections.states",
        "portal.reports.states",
        "portal.spares.states",
        "portal.stations.states",
        "portal.settlement.states",
        "portal.spares.models",
    ):
        importlib.import_module(module)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    words = set(names.EVENT_NAMES) | {n for n in names.OBJECT_TYPE_NAMES if n[1:] != n[1:].lower()}
    words |= {m.value for cls in subclasses(LabelledEnum) for m in cls if "_" in m.value}
    # The demo catalogue's repair-type and result codes.
    words |= {
        "instore_simple",
        "onsite_repair",
        "unit_swap",
        "accessory_sale",
        "factory_return",
        "repaired",
        "returned_to_factory",
        "no_fault_found",
    }
    alternatives = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(rf"(?<![\w./@-])({alternatives})(?![\w-])")


@pytest.mark.parametrize("username", ROLES)
def test_home_counts_lead_to_lists_of_that_many_rows(new_context, live_server, username):
    page = _zh_context(new_context).new_page()
    _sign_in(page, live_server, username)
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    links = page.locator("[data-testid=next-link][data-count]")
    targets = [
        (links.nth(i).get_attribute("href"), int(links.nth(i).get_attribute("data-count")))
        for i in range(links.count())
    ]
    if username in ("station-a", "hq", "finance", "admin"):
        assert targets, f"{username}'s home page shows no count"
    for href, count in targets:
        page.goto(live_server + href)
        rows = page.locator(ROW_SELECTOR).count()
        assert rows == count, f"{username}: {href} shows {rows} rows, the home page said {count}"


@pytest.mark.parametrize("username", ROLES)
def test_no_page_shows_a_raw_code(new_context, live_server, username):
    context = _zh_context(new_context)
    page = context.new_page()
    _sign_in(page, live_server, username)
    codes = _codes()
    found = {}
    for path, body in _crawl(context, live_server).items():
        if CODE_PAGES.search(path):
            continue
        text = _visible(body)
        hits = sorted(set(codes.findall(text)))
        if re.search(r"(?<![&\w])#\d+\b", text):
            hits.append("#<id>")
        if hits:
            found[path] = hits
    assert not found, f"raw codes shown to {username}: {found}"


STATION_PAGES = [
    "/",
    "/reports/",
    "/reports/calendar",
    "/reports/upload",
    "/reports/records",
    "/reports/warnings",
    "/spares/",
    "/inspections/",
]


def test_station_manager_pages_fit_a_phone(browser, live_server):
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        _sign_in(page, live_server, "station-a")
        station = page.locator("[data-nav=my-station]").get_attribute("href")
        paths = [*STATION_PAGES, station]
        page.goto(live_server + "/reports/")
        report = page.locator("main a[href^='/reports/']").filter(has_text=re.compile(r"\d{4}-"))
        if report.count():
            paths.append(report.first.get_attribute("href"))
        too_wide = {}
        for path in paths:
            page.goto(live_server + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                too_wide[path] = width
            new_record = page.locator("[data-testid=new-record]")
            if new_record.count():
                page.goto(live_server + new_record.first.get_attribute("href"))
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE["width"]:
                    too_wide[page.url] = width
        assert not too_wide, f"wider than the {PHONE['width']} px phone: {too_wide}"
    finally:
        context.close()


AXE_RUN = (
    "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
    ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))"
)


def _axe(page, script: str) -> list[str]:
    page.add_script_tag(content=script)
    return page.evaluate(AXE_RUN)


@pytest.mark.parametrize("username", ROLES)
def test_axe_finds_no_serious_violation(new_context, live_server, username):
    # The test injects axe itself: bypass_csp lets the page run the vendored file.
    context = _zh_context(new_context, bypass_csp=True)
    page = context.new_page()
    script = AXE.read_text(encoding="utf-8")
    problems = {}
    page.goto(live_server + "/login")
    if found := _axe(page, script):
        problems["/login"] = found
    _sign_in(page, live_server, username)
    for path in _crawl(context, live_server, limit=40):
        page.goto(live_server + path)
        if found := _axe(page, script):
            problems[path] = found
    assert not problems, f"accessibility violations for {username}: {problems}"
