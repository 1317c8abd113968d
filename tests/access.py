"""Who may reach which route: shared names for the per-module access tables.

Every module keeps a table in tests/<module>/access.py:

    ACCESS = {"stations.detail": {"GET": STATION_SIDE | HQ_SIDE}, ...}
    URL_ARGS = {"stations.detail": lambda ctx: {"station_id": ctx.own_station.id}}

tests/test_route_access.py walks app.url_map and fails for any route that no table lists.
"""

ANON = "anonymous"
ADMIN, HQ, AUDITOR, FINANCE, STATION = "admin", "hq", "auditor", "finance", "station"
ROLES = (ADMIN, HQ, AUDITOR, FINANCE, STATION)
SIGNED_IN = frozenset(ROLES)
EVERYONE = SIGNED_IN | {ANON}
HQ_SIDE = frozenset({ADMIN, HQ, AUDITOR, FINANCE})
NOBODY = frozenset()
