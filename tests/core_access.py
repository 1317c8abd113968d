"""Access table of the foundation's routes (main, auth, users, stations, audit)."""

from tests.access import ADMIN, EVERYONE, HQ, HQ_SIDE, SIGNED_IN, STATION

ACCESS = {
    "main.index": {"GET": SIGNED_IN},
    "main.healthz": {"GET": EVERYONE},
    "auth.login": {"GET": EVERYONE, "POST": EVERYONE},
    "auth.logout": {"POST": SIGNED_IN},
    "auth.change_password": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "auth.set_language": {"POST": EVERYONE},
    "users.index": {"GET": {ADMIN}},
    "users.create": {"GET": {ADMIN}, "POST": {ADMIN}},
    "users.edit": {"GET": {ADMIN}, "POST": {ADMIN}},
    "stations.index": {"GET": HQ_SIDE | {STATION}},
    "stations.detail": {"GET": HQ_SIDE | {STATION}},
    "stations.create": {"GET": {ADMIN, HQ}, "POST": {ADMIN, HQ}},
    "stations.import_page": {"GET": {ADMIN, HQ}, "POST": {ADMIN, HQ}},
    "stations.import_template": {"GET": {ADMIN, HQ}},
    "stations.edit": {"GET": {ADMIN, HQ}, "POST": {ADMIN, HQ}},
    "audit.index": {"GET": {ADMIN, HQ}},
}

URL_ARGS = {
    "users.edit": lambda ctx: {"user_id": ctx.other_user.id},
    "stations.detail": lambda ctx: {"station_id": ctx.own_station.id},
    "stations.edit": lambda ctx: {"station_id": ctx.own_station.id},
}

# Requests that need a body to be meaningful (else they are only checked for access).
FORM_DATA = {
    "auth.set_language": lambda ctx: {"lang": "en", "next": "/"},
}
