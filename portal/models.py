"""Every module's models, imported once so metadata and migrations see them all."""

from portal.auth.models import User, UserRole, UserSession  # noqa: F401
from portal.core.audit import AuditEntry  # noqa: F401
from portal.stations.models import Station  # noqa: F401
