"""Factories that build valid rows through the services (so audit entries exist too)."""

from __future__ import annotations

import datetime as dt
import itertools

from portal.auth import services as auth_services
from portal.stations import services as station_services

_seq = itertools.count(1)


class Factories:
    def __init__(self, db):
        self.db = db

    def station(self, **overrides):
        n = next(_seq)
        values = {
            "code": f"HA-TS-{n:04d}",
            "name": f"测试站 {n}",
            "tier": "service_station",
            "province": "HA",
            "city": "郑州",
            "city_class": "1",
            "address": "测试路 1 号",
            "authorized_region": "郑州市",
            "contact_name": "测试",
            "contact_phone": "13800000000",
            "contact_email": "",
            "status": "active",
            "agreement_start_on": dt.date(2026, 1, 1),
            "agreement_end_on": dt.date(2028, 12, 31),
            "notes": "",
        }
        values.update(overrides)
        station = station_services.create_station(None, **values)
        self.db.session.flush()
        return station

    def user(self, role="hq", station=None, password="secret-pass-1", roles=None, **kwargs):
        n = next(_seq)
        roles = roles or [role]
        if "station" in roles and station is None:
            station = self.station()
        user = auth_services.create_user(
            None,
            username=kwargs.pop("username", f"{roles[0]}-{n}"),
            password=password,
            roles=roles,
            station_id=station.id if station is not None else None,
            **kwargs,
        )
        self.db.session.flush()
        return user
