"""Shipments from HQ to a station: draft, send (within coverage), receipt, differences.

Every verb takes the station's lock first and re-reads the shipment under it, so two sends,
or two confirmations of one receipt, run one after the other and the second sees the first.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from portal.core import audit
from portal.core.db import now_utc
from portal.core.errors import DomainError, NotFound, PermissionDenied
from portal.core.i18n import money
from portal.core.permissions import Permission, can, sees_all_stations
from portal.core.scoping import scope_to_user
from portal.extensions import db
from portal.spares import catalogue, rules, stock
from portal.spares.locks import lock_station
from portal.spares.states import (
    SHIPMENT_FLOW,
    LineResolution,
    MovementSource,
    ShipmentStatus,
    StockCondition,
)
from portal.spares.stock_models import Part, Shipment, ShipmentLine
from portal.stations.models import Station
from portal.stations.states import StationStatus

NOT_YOURS = _l("You may not handle shipments.")


def _require_hq(actor) -> None:
    catalogue.require(actor, Permission.MANAGE_PARTS, NOT_YOURS)


def _require_station(actor, shipment: Shipment) -> None:
    if not can(actor, Permission.HANDLE_STATION_STOCK) or actor.station_id != shipment.station_id:
        raise PermissionDenied(_l("Only the station's own users confirm its receipts."))


def _locked(shipment: Shipment) -> Shipment:
    """Take the station's lock and re-read the shipment as it is now."""
    lock_station(shipment.station_id)
    db.session.refresh(shipment)
    for line in shipment.lines:
        db.session.refresh(line)
    return shipment


def _expect_version(shipment: Shipment, version: int | None) -> None:
    if version is not None and shipment.version != version:
        raise DomainError(
            _l("Someone else changed this shipment meanwhile. Reload it and try again.")
        )


def _lines_after(shipment: Shipment) -> list[dict]:
    return [
        {
            "part_no": line.part.part_no,
            "sent": line.quantity_sent,
            "received": line.quantity_received,
            "resolution": line.resolution,
        }
        for line in shipment.lines
    ]


def _move(actor, shipment: Shipment, action: str, **after) -> None:
    before = shipment.status
    shipment.status = SHIPMENT_FLOW.target(shipment.status, action)
    shipment.updated_at = now_utc()
    db.session.flush()
    audit.record(
        f"shipment.{action}",
        shipment,
        actor=actor,
        before={"status": before},
        after={"status": shipment.status, **after},
    )


def create(actor, station: Station, note: str = "") -> Shipment:
    """A draft shipment to an active station."""
    _require_hq(actor)
    if station.status != StationStatus.ACTIVE:
        raise DomainError(_l("Parts are sent only to active stations."), field="station")
    shipment = Shipment(
        station_id=station.id,
        note=rules.CONTROL_CHARS.sub(" ", note or "").strip()[:500],
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(shipment)
    db.session.flush()
    audit.record("shipment.created", shipment, actor=actor, after={"note": shipment.note})
    return shipment


def add_line(actor, shipment: Shipment, part_no: str, quantity) -> ShipmentLine:
    """Add parts to a draft (a part already on it gets the quantity added)."""
    _require_hq(actor)
    part = catalogue.find_part(part_no or "")
    if part is None or not part.active:
        raise DomainError(
            _l("No active part %(no)s in the catalogue.", no=part_no or ""), field="part_no"
        )
    try:
        quantity = rules.parse_quantity(quantity)
    except ValueError:
        raise DomainError(
            _l("A whole number from 1 to %(n)d.", n=rules.MAX_QUANTITY), field="quantity"
        ) from None
    _locked(shipment)
    SHIPMENT_FLOW.target(shipment.status, "edit")
    line = next((ln for ln in shipment.lines if ln.part_id == part.id), None)
    if line is None:
        line = ShipmentLine(shipment=shipment, part_id=part.id, quantity_sent=quantity)
        db.session.add(line)
    else:
        if line.quantity_sent + quantity > rules.MAX_QUANTITY:
            raise DomainError(
                _l("A whole number from 1 to %(n)d.", n=rules.MAX_QUANTITY), field="quantity"
            )
        line.quantity_sent += quantity
    shipment.updated_at = now_utc()  # a new version: a send running meanwhile sees the change
    db.session.flush()
    audit.record(
        "shipment.line_added",
        shipment,
        actor=actor,
        after={"part_no": part.part_no, "quantity": quantity, "line_total": line.quantity_sent},
    )
    return line


def remove_line(actor, shipment: Shipment, line_id: int) -> None:
    _require_hq(actor)
    _locked(shipment)
    SHIPMENT_FLOW.target(shipment.status, "edit")
    line = next((ln for ln in shipment.lines if ln.id == line_id), None)
    if line is None:
        raise NotFound(_l("That line is not on this shipment."))
    shipment.lines.remove(line)
    shipment.updated_at = now_utc()
    db.session.flush()
    audit.record(
        "shipment.line_removed",
        shipment,
        actor=actor,
        before={"part_no": line.part.part_no, "quantity": line.quantity_sent},
    )


def cancel(actor, shipment: Shipment, version: int | None = None) -> Shipment:
    _require_hq(actor)
    _locked(shipment)
    _expect_version(shipment, version)
    _move(actor, shipment, "cancel")
    return shipment


def shipment_value(shipment: Shipment) -> Decimal:
    return rules.stock_value(
        {line.part_id: line.quantity_sent for line in shipment.lines},
        {line.part_id: line.part.unit_value for line in shipment.lines},
    )


def send(actor, shipment: Shipment, version: int | None = None) -> Shipment:
    """Send a draft; refused, with the numbers, when it would pass the station's coverage."""
    _require_hq(actor)
    _locked(shipment)
    _expect_version(shipment, version)
    SHIPMENT_FLOW.target(shipment.status, "send")
    if not shipment.lines:
        raise DomainError(_l("Add at least one part before sending."))
    station = db.session.get(Station, shipment.station_id)
    if station.status != StationStatus.ACTIVE:
        raise DomainError(_l("Parts are sent only to active stations."))
    adding = shipment_value(shipment)
    state = stock.coverage(shipment.station_id)
    if not state.allows(adding):
        raise DomainError(
            _l(
                "Not sent: the station's good stock is worth %(good)s and %(coming)s is on its "
                "way; this shipment adds %(adding)s, %(total)s in all, above its limit of "
                "%(limit)s (deposit %(balance)s × coverage factor %(factor)s).",
                good=money(state.good_value),
                coming=money(state.in_transit_value),
                adding=money(adding),
                total=money(state.used + adding),
                limit=money(state.limit),
                balance=money(state.balance),
                factor=state.factor.normalize(),
            )
        )
    shipment.sent_at = now_utc()
    shipment.sent_by_id = getattr(actor, "id", None)
    _move(
        actor,
        shipment,
        "send",
        value=adding,
        coverage_limit=state.limit,
        coverage_used=state.used + adding,
        lines=_lines_after(shipment),
    )
    return shipment


def confirm_receipt(actor, shipment: Shipment, received: dict[int, object]) -> Shipment:
    """The station confirms what arrived; it becomes good stock. Counted once, whoever asks."""
    _require_station(actor, shipment)
    _locked(shipment)
    if shipment.status != ShipmentStatus.SENT:
        if shipment.status in (
            ShipmentStatus.RECEIVED,
            ShipmentStatus.DIFFERENCE,
            ShipmentStatus.RESOLVED,
        ):
            raise DomainError(_l("This shipment's receipt is already confirmed."))
        SHIPMENT_FLOW.target(shipment.status, "receive")
    quantities = {}
    for line in shipment.lines:
        value = received.get(line.id)
        try:
            quantities[line.id] = rules.parse_quantity(value, allow_zero=True)
        except ValueError:
            raise DomainError(
                _l("Enter the quantity received of %(no)s (0 or more).", no=line.part.part_no),
                field=f"line_{line.id}",
            ) from None
    moves = []
    for line in shipment.lines:
        line.quantity_received = quantities[line.id]
        if line.quantity_received:
            moves.append(
                stock.Move(
                    line.part_id,
                    StockCondition.GOOD,
                    line.quantity_received,
                    MovementSource.SHIPMENT,
                    shipment.id,
                    line.id,
                )
            )
    stock.append_movements(actor, shipment.station_id, moves)
    shipment.received_at = now_utc()
    shipment.received_by_id = getattr(actor, "id", None)
    differs = any(line.difference for line in shipment.lines)
    _move(
        actor,
        shipment,
        "receive_with_difference" if differs else "receive",
        lines=_lines_after(shipment),
    )
    return shipment


def resolve(actor, shipment: Shipment, decisions: dict[int, tuple[str, str]]) -> Shipment:
    """HQ settles each difference: the received quantity stands, or the sent one does."""
    _require_hq(actor)
    _locked(shipment)
    SHIPMENT_FLOW.target(shipment.status, "resolve")
    good, _defective = stock.on_hand(shipment.station_id)
    moves = []
    for line in shipment.lines:
        if not line.difference:
            continue
        choice, note = decisions.get(line.id, ("", ""))
        try:
            resolution = LineResolution(choice)
        except ValueError:
            raise DomainError(
                _l("Decide the difference of %(no)s.", no=line.part.part_no),
                field=f"line_{line.id}",
            ) from None
        note = rules.CONTROL_CHARS.sub(" ", note or "").strip()[:500]
        if resolution == LineResolution.SENT_STANDS:
            delta = line.difference
            if delta < 0 and good.get(line.part_id, 0) < -delta:
                raise DomainError(
                    _l(
                        "The station no longer holds the %(n)d extra %(no)s it received.",
                        n=-delta,
                        no=line.part.part_no,
                    ),
                    field=f"line_{line.id}",
                )
            good[line.part_id] = good.get(line.part_id, 0) + delta
            moves.append(
                stock.Move(
                    line.part_id,
                    StockCondition.GOOD,
                    delta,
                    MovementSource.SHIPMENT,
                    shipment.id,
                    line.id,
                    note=note[:200],
                )
            )
        line.resolution = resolution
        line.resolution_note = note
    stock.append_movements(actor, shipment.station_id, moves)
    shipment.resolved_at = now_utc()
    shipment.resolved_by_id = getattr(actor, "id", None)
    _move(actor, shipment, "resolve", lines=_lines_after(shipment))
    return shipment


# --- queries -----------------------------------------------------------------------------


def shipment_query(user, status: str = "", station_id: int | None = None) -> Select:
    """Shipments the user may see; a station sees those sent to it (no drafts)."""
    stmt = scope_to_user(select(Shipment), Shipment.station_id, user)
    if not sees_all_stations(user):
        stmt = stmt.where(Shipment.status.not_in([ShipmentStatus.DRAFT, ShipmentStatus.CANCELLED]))
    if status in {s.value for s in ShipmentStatus}:
        stmt = stmt.where(Shipment.status == ShipmentStatus(status))
    if station_id:
        stmt = stmt.where(Shipment.station_id == station_id)
    return stmt


def visible(user, shipment_id: int) -> Shipment | None:
    return db.session.execute(
        shipment_query(user).where(Shipment.id == shipment_id)
    ).scalar_one_or_none()


def waiting_counts(user) -> dict[str, int]:
    """What waits for the user: receipts to confirm (station), differences to resolve (HQ)."""
    from sqlalchemy import func

    out = {}
    if can(user, Permission.HANDLE_STATION_STOCK) and user.station_id:
        out["to_receive"] = db.session.execute(
            select(func.count()).where(
                Shipment.station_id == user.station_id, Shipment.status == ShipmentStatus.SENT
            )
        ).scalar_one()
    if can(user, Permission.MANAGE_PARTS):
        out["differences"] = db.session.execute(
            select(func.count()).where(Shipment.status == ShipmentStatus.DIFFERENCE)
        ).scalar_one()
        out["drafts"] = db.session.execute(
            select(func.count()).where(Shipment.status == ShipmentStatus.DRAFT)
        ).scalar_one()
    return out


def parts_for_choice() -> list[Part]:
    return catalogue.active_parts()
