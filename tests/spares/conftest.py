"""Spares test helpers: parts, stocked stations, shipments and returns built by the services."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest

from portal.spares import catalogue, returns, shipments, stock
from portal.spares.states import MovementSource, StockCondition
from portal.spares.stock_models import OpeningStock, StockImport

_seq = itertools.count(1)


class Spares:
    def __init__(self, make, db):
        self.make = make
        self.db = db
        self._hq = None

    @property
    def hq(self):
        if self._hq is None:
            self._hq = self.make.user(role="hq")
        return self._hq

    def part(self, part_no=None, value="100.00", models=(), standby=False, name=None):
        self.make.catalogues()
        part_no = part_no or f"PT-{next(_seq):05d}"
        return catalogue.save_part(
            self.hq,
            part_no=part_no,
            name=name or f"备件 {part_no}",
            unit_value=value,
            model_codes=list(models),
            is_standby=standby,
            active=True,
        )

    def station(self, deposit="5000", **overrides):
        station = self.make.station(**overrides)
        if deposit:
            self.make.deposit(station, amount=deposit)
        return station

    def give(self, station, part, good=0, defective=0, moved_at=None):
        """Put stock at a station as if it had been imported (an opening import)."""
        entry = StockImport(kind="opening", filename="test.xlsx", sha256=uuid.uuid4().hex)
        self.db.session.add(entry)
        self.db.session.flush()
        if self.db.session.get(OpeningStock, station.id) is None:
            self.db.session.add(OpeningStock(station_id=station.id, import_id=entry.id))
        moves = []
        for condition, quantity in (
            (StockCondition.GOOD, good),
            (StockCondition.DEFECTIVE, defective),
        ):
            if quantity:
                moves.append(
                    stock.Move(
                        part.id,
                        condition,
                        quantity,
                        MovementSource.OPENING,
                        entry.id,
                        moved_at=moved_at,
                    )
                )
        stock.lock_station(station.id)
        stock.append_movements(self.hq, station.id, moves)
        self.db.session.flush()

    def held(self, station, part):
        good, defective = stock.on_hand(station.id)
        return good.get(part.id, 0), defective.get(part.id, 0)

    def shipment(self, station, lines, send=False):
        shipment = shipments.create(self.hq, station)
        for part, quantity in lines:
            shipments.add_line(self.hq, shipment, part.part_no, quantity)
        if send:
            shipments.send(self.hq, shipment)
        self.db.session.flush()
        return shipment

    def station_user(self, station):
        return self.make.user(role="station", station=station)

    def return_batch(self, station, lines, user=None, ship=False):
        user = user or self.station_user(station)
        batch = returns.create(user, station.id)
        for part, quantity, serial in lines:
            returns.add_line(user, batch, part.part_no, quantity, serial)
        if ship:
            returns.ship(user, batch, "SF123")
        self.db.session.flush()
        return batch


@pytest.fixture
def spares(make, db):
    return Spares(make, db)


@pytest.fixture
def today():
    from portal.reports.services import local_today

    return local_today()


def days_ago(n: int) -> dt.datetime:
    from portal.core.db import now_utc

    return now_utc() - dt.timedelta(days=n)
