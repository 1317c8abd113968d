"""Template globals: permissions, navigation, the demo banner."""

from __future__ import annotations

from flask import Flask, g
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.core.permissions import Permission, Role, can
from portal.core.regions import province_label


def demo_mode() -> bool:
    """Whether demo sign-ins exist (then every page shows a banner)."""
    if g.get("demo_mode") is None:
        from portal.auth.models import User
        from portal.extensions import db

        try:
            g.demo_mode = (
                db.session.execute(select(User.id).where(User.is_demo.is_(True)).limit(1)).first()
                is not None
            )
        except SQLAlchemyError:
            # An error page must still render when the database is the problem.
            db.session.rollback()
            g.demo_mode = False
    return g.demo_mode


def init_templating(app: Flask) -> None:
    from portal.core.forms import issue_form_token

    app.jinja_env.globals.update(
        one_time_token=issue_form_token,
        can=can,
        Permission=Permission,
        Role=Role,
        demo_mode=demo_mode,
        province_label=province_label,
        get_locale=get_locale,
        languages=app.config["LANGUAGES"],
    )
