"""Permissions in one place: the role -> permission map, can() and @require()."""

from __future__ import annotations

import enum
from functools import wraps

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.core.actors import is_system
from portal.core.workflow import LabelledEnum


class Role(LabelledEnum):
    ADMIN = "admin", _l("Administrator")
    HQ = "hq", _l("HQ after-sales")
    AUDITOR = "auditor", _l("Auditor")
    FINANCE = "finance", _l("Finance")
    STATION = "station", _l("Station")


class Permission(enum.Enum):
    """What a user may do; views require them, services and templates ask can()."""

    VIEW_DASHBOARD = "view_dashboard"
    VIEW_ALL_STATIONS = "view_all_stations"
    VIEW_OWN_STATION = "view_own_station"
    MANAGE_STATIONS = "manage_stations"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    CHANGE_OWN_PASSWORD = "change_own_password"  # noqa: S105 - a name
    # certification
    APPLY = "apply"
    VIEW_APPLICATIONS = "view_applications"
    REVIEW_APPLICATIONS = "review_applications"
    MANAGE_TIER_RULES = "manage_tier_rules"
    MANAGE_TECHNICIANS = "manage_technicians"
    # deposits (spares)
    RECORD_DEPOSITS = "record_deposits"
    VIEW_DEPOSITS = "view_deposits"
    # daily reports and API
    SUBMIT_REPORTS = "submit_reports"
    VIEW_REPORTS = "view_reports"
    MANAGE_CATALOGUES = "manage_catalogues"
    MANAGE_API_TOKENS = "manage_api_tokens"
    # inspections and rectifications
    VIEW_INSPECTIONS = "view_inspections"
    PLAN_INSPECTIONS = "plan_inspections"
    CONDUCT_INSPECTIONS = "conduct_inspections"
    MANAGE_CHECKLISTS = "manage_checklists"
    REVIEW_RECTIFICATIONS = "review_rectifications"
    ANSWER_RECTIFICATIONS = "answer_rectifications"
    # rewards and penalties (settlement)
    RECORD_ADJUSTMENTS = "record_adjustments"
    # monthly settlement (SPEC 8.4): who sees, runs, exports and moves settlements
    VIEW_SETTLEMENTS = "view_settlements"
    RUN_SETTLEMENTS = "run_settlements"
    EXPORT_SETTLEMENTS = "export_settlements"
    CONFIRM_SETTLEMENTS = "confirm_settlements"
    REVIEW_SETTLEMENTS = "review_settlements"
    APPROVE_SETTLEMENT_PAYMENTS = "approve_settlement_payments"
    MANAGE_SETTLEMENT_RULES = "manage_settlement_rules"  # fees, validity, reward/penalty amounts
    # spare parts and stock
    VIEW_STOCK = "view_stock"
    MANAGE_PARTS = "manage_parts"
    HANDLE_STATION_STOCK = "handle_station_stock"
    RECORD_STOCK_COUNTS = "record_stock_counts"


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Reports are submitted, and API tokens held, only by a station's own users; only
    # candidates apply.
    # Inspections are filled in by their auditor; rectifications answered by the station.
    Role.ADMIN: frozenset(P)
    - {
        P.VIEW_OWN_STATION,
        P.APPLY,
        P.SUBMIT_REPORTS,
        P.MANAGE_API_TOKENS,
        P.CONDUCT_INSPECTIONS,
        P.ANSWER_RECTIFICATIONS,
        P.HANDLE_STATION_STOCK,
        P.CONFIRM_SETTLEMENTS,
    },
    Role.HQ: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_ALL_STATIONS,
            P.MANAGE_STATIONS,
            P.VIEW_AUDIT,
            P.CHANGE_OWN_PASSWORD,
            P.VIEW_APPLICATIONS,
            P.REVIEW_APPLICATIONS,
            P.MANAGE_TIER_RULES,
            P.MANAGE_TECHNICIANS,
            P.VIEW_DEPOSITS,
            P.VIEW_REPORTS,
            P.MANAGE_CATALOGUES,
            P.RECORD_ADJUSTMENTS,
            P.VIEW_INSPECTIONS,
            P.PLAN_INSPECTIONS,
            P.MANAGE_CHECKLISTS,
            P.VIEW_STOCK,
            P.MANAGE_PARTS,
            P.VIEW_SETTLEMENTS,
            P.EXPORT_SETTLEMENTS,
            P.REVIEW_SETTLEMENTS,
            P.RUN_SETTLEMENTS,  # HQ recomputes a disputed settlement (SPEC 8.4)
        }
    ),
    Role.AUDITOR: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_ALL_STATIONS,
            P.CHANGE_OWN_PASSWORD,
            P.VIEW_REPORTS,
            P.VIEW_INSPECTIONS,
            P.PLAN_INSPECTIONS,
            P.CONDUCT_INSPECTIONS,
            P.REVIEW_RECTIFICATIONS,
            P.VIEW_STOCK,
            P.RECORD_STOCK_COUNTS,
        }
    ),
    Role.FINANCE: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_ALL_STATIONS,
            P.CHANGE_OWN_PASSWORD,
            P.VIEW_APPLICATIONS,
            P.RECORD_DEPOSITS,
            P.VIEW_DEPOSITS,
            P.VIEW_REPORTS,
            P.VIEW_STOCK,
            P.VIEW_SETTLEMENTS,
            P.RUN_SETTLEMENTS,
            P.EXPORT_SETTLEMENTS,
            P.APPROVE_SETTLEMENT_PAYMENTS,
            P.MANAGE_SETTLEMENT_RULES,
        }
    ),
    Role.STATION: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_OWN_STATION,
            P.CHANGE_OWN_PASSWORD,
            P.APPLY,
            P.VIEW_DEPOSITS,
            P.SUBMIT_REPORTS,
            P.VIEW_REPORTS,
            P.MANAGE_API_TOKENS,
            P.VIEW_INSPECTIONS,
            P.ANSWER_RECTIFICATIONS,
            P.VIEW_STOCK,
            P.HANDLE_STATION_STOCK,
            P.VIEW_SETTLEMENTS,
            P.EXPORT_SETTLEMENTS,
            P.CONFIRM_SETTLEMENTS,
        }
    ),
}


def permissions_of(user) -> frozenset[Permission]:
    """Every permission the user's roles grant; the system actor holds every permission."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    if is_system(user):
        return frozenset(Permission)
    granted: set[Permission] = set()
    for role in user.role_set:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


def can(user, permission: Permission, obj=None) -> bool:
    """Whether the user holds the permission, and, for a station-owned obj, may reach it."""
    if permission not in permissions_of(user):
        return False
    if obj is not None:
        station_id = getattr(obj, "station_id", None)
        if station_id is None and obj.__class__.__name__ == "Station":
            station_id = obj.id
        if station_id is not None and not sees_all_stations(user):
            return user.station_id == station_id
    return True


def sees_all_stations(user) -> bool:
    """HQ-side users see every station; station users only their own."""
    return P.VIEW_ALL_STATIONS in permissions_of(user)


def _guard(permissions: tuple[Permission, ...], combine):
    """View decorator: sign-in page for anonymous users, 403 unless combine(can(...)) holds."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from portal.extensions import login_manager

                return login_manager.unauthorized()
            if not combine(can(current_user, p) for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permissions = permissions
        return wrapped

    return decorator


def require(*permissions: Permission):
    """View decorator: every one of the permissions."""
    return _guard(permissions, all)


def require_any(*permissions: Permission):
    """View decorator: at least one of the permissions."""
    return _guard(permissions, any)
