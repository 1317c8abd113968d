"""Who acts: a signed-in user, or the one system actor for the command line and scheduled jobs.

Services take an explicit `actor`. A page passes the signed-in user; a CLI command or a job
passes `SYSTEM`, which holds every permission and is what the audit trail shows as "system".
There is no `None` actor: `require_actor(None)` raises, so a forgotten actor is a bug that
fails loudly instead of a permission check that is silently skipped.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.core.errors import PermissionDenied

SYSTEM_USERNAME = "system"


class MissingActor(PermissionDenied):
    """A service or audit entry was called without saying who acts: nobody may act."""


class SystemActor:
    """The portal itself, acting from the command line or a scheduled job."""

    id = None
    username = SYSTEM_USERNAME
    display_name = _l("System (command line and scheduled jobs)")
    station_id = None
    station = None
    is_system = True
    # Flask-Login-like protocol, so can() and templates treat it like a signed-in user.
    is_authenticated = True
    is_active = True
    is_anonymous = False
    role_set: frozenset = frozenset()

    def has_role(self, role) -> bool:
        return False

    def __str__(self) -> str:
        return SYSTEM_USERNAME

    def __repr__(self) -> str:
        return "<SYSTEM actor>"


SYSTEM = SystemActor()


def is_system(actor) -> bool:
    """Whether actor is the system actor."""
    return getattr(actor, "is_system", False) is True


def require_actor(actor):
    """The actor itself; MissingActor when it is None (nobody said who acts)."""
    if actor is None:
        # Code, not people, forgets the actor (pages pass the signed-in user, the command
        # line SYSTEM); the refusal names nobody and changes nothing.
        raise MissingActor(_l("Nobody is signed in to do this."))
    return actor


def actor_name(actor) -> str:
    """The name the audit trail keeps for an actor."""
    if is_system(actor):
        return SYSTEM_USERNAME
    return getattr(actor, "username", None) or str(actor)
