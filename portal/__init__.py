"""The service-network portal: application factory."""

from __future__ import annotations

import os

from flask import Flask

from portal.config import build_config


def create_app(config: dict | None = None) -> Flask:
    """Build the app; config overrides settings read from the environment."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="static",
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(build_config(app.instance_path, config))
    register_extensions(app)
    register_blueprints(app)
    register_security(app)
    register_i18n(app)
    register_templating(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from portal.extensions import bootstrap, csrf, db, limiter, migrate

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            from portal.core.db import configure_sqlite, register_sqlite_busy_page

            configure_sqlite(db.engine)
            register_sqlite_busy_page(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    # Import every module's models so that metadata (and migrations) see them.
    import portal.models  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from portal import (
        api,
        audit,
        auth,
        certification,
        inspections,
        jobs,
        main,
        reports,
        settlement,
        spares,
        stations,
    )

    for blueprint in (
        main.bp,
        auth.bp,
        auth.users_bp,
        stations.bp,
        audit.bp,
        certification.bp,
        reports.bp,
        inspections.bp,
        spares.bp,
        jobs.bp,
        settlement.bp,
    ):
        app.register_blueprint(blueprint)
    api.init_app(app)


def register_security(app: Flask) -> None:
    from portal.core.security import init_security

    init_security(app)


def register_i18n(app: Flask) -> None:
    from portal.core.i18n import init_i18n

    init_i18n(app)


def register_templating(app: Flask) -> None:
    from portal.core.names import init_names
    from portal.core.templating import init_templating

    init_templating(app)
    init_names(app)


def register_errorhandlers(app: Flask) -> None:
    from portal.core.http_errors import init_error_handlers

    init_error_handlers(app)


def register_commands(app: Flask) -> None:
    from portal.cli import init_commands

    init_commands(app)
