"""Explicit actors: the system actor for CLI and jobs, no None path that skips a permission."""

from __future__ import annotations

import pytest
from flask_login import login_user
from sqlalchemy import select

from portal.auth import services as auth_services
from portal.core import audit
from portal.core.actors import SYSTEM, MissingActor, require_actor
from portal.core.audit import AuditEntry
from portal.core.errors import PermissionDenied
from portal.core.permissions import Permission, can, sees_all_stations


def test_system_actor_holds_every_permission_and_is_named_in_the_trail(db, make):
    assert all(can(SYSTEM, p) for p in Permission)
    assert sees_all_stations(SYSTEM)
    station = make.station()
    entry = audit.record("probe", station, actor=SYSTEM)
    assert (entry.actor_id, entry.actor_name) == (None, "system")
    assert "System" in entry.actor_label


def test_audit_page_shows_the_system_actor_by_name(client, login_as, make, db):
    login_as("admin")
    station = make.station()
    audit.record("probe.system", station, actor=SYSTEM)
    db.session.commit()
    html = client.get("/audit/?action=probe.system").get_data(as_text=True)
    assert "System (command line and scheduled jobs)" in html


def test_require_actor_refuses_none():
    assert require_actor(SYSTEM) is SYSTEM
    with pytest.raises(MissingActor):
        require_actor(None)


def test_audit_refuses_a_missing_actor(db, make):
    station = make.station()
    with pytest.raises(MissingActor):
        audit.record("probe", station, actor=None)
    assert audit.record("probe", station, actor=SYSTEM).actor_name == "system"


def test_a_missing_actor_is_not_taken_from_the_request(app, db, make):
    user = make.user(role="hq")
    station = make.station()
    with app.test_request_context("/"):
        login_user(user)
        with pytest.raises(MissingActor):
            audit.record("probe", station, actor=None)
        assert audit.record("probe", station, actor=user).actor_id == user.id


def test_user_services_need_an_actor_with_the_permission(db, make):
    finance = make.user(role="finance")
    target = make.user(role="hq")
    kwargs = {"username": "nobody-acts", "password": "long-enough-1", "roles": ["hq"]}
    with pytest.raises(MissingActor):
        auth_services.create_user(None, **kwargs)
    with pytest.raises(PermissionDenied):
        auth_services.create_user(finance, **kwargs)
    with pytest.raises(MissingActor):
        auth_services.set_active(None, target, False)
    with pytest.raises(PermissionDenied):
        auth_services.set_active(finance, target, False)
    assert target.active
    admin = make.user(role="admin")
    auth_services.set_active(admin, target, False)
    assert not target.active
    user = auth_services.create_user(SYSTEM, **kwargs)
    created = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "user.created", AuditEntry.object_id == str(user.id)
        )
    ).scalar_one()
    assert created.actor_name == "system"


def test_a_self_signed_up_candidate_is_recorded_as_its_own_creator(db):
    user = auth_services.create_user(
        None, username="self-made", password="long-enough-1", roles=["station"], candidate=True
    )
    entry = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "user.created", AuditEntry.object_id == str(user.id)
        )
    ).scalar_one()
    assert entry.actor_id == user.id


def test_the_system_name_cannot_be_taken_by_a_user(db):
    from portal.core.errors import DomainError

    with pytest.raises(DomainError, match="taken"):
        auth_services.create_user(SYSTEM, username="System", password="long-enough-1", roles=["hq"])


def test_users_cli_acts_as_the_system(runner, db):
    result = runner.invoke(
        args=["users", "create", "cli-made", "--role", "hq", "--password", "cli-pass-12"]
    )
    assert result.exit_code == 0, result.output
    user = auth_services.find_user("cli-made")
    entry = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "user.created", AuditEntry.object_id == str(user.id)
        )
    ).scalar_one()
    assert (entry.actor_id, entry.actor_name) == (None, "system")
    result = runner.invoke(args=["users", "deactivate", "cli-made"])
    assert result.exit_code == 0, result.output
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "user.deactivated")
    ).scalar_one()
    assert entry.actor_name == "system"
