"""CSRF, headers, no inline script or style, error pages, upload limit, health check."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_token_from


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def test_post_without_csrf_token_is_refused(client, make, csrf_on):
    user = make.user(role="hq", password="right-pass-1")
    response = client.post("/login", data={"username": user.username, "password": "right-pass-1"})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)


def test_post_with_csrf_token_works_and_every_form_carries_one(client, make, csrf_on):
    user = make.user(role="admin", password="right-pass-1")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"username": user.username, "password": "right-pass-1", "csrf_token": token},
    )
    assert response.status_code == 302
    for url in ("/", "/stations/new", "/users/new", "/account/password"):
        html = client.get(url).get_data(as_text=True)
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", html, re.S | re.I)
        assert forms, url
        for form in forms:
            assert 'name="csrf_token"' in form, url
    # The language switch and logout are forms too: without a token they are refused.
    assert client.post("/language", data={"lang": "en"}).status_code == 400
    assert client.post("/logout").status_code == 400


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client, login_as, make):
    login_as("admin")
    station = make.station()
    for url in (
        "/",
        "/stations/",
        f"/stations/{station.id}",
        "/stations/new",
        "/users/",
        "/users/new",
        "/audit/",
        "/account/password",
        "/nope",
    ):
        html = client.get(url).get_data(as_text=True)
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, (url, tag)
        assert not re.search(r"\sstyle=", html), url
        assert "cdn" not in html.lower(), url


def test_assets_are_served_locally(client):
    html = client.get("/login").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert any("bootstrap" in s for s in sources)
    for source in sources:
        assert source.startswith("/"), source
        with client.get(source) as response:
            assert response.status_code == 200, source


def test_error_pages_hide_tracebacks(app, client, login_as, monkeypatch):
    login_as("hq")

    def boom():
        raise RuntimeError("secret internals")

    monkeypatch.setitem(app.view_functions, "stations.index", boom)
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/stations/")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in html
    assert "Traceback" not in html
    assert "Something went wrong" in html or "出错" in html


def test_not_found_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert 'data-testid="error-message"' in response.get_data(as_text=True)


def test_upload_size_limit(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = client.post("/login", data={"username": "x", "password": "y" * 5000})
    assert response.status_code == 413


def test_healthz_checks_database(client, monkeypatch):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}

    from portal.extensions import db

    def broken(*args, **kwargs):
        raise ConnectionError("database down")

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "error"


def test_trace_answers_405_with_an_allow_header(client):
    for path in ("/login", "/", "/api/v1/station", "/healthz"):
        response = client.open(path, method="TRACE")
        assert response.status_code == 405, path
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert "GET" in allowed, path
        assert "TRACE" not in allowed, path


JSON_TYPES = {"integer": int, "string": str, "object": dict, "array": list}


def _matches(body, schema) -> None:
    """body against an OpenAPI object schema of plain properties (what the Error schema is)."""
    assert isinstance(body, dict), body
    properties = schema["properties"]
    if schema.get("additionalProperties") is False:
        assert set(body) <= set(properties), set(body) - set(properties)
    for name in schema.get("required", []):
        assert name in body, name
    for name, value in body.items():
        assert isinstance(value, JSON_TYPES[properties[name]["type"]]), (name, value)


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v1/reports/2147483648"])
def test_api_404_body_matches_the_documented_error_schema(client, path):
    spec = client.get("/api/v1/openapi.json").get_json()
    schema = spec["components"]["schemas"]["Error"]
    response = client.get(path, headers={"Authorization": "Bearer pst_nothing"})
    assert response.status_code in (401, 404)
    body = response.get_json()
    _matches(body, schema)
    assert body["code"] == response.status_code
    unknown = client.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404
    _matches(unknown.get_json(), schema)
    assert set(unknown.get_json()) == {"code", "status", "message"}
    assert unknown.get_json()["status"] == "Not Found"
    wrong_method = client.delete("/api/v1/station")
    assert wrong_method.status_code == 405
    _matches(wrong_method.get_json(), schema)
    assert "GET" in wrong_method.headers["Allow"]


def test_error_page_after_a_database_error_is_the_portals_own(app, client, login_as, monkeypatch):
    """The failed transaction is rolled back before the page (which reads the user) renders."""
    from sqlalchemy import text

    from portal.extensions import db

    user = login_as("hq")

    def broken_view():
        db.session.execute(text("SELECT no_such_column FROM users"))

    monkeypatch.setitem(app.view_functions, "stations.index", broken_view)
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/stations/")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert user.username in html  # the full page, with the signed-in user's menu
    assert "Reference:" in html
    assert response.headers["X-Request-ID"] in html


def test_a_value_the_database_cannot_hold_is_a_400_not_a_500(app, client, login_as, monkeypatch):
    from sqlalchemy import Integer, bindparam, select

    from portal.extensions import db

    login_as("hq")

    def huge_number_view():
        stmt = select(bindparam("n", 10**30, type_=Integer))
        db.session.execute(stmt).all()

    monkeypatch.setitem(app.view_functions, "stations.index", huge_number_view)
    response = client.get("/stations/")
    assert response.status_code == 400
    assert "too long or out of range" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # the session works on afterwards
