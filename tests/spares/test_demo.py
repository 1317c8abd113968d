"""Demo spare parts: every state shown, reconciled, and a second run changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.settlement.adjustments import UNRETURNED_DEFECTIVE, Adjustment
from portal.spares import stock
from portal.spares.states import ReturnStatus, ShipmentStatus
from portal.spares.stock_models import ReturnBatch, Shipment, StockMovement


def _counts(db):
    return (
        db.session.execute(select(func.count()).select_from(StockMovement)).scalar_one(),
        db.session.execute(select(func.count()).select_from(Shipment)).scalar_one(),
        db.session.execute(select(func.count()).select_from(ReturnBatch)).scalar_one(),
        db.session.execute(
            select(func.count()).where(Adjustment.rule_code == UNRETURNED_DEFECTIVE)
        ).scalar_one(),
    )


def test_demo_spares_are_complete_reconciled_and_idempotent(runner, db):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    first = _counts(db)
    shipment_states = set(db.session.execute(select(Shipment.status)).scalars())
    assert {
        ShipmentStatus.DRAFT,
        ShipmentStatus.SENT,
        ShipmentStatus.RECEIVED,
        ShipmentStatus.DIFFERENCE,
    } <= shipment_states
    assert {ReturnStatus.SHIPPED, ReturnStatus.CONFIRMED} <= set(
        db.session.execute(select(ReturnBatch.status)).scalars()
    )
    assert first[3] > 0  # unreturned defective parts were charged
    assert stock.reconcile().ok
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    assert _counts(db) == first
    result = runner.invoke(args=["spares", "reconcile"])
    assert result.exit_code == 0, result.output
