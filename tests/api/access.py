"""Access table of the API module's routes.

The /api/v1 resources take a station token, never a portal sign-in: without credentials they
answer 401, with only a signed-in session 403 (the token tests are in tests/api/).
"""

from tests.access import EVERYONE, NOBODY, STATION

ACCESS = {
    "api-docs.openapi_json": {"GET": EVERYONE},
    "api_docs.docs": {"GET": EVERYONE},
    "api_tokens.index": {"GET": {STATION}, "POST": {STATION}},
    "api_tokens.revoke": {"POST": {STATION}},
    "api_v1.station": {"GET": NOBODY},
    "api_v1.create_report": {"POST": NOBODY},
    "api_v1.get_report": {"GET": NOBODY},
    "api_v1.list_reports": {"GET": NOBODY},
    "api_v1.list_records": {"GET": NOBODY},
}


def _token(ctx):
    if "token" not in ctx.objects:
        ctx.objects["token"] = ctx.make.api_token(ctx.own_station)[0]
    return ctx.objects["token"]


URL_ARGS = {
    "api_tokens.revoke": lambda ctx: {"token_id": _token(ctx).id},
    "api_v1.get_report": lambda ctx: {"report_id": 1},
}

FORM_DATA = {
    "api_tokens.index": lambda ctx: {"name": "route walk"},
}
