"""flask users ...: the same user administration as the pages."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal.auth import services
from portal.auth.models import User
from portal.core.actors import SYSTEM
from portal.core.errors import DomainError
from portal.core.permissions import Role
from portal.extensions import db
from portal.stations.models import Station

users_cli = AppGroup("users", help="Create, list and change users (acting as the system).")

ROLE_CHOICE = click.Choice([r.value for r in Role])


def _station_id(code: str | None) -> int | None:
    if not code:
        return None
    station_id = db.session.execute(
        select(Station.id).where(Station.code == code.upper())
    ).scalar_one_or_none()
    if station_id is None:
        raise click.ClickException(f"no station with code {code}")
    return station_id


def _user(username: str) -> User:
    user = services.find_user(username)
    if user is None:
        raise click.ClickException(f"no user {username}")
    return user


def _commit_or_fail(action):
    try:
        result = action()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    return result


@users_cli.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=ROLE_CHOICE)
@click.option("--station", "station_code", help="station code, for station users")
@click.option("--name", "display_name", default="")
@click.option("--email", default="")
@click.password_option()
def create(username, roles, station_code, display_name, email, password):
    """Create a user."""
    user = _commit_or_fail(
        lambda: services.create_user(
            SYSTEM,
            username=username,
            password=password,
            roles=roles,
            display_name=display_name,
            email=email,
            station_id=_station_id(station_code),
        )
    )
    click.echo(f"created {user.username} ({', '.join(sorted(r.value for r in user.role_set))})")


@users_cli.command("list")
def list_users():
    """List users with their roles and station."""
    for user in db.session.execute(select(User).order_by(User.username)).scalars():
        roles = ",".join(sorted(r.value for r in user.role_set))
        station = user.station.code if user.station else "-"
        state = "active" if user.active else "inactive"
        click.echo(f"{user.username}\t{roles}\t{station}\t{state}")


@users_cli.command("set-roles")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=ROLE_CHOICE)
@click.option("--station", "station_code")
def set_roles(username, roles, station_code):
    """Replace a user's roles (and station binding)."""
    user = _user(username)
    _commit_or_fail(
        lambda: services.update_user(
            SYSTEM,
            user,
            roles=roles,
            display_name=user.display_name,
            email=user.email,
            station_id=_station_id(station_code),
            active=user.active,
        )
    )
    click.echo(f"{user.username}: {', '.join(sorted(roles))}")


@users_cli.command("deactivate")
@click.argument("username")
def deactivate(username):
    """Deactivate a user: they lose access at their next request."""
    user = _user(username)
    _commit_or_fail(lambda: services.set_active(SYSTEM, user, False))
    click.echo(f"{user.username} deactivated")


@users_cli.command("activate")
@click.argument("username")
def activate(username):
    """Activate a user again."""
    user = _user(username)
    _commit_or_fail(lambda: services.set_active(SYSTEM, user, True))
    click.echo(f"{user.username} activated")


@users_cli.command("set-password")
@click.argument("username")
@click.password_option()
def set_password(username, password):
    """Set a user's password (signs them out everywhere)."""
    user = _user(username)
    _commit_or_fail(
        lambda: services.update_user(
            SYSTEM,
            user,
            roles=[r.value for r in user.role_set],
            display_name=user.display_name,
            email=user.email,
            station_id=user.station_id,
            active=user.active,
            new_password=password,
        )
    )
    click.echo(f"password of {user.username} changed")
