"""Stock conditions, movement sources, and the shipment and return workflows (SPEC 7)."""

from flask_babel import lazy_gettext as _l

from portal.core.workflow import LabelledEnum, TransitionTable


class StockCondition(LabelledEnum):
    GOOD = "good", _l("Good stock")
    DEFECTIVE = "defective", _l("Defective")


class MovementSource(LabelledEnum):
    """What a stock movement comes from; source_id names the row of that kind."""

    OPENING = "opening", _l("Opening stock import")
    SHIPMENT = "shipment", _l("Shipment")
    REPAIR = "repair", _l("Repair record")
    RETURN = "return", _l("Defective return")
    COUNT = "count", _l("Stock count")
    DEDUCTION = "deduction", _l("Deduction for an unreturned part")


class ShipmentStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    SENT = "sent", _l("Sent")
    RECEIVED = "received", _l("Received")
    DIFFERENCE = "difference", _l("Received with differences")
    RESOLVED = "resolved", _l("Differences resolved")
    CANCELLED = "cancelled", _l("Cancelled")


S = ShipmentStatus

SHIPMENT_FLOW = TransitionTable(
    _l("shipment"),
    {
        (S.DRAFT, "edit"): S.DRAFT,
        (S.DRAFT, "send"): S.SENT,
        (S.DRAFT, "cancel"): S.CANCELLED,
        (S.SENT, "receive"): S.RECEIVED,
        (S.SENT, "receive_with_difference"): S.DIFFERENCE,
        (S.DIFFERENCE, "resolve"): S.RESOLVED,
    },
)

# Shipments whose parts are on their way: they count towards the station's coverage.
IN_TRANSIT = frozenset({S.SENT, S.DIFFERENCE})


class LineResolution(LabelledEnum):
    """How HQ settles a difference between the quantities sent and received."""

    RECEIVED_STANDS = "received_stands", _l("The received quantity stands (lost in transit)")
    SENT_STANDS = "sent_stands", _l("The sent quantity stands (the station holds it)")


class ReturnStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    SHIPPED = "shipped", _l("Shipped to HQ")
    CONFIRMED = "confirmed", _l("Confirmed by HQ")
    CANCELLED = "cancelled", _l("Cancelled")


R = ReturnStatus

RETURN_FLOW = TransitionTable(
    _l("return batch"),
    {
        (R.DRAFT, "edit"): R.DRAFT,
        (R.DRAFT, "ship"): R.SHIPPED,
        (R.DRAFT, "cancel"): R.CANCELLED,
        (R.SHIPPED, "confirm"): R.CONFIRMED,
    },
)


class ReturnOutcome(LabelledEnum):
    """What HQ found for one line of a return batch."""

    RECEIVED = "received", _l("Received")
    MISSING = "missing", _l("Missing")
    WRONG_PART = "wrong_part", _l("Not the part claimed")


# Outcomes that put the part back on the station's defective stock: it still owes it.
NOT_RETURNED = frozenset({ReturnOutcome.MISSING, ReturnOutcome.WRONG_PART})


class ImportKind(LabelledEnum):
    CATALOGUE = "catalogue", _l("Parts catalogue")
    OPENING = "opening", _l("Opening stock")
