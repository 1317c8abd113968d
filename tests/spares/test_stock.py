"""The ledger: movements never change, on-hand equals the ledger, counts, money as Decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, text, update

from portal.core.errors import DomainError, PermissionDenied
from portal.spares import catalogue, stock
from portal.spares.states import MovementSource, StockCondition
from portal.spares.stock_models import Part, StockMovement, StockOnHand


@pytest.mark.parametrize("change", ["edit", "delete"])
def test_movements_are_never_edited_or_deleted(spares, db, change):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    spares.give(station, lcd, good=1)
    movement = db.session.execute(select(StockMovement)).scalars().first()
    if change == "edit":
        movement.quantity = 5
    else:
        db.session.delete(movement)
    with pytest.raises(RuntimeError):
        db.session.flush()


def test_on_hand_cannot_go_below_zero(spares, db):
    from sqlalchemy.exc import IntegrityError

    station = spares.station()
    lcd = spares.part("LCD-P30")
    stock.lock_station(station.id)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        stock.append_movements(
            spares.hq,
            station.id,
            [stock.Move(lcd.id, StockCondition.GOOD, -1, MovementSource.COUNT, 1)],
        )


def test_reconcile_finds_a_cache_that_differs_from_the_ledger(spares, db, runner):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    spares.give(station, lcd, good=4, defective=1)
    assert stock.reconcile().ok
    ok = runner.invoke(args=["spares", "reconcile"])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output
    db.session.execute(
        update(StockOnHand)
        .where(StockOnHand.station_id == station.id, StockOnHand.condition == StockCondition.GOOD)
        .values(quantity=5)
    )
    result = stock.reconcile()
    assert not result.ok
    assert f"{station.code} LCD-P30 good: on hand 5, ledger sum 4" in result.problems
    bad = runner.invoke(args=["spares", "reconcile"])
    assert bad.exit_code == 1
    assert "ledger sum 4" in bad.output


def test_reconcile_finds_a_ledger_row_missing_from_the_cache(spares, db):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    db.session.add(
        StockMovement(
            station_id=station.id,
            part_id=lcd.id,
            condition=StockCondition.DEFECTIVE,
            quantity=2,
            source_type=MovementSource.COUNT,
            source_id=0,
        )
    )
    db.session.flush()
    problems = stock.reconcile().problems
    assert f"{station.code} LCD-P30 defective: on hand 0, ledger sum 2" in problems


def test_a_count_records_differences_as_movements(spares, make, db):
    station = spares.station()
    lcd = spares.part("LCD-P30")
    bat = spares.part("BAT-P30")
    spares.give(station, lcd, good=5, defective=2)
    auditor = make.user(role="auditor")
    count = stock.record_count(
        auditor,
        station,
        {
            (lcd.id, StockCondition.GOOD): 4,
            (lcd.id, StockCondition.DEFECTIVE): 2,
            (bat.id, StockCondition.GOOD): 1,
        },
        note="sampled during inspection",
    )
    assert sorted((ln.expected, ln.counted) for ln in count.lines) == [(0, 1), (2, 2), (5, 4)]
    assert spares.held(station, lcd) == (4, 2)
    assert spares.held(station, bat) == (1, 0)
    counted = db.session.execute(
        select(StockMovement.quantity).where(StockMovement.source_type == MovementSource.COUNT)
    ).scalars()
    assert sorted(counted) == [-1, 1]
    assert stock.reconcile().ok
    with pytest.raises(PermissionDenied):
        stock.record_count(spares.hq, station, {(lcd.id, StockCondition.GOOD): 1})
    with pytest.raises(DomainError):
        stock.record_count(auditor, station, {(lcd.id, StockCondition.GOOD): -1})


def test_station_stock_and_network_totals(spares, db):
    a, b = spares.station(), spares.station()
    lcd = spares.part("LCD-P30", value="320.50")
    bat = spares.part("BAT-P30", value="80.00")
    spares.give(a, lcd, good=2, defective=1)
    spares.give(b, bat, good=3)
    rows = stock.station_stock(a.id)
    assert [(r.part.part_no, r.good, r.defective, r.good_value) for r in rows] == [
        ("LCD-P30", 2, 1, Decimal("641.00"))
    ]
    totals = stock.station_totals([a.id, b.id])
    assert totals[a.id].good_value == Decimal("641.00")
    assert totals[a.id].defective_value == Decimal("320.50")
    assert totals[b.id].good_value == Decimal("240.00")
    network = stock.network_totals()
    assert network.good_value >= Decimal("881.00")


# --- money: Decimal end to end -------------------------------------------------------------


def test_unit_value_with_three_decimals_is_refused_not_rounded(spares, db):
    with pytest.raises(DomainError) as info:
        spares.part("ODD-1", value="0.105")
    assert info.value.field == "unit_value"
    assert catalogue.find_part("ODD-1") is None


def test_large_and_grouped_amounts_are_kept_exactly(spares, db):
    part = spares.part("BIG-1", value="12,345,678.90")
    db.session.expire_all()
    assert db.session.get(Part, part.id).unit_value == Decimal("12345678.90")
    stored = db.session.execute(
        text("SELECT unit_value FROM spare_parts WHERE id = :id"), {"id": part.id}
    ).scalar_one()
    assert Decimal(str(stored)) == Decimal("12345678.90")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        (Decimal("0.105"), Decimal("0.11")),  # the column rounds half up (core.money)
        (Decimal("12345678.90"), Decimal("12345678.90")),
        (Decimal("0.10"), Decimal("0.10")),
    ],
)
def test_money_column_write_and_read_back(spares, db, written, read):
    part = spares.part(value="1.00")
    db.session.execute(update(Part).where(Part.id == part.id).values(unit_value=written))
    db.session.expire_all()
    value = db.session.get(Part, part.id).unit_value
    assert isinstance(value, Decimal)
    assert value == read


def test_stock_value_is_exact_at_network_size(spares, db):
    station = spares.station()
    part = spares.part(value="0.10")
    spares.give(station, part, good=3)
    assert stock.station_totals([station.id])[station.id].good_value == Decimal("0.30")


def test_an_inspection_reads_the_expected_quantity_from_the_ledger(spares, db):
    from portal.inspections.services import expected_quantity

    station = spares.station()
    lcd = spares.part("LCD-P30")
    spares.give(station, lcd, good=4, defective=1)
    assert expected_quantity(station.id, "LCD-P30") == 4
    assert expected_quantity(station.id, "NOPE") is None
