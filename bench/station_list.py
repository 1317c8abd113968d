"""Station list at network scale: 3,000 stations, first and deep pages, filters.

python -m bench.station_list   (prints the machine, then one JSON line of figures)
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time

from bench.machine import describe

STATIONS = 3000
PROVINCES = ["HA", "HN", "GD", "SD", "SC", "JS", "ZJ", "BJ", "SH", "HB"]
TIERS = ["accessory_point", "service_station", "service_center"]


def _timed(client, url, repeat=20) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return round(statistics.median(samples) * 1000, 2)


def main() -> None:
    workdir = tempfile.mkdtemp(prefix="bench-stations-")
    os.environ["PORTAL_INSTANCE_PATH"] = workdir
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from portal import create_app
    from portal.auth import services as auth_services
    from portal.extensions import db
    from portal.stations.models import Station

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.db",
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        rows = []
        for n in range(STATIONS):
            province = PROVINCES[n % len(PROVINCES)]
            rows.append(
                {
                    "code": f"{province}-BC-{n:04d}",
                    "name": f"基准测试站 {n}",
                    "tier": TIERS[n % 3],
                    "province": province,
                    "city": "城市",
                    "city_class": str(1 + n % 3),
                    "status": "active" if n % 10 else "suspended",
                    "version": 1,
                }
            )
        db.session.execute(insert(Station), rows)
        auth_services.create_user(None, username="bench", password="bench-pass-1", roles=["hq"])
        db.session.commit()

    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": "bench-pass-1"})
    figures = {
        "stations": STATIONS,
        "first_page_ms": _timed(client, "/stations/"),
        "deep_page_ms": _timed(client, "/stations/?after=ZJ-BC-2900"),
        "province_filter_ms": _timed(client, "/stations/?province=GD&tier=service_center"),
        "search_ms": _timed(client, "/stations/?q=2999"),
    }
    print(json.dumps({"machine": describe()}))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
