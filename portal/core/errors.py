"""Domain errors: raised by services, shown to the user next to the form."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the action; the message is for the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(DomainError):
    """The user may not do this."""


class NotFound(DomainError):
    """The object does not exist or is not visible to this user."""


class InvalidTransition(DomainError):
    """A workflow move that the transition table does not allow."""


class ConcurrentChange(DomainError):
    """Someone else changed the object since it was loaded."""
