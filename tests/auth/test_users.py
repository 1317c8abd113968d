"""User administration: pages, CLI, station binding rules."""

from __future__ import annotations

import pytest

from portal.auth import services
from portal.core.errors import DomainError


def test_admin_creates_station_user_bound_to_station(client, login_as, make):
    login_as("admin")
    station = make.station()
    response = client.post(
        "/users/new",
        data={
            "username": "Clerk.One",
            "display_name": "店员",
            "roles": ["station"],
            "station_id": str(station.id),
            "active": "y",
            "password": "clerk-pass-1",
        },
    )
    assert response.status_code == 302
    user = services.find_user("clerk.one")
    assert user.station_id == station.id


def test_station_user_without_station_is_refused_with_input_kept(client, login_as):
    login_as("admin")
    response = client.post(
        "/users/new",
        data={
            "username": "lonely",
            "display_name": "孤单",
            "roles": ["station"],
            "station_id": "",
            "active": "y",
            "password": "clerk-pass-1",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "A station user must be bound to a station." in html
    assert 'value="孤单"' in html
    assert services.find_user("lonely") is None


def test_station_role_cannot_be_mixed_with_hq_roles(make):
    station = make.station()
    admin = make.user(role="admin")
    with pytest.raises(DomainError, match="cannot also hold an HQ role"):
        services.create_user(
            admin,
            username="mixed",
            password="mixed-pass-1",
            roles=["station", "hq"],
            station_id=station.id,
        )


def test_admin_deactivates_user_from_edit_page(client, login_as, make):
    login_as("admin")
    target = make.user(role="finance")
    response = client.post(
        f"/users/{target.id}",
        data={
            "username": target.username,
            "display_name": "x",
            "roles": ["finance"],
            "station_id": "",
            "password": "",
        },
    )
    assert response.status_code == 302
    assert services.find_user(target.username).active is False


def test_admin_cannot_remove_own_admin_role(client, login_as):
    admin = login_as("admin")
    response = client.post(
        f"/users/{admin.id}",
        data={"username": admin.username, "roles": ["hq"], "station_id": "", "active": "y"},
    )
    assert response.status_code == 200
    assert "You cannot remove your own administrator access." in response.get_data(as_text=True)


def test_users_cli_create_list_deactivate(runner, make):
    station = make.station()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "cli-user",
            "--role",
            "station",
            "--station",
            station.code,
            "--password",
            "cli-pass-12",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "created cli-user (station)" in result.output
    result = runner.invoke(args=["users", "list"])
    assert f"cli-user\tstation\t{station.code}\tactive" in result.output
    result = runner.invoke(args=["users", "deactivate", "cli-user"])
    assert result.exit_code == 0
    assert services.find_user("cli-user").active is False


def test_users_cli_refuses_bad_input_cleanly(runner):
    result = runner.invoke(
        args=["users", "create", "x-user", "--role", "station", "--password", "cli-pass-12"]
    )
    assert result.exit_code != 0
    assert "must be bound to a station" in result.output
