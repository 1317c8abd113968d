"""Access table of the spares routes."""

from tests.access import ADMIN, AUDITOR, FINANCE, HQ, HQ_SIDE, STATION

SEE = HQ_SIDE | {STATION}
PARTS = {ADMIN, HQ}
COUNTS = {ADMIN, AUDITOR}

ACCESS = {
    "spares.index": {"GET": SEE},
    "spares.network_export": {"GET": HQ_SIDE},
    "spares.station": {"GET": SEE},
    "spares.movements": {"GET": SEE},
    "spares.movements_export": {"GET": HQ_SIDE},
    "spares.count_detail": {"GET": SEE},
    "spares.count": {"GET": COUNTS, "POST": COUNTS},
    "spares.parts": {"GET": SEE},
    "spares.part_new": {"GET": PARTS, "POST": PARTS},
    "spares.part_edit": {"GET": PARTS, "POST": PARTS},
    "spares.parts_import": {"GET": PARTS, "POST": PARTS},
    "spares.opening_import": {"GET": PARTS, "POST": PARTS},
    "spares.parts_template": {"GET": PARTS},
    "spares.opening_template": {"GET": PARTS},
    "spares.settings": {"GET": HQ_SIDE, "POST": PARTS},
    "spares.shipment_list": {"GET": SEE},
    "spares.shipment_new": {"GET": PARTS, "POST": PARTS},
    "spares.shipment": {"GET": SEE},
    "spares.shipment_add_line": {"POST": PARTS},
    "spares.shipment_remove_line": {"POST": PARTS},
    "spares.shipment_send": {"POST": PARTS},
    "spares.shipment_cancel": {"POST": PARTS},
    "spares.shipment_receive": {"POST": {STATION}},
    "spares.shipment_resolve": {"POST": PARTS},
    "spares.return_list": {"GET": SEE},
    "spares.return_new": {"POST": {STATION}},
    "spares.return_batch": {"GET": SEE},
    "spares.return_add_line": {"POST": {STATION}},
    "spares.return_remove_line": {"POST": {STATION}},
    "spares.return_ship": {"POST": {STATION}},
    "spares.return_cancel": {"POST": {STATION}},
    "spares.return_confirm": {"POST": PARTS},
}

assert FINANCE in HQ_SIDE  # finance sees stock and money, changes none of the stock


def _objects(ctx):
    """A part, stock, a sent shipment and a shipped return at the walk's own station."""
    if "shipment_id" not in ctx.objects:
        from tests.spares.conftest import Spares

        spares = Spares(ctx.make, ctx.db)
        ctx.make.deposit(ctx.own_station, amount="100000")
        part = spares.part("WALK-1", value="10.00")
        spares.give(ctx.own_station, part, good=5, defective=5)
        shipment = spares.shipment(ctx.own_station, [(part, 1)], send=True)
        user = spares.station_user(ctx.own_station)
        batch = spares.return_batch(ctx.own_station, [(part, 1, "")], user=user, ship=True)
        from portal.spares import stock
        from portal.spares.states import StockCondition

        auditor = ctx.make.user(role="auditor")
        count = stock.record_count(auditor, ctx.own_station, {(part.id, StockCondition.GOOD): 5})
        ctx.objects.update(
            part_id=part.id,
            shipment_id=shipment.id,
            line_id=shipment.lines[0].id,
            batch_id=batch.id,
            return_line_id=batch.lines[0].id,
            count_id=count.id,
        )
        ctx.db.session.commit()
    return ctx.objects


URL_ARGS = {
    "spares.station": lambda ctx: {"station_id": ctx.own_station.id},
    "spares.count": lambda ctx: {"station_id": ctx.own_station.id},
    "spares.count_detail": lambda ctx: {"count_id": _objects(ctx)["count_id"]},
    "spares.part_edit": lambda ctx: {"part_id": _objects(ctx)["part_id"]},
    "spares.shipment": lambda ctx: {"shipment_id": _objects(ctx)["shipment_id"]},
    "spares.shipment_add_line": lambda ctx: {"shipment_id": _objects(ctx)["shipment_id"]},
    "spares.shipment_remove_line": lambda ctx: {
        "shipment_id": _objects(ctx)["shipment_id"],
        "line_id": _objects(ctx)["line_id"],
    },
    "spares.shipment_send": lambda ctx: {"shipment_id": _objects(ctx)["shipment_id"]},
    "spares.shipment_cancel": lambda ctx: {"shipment_id": _objects(ctx)["shipment_id"]},
    "spares.shipment_receive": lambda ctx: {"shipment_id": _objects(ctx)["shipment_id"]},
    "spares.shipment_resolve": lambda ctx: {"shipment_id": _objects(ctx)["shipment_id"]},
    "spares.return_batch": lambda ctx: {"batch_id": _objects(ctx)["batch_id"]},
    "spares.return_add_line": lambda ctx: {"batch_id": _objects(ctx)["batch_id"]},
    "spares.return_remove_line": lambda ctx: {
        "batch_id": _objects(ctx)["batch_id"],
        "line_id": _objects(ctx)["return_line_id"],
    },
    "spares.return_ship": lambda ctx: {"batch_id": _objects(ctx)["batch_id"]},
    "spares.return_cancel": lambda ctx: {"batch_id": _objects(ctx)["batch_id"]},
    "spares.return_confirm": lambda ctx: {"batch_id": _objects(ctx)["batch_id"]},
}
