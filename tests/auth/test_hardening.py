"""Common passwords refused, an absolute session lifetime, limits that spoofing cannot escape."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from portal.auth import passwords, services
from portal.auth.models import UserSession
from portal.core.actors import SYSTEM
from portal.core.db import now_utc
from portal.core.errors import DomainError

COMMON = ["password", "12345678", "password123", "portal-demo", "qwertyuiop", "88888888"]


def _login(client, username, password, **kwargs):
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


# --- passwords ----------------------------------------------------------------------------


@pytest.mark.parametrize("password", COMMON)
def test_common_and_published_passwords_are_refused(app, password):
    with app.test_request_context():
        assert passwords.problem(password) is not None


@pytest.mark.parametrize("password", ["long-enough-1", "Zhang-Wei-2026!", "豆浆油条配咸菜好吃"])
def test_ordinary_good_passwords_pass(app, password):
    with app.test_request_context():
        assert passwords.problem(password) is None


def test_a_password_built_on_the_username_is_refused(app):
    with app.test_request_context():
        assert passwords.problem("zhangwei88", username="zhangwei") is not None
        assert passwords.problem("zhangwei88", username="lifang") is None


@pytest.mark.parametrize("password", COMMON)
def test_new_accounts_cannot_use_a_common_password(db, password):
    with pytest.raises(DomainError) as error:
        services.create_user(SYSTEM, username="new-one", password=password, roles=["hq"])
    assert error.value.field == "password"
    assert services.find_user("new-one") is None


def test_password_change_refuses_a_common_password_next_to_the_field(client, make):
    user = make.user(role="auditor", password="right-pass-1")
    _login(client, user.username, "right-pass-1")
    for common in ("password123", "portal-demo"):
        response = client.post(
            "/account/password",
            data={"current_password": "right-pass-1", "new_password": common, "confirm": common},
        )
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "too common" in html or "demo password" in html
    client.post("/logout")
    assert _login(client, user.username, "right-pass-1").status_code == 302


def test_admin_cannot_give_a_user_a_common_password(client, login_as, make):
    login_as("admin")
    target = make.user(role="finance")
    response = client.post(
        f"/users/{target.id}",
        data={
            "username": target.username,
            "roles": ["finance"],
            "station_id": "",
            "active": "y",
            "password": "12345678",
        },
    )
    assert response.status_code == 200
    assert "too common" in response.get_data(as_text=True)
    assert target.check_password("secret-pass-1")


def test_cli_refuses_a_common_password(runner, make):
    user = make.user(role="hq")
    result = runner.invoke(args=["users", "set-password", user.username], input="password\n" * 2)
    assert result.exit_code != 0
    assert "too common" in result.output


def test_demo_data_still_signs_in_with_the_demo_password(runner, client):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert _login(client, "hq", "portal-demo").status_code == 302
    # Outside the demo loader the demo password is refused again.
    with pytest.raises(DomainError):
        services.create_user(SYSTEM, username="copycat", password="portal-demo", roles=["hq"])


# --- session lifetime ---------------------------------------------------------------------


def test_a_session_ends_after_its_absolute_lifetime_however_active(app, client, make, db):
    user = make.user(role="hq", password="right-pass-1")
    start = now_utc()
    with time_machine.travel(start, tick=False):
        assert _login(client, user.username, "right-pass-1").status_code == 302
    max_age = app.config["SESSION_MAX_AGE"]
    assert max_age == timedelta(days=30)
    step = app.config["IDLE_TIMEOUT"] - timedelta(hours=1)
    moment = start
    while moment + step < start + max_age:
        moment += step
        with time_machine.travel(moment, tick=False):
            assert client.get("/stations/").status_code == 200, moment
    with time_machine.travel(start + max_age + timedelta(minutes=1), tick=False):
        response = client.get("/stations/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert db.session.query(UserSession).filter_by(user_id=user.id).count() == 0


def test_absolute_lifetime_is_configurable(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_MAX_AGE", timedelta(hours=2))
    user = make.user(role="hq", password="right-pass-1")
    start = now_utc()
    with time_machine.travel(start, tick=False):
        _login(client, user.username, "right-pass-1")
    with time_machine.travel(start + timedelta(hours=1, minutes=59), tick=False):
        assert client.get("/stations/").status_code == 200
    with time_machine.travel(start + timedelta(hours=2, minutes=1), tick=False):
        assert client.get("/stations/").status_code == 302


# --- limits and forwarded addresses ---------------------------------------------------------


def test_spoofed_forwarded_for_does_not_escape_the_address_limit(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_LIMIT", "3 per 15 minutes")
    answers = [
        _login(
            client,
            f"nobody-{n}",
            "wrong-pass-1",
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        ).status_code
        for n in range(5)
    ]
    assert answers == [200, 200, 200, 429, 429]


def test_spoofed_forwarded_for_does_not_escape_the_signup_limit(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNUP_LIMIT", "2 per hour")
    answers = [
        client.post(
            "/certification/signup",
            data={"username": f"x{n}"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        ).status_code
        for n in range(4)
    ]
    assert answers[:2] != [429, 429]
    assert answers[2:] == [429, 429]


def test_a_trusted_proxy_gives_the_client_address(proxied_app, make, db, monkeypatch):
    monkeypatch.setitem(proxied_app.config, "LOGIN_ADDRESS_LIMIT", "2 per 15 minutes")
    client = proxied_app.test_client()
    user = make.user(role="hq", password="right-pass-1")
    # Two clients behind the proxy are counted apart.
    for n in range(2):
        headers = {"X-Forwarded-For": f"203.0.113.{n}"}
        assert _login(client, "nobody", "wrong-pass-1", headers=headers).status_code == 200
        assert _login(client, "nobody-b", "wrong-pass-1", headers=headers).status_code == 200
    headers = {"X-Forwarded-For": "203.0.113.9, 10.0.0.1"}  # one hop trusted: the last one
    assert _login(client, user.username, "right-pass-1", headers=headers).status_code == 302
    row = db.session.query(UserSession).filter_by(user_id=user.id).one()
    assert row.ip == "10.0.0.1"
