"""Demo sign-ins; all share the password portal-demo."""

from __future__ import annotations

from sqlalchemy import select

from portal.auth import services
from portal.auth.models import User
from portal.core.actors import SYSTEM
from portal.extensions import db
from portal.stations.models import Station

DEMO_PASSWORD = "portal-demo"  # noqa: S105 - documented demo password, demo data only

DEMO_USERS = [
    ("admin", "系统管理员", ["admin"], None),
    ("hq", "总部售后 周洁", ["hq"], None),
    ("auditor", "稽核员 孙强", ["auditor"], None),
    ("finance", "财务 吴婷", ["finance"], None),
    # A second person in finance: whoever ran a settlement cannot also give its finance approval.
    ("finance-2", "财务 陈静", ["finance"], None),
    ("station-a", "郑州中原 张伟", ["station"], "HA-ZZ-0001"),
    ("station-b", "广州天河 王芳", ["station"], "GD-GZ-0001"),
]


def load() -> None:
    """Create the demo users that do not exist yet (their published password is allowed only
    under passwords.demo_passwords_allowed(), which the demo-data command sets)."""
    for username, display, roles, station_code in DEMO_USERS:
        if services.find_user(username) is not None:
            continue
        station_id = None
        if station_code:
            station_id = db.session.execute(
                select(Station.id).where(Station.code == station_code)
            ).scalar_one()
        services.create_user(
            SYSTEM,
            username=username,
            password=DEMO_PASSWORD,
            roles=roles,
            display_name=display,
            station_id=station_id,
            is_demo=True,
        )


def demo_users_exist() -> bool:
    return db.session.execute(select(User.id).where(User.is_demo.is_(True))).first() is not None
