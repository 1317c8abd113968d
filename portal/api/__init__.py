"""JSON API for stations that run their own ticket system (/api/v1/), and its token pages."""

from flask import Blueprint, Flask
from flask_smorest import Api

api = Api()
# Pages (session sign-in): a station manager's tokens, and the interactive documentation.
tokens_bp = Blueprint("api_tokens", __name__, url_prefix="/api-tokens")
docs_bp = Blueprint("api_docs", __name__)


def init_app(app: Flask) -> None:
    """Bind the API: spec settings, the /api/v1 blueprint (CSRF-exempt), the pages."""
    from portal.api import tokens_views  # noqa: F401
    from portal.api.resources import blp
    from portal.extensions import csrf

    app.config.setdefault("API_TITLE", "Service network portal API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_RATE_LIMIT", "120 per minute")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": (
                    "Daily reports and repair records for stations that run their own ticket "
                    "system. Authenticate with the station's token: `Authorization: Bearer "
                    "<token>`. A batch of records is checked whole: one bad record refuses "
                    "the batch, and the answer lists every problem."
                )
            },
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api.init_app(app)
    api.register_blueprint(blp)
    csrf.exempt(blp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(docs_bp)
