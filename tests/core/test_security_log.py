"""Security events as structured log lines: who, from where, which request; never secrets."""

from __future__ import annotations

import json
import logging

import pytest

from portal.core.security_log import format_event

LOGGER = "portal.security"


@pytest.fixture
def events(caplog):
    """The security events logged so far, as dicts (each line must be one JSON object)."""
    caplog.set_level(logging.INFO, logger=LOGGER)

    def _events():
        found = []
        for record in caplog.records:
            if record.name == LOGGER:
                line = record.getMessage()
                assert "\n" not in line, line
                assert "\r" not in line, line
                found.append(json.loads(line))
        return found

    return _events


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def test_sign_in_success_failure_and_sign_out_are_logged(client, make, events):
    user = make.user(role="hq", password="right-pass-1")
    response = _login(client, user.username, "wrong-pass-77")
    failure = events()[-1]
    assert failure["event"] == "login.failure"
    assert failure["user"] == user.username
    assert failure["ip"] == "127.0.0.1"
    assert failure["request_id"] == response.headers["X-Request-ID"]
    _login(client, user.username, "right-pass-1")
    assert events()[-1]["event"] == "login.success"
    assert events()[-1]["user"] == user.username
    client.post("/logout")
    assert events()[-1]["event"] == "logout"
    assert events()[-1]["user"] == user.username


def test_refusals_403_csrf_and_429_are_logged(app, client, make, login_as, events, monkeypatch):
    station_user = login_as("station")
    assert client.get("/users/").status_code == 403
    denied = events()[-1]
    assert (denied["event"], denied["user"], denied["status"]) == (
        "access.denied",
        station_user.username,
        403,
    )
    assert denied["path"] == "/users/"
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/logout").status_code == 400
    assert events()[-1]["event"] == "csrf.failure"
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    target = make.user(role="hq")
    for _ in range(6):
        response = _login(app.test_client(), target.username, "wrong-pass-77")
    assert response.status_code == 429
    limited = events()[-1]
    assert (limited["event"], limited["status"]) == ("rate.limited", 429)


def test_no_password_token_or_cookie_is_ever_logged(app, client, make, caplog, events):
    user = make.user(role="hq", password="right-pass-1")
    _login(client, user.username, "not-the-password-xyz")
    _login(client, user.username, "right-pass-1")
    cookie = client.get_cookie("portal_session").value
    client.get("/users/")
    client.post("/logout")
    bearer = "pst_secret-token-value"
    app.test_client().get("/api/v1/station", headers={"Authorization": f"Bearer {bearer}"})
    assert any(e["event"] == "access.unauthenticated" for e in events())
    text = caplog.text
    for secret in ("not-the-password-xyz", "right-pass-1", cookie, bearer, "secret-token"):
        assert secret not in text


def test_cr_and_lf_in_user_supplied_values_are_escaped(client, events):
    forged = 'bob\r\n{"event": "login.success", "user": "admin"}\u2028x'
    _login(client, forged, "wrong-pass-77")
    logged = [e for e in events() if e["event"] == "login.failure"]
    assert len(logged) == 1
    assert logged[0]["user"].startswith("bob")  # the value stays one field of one line
    assert not any(e["event"] == "login.success" for e in events())
    line = format_event("x", user="a\r\nb\u2028c\u0085d")
    assert "\n" not in line
    assert "\r" not in line
    assert "\u2028" not in line
    assert "\u0085" not in line
    assert "\\r\\n" in line


def test_a_request_id_is_given_and_only_a_trusted_proxy_may_set_it(app, client, proxied_app):
    response = client.get("/login", headers={"X-Request-ID": "forged-request-id-1"})
    assert response.headers["X-Request-ID"] != "forged-request-id-1"
    assert len(response.headers["X-Request-ID"]) >= 8
    proxied = proxied_app.test_client().get(
        "/login", headers={"X-Request-ID": "proxy-request-id-1"}
    )
    assert proxied.headers["X-Request-ID"] == "proxy-request-id-1"
