"""Benchmark: validate and import a 5,000-row daily-report workbook.

    python -m bench.daily_upload [--rows 5000]

Builds a temporary SQLite database with the real migrations, a station and the demo
catalogues, writes a filled template, then times the upload (read, check every row, insert
all). The last line is JSON: {"rows": ..., "seconds": ..., "peak_mb": ...}; peak_mb is the
process's peak resident memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import resource
import sys
import tempfile
import time


def build_workbook(rows: int, day: dt.date) -> bytes:
    import xlsxwriter

    from portal.reports.excel import COLUMNS

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet("Records")
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for col, column in enumerate(COLUMNS):
        sheet.write_string(0, col, column.header)
    received = dt.datetime.combine(day, dt.time(9, 0))
    for n in range(1, rows + 1):
        values = {
            "ticket_no": f"B-{n:06d}",
            "received_at": received + dt.timedelta(seconds=n),
            "completed_at": received + dt.timedelta(hours=2, seconds=n),
            "customer_name": "王小明",
            "customer_phone": f"138{n:08d}",
            "device_model": "P30",
            "serial_no": f"P30{n:09d}",
            "purchase_on": day - dt.timedelta(days=100),
            "warranty": "warranty",
            "fault_code": "D01",
            "repair_type": "instore_simple",
            "on_site": "instore",
            "parts": f"LCD-P30*1#OLD{n}",
            "standby_serial": "",
            "result": "repaired",
            "satisfaction": 5,
            "return_visit_on": None,
            "return_visit_outcome": "",
        }
        for col, column in enumerate(COLUMNS):
            value = values[column.field]
            if value is None or value == "":
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(n, col, value, stamp)
            elif isinstance(value, dt.date):
                sheet.write_datetime(n, col, value, date)
            elif isinstance(value, int):
                sheet.write_number(n, col, value)
            else:
                sheet.write_string(n, col, value)
    workbook.close()
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="bench-upload-")
    os.environ["PORTAL_INSTANCE_PATH"] = workdir
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.db",
            "SECRET_KEY": "bench",
        }
    )
    print(f"python {platform.python_version()} on {platform.platform()}")
    print(f"cpus {os.cpu_count()}, processor {platform.processor() or platform.machine()}")
    with app.app_context():
        import logging

        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade()
        from portal.core.actors import SYSTEM
        from portal.core.dates import local_today
        from portal.reports import demo, excel, services
        from portal.reports.states import UploadOutcome
        from portal.stations import services as station_services

        demo.load_catalogues()
        station = station_services.create_station(
            SYSTEM,
            code="HA-BN-0001",
            name="基准测试站",
            tier="service_center",
            province="HA",
            city="郑州",
            city_class="1",
            status="active",
        )
        db.session.commit()
        day = local_today() - dt.timedelta(days=1)
        data = build_workbook(args.rows, day)
        print(f"workbook: {args.rows} rows, {len(data) / 1024:.0f} KiB")
        start = time.perf_counter()
        batch = excel.upload(SYSTEM, station, day, "bench.xlsx", data)
        db.session.commit()
        seconds = time.perf_counter() - start
        if batch.outcome != UploadOutcome.IMPORTED:
            print("upload rejected:", batch.message, (batch.errors or [])[:5], file=sys.stderr)
            return 1
        stored = len(services.find_report(station.id, day).records)
        assert stored == args.rows, stored
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"rows": args.rows, "seconds": round(seconds, 3), "peak_mb": round(peak_mb, 1)})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
