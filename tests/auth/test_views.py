"""Sign-in, throttling, logout invalidation, idle timeout, deactivation, password change."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from portal.auth import services
from portal.auth.models import UserSession
from portal.core.audit import AuditEntry
from portal.core.db import now_utc


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def test_login_success_redirects_and_records(client, make, db):
    user = make.user(role="hq", password="right-pass-1")
    response = _login(client, user.username.upper(), "right-pass-1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    actions = [e.action for e in db.session.query(AuditEntry).filter_by(object_id=str(user.id))]
    assert "auth.login" in actions


def test_same_message_for_unknown_user_and_wrong_password(client, make):
    user = make.user(role="hq", password="right-pass-1")
    wrong = _login(client, user.username, "wrong-pass").get_data(as_text=True)
    unknown = _login(client, "nobody-here", "wrong-pass").get_data(as_text=True)
    message = "The username or password is not correct."
    assert message in wrong
    assert message in unknown


def test_next_parameter_only_follows_local_paths(client, make):
    user = make.user(role="hq", password="right-pass-1")
    response = client.post(
        "/login?next=https://evil.example/x",
        data={"username": user.username, "password": "right-pass-1"},
    )
    assert response.headers["Location"] == "/"


def test_sixth_failure_for_one_username_answers_429(client, make):
    user = make.user(role="hq", password="right-pass-1")
    for _ in range(5):
        assert _login(client, user.username, "wrong").status_code == 200
    assert _login(client, user.username, "wrong").status_code == 429
    # Locked for that username even with the right password, but not for another user.
    assert _login(client, user.username, "right-pass-1").status_code == 429
    other = make.user(role="hq", password="right-pass-1")
    assert _login(client, other.username, "right-pass-1").status_code == 302


def test_successful_logins_do_not_count_as_failures(client, make):
    user = make.user(role="hq", password="right-pass-1")
    for _ in range(7):
        assert _login(client, user.username, "right-pass-1").status_code == 302
        client.post("/logout")


def test_cookie_copied_before_logout_is_refused_after(app, client, make):
    user = make.user(role="hq", password="right-pass-1")
    _login(client, user.username, "right-pass-1")
    saved = client.get_cookie("portal_session").value
    assert client.get("/stations/").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("portal_session", saved)
    response = thief.get("/stations/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_deactivated_user_loses_access_at_next_request(client, make, db):
    user = make.user(role="hq", password="right-pass-1")
    _login(client, user.username, "right-pass-1")
    assert client.get("/stations/").status_code == 200
    services.set_active(make.user(role="admin"), user, False)
    db.session.commit()
    response = client.get("/stations/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert _login(client, user.username, "right-pass-1").status_code == 200


def test_idle_session_expires(client, make, app):
    user = make.user(role="hq", password="right-pass-1")
    _login(client, user.username, "right-pass-1")
    assert client.get("/stations/").status_code == 200
    later = now_utc() + app.config["IDLE_TIMEOUT"] + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        response = client.get("/stations/")
    assert response.status_code == 302


def test_active_use_keeps_session_alive(client, make, app, db):
    user = make.user(role="hq", password="right-pass-1")
    _login(client, user.username, "right-pass-1")
    start = now_utc()
    step = app.config["IDLE_TIMEOUT"] - timedelta(hours=1)
    for n in range(1, 4):
        with time_machine.travel(start + step * n, tick=False):
            assert client.get("/stations/").status_code == 200
    assert db.session.query(UserSession).filter_by(user_id=user.id).count() == 1


def test_password_change_needs_current_password(client, make):
    user = make.user(role="auditor", password="right-pass-1")
    _login(client, user.username, "right-pass-1")
    response = client.post(
        "/account/password",
        data={
            "current_password": "not-it",
            "new_password": "new-pass-22",
            "confirm": "new-pass-22",
        },
    )
    assert response.status_code == 200
    assert "The current password is not correct." in response.get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={
            "current_password": "right-pass-1",
            "new_password": "new-pass-22",
            "confirm": "new-pass-22",
        },
    )
    assert response.status_code == 302
    client.post("/logout")
    assert _login(client, user.username, "right-pass-1").status_code == 200
    assert _login(client, user.username, "new-pass-22").status_code == 302


def test_password_change_signs_out_other_browsers(app, client, make):
    user = make.user(role="auditor", password="right-pass-1")
    other = app.test_client()
    _login(other, user.username, "right-pass-1")
    _login(client, user.username, "right-pass-1")
    client.post(
        "/account/password",
        data={
            "current_password": "right-pass-1",
            "new_password": "new-pass-22",
            "confirm": "new-pass-22",
        },
    )
    assert client.get("/stations/").status_code == 200
    assert other.get("/stations/").status_code == 302


def test_logout_is_post_only(client, login_as):
    login_as("hq")
    assert client.get("/logout").status_code == 405
    assert client.get("/stations/").status_code == 200


def test_session_cookie_flags(client, make):
    user = make.user(role="hq", password="right-pass-1")
    response = _login(client, user.username, "right-pass-1")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(client, make):
    user = make.user(role="hq", password="right-pass-1")
    response = client.post(
        "/login",
        data={"username": user.username, "password": "right-pass-1"},
        base_url="https://localhost",
    )
    assert "Secure" in response.headers["Set-Cookie"]


def test_forwarded_proto_counts_only_from_a_trusted_proxy(client, make, proxied_app):
    user = make.user(role="hq", password="right-pass-1")
    data = {"username": user.username, "password": "right-pass-1"}
    spoofed = client.post("/login", data=data, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in spoofed.headers["Set-Cookie"]
    proxied = proxied_app.test_client().post(
        "/login", data=data, headers={"X-Forwarded-Proto": "https"}
    )
    assert "Secure" in proxied.headers["Set-Cookie"]
