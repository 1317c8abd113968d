"""Defective returns: the station ships defective parts back in a batch; HQ confirms each line.

Shipping takes the parts off the station's defective stock. A line HQ finds missing, or not
the part claimed, goes back onto it: the station still owes that part, and the return period
(SPEC 7: 30 days by default) keeps running from when it was taken out.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from portal.core import audit
from portal.core.db import now_utc
from portal.core.errors import DomainError, NotFound, PermissionDenied
from portal.core.permissions import Permission, can, sees_all_stations
from portal.core.scoping import scope_to_user
from portal.extensions import db
from portal.spares import catalogue, rules, stock
from portal.spares.locks import lock_station
from portal.spares.states import (
    NOT_RETURNED,
    RETURN_FLOW,
    MovementSource,
    ReturnOutcome,
    ReturnStatus,
    StockCondition,
)
from portal.spares.stock_models import ReturnBatch, ReturnLine, StockMovement

DEFECTIVE = StockCondition.DEFECTIVE


def _require_station(actor, station_id: int) -> None:
    if not can(actor, Permission.HANDLE_STATION_STOCK) or actor.station_id != station_id:
        raise PermissionDenied(_l("Only the station's own users return its parts."))


def _locked(batch: ReturnBatch) -> ReturnBatch:
    lock_station(batch.station_id)
    db.session.refresh(batch)
    for line in batch.lines:
        db.session.refresh(line)
    return batch


def _lines(batch: ReturnBatch) -> list[dict]:
    return [
        {
            "part_no": line.part.part_no,
            "quantity": line.quantity,
            "faulty_serial": line.faulty_serial,
            "outcome": line.outcome,
        }
        for line in batch.lines
    ]


def _move(actor, batch: ReturnBatch, action: str, **after) -> None:
    before = batch.status
    batch.status = RETURN_FLOW.target(batch.status, action)
    batch.updated_at = now_utc()
    db.session.flush()
    audit.record(
        f"return_batch.{action}",
        batch,
        actor=actor,
        before={"status": before},
        after={"status": batch.status, **after},
    )


def create(actor, station_id: int, note: str = "") -> ReturnBatch:
    """A draft return batch of the actor's station."""
    _require_station(actor, station_id)
    batch = ReturnBatch(
        station_id=station_id,
        note=rules.CONTROL_CHARS.sub(" ", note or "").strip()[:500],
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(batch)
    db.session.flush()
    audit.record("return_batch.created", batch, actor=actor, after={"note": batch.note})
    return batch


def _defective_free(batch: ReturnBatch) -> dict[int, int]:
    """Defective stock of the station not yet put on this batch, by part."""
    _good, defective = stock.on_hand(batch.station_id)
    for line in batch.lines:
        defective[line.part_id] = defective.get(line.part_id, 0) - line.quantity
    return defective


def add_line(actor, batch: ReturnBatch, part_no: str, quantity, faulty_serial: str = ""):
    """Put defective parts the station holds on a draft batch."""
    _require_station(actor, batch.station_id)
    part = catalogue.find_part(part_no or "")
    if part is None:
        raise DomainError(_l("No part %(no)s in the catalogue.", no=part_no or ""), field="part_no")
    try:
        quantity = rules.parse_quantity(quantity)
    except ValueError:
        raise DomainError(
            _l("A whole number from 1 to %(n)d.", n=rules.MAX_QUANTITY), field="quantity"
        ) from None
    serial = rules.CONTROL_CHARS.sub("", faulty_serial or "").strip().upper()[:40]
    _locked(batch)
    RETURN_FLOW.target(batch.status, "edit")
    free = _defective_free(batch).get(part.id, 0)
    if quantity > free:
        raise DomainError(
            _l(
                "The station holds %(n)d more defective %(no)s to return.",
                n=max(free, 0),
                no=part.part_no,
            ),
            field="quantity",
        )
    line = next(
        (ln for ln in batch.lines if ln.part_id == part.id and ln.faulty_serial == serial), None
    )
    if line is None:
        line = ReturnLine(batch=batch, part_id=part.id, quantity=quantity, faulty_serial=serial)
        db.session.add(line)
    else:
        line.quantity += quantity
    batch.updated_at = now_utc()
    db.session.flush()
    audit.record(
        "return_batch.line_added",
        batch,
        actor=actor,
        after={"part_no": part.part_no, "quantity": quantity, "faulty_serial": serial},
    )
    return line


def remove_line(actor, batch: ReturnBatch, line_id: int) -> None:
    _require_station(actor, batch.station_id)
    _locked(batch)
    RETURN_FLOW.target(batch.status, "edit")
    line = next((ln for ln in batch.lines if ln.id == line_id), None)
    if line is None:
        raise NotFound(_l("That line is not on this return batch."))
    batch.lines.remove(line)
    batch.updated_at = now_utc()
    db.session.flush()
    audit.record(
        "return_batch.line_removed",
        batch,
        actor=actor,
        before={"part_no": line.part.part_no, "quantity": line.quantity},
    )


def cancel(actor, batch: ReturnBatch) -> ReturnBatch:
    _require_station(actor, batch.station_id)
    _locked(batch)
    _move(actor, batch, "cancel")
    return batch


def ship(actor, batch: ReturnBatch, carrier_ref: str = "") -> ReturnBatch:
    """Ship the batch: its parts leave the station's defective stock."""
    _require_station(actor, batch.station_id)
    _locked(batch)
    RETURN_FLOW.target(batch.status, "ship")
    if not batch.lines:
        raise DomainError(_l("Add at least one part before shipping."))
    _good, defective = stock.on_hand(batch.station_id)
    wanted: dict[int, int] = {}
    for line in batch.lines:
        wanted[line.part_id] = wanted.get(line.part_id, 0) + line.quantity
    for line in batch.lines:
        if wanted[line.part_id] > defective.get(line.part_id, 0):
            raise DomainError(
                _l(
                    "The station holds %(n)d defective %(no)s; the batch has %(m)d.",
                    n=defective.get(line.part_id, 0),
                    no=line.part.part_no,
                    m=wanted[line.part_id],
                )
            )
    stock.append_movements(
        actor,
        batch.station_id,
        [
            stock.Move(
                line.part_id,
                DEFECTIVE,
                -line.quantity,
                MovementSource.RETURN,
                batch.id,
                line.id,
                line.faulty_serial,
            )
            for line in batch.lines
        ],
    )
    batch.carrier_ref = rules.CONTROL_CHARS.sub(" ", carrier_ref or "").strip()[:100]
    batch.shipped_at = now_utc()
    batch.shipped_by_id = getattr(actor, "id", None)
    _move(actor, batch, "ship", carrier_ref=batch.carrier_ref, lines=_lines(batch))
    return batch


def confirm(actor, batch: ReturnBatch, outcomes: dict[int, tuple[str, str]]) -> ReturnBatch:
    """HQ confirms every line: received, missing or not the part claimed."""
    catalogue.require(actor, Permission.MANAGE_PARTS, _l("You may not confirm returns."))
    _locked(batch)
    RETURN_FLOW.target(batch.status, "confirm")
    moves = []
    for line in batch.lines:
        choice, note = outcomes.get(line.id, ("", ""))
        try:
            outcome = ReturnOutcome(choice)
        except ValueError:
            raise DomainError(
                _l("Say what arrived of %(no)s.", no=line.part.part_no), field=f"line_{line.id}"
            ) from None
        line.outcome = outcome
        line.outcome_note = rules.CONTROL_CHARS.sub(" ", note or "").strip()[:500]
        if outcome in NOT_RETURNED:
            moves.append(
                stock.Move(
                    line.part_id,
                    DEFECTIVE,
                    line.quantity,
                    MovementSource.RETURN,
                    batch.id,
                    line.id,
                    line.faulty_serial,
                    line.outcome_note[:200],
                )
            )
    stock.append_movements(actor, batch.station_id, moves)
    batch.confirmed_at = now_utc()
    batch.confirmed_by_id = getattr(actor, "id", None)
    _move(actor, batch, "confirm", lines=_lines(batch))
    return batch


# --- queries -----------------------------------------------------------------------------


def batch_query(user, status: str = "", station_id: int | None = None) -> Select:
    stmt = scope_to_user(select(ReturnBatch), ReturnBatch.station_id, user)
    if sees_all_stations(user):
        # HQ sees batches once shipped; drafts are the station's own business.
        stmt = stmt.where(ReturnBatch.status.not_in([ReturnStatus.DRAFT, ReturnStatus.CANCELLED]))
    if status in {s.value for s in ReturnStatus}:
        stmt = stmt.where(ReturnBatch.status == ReturnStatus(status))
    if station_id:
        stmt = stmt.where(ReturnBatch.station_id == station_id)
    return stmt


def visible(user, batch_id: int) -> ReturnBatch | None:
    return db.session.execute(
        batch_query(user).where(ReturnBatch.id == batch_id)
    ).scalar_one_or_none()


def recent_faulty_serials(station_id: int, limit: int = 200) -> list[tuple[str, str]]:
    """(part no, serial) of faulty parts recently taken out at the station (for suggestions)."""
    from portal.spares.stock_models import Part

    rows = db.session.execute(
        select(Part.part_no, StockMovement.faulty_serial)
        .join(Part, Part.id == StockMovement.part_id)
        .where(
            StockMovement.station_id == station_id,
            StockMovement.source_type == MovementSource.REPAIR,
            StockMovement.condition == DEFECTIVE,
            StockMovement.quantity > 0,
            StockMovement.faulty_serial != "",
        )
        .order_by(StockMovement.id.desc())
        .limit(limit)
    ).all()
    return list(dict.fromkeys((p, s) for p, s in rows))


def waiting_counts(user) -> dict[str, int]:
    out = {}
    if can(user, Permission.MANAGE_PARTS):
        out["returns_to_confirm"] = db.session.execute(
            select(func.count()).where(ReturnBatch.status == ReturnStatus.SHIPPED)
        ).scalar_one()
    if can(user, Permission.HANDLE_STATION_STOCK) and user.station_id:
        out["return_drafts"] = db.session.execute(
            select(func.count()).where(
                ReturnBatch.station_id == user.station_id,
                ReturnBatch.status == ReturnStatus.DRAFT,
            )
        ).scalar_one()
    return out
