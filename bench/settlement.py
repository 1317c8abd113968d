"""Benchmark: the monthly settlement run and its workbook at network size.

    python -m bench.settlement [--records 1000000] [--stations 3000] [--keep DIR]

Builds a fresh SQLite database with the real migrations and the demo catalogues, fills it by
bulk insert (stations, their tier periods, one submitted report per station and day, the
month's repair records, a few of them repeats, out of warranty or with a part not held), then:

- runs the month through `portal.settlement.run.run_month`, the code the portal's job runs;
- writes the SPEC 8.5 workbook through `portal.settlement.export.write_export_file`, the code
  the export job runs;
- writes the same rows with XlsxWriter in constant-memory mode alone: the floor for any export.

The last line is JSON: run_s, export_s, floor_s, ratio (export/floor), peak_rss_mb (the
process's peak resident memory), plus the sizes and the machine. Targets on the 2-core machine
with SQLite: run_s <= 60, ratio <= 1.5, peak_rss_mb <= 1500.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import sys
import tempfile
import time

from bench.machine import describe

TIERS = ("service_station", "service_station", "service_center")
TYPES = ("instore_simple", "onsite_repair", "unit_swap", "factory_return", "no_fault_found")
FAULTS = ("D01", "D02", "P01", "P02", "C01", "A01", "N01", "S01")
RESULTS = ("repaired", "repaired", "repaired", "no_fault_found", "returned_to_factory")


def _stamp(value: dt.datetime) -> str:
    """How SQLAlchemy's DateTime keeps a UTC time on SQLite."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def fill(connection, month: dt.date, stations: int, records: int, seed: int = 7) -> None:
    """Bulk insert the network's month with the DB-API cursor (no ORM, no per-row objects)."""
    rng = random.Random(seed)
    cur = connection.cursor()
    now = _stamp(dt.datetime.now(dt.UTC))
    days = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - month
    n_days = days.days
    cur.executemany(
        "INSERT INTO stations (id, code, name, tier, province, city, city_class, address,"
        " authorized_region, contact_name, contact_phone, contact_email, status,"
        " agreement_start_on, agreement_end_on, notes, created_at, updated_at, version)"
        " VALUES (?, ?, ?, ?, 'HA', '郑州', '1', '', '', '', '', '', 'active', '2020-01-01',"
        " '2030-12-31', '', ?, ?, 1)",
        [
            (i, f"HA-ZZ-{i:04d}", f"基准测试站 {i}", TIERS[i % 3], now, now)
            for i in range(1, stations + 1)
        ],
    )
    cur.executemany(
        "INSERT INTO station_tier_periods (station_id, tier, effective_from, effective_until,"
        " reason, actor_name, recorded_at) VALUES (?, ?, '2020-01-01', NULL, '', 'bench', ?)",
        [(i, TIERS[i % 3], now) for i in range(1, stations + 1)],
    )
    report_rows = []
    for i in range(1, stations + 1):
        for d in range(n_days):
            day = month + dt.timedelta(days=d)
            submitted = _stamp(dt.datetime.combine(day, dt.time(14), tzinfo=dt.UTC))
            report_id = (i - 1) * n_days + d + 1
            report_rows.append((report_id, i, day.isoformat(), submitted, submitted, now, now))
    cur.executemany(
        "INSERT INTO daily_reports (id, station_id, report_on, status, received_count,"
        " completed_count, pending_count, returned_count, complaint_count, first_submitted_at,"
        " submitted_at, created_at, updated_at, version)"
        " VALUES (?, ?, ?, 'submitted', 0, 0, 0, 0, 0, ?, ?, ?, ?, 1)",
        report_rows,
    )
    del report_rows
    sql = (
        "INSERT INTO repair_records (id, report_id, station_id, ticket_no, received_at,"
        " completed_at, customer_name, customer_phone, device_model, serial_no, purchase_on,"
        " warranty, fault_code, repair_type, on_site, standby_serial, result, satisfaction,"
        " return_visit_outcome, source, part_not_held, outside_home_city, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, '王小明', '13812345678', 'P30', ?, ?, ?, ?, ?, ?, '', ?, ?,"
        " '', 'api', ?, ?, ?, ?)"
    )
    chunk = []
    for n in range(1, records + 1):
        station = rng.randrange(1, stations + 1)
        d = rng.randrange(n_days)
        day = month + dt.timedelta(days=d)
        received = dt.datetime.combine(day, dt.time(1), tzinfo=dt.UTC) + dt.timedelta(
            seconds=rng.randrange(20000)
        )
        completed = received + dt.timedelta(hours=2)
        # About 3 % reuse an earlier serial (some become repeats), 2 % are out of warranty.
        serial = n if rng.random() > 0.03 else rng.randrange(1, n + 1)
        purchase = day - dt.timedelta(days=400 if rng.random() < 0.02 else 100)
        repair_type = TYPES[n % len(TYPES)]
        onsite = repair_type == "onsite_repair"
        chunk.append(
            (
                n,
                (station - 1) * n_days + d + 1,
                station,
                f"T{n:08d}",
                _stamp(received),
                _stamp(completed),
                f"P30{serial:09d}",
                purchase.isoformat(),
                1 if rng.random() < 0.9 else 0,
                FAULTS[n % len(FAULTS)],
                repair_type,
                1 if onsite else 0,
                RESULTS[n % len(RESULTS)],
                5 if rng.random() < 0.8 else 4,
                1 if rng.random() < 0.01 else 0,
                1 if onsite and rng.random() < 0.3 else 0,
                now,
                now,
            )
        )
        if len(chunk) == 50000:
            cur.executemany(sql, chunk)
            chunk.clear()
    if chunk:
        cur.executemany(sql, chunk)
    connection.commit()


def floor(connection, path: str) -> int:
    """The same rows, written alone with XlsxWriter's constant-memory mode."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    rows = 0
    for valid, name in ((1, "Records"), (0, "Invalid")):
        sheet = workbook.add_worksheet(name)
        cur = connection.cursor()
        cur.execute(
            "SELECT st.code, st.name, l.ticket_no, l.received_at, l.repair_type, l.fee, l.travel,"
            " l.reason_code FROM settlement_lines l JOIN settlements s ON s.id = l.settlement_id"
            " JOIN stations st ON st.id = s.station_id WHERE l.valid = ?"
            " ORDER BY st.code, l.received_at, l.id",
            (valid,),
        )
        sheet.write_row(0, 0, ("code", "name", "ticket", "received", "type", "fee", "travel"))
        r = 0
        for r, row in enumerate(cur, start=1):
            sheet.write_row(r, 0, row)
        rows += r
    workbook.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--stations", type=int, default=3000)
    parser.add_argument("--keep", default=None, help="work in DIR and keep the database")
    args = parser.parse_args()

    workdir = args.keep or tempfile.mkdtemp(prefix="bench-settlement-")
    os.makedirs(workdir, exist_ok=True)
    os.environ["PORTAL_INSTANCE_PATH"] = workdir
    import logging

    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.db", "SECRET_KEY": "bench"}
    )
    print(json.dumps(describe(), ensure_ascii=False))
    with app.app_context():
        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade()
        from portal.core.actors import SYSTEM
        from portal.core.dates import local_today
        from portal.reports import demo
        from portal.settlement import export
        from portal.settlement.run import run_month

        demo.load_catalogues()
        db.session.commit()
        month = (local_today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        raw = db.engine.raw_connection()
        start = time.perf_counter()
        fill(raw.driver_connection, month, args.stations, args.records)
        print(
            f"filled {args.records:,} records at {args.stations:,} stations for {month:%Y-%m}"
            f" in {time.perf_counter() - start:.1f} s",
            flush=True,
        )

        def progress(done, total):
            if done == total or done % 500 == 0:
                print(f"  run {done}/{total}", flush=True)

        start = time.perf_counter()
        result = run_month(month, None, SYSTEM, progress=progress, batch_size=100)
        run_s = time.perf_counter() - start
        print(f"run: {result.computed} settlements, {result.records:,} records, {run_s:.1f} s")

        start = time.perf_counter()
        written = export.write_export_file(month, SYSTEM)
        db.session.commit()
        export_s = time.perf_counter() - start
        print(f"export: {written.counts} in {export_s:.1f} s")
        os.remove(written.temp)

        start = time.perf_counter()
        floor_rows = floor(raw.driver_connection, os.path.join(workdir, "floor.xlsx"))
        floor_s = time.perf_counter() - start
        print(f"floor: {floor_rows:,} rows in {floor_s:.1f} s")
        raw.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "records": args.records,
                "stations": args.stations,
                "run_s": round(run_s, 1),
                "export_s": round(export_s, 1),
                "floor_s": round(floor_s, 1),
                "ratio": round(export_s / floor_s, 2) if floor_s else None,
                "peak_rss_mb": round(peak),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
