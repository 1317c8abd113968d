"""The foundation in a real browser: navigation by role, scoping, language, sign-out,
sign-in throttling, the phone layout and that every request stays on the portal."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

NAV_LINKS = ("stations", "my-station", "audit", "users")

# role -> the data-nav links the role must see; every other link of NAV_LINKS must be absent.
ROLE_NAV = {
    "admin": {"stations", "audit", "users"},
    "hq": {"stations", "audit"},
    "auditor": {"stations"},
    "finance": {"stations"},
    "station-a": {"my-station"},
    "station-b": {"my-station"},
}


def path_of(url: str) -> str:
    return urlsplit(url).path


def nav_link(page, name: str):
    return page.get_by_test_id("main-nav").locator(f'[data-nav="{name}"]')


def open_my_station(page) -> int:
    """Follow the my-station link; the station id from the URL."""
    with page.expect_navigation():
        nav_link(page, "my-station").click()
    match = re.fullmatch(r"/stations/(\d+)", path_of(page.url))
    assert match, f"my-station led to {page.url}, not /stations/<id>"
    return int(match.group(1))


@pytest.mark.parametrize("username", list(ROLE_NAV))
def test_each_demo_role_sees_its_navigation(page, sign_in, username):
    sign_in(page, username)

    expect(page.get_by_test_id("user-menu")).to_be_visible()
    for name in NAV_LINKS:
        if name in ROLE_NAV[username]:
            expect(nav_link(page, name)).to_be_visible()
        else:
            expect(nav_link(page, name)).to_have_count(0)


def test_station_user_cannot_open_another_station_by_url(new_context, sign_in, live_server):
    page_b = new_context().new_page()
    sign_in(page_b, "station-b")
    station_b = open_my_station(page_b)
    station_b_heading = page_b.locator("main h1").inner_text().strip()
    assert station_b_heading

    page_a = new_context().new_page()
    sign_in(page_a, "station-a")
    station_a = open_my_station(page_a)
    assert station_a != station_b

    response = page_a.goto(f"{live_server}/stations/{station_b}")
    assert response is not None
    assert response.status == 404
    expect(page_a.locator("main h1")).to_have_text("404")
    expect(page_a.get_by_test_id("error-message")).to_be_visible()
    assert station_b_heading not in page_a.content()


def chinese_for(message: str) -> str | None:
    """The compiled Chinese catalogue's translation of message, None while untranslated."""
    from babel.support import Translations

    from portal.core.i18n import translation_directories

    root = Path(__file__).resolve().parents[2] / "portal"
    merged = None
    for directory in translation_directories(str(root)):
        loaded = Translations.load(directory, ["zh"])
        if not isinstance(loaded, Translations):
            continue  # no compiled catalogue there
        merged = loaded if merged is None else merged.merge(loaded)
    translated = merged.gettext(message) if merged is not None else message
    return translated if translated != message else None


def test_language_switch_on_the_login_page(new_context, live_server):
    # A browser asking for Chinese first, so that English is a real switch.
    page = new_context(locale="zh-CN").new_page()
    page.goto(live_server + "/login")
    html = page.locator("html")
    heading = page.locator("main h1")
    expect(html).to_have_attribute("lang", "zh-CN")

    with page.expect_navigation():
        page.click("button[name=lang][value=en]")
    assert path_of(page.url) == "/login"
    expect(html).to_have_attribute("lang", "en")
    expect(heading).to_have_text("Sign in")
    expect(page.locator("button[name=lang][value=en]")).to_have_class(re.compile(r"\bbtn-light\b"))

    with page.expect_navigation():
        page.click("button[name=lang][value=zh]")
    assert path_of(page.url) == "/login"
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(page.locator("button[name=lang][value=zh]")).to_have_class(re.compile(r"\bbtn-light\b"))
    chinese = chinese_for("Sign in")
    if chinese is not None:
        expect(heading).to_have_text(chinese)

    # The choice is kept for the next page load.
    page.reload()
    expect(html).to_have_attribute("lang", "zh-CN")


def test_sign_out_invalidates_the_saved_session_cookie(
    page, context, new_context, sign_in, live_server
):
    sign_in(page, "hq")
    saved = context.cookies()
    assert any(c["name"] == "portal_session" for c in saved), saved

    # While signed in, the same cookies open the home page in another browser.
    before = new_context()
    before.add_cookies(saved)
    replay = before.new_page()
    replay.goto(live_server + "/")
    assert path_of(replay.url) == "/"
    expect(replay.get_by_test_id("user-menu")).to_be_visible()

    page.get_by_test_id("user-menu").click()
    with page.expect_navigation():
        page.get_by_test_id("logout").click()
    assert path_of(page.url) == "/login"

    after = new_context()
    after.add_cookies(saved)
    stale = after.new_page()
    stale.goto(live_server + "/")
    assert path_of(stale.url) == "/login"
    expect(stale.get_by_test_id("user-menu")).to_have_count(0)


def test_sixth_wrong_password_is_throttled(page, live_server):
    # A username no other test signs in with: the throttle counts per username.
    username = "throttle-e2e"
    page.goto(live_server + "/login")
    statuses = []
    for attempt in range(1, 7):
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", f"wrong-password-{attempt}")
        with page.expect_navigation() as navigation:
            page.click("main form button[type=submit]")
        statuses.append(navigation.value.status)
    assert statuses == [200, 200, 200, 200, 200, 429]
    expect(page.locator("main h1")).to_have_text("429")
    expect(page.get_by_test_id("error-message")).to_be_visible()


def test_phone_navbar_collapses_into_the_toggler(phone_page, sign_in):
    sign_in(phone_page, "hq")
    toggler = phone_page.locator("nav .navbar-toggler")
    stations = nav_link(phone_page, "stations")

    expect(toggler).to_be_visible()
    expect(stations).to_be_hidden()
    expect(phone_page.get_by_test_id("user-menu")).to_be_hidden()

    toggler.click()  # Bootstrap's collapse: only works if its JS loads under the CSP
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(stations).to_be_visible()
    expect(nav_link(phone_page, "audit")).to_be_visible()
    expect(phone_page.get_by_test_id("user-menu")).to_be_visible()


def test_desktop_navbar_is_expanded_without_toggler(page, sign_in):
    sign_in(page, "hq")
    expect(page.locator("nav .navbar-toggler")).to_be_hidden()
    expect(nav_link(page, "stations")).to_be_visible()


def test_every_request_stays_on_the_live_server(page, sign_in, live_server):
    requests: list[str] = []
    csp_messages: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            csp_messages.append(message.text)

    page.on("request", lambda request: requests.append(request.url))
    page.on("console", on_console)

    sign_in(page, "admin")
    for path in ("/", "/stations/", "/audit/", "/users/"):
        response = page.goto(live_server + path, wait_until="networkidle")
        assert response is not None
        assert response.status == 200, f"{path} answered {response.status}"

    origin = live_server + "/"
    foreign = [
        url for url in requests if not url.startswith(origin) and not url.startswith("data:")
    ]
    assert foreign == []
    assert any("/static/" in url and url.split("?")[0].endswith(".js") for url in requests)
    assert any("/static/" in url and url.split("?")[0].endswith(".css") for url in requests)
    assert csp_messages == []
