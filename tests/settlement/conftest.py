"""Settlement test fixtures."""

import pytest


@pytest.fixture
def people(make):
    station = make.station()
    return {
        "station": station,
        "station_user": make.user(role="station", station=station),
        "other_station_user": make.user(role="station", station=make.station()),
        "hq": make.user(role="hq"),
        "runner": make.user(role="finance"),
        "finance": make.user(role="finance"),
        "auditor": make.user(role="auditor"),
    }
