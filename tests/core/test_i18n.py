"""Two languages: the choice, the catalogues, dates and money by locale."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal.auth import services

ROOT = Path(__file__).resolve().parents[2]


def test_default_language_is_chinese(client):
    html = client.get("/login", headers={"Accept-Language": ""}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "登录" in html


def test_browser_language_is_used_before_sign_in(client):
    html = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="en">' in html
    assert "Sign in" in html


def test_switch_before_sign_in_then_kept_on_user(client, make, db):
    user = make.user(role="hq", password="right-pass-1")
    client.post("/language", data={"lang": "en", "next": "/login"})
    assert "Sign in" in client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": user.username, "password": "right-pass-1"})
    client.post("/language", data={"lang": "zh", "next": "/"})
    assert services.find_user(user.username).locale == "zh"
    html = client.get("/stations/").get_data(as_text=True)
    assert "全部省份" in html
    client.post("/language", data={"lang": "en", "next": "/"})
    assert "Stations" in client.get("/stations/").get_data(as_text=True)


def test_language_switch_refuses_unknown_language_and_foreign_redirect(client):
    assert client.post("/language", data={"lang": "fr"}).status_code == 400
    response = client.post("/language", data={"lang": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_saved_language_applies_at_next_sign_in(app, make, db):
    user = make.user(role="finance", password="right-pass-1", locale="en")
    client = app.test_client()
    client.post(
        "/login",
        data={"username": user.username, "password": "right-pass-1"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_money_and_dates_follow_the_locale(app):
    from portal.core.i18n import local_datetime, money

    moment = dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC)  # 00:30 on 2 March in Shanghai
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert money(Decimal("12345.6")) == "CN¥12,345.60"
        assert "Mar 2, 2026" in local_datetime(moment)
        assert "12:30" in local_datetime(moment)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert money(Decimal("12345.6")) == "¥12,345.60"
        assert "2026年3月2日" in local_datetime(moment)


def _catalogue_ids() -> dict[str, str]:
    translations: dict[str, str] = {}
    for po in ROOT.glob("portal/**/translations/zh/LC_MESSAGES/messages.po"):
        with po.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if message.id and not message.fuzzy:
                key = message.id if isinstance(message.id, str) else message.id[0]
                value = message.string if isinstance(message.string, str) else message.string[0]
                if value:
                    translations[key] = value
    return translations


def test_every_visible_string_has_a_chinese_translation():
    translations = _catalogue_ids()
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {
        "_": None,
        "_l": None,
        "gettext": None,
        "lazy_gettext": None,
        "ngettext": (1, 2),
        "lazy_ngettext": (1, 2),
    }
    missing = set()
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map=method_map,
        keywords=keywords,
        directory_filter=lambda path: not Path(path).name.startswith((".", "__")),
    ):
        if filename.startswith(("tests", ".venv", "migrations")):
            continue
        key = message if isinstance(message, str) else message[0]
        if key and key not in translations:
            missing.add(f"{filename}: {key}")
    assert not missing, "untranslated:\n" + "\n".join(sorted(missing))
