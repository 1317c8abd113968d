"""Fixtures of the inspection tests: people and a published default checklist."""

from __future__ import annotations

import pytest

from portal.inspections import services


@pytest.fixture
def people(make):
    station = make.station()
    return {
        "station": station,
        "hq": make.user(role="hq"),
        "auditor": make.user(role="auditor"),
        "other_auditor": make.user(role="auditor"),
        "station_user": make.user(role="station", station=station),
    }


@pytest.fixture
def version(people):
    return services.load_default_template(people["hq"])


@pytest.fixture
def planned(people, version):
    return services.plan_inspection(
        people["hq"],
        planned_on=services.today(),
        auditor=people["auditor"],
        version=version,
        station=people["station"],
    )
