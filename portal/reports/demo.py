"""Demo catalogues and a month of daily reports: late and missing days, repeat repairs, bad
serial numbers. Idempotent: what exists is left alone."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from portal.core import audit
from portal.core.actors import SYSTEM
from portal.core.dates import local_today, local_tz
from portal.core.db import now_utc
from portal.extensions import db
from portal.reports import services
from portal.reports.models import DeviceModel, FaultCode
from portal.reports.states import Location, Payment, RecordSource, RepairTypeCode
from portal.stations.models import Station
from portal.stations.states import StationStatus, Tier

# code, name, serial pattern, warranty months
DEVICE_MODELS = [
    ("P30", "P30 智能手机", r"P30\d{9}", 12),
    ("P40", "P40 智能手机", r"P40\d{9}", 12),
    ("T10", "T10 平板电脑", r"T10[A-Z]\d{8}", 12),
    ("W2", "W2 智能手表", r"W2\d{8}", 12),
    ("R5", "R5 无线路由器", r"R5[A-Z]{2}\d{6}", 24),
]
# code, Chinese, English, category
FAULT_CODES = [
    ("D01", "屏幕破裂", "Cracked screen", "display"),
    ("D02", "显示异常", "Display fault", "display"),
    ("P01", "不开机", "Does not power on", "power"),
    ("P02", "电池鼓包", "Swollen battery", "power"),
    ("C01", "无法充电", "Does not charge", "charging"),
    ("B01", "主板故障", "Main board fault", "board"),
    ("A01", "无声音", "No sound", "audio"),
    ("N01", "无信号", "No signal", "network"),
    ("S01", "系统死机", "System hangs", "software"),
    ("W01", "进水", "Liquid damage", "liquid"),
]
PARTS = {
    "display": ["LCD-{m}", "TP-{m}"],
    "power": ["BAT-{m}", "PWR-IC"],
    "charging": ["USB-PORT", "CHG-IC"],
    "board": ["MB-{m}"],
    "audio": ["SPK-{m}"],
    "network": ["ANT-{m}"],
    "software": [],
    "liquid": ["MB-{m}", "BAT-{m}"],
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超"]


def load_catalogues() -> None:
    """The demo device models and fault codes (tests use them too)."""
    have = set(db.session.execute(select(DeviceModel.code)).scalars())
    for code, name, pattern, months in DEVICE_MODELS:
        if code not in have:
            services.save_catalogue_entry(
                SYSTEM,
                "models",
                code=code,
                name=name,
                serial_pattern=pattern,
                warranty_months=months,
                active=True,
            )
    have = set(db.session.execute(select(FaultCode.code)).scalars())
    for code, zh, en, category in FAULT_CODES:
        if code not in have:
            services.save_catalogue_entry(
                SYSTEM, "faults", code=code, name_zh=zh, name_en=en, category=category, active=True
            )


def serial_for(model: str, rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(9))
    if model in ("P30", "P40"):
        return f"{model}{digits}"
    if model == "T10":
        return f"T10{rng.choice('ABCDEFGH')}{digits[:8]}"
    if model == "W2":
        return f"W2{digits[:8]}"
    return f"R5{rng.choice('ABCD')}{rng.choice('XYZ')}{digits[:6]}"


def _record(station: Station, day: dt.date, n: int, rng: random.Random, pool: list) -> dict:
    tz = local_tz()
    center = station.tier == Tier.SERVICE_CENTER
    if station.tier == Tier.ACCESSORY_POINT:
        repair_type = "accessory_sale"
    else:
        choices = (
            ["instore_simple"] * 5
            + ["onsite_repair"] * 2
            + [RepairTypeCode.UNIT_SWAP.value, "factory_return", "no_fault_found"]
        )
        if center:
            choices += ["complex"] * 2
        repair_type = rng.choice(choices)
    model = rng.choice(DEVICE_MODELS)[0]
    fault = rng.choice(FAULT_CODES)
    serial = serial_for(model, rng)
    roll = rng.random()
    if pool and roll < 0.08:
        # A repeat repair: the same device back within days, same fault category.
        model, serial, fault = rng.choice(pool)
    elif roll < 0.12:
        serial = serial[:-3] + "X?"  # a mistyped serial that breaks the model's pattern
    pool.append((model, serial, fault))
    received = dt.datetime.combine(day, dt.time(9 + rng.randint(0, 6), rng.randint(0, 59)), tz)
    completed = received + dt.timedelta(minutes=rng.randint(30, 240))
    if completed.date() > day:
        completed = dt.datetime.combine(day, dt.time(23, 30), tz)
    warranty = rng.random() < 0.75
    purchase = day - dt.timedelta(days=rng.randint(20, 330 if rng.random() < 0.9 else 500))
    result = {
        "factory_return": "returned_to_factory",
        "no_fault_found": "no_fault_found",
    }.get(repair_type, "repaired" if rng.random() < 0.95 else "unrepairable")
    parts = ""
    if repair_type in ("instore_simple", "onsite_repair", "complex") and PARTS[fault[3]]:
        part = rng.choice(PARTS[fault[3]]).format(m=model)
        parts = f"{part}*1#OLD{rng.randint(100000, 999999)}" if rng.random() < 0.5 else f"{part}*1"
    name = (
        rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    )
    return {
        "ticket_no": f"{station.code[-7:]}-{day:%y%m%d}-{n:03d}",
        "received_at": received,
        "completed_at": completed,
        "customer_name": name,
        "customer_phone": f"1{rng.choice('3578')}{rng.randint(10**8, 10**9 - 1)}",
        "device_model": model,
        "serial_no": serial,
        "purchase_on": purchase,
        "warranty": Payment.WARRANTY if warranty else Payment.PAID,
        "fault_code": fault[0],
        "repair_type": repair_type,
        "on_site": Location.ONSITE if repair_type == "onsite_repair" else Location.INSTORE,
        "parts": parts,
        "standby_serial": (
            serial_for(model, rng) if repair_type == RepairTypeCode.UNIT_SWAP else ""
        ),
        "result": result,
        "satisfaction": rng.choice([None, 3, 4, 4, 5, 5, 5]),
        "return_visit_on": day + dt.timedelta(days=2) if rng.random() < 0.35 else None,
        "return_visit_outcome": "客户满意" if rng.random() < 0.35 else "",
    }


def load(days: int | None = None) -> None:
    """Catalogues, then the reports for the active demo stations from the first day of last
    month (a whole month to settle) to yesterday."""
    load_catalogues()
    db.session.flush()
    from portal.stations.demo import DEMO_STATIONS

    codes = [row[0] for row in DEMO_STATIONS]
    stations = db.session.execute(
        select(Station).where(Station.code.in_(codes), Station.status == StationStatus.ACTIVE)
    ).scalars()
    today = local_today()
    tz = local_tz()
    if days is None:
        last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        days = min((today - last_month).days, 59)  # reports go back at most 60 days
    for station in stations:
        pool: list = []
        for back in range(days, 0, -1):
            day = today - dt.timedelta(days=back)
            # One generator per station and day: a second run makes the same choices.
            rng = random.Random(f"{station.code}/{day.isoformat()}")
            fate = rng.random()
            if services.find_report(station.id, day) is not None:
                continue
            if fate < 0.06:
                continue  # a missing day
            report = services.open_report(SYSTEM, station, day)
            count = rng.choice([0, 1, 2, 2, 3, 3, 4, 5, 6])
            rows = [(None, _record(station, day, n + 1, rng, pool)) for n in range(count)]
            if rows:
                services.import_records(SYSTEM, report, rows, RecordSource.FORM)
            services.update_counts(
                SYSTEM,
                report,
                {
                    "received_count": count + rng.randint(0, 2),
                    "completed_count": count,
                    "pending_count": rng.randint(0, 3),
                    "returned_count": sum(
                        1 for _r, raw in rows if raw["result"] == "returned_to_factory"
                    ),
                    "complaint_count": 1 if rng.random() < 0.05 else 0,
                },
            )
            services.submit_report(SYSTEM, report)
            late = fate > 0.88
            local = (
                dt.datetime.combine(
                    day + dt.timedelta(days=1), dt.time(14, 20) if late else dt.time(8, 45), tz
                )
                if late or rng.random() < 0.5
                else dt.datetime.combine(day, dt.time(20, 5), tz)
            )
            submitted = min(local.astimezone(dt.UTC), now_utc())
            # The demo's history: submitted when a station would have, on time or late.
            changes = audit.track(report)
            report.first_submitted_at = submitted
            report.submitted_at = submitted
            audit.record_changes("daily_report.demo_backdated", changes, actor=SYSTEM)
        db.session.flush()
