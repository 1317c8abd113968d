"""Demo spare parts: a catalogue for the demo models, opening stock at the repair stations
(one over its cap), shipments and returns in every state, and the deductions that follow.

Idempotent: parts that exist, stations with opening stock and stations that already have
shipments are left alone; charging unreturned parts charges each part once.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from sqlalchemy import select, true

from portal.extensions import db
from portal.spares import catalogue, excel, returns, shipments, stock
from portal.spares.stock_models import OpeningStock, Part, Shipment
from portal.stations.models import Station
from portal.stations.states import StationStatus, Tier

MODELS = ("P30", "P40", "T10", "W2", "R5")
# part no. pattern, name, unit value per model (or one value), standby unit
PART_KINDS = [
    ("LCD-{m}", "{m} 屏幕总成", ("320.00", "380.00", "450.00", "260.00", "150.00")),
    ("TP-{m}", "{m} 触摸屏", ("120.00", "135.00", "180.00", "90.00", "60.00")),
    ("BAT-{m}", "{m} 电池", ("80.00", "95.00", "160.00", "45.00", "40.00")),
    ("MB-{m}", "{m} 主板", ("900.00", "1100.00", "1300.00", "600.00", "380.00")),
    ("SPK-{m}", "{m} 扬声器", ("35.00", "38.00", "42.00", "25.00", "20.00")),
    ("ANT-{m}", "{m} 天线", ("25.00", "28.00", "30.00", "18.00", "22.00")),
]
COMMON_PARTS = [
    ("PWR-IC", "电源管理芯片", "45.00", MODELS),
    ("USB-PORT", "USB 接口", "15.00", ("P30", "P40", "T10")),
    ("CHG-IC", "充电芯片", "30.00", MODELS),
]
STANDBY_UNITS = [
    ("SB-P30", "P30 备用机", "1500.00", ("P30",)),
    ("SB-P40", "P40 备用机", "1800.00", ("P40",)),
]
# The network moved onto the portal this many days ago: defective parts held then and
# never returned are charged by now.
OPENING_DAYS_AGO = 45

# A service center's opening stock (a service station holds about half of it).
CENTER_STOCK = {
    "LCD-P30": (3, 1),
    "LCD-P40": (2, 0),
    "TP-P30": (2, 0),
    "BAT-P30": (4, 0),
    "BAT-P40": (3, 0),
    "MB-P30": (1, 0),
    "LCD-T10": (1, 0),
    "SPK-P30": (3, 0),
    "ANT-P30": (3, 0),
    "PWR-IC": (4, 0),
    "USB-PORT": (6, 1),
    "CHG-IC": (4, 0),
    "SB-P30": (1, 0),
}
# This station's deposit is short (certification demo): its opening stock is over its cap.
OVER_CAP = "SD-QD-0001"
STATION_A, STATION_B, OTHER = "HA-ZZ-0001", "GD-GZ-0001", "HA-LY-0001"


def _hq():
    from portal.auth.services import find_user

    return find_user("hq")


def load() -> None:
    """The catalogue and the repair stations' opening stock (before the demo reports)."""
    hq = _hq()
    if hq is None:
        return
    from portal.reports import demo as reports_demo

    reports_demo.load_catalogues()
    db.session.flush()
    have = set(db.session.execute(select(Part.part_no)).scalars())
    for pattern, name, values in PART_KINDS:
        for model, value in zip(MODELS, values, strict=True):
            part_no = pattern.format(m=model)
            if part_no not in have:
                catalogue.save_part(
                    hq,
                    part_no=part_no,
                    name=name.format(m=model),
                    unit_value=value,
                    model_codes=[model],
                    is_standby=False,
                    active=True,
                )
    for part_no, name, value, models in COMMON_PARTS + STANDBY_UNITS:
        if part_no not in have:
            catalogue.save_part(
                hq,
                part_no=part_no,
                name=name,
                unit_value=value,
                model_codes=list(models),
                is_standby=part_no.startswith("SB-"),
                active=True,
            )
    db.session.flush()
    _opening_stock(hq)


def _opening_stock(hq) -> None:
    done = set(db.session.execute(select(OpeningStock.station_id)).scalars())
    stations = db.session.execute(
        select(Station)
        .where(
            Station.status == StationStatus.ACTIVE,
            Station.tier != Tier.ACCESSORY_POINT,
            Station.id.not_in(done) if done else true(),
        )
        .order_by(Station.code)
    ).scalars()
    rows = []
    for station in stations:
        half = station.tier == Tier.SERVICE_STATION and station.code != OVER_CAP
        stock_items = dict(CENTER_STOCK)
        if station.code == OVER_CAP:
            stock_items["SB-P40"] = (2, 0)  # standby units repairs do not use: over its cap
        for part_no, (good, defective) in stock_items.items():
            if half:
                good = good // 2
            if good or defective:
                rows.append((station.code, part_no, good, defective))
    if not rows:
        return
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = excel.OPENING_SHEET
    sheet.append([c.header for c in excel.OPENING_COLUMNS])
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    as_of = catalogue.local_today() - dt.timedelta(days=OPENING_DAYS_AGO)
    excel.import_opening_stock(hq, "demo-opening-stock.xlsx", buffer.getvalue(), as_of)


def _station(code: str) -> Station | None:
    return db.session.execute(select(Station).where(Station.code == code)).scalar_one_or_none()


def _station_user(code: str):
    from portal.auth.services import find_user

    return find_user({STATION_A: "station-a", STATION_B: "station-b"}[code])


def load_flows() -> None:
    """Shipments and returns in every state, and deductions (after the demo reports)."""
    hq = _hq()
    a, b, other = _station(STATION_A), _station(STATION_B), _station(OTHER)
    if hq is None or a is None or b is None:
        return
    already = db.session.execute(
        select(Shipment.id).where(Shipment.station_id == a.id).limit(1)
    ).first()
    if already is None:
        user_a, user_b = _station_user(STATION_A), _station_user(STATION_B)
        # Station A: one received in full, one on its way (waiting for its receipt).
        done = _shipment(hq, a, [("LCD-P30", 2), ("BAT-P30", 2)], send=True)
        shipments.confirm_receipt(user_a, done, {ln.id: ln.quantity_sent for ln in done.lines})
        _shipment(hq, a, [("LCD-P40", 1), ("TP-P30", 2)], send=True)
        # Station B: received one short, waiting for HQ to resolve the difference.
        short = _shipment(hq, b, [("LCD-P30", 3), ("USB-PORT", 4)], send=True)
        received = {
            ln.id: ln.quantity_sent - (1 if ln.part.part_no == "LCD-P30" else 0)
            for ln in short.lines
        }
        shipments.confirm_receipt(user_b, short, received)
        # A draft HQ has not sent yet.
        if other is not None:
            _shipment(hq, other, [("BAT-P40", 2)], send=False)
        # Returns: station A has one shipped to HQ; station B one confirmed with a part missing.
        _return(user_a, a, shipped=True)
        confirmed = _return(user_b, b, shipped=True)
        if confirmed is not None:
            outcomes = {ln.id: ("received", "") for ln in confirmed.lines}
            first = confirmed.lines[0]
            outcomes[first.id] = ("missing", "箱内未见")
            returns.confirm(hq, confirmed, outcomes)
    db.session.flush()
    for station_id in stock.stations_holding_defective():
        stock.charge_unreturned(hq, station_id)


def _shipment(hq, station, lines, send):
    shipment = shipments.create(hq, station, note="演示数据")
    for part_no, quantity in lines:
        shipments.add_line(hq, shipment, part_no, quantity)
    if send:
        shipments.send(hq, shipment)
    return shipment


def _return(user, station, shipped):
    """A batch of the station's defective parts, up to two lines (None if it holds none)."""
    held = [row for row in stock.station_stock(station.id) if row.defective][:2]
    if not held:
        return None
    batch = returns.create(user, station.id, note="演示数据")
    for row in held:
        returns.add_line(user, batch, row.part.part_no, 1)
    if shipped:
        returns.ship(user, batch, f"SF{station.id:04d}{batch.id:06d}")
    return batch
