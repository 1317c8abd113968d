"""The stock ledger: movements, on-hand quantities, coverage, consumption, counts, reconcile.

Every check of stock or coverage and the movements it allows happen after
`locks.lock_station(station_id)` in the same transaction (STYLE habit 14). Services flush,
never commit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, insert, select, update

from portal.core import audit
from portal.core.db import now_utc
from portal.core.errors import DomainError
from portal.core.i18n import money
from portal.core.permissions import Permission
from portal.core.scoping import scope_to_user
from portal.extensions import db
from portal.settlement.locks import ensure_month_open
from portal.spares import catalogue, rules
from portal.spares.locks import lock_station
from portal.spares.states import (
    IN_TRANSIT,
    MovementSource,
    ShipmentStatus,
    StockCondition,
)
from portal.spares.stock_models import (
    Part,
    Shipment,
    ShipmentLine,
    StockCount,
    StockCountLine,
    StockMovement,
    StockOnHand,
)

GOOD = StockCondition.GOOD
DEFECTIVE = StockCondition.DEFECTIVE


@dataclass
class Move:
    """One ledger row to append (station and actor come with the call)."""

    part_id: int
    condition: StockCondition
    quantity: int
    source_type: MovementSource
    source_id: int
    source_line_id: int | None = None
    faulty_serial: str = ""
    note: str = ""
    moved_at: dt.datetime | None = None


def actor_name(actor) -> str:
    return getattr(actor, "username", None) or "system"


def append_movements(actor, station_id: int, moves: list[Move]) -> None:
    """Append movements and update the on-hand cache by the same amounts.

    The caller holds lock_station(station_id) and has checked that no quantity goes below
    zero; the cache's check constraint is the last guard.
    """
    if not moves:
        return
    now = now_utc()
    for moved_at in {min(m.moved_at or now, now) for m in moves if m.quantity}:
        ensure_month_open(station_id, moved_at)
    rows = [
        {
            "station_id": station_id,
            "part_id": m.part_id,
            "condition": m.condition,
            "quantity": m.quantity,
            "source_type": m.source_type,
            "source_id": m.source_id,
            "source_line_id": m.source_line_id,
            "faulty_serial": (m.faulty_serial or "")[:40],
            "note": (m.note or "")[:200],
            "moved_at": min(m.moved_at or now, now),
            "recorded_at": now,
            "recorded_by_id": getattr(actor, "id", None),
            "recorded_by_name": actor_name(actor),
        }
        for m in moves
        if m.quantity
    ]
    if not rows:
        return
    db.session.execute(insert(StockMovement), rows)
    deltas: dict[tuple[int, StockCondition], int] = defaultdict(int)
    for m in moves:
        deltas[(m.part_id, m.condition)] += m.quantity
    for (part_id, condition), delta in sorted(deltas.items()):
        if not delta:
            continue
        key = (
            StockOnHand.station_id == station_id,
            StockOnHand.part_id == part_id,
            StockOnHand.condition == condition,
        )
        result = db.session.execute(
            update(StockOnHand)
            .where(*key)
            .values(quantity=StockOnHand.quantity + delta, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:
            db.session.execute(
                insert(StockOnHand).values(
                    station_id=station_id,
                    part_id=part_id,
                    condition=condition,
                    quantity=delta,
                    updated_at=now,
                )
            )


# --- reading stock -----------------------------------------------------------------------


def on_hand(station_id: int) -> tuple[dict[int, int], dict[int, int]]:
    """(good, defective): part id -> quantity held at the station (from the cache)."""
    good: dict[int, int] = {}
    defective: dict[int, int] = {}
    for part_id, condition, quantity in db.session.execute(
        select(StockOnHand.part_id, StockOnHand.condition, StockOnHand.quantity).where(
            StockOnHand.station_id == station_id
        )
    ):
        (good if condition == GOOD else defective)[part_id] = quantity
    return good, defective


def unit_values(part_ids) -> dict[int, Decimal]:
    ids = sorted(set(part_ids))
    values: dict[int, Decimal] = {}
    for start in range(0, len(ids), 500):
        values.update(
            db.session.execute(
                select(Part.id, Part.unit_value).where(Part.id.in_(ids[start : start + 500]))
            ).all()
        )
    return values


def in_transit(station_ids) -> dict[int, dict[int, int]]:
    """Station -> part -> quantity sent to it and not yet on its stock."""
    ids = list(station_ids)
    out: dict[int, dict[int, int]] = {sid: defaultdict(int) for sid in ids}
    if not ids:
        return out
    rows = db.session.execute(
        select(
            Shipment.station_id,
            Shipment.status,
            ShipmentLine.part_id,
            ShipmentLine.quantity_sent,
            ShipmentLine.quantity_received,
            ShipmentLine.resolution,
        )
        .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
        .where(Shipment.station_id.in_(ids), Shipment.status.in_(IN_TRANSIT))
    )
    for station_id, status, part_id, sent, received, resolution in rows:
        if status == ShipmentStatus.SENT:
            out[station_id][part_id] += sent
        elif resolution is None and received is not None and sent > received:
            # A shortfall waiting for HQ: it may still become the station's stock.
            out[station_id][part_id] += sent - received
    return out


def coverage(station_id: int, on: dt.date | None = None) -> rules.Coverage:
    """The station's coverage: deposit × factor against good stock and parts on their way."""
    from portal.spares import services as deposits

    good, _defective = on_hand(station_id)
    coming = in_transit([station_id])[station_id]
    values = unit_values(set(good) | set(coming))
    return rules.Coverage(
        balance=deposits.balance(deposits.account_for_station(station_id)),
        factor=catalogue.settings_in_force(on).coverage_factor,
        good_value=rules.stock_value(good, values),
        in_transit_value=rules.stock_value(coming, values),
    )


def check_deposit_covers_stock(station_id: int) -> None:
    """Refuse a lowered deposit that no longer covers the station's stock.

    Called after a deduction, refund or reversal is appended, under the station's lock, in the
    same transaction: the refusal rolls the entry back, so a deduction and a shipment at the
    same moment cannot together pass the limit.
    """
    state = coverage(station_id)
    if state.over:
        raise DomainError(
            _l(
                "Not recorded: the deposit would be %(balance)s, covering %(limit)s of stock "
                "(coverage factor %(factor)s), but the station holds %(good)s of good stock and "
                "%(coming)s is on its way. Recover stock first.",
                balance=money(state.balance),
                limit=money(state.limit),
                factor=state.factor.normalize(),
                good=money(state.good_value),
                coming=money(state.in_transit_value),
            ),
            field="amount",
        )


@dataclass
class StockRow:
    part: Part
    good: int
    defective: int
    coming: int

    @property
    def good_value(self) -> Decimal:
        return rules.money(self.part.unit_value * self.good)

    @property
    def defective_value(self) -> Decimal:
        return rules.money(self.part.unit_value * self.defective)


def station_stock(station_id: int) -> list[StockRow]:
    """Every part the station holds (or has coming), by part number."""
    good, defective = on_hand(station_id)
    coming = in_transit([station_id])[station_id]
    ids = {pid for pid, q in good.items() if q} | {pid for pid, q in defective.items() if q}
    ids |= {pid for pid, q in coming.items() if q}
    parts = db.session.execute(select(Part).where(Part.id.in_(ids)).order_by(Part.part_no))
    return [
        StockRow(p, good.get(p.id, 0), defective.get(p.id, 0), coming.get(p.id, 0))
        for p in parts.scalars()
    ]


@dataclass
class StationTotals:
    good_value: Decimal = Decimal("0.00")
    defective_value: Decimal = Decimal("0.00")
    in_transit_value: Decimal = Decimal("0.00")
    good_units: int = 0
    defective_units: int = 0


def station_totals(station_ids) -> dict[int, StationTotals]:
    """Value of good and defective stock and of parts on their way, per station."""
    ids = list(station_ids)
    out = {sid: StationTotals() for sid in ids}
    if not ids:
        return out
    rows = db.session.execute(
        select(
            StockOnHand.station_id, StockOnHand.part_id, StockOnHand.condition, StockOnHand.quantity
        ).where(StockOnHand.station_id.in_(ids), StockOnHand.quantity != 0)
    ).all()
    coming = in_transit(ids)
    values = unit_values({r[1] for r in rows} | {p for c in coming.values() for p in c})
    for station_id, part_id, condition, quantity in rows:
        totals = out[station_id]
        value = rules.money(values.get(part_id, Decimal(0)) * quantity)
        if condition == GOOD:
            totals.good_value += value
            totals.good_units += quantity
        else:
            totals.defective_value += value
            totals.defective_units += quantity
    for station_id, parts in coming.items():
        out[station_id].in_transit_value = rules.stock_value(parts, values)
    return out


def network_totals() -> StationTotals:
    """The whole network's stock value (sums per part, valued once)."""
    totals = StationTotals()
    rows = db.session.execute(
        select(StockOnHand.part_id, StockOnHand.condition, func.sum(StockOnHand.quantity)).group_by(
            StockOnHand.part_id, StockOnHand.condition
        )
    ).all()
    sent = db.session.execute(
        select(ShipmentLine.part_id, func.sum(ShipmentLine.quantity_sent))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.status == ShipmentStatus.SENT)
        .group_by(ShipmentLine.part_id)
    ).all()
    values = unit_values({r[0] for r in rows} | {r[0] for r in sent})
    for part_id, condition, quantity in rows:
        value = rules.money(values.get(part_id, Decimal(0)) * int(quantity or 0))
        if condition == GOOD:
            totals.good_value += value
            totals.good_units += int(quantity or 0)
        else:
            totals.defective_value += value
            totals.defective_units += int(quantity or 0)
    totals.in_transit_value = rules.stock_value({p: int(q or 0) for p, q in sent}, values)
    return totals


# --- movements list ----------------------------------------------------------------------


@dataclass
class MovementFilter:
    station_id: int | None = None
    part_no: str = ""
    source: str = ""
    condition: str = ""


def movement_query(user, flt: MovementFilter) -> Select:
    """Movements the user may see, filtered (the caller orders and pages)."""
    stmt = scope_to_user(select(StockMovement), StockMovement.station_id, user)
    if flt.station_id:
        stmt = stmt.where(StockMovement.station_id == flt.station_id)
    part_no = rules.normalize_part_no(flt.part_no)
    if part_no:
        stmt = stmt.where(StockMovement.part_id.in_(select(Part.id).where(Part.part_no == part_no)))
    if flt.source in {s.value for s in MovementSource}:
        stmt = stmt.where(StockMovement.source_type == MovementSource(flt.source))
    if flt.condition in {c.value for c in StockCondition}:
        stmt = stmt.where(StockMovement.condition == StockCondition(flt.condition))
    return stmt


# --- consumption by repair records ---------------------------------------------------------


def _record_consumption(record_ids: list[int]) -> dict[int, dict[tuple[int, str], int]]:
    """Record -> (part id, serial) -> quantity the ledger says the record has consumed."""
    out: dict[int, dict[tuple[int, str], int]] = defaultdict(lambda: defaultdict(int))
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start : start + 500]
        rows = db.session.execute(
            select(
                StockMovement.source_id,
                StockMovement.part_id,
                StockMovement.faulty_serial,
                func.sum(StockMovement.quantity),
            )
            .where(
                StockMovement.source_type == MovementSource.REPAIR,
                StockMovement.source_id.in_(chunk),
                StockMovement.condition == DEFECTIVE,
            )
            .group_by(StockMovement.source_id, StockMovement.part_id, StockMovement.faulty_serial)
        )
        for record_id, part_id, serial, quantity in rows:
            if quantity:
                out[record_id][(part_id, serial or "")] = int(quantity)
    return out


def _record_lines(record_ids: list[int]) -> dict[int, tuple[dt.datetime, list]]:
    """Record -> (completed at, its parts lines as (part no, quantity, faulty serial))."""
    from portal.reports.models import PartUsed, RepairRecord

    out: dict[int, tuple[dt.datetime, list]] = {}
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start : start + 500]
        for rid, completed in db.session.execute(
            select(RepairRecord.id, RepairRecord.completed_at).where(RepairRecord.id.in_(chunk))
        ):
            out[rid] = (completed, [])
        for rid, part_no, quantity, serial in db.session.execute(
            select(PartUsed.record_id, PartUsed.part_no, PartUsed.quantity, PartUsed.faulty_serial)
            .where(PartUsed.record_id.in_(chunk))
            .order_by(PartUsed.id)
        ):
            out[rid][1].append((rules.normalize_part_no(part_no), quantity, serial or ""))
    return out


def apply_record_parts(
    actor,
    station_id: int,
    record_ids,
    *,
    previous: dict[int, list] | None = None,
    removing: bool = False,
) -> set[int]:
    """Bring the stock in line with repair records' parts (the reports services call this).

    After records are created (previous None) or one is edited (previous = {id: its parts
    lines before the edit, as (part no, quantity, faulty serial)}), what their parts add moves
    from good to defective stock (with the faulty part's serial) and what they no longer use
    moves back. removing=True (before a record is deleted) moves everything it consumed back.
    A part the station does not hold at this moment, or that the catalogue does not know,
    moves nothing and flags the record (`part_not_held`, read by the settlement); the record
    is kept. Returns the ids of the flagged records.
    """
    from portal.reports.models import RepairRecord

    ids = sorted(set(record_ids))
    if not ids:
        return set()
    lock_station(station_id)
    lines = _record_lines(ids)
    consumed = _record_consumption(ids)
    previous = {
        rid: [(rules.normalize_part_no(p), q, s or "") for p, q, s in old]
        for rid, old in (previous or {}).items()
    }
    known = catalogue.part_ids_by_number(
        [part_no for _completed, parts in lines.values() for part_no, _q, _s in parts]
        + [part_no for old in previous.values() for part_no, _q, _s in old]
    )
    good, defective = on_hand(station_id)
    moves: list[Move] = []
    flagged: set[int] = set()
    blocked: list[int] = []
    for rid in ids:
        completed, parts = lines.get(rid, (None, []))
        plan = rules.plan_parts(
            [] if removing else parts,
            known,
            consumed.get(rid, {}),
            good,
            defective,
            previous.get(rid, []),
        )
        if plan.blocked:
            blocked.extend(plan.blocked)
        if plan.not_held:
            flagged.add(rid)
        for part_id, serial, delta in plan.moves:
            taking = delta > 0
            when = completed if taking else None
            note = ""
            moves += [
                Move(part_id, GOOD, -delta, MovementSource.REPAIR, rid, None, serial, note, when),
                Move(
                    part_id, DEFECTIVE, delta, MovementSource.REPAIR, rid, None, serial, note, when
                ),
            ]
    if blocked:
        numbers = dict(
            db.session.execute(select(Part.id, Part.part_no).where(Part.id.in_(blocked))).all()
        )
        raise DomainError(
            _l(
                "The faulty part (%(parts)s) taken out in this repair has already been shipped "
                "back or charged; its parts can no longer be changed.",
                parts=", ".join(sorted(numbers.values())),
            ),
            field="parts",
        )
    append_movements(actor, station_id, moves)
    if not removing:
        _set_flags(RepairRecord, ids, flagged)
    if moves or flagged:
        audit.record(
            "stock.repair_parts",
            actor=actor,
            object_type="RepairRecord",
            object_id=ids[0] if len(ids) == 1 else f"{ids[0]}..{ids[-1]}",
            station_id=station_id,
            after={
                "records": len(ids),
                "movements": len(moves),
                "not_held": sorted(flagged),
                "removing": removing,
            },
        )
    return flagged


def _set_flags(model, ids: list[int], flagged: set[int]) -> None:
    for value, chunk_ids in ((True, sorted(flagged)), (False, sorted(set(ids) - flagged))):
        for start in range(0, len(chunk_ids), 500):
            db.session.execute(
                update(model)
                .where(model.id.in_(chunk_ids[start : start + 500]), model.part_not_held != value)
                .values(part_not_held=value)
                .execution_options(synchronize_session="evaluate")
            )


# --- stock counts ------------------------------------------------------------------------


def record_count(actor, station, counted: dict[tuple[int, StockCondition], int], note: str = ""):
    """An auditor's count of parts at a station; each difference becomes a count movement."""
    catalogue.require(actor, Permission.RECORD_STOCK_COUNTS, _l("You may not record stock counts."))
    if not counted:
        raise DomainError(_l("Count at least one part."))
    for quantity in counted.values():
        if quantity is None or quantity < 0 or quantity > rules.MAX_QUANTITY:
            raise DomainError(_l("Counted quantities are whole numbers from 0."))
    lock_station(station.id)
    good, defective = on_hand(station.id)
    count = StockCount(
        station_id=station.id,
        note=rules.CONTROL_CHARS.sub(" ", note or "").strip()[:500],
        counted_at=now_utc(),
        counted_by_id=getattr(actor, "id", None),
    )
    db.session.add(count)
    db.session.flush()
    moves = []
    for (part_id, condition), quantity in sorted(counted.items()):
        expected = (good if condition == GOOD else defective).get(part_id, 0)
        line = StockCountLine(
            count_id=count.id,
            part_id=part_id,
            condition=condition,
            expected=expected,
            counted=quantity,
        )
        db.session.add(line)
        db.session.flush()
        if quantity != expected:
            moves.append(
                Move(
                    part_id,
                    condition,
                    quantity - expected,
                    MovementSource.COUNT,
                    count.id,
                    line.id,
                    note=count.note[:200],
                )
            )
    append_movements(actor, station.id, moves)
    db.session.refresh(count)
    audit.record(
        "stock.counted",
        count,
        actor=actor,
        after={
            "lines": [
                {
                    "part_id": line.part_id,
                    "condition": line.condition,
                    "expected": line.expected,
                    "counted": line.counted,
                }
                for line in count.lines
            ]
        },
        comment=count.note,
    )
    return count


# --- unreturned defective parts -------------------------------------------------------------


def charge_unreturned(actor, station_id: int, now: dt.datetime | None = None) -> list:
    """Charge the station for defective parts held longer than the return period, once.

    Each overdue part becomes a deduction at its unit value in the settlement's adjustments
    and leaves the station's defective stock (a deduction movement), so a second run finds
    nothing more to charge. Runs under the station's lock.
    """
    from portal.core.dates import local_tz
    from portal.settlement.adjustments import UNRETURNED_DEFECTIVE, record_adjustment

    now = now or now_utc()
    today = now.astimezone(local_tz()).date()
    days = catalogue.settings_in_force(today).return_days
    cutoff = now - dt.timedelta(days=days)
    lock_station(station_id)
    _good, defective = on_hand(station_id)
    held = {pid: q for pid, q in defective.items() if q > 0}
    if not held:
        return []
    recent = dict(
        db.session.execute(
            select(StockMovement.part_id, func.sum(StockMovement.quantity))
            .where(
                StockMovement.station_id == station_id,
                StockMovement.condition == DEFECTIVE,
                StockMovement.quantity > 0,
                StockMovement.source_type != MovementSource.RETURN,
                StockMovement.moved_at >= cutoff,
                StockMovement.part_id.in_(held),
            )
            .group_by(StockMovement.part_id)
        ).all()
    )
    earlier = dict(
        db.session.execute(
            select(StockMovement.part_id, func.count())
            .where(
                StockMovement.station_id == station_id,
                StockMovement.source_type == MovementSource.DEDUCTION,
            )
            .group_by(StockMovement.part_id)
        ).all()
    )
    parts = {p.id: p for p in db.session.execute(select(Part).where(Part.id.in_(held))).scalars()}
    charged = []
    for part_id, quantity in sorted(held.items()):
        overdue = rules.overdue_quantity(quantity, int(recent.get(part_id) or 0))
        if overdue <= 0:
            continue
        part = parts[part_id]
        amount = rules.money(part.unit_value * overdue)
        number = int(earlier.get(part_id) or 0) + 1
        if amount > 0:
            adjustment = record_adjustment(
                actor,
                station_id=station_id,
                on=today,
                rule_code=UNRETURNED_DEFECTIVE,
                source_type="unreturned_defective",
                source_id=f"{station_id}/{part_id}/{number}",
                amount=-amount,
                reason=f"{part.part_no} × {overdue} ({days} d)",
            )
            source_id = adjustment.id
        else:
            adjustment, source_id = None, 0  # a part of no value is written off, not charged
        append_movements(
            actor,
            station_id,
            [Move(part_id, DEFECTIVE, -overdue, MovementSource.DEDUCTION, source_id)],
        )
        audit.record(
            "stock.unreturned_charged",
            actor=actor,
            object_type="Station",
            object_id=station_id,
            station_id=station_id,
            after={"part_no": part.part_no, "quantity": overdue, "amount": -amount, "days": days},
        )
        charged.append(adjustment)
    return [a for a in charged if a is not None]


def stations_holding_defective() -> list[int]:
    return list(
        db.session.execute(
            select(StockOnHand.station_id)
            .where(StockOnHand.condition == DEFECTIVE, StockOnHand.quantity > 0)
            .distinct()
            .order_by(StockOnHand.station_id)
        ).scalars()
    )


# --- reconciliation ----------------------------------------------------------------------


@dataclass
class Reconciliation:
    stations: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def reconcile() -> Reconciliation:
    """Prove for every station that on-hand quantities and deposit balances equal their ledgers."""
    from portal.spares.models import DepositAccount, DepositEntry
    from portal.stations.models import Station

    result = Reconciliation()
    codes = dict(db.session.execute(select(Station.id, Station.code)).all())
    result.stations = len(codes)
    numbers = dict(db.session.execute(select(Part.id, Part.part_no)).all())
    ledger = {
        (sid, pid, cond): int(q)
        for sid, pid, cond, q in db.session.execute(
            select(
                StockMovement.station_id,
                StockMovement.part_id,
                StockMovement.condition,
                func.sum(StockMovement.quantity),
            ).group_by(StockMovement.station_id, StockMovement.part_id, StockMovement.condition)
        )
    }
    cached = {
        (sid, pid, cond): q
        for sid, pid, cond, q in db.session.execute(
            select(
                StockOnHand.station_id,
                StockOnHand.part_id,
                StockOnHand.condition,
                StockOnHand.quantity,
            )
        )
    }
    for key in sorted(set(ledger) | set(cached), key=lambda k: (k[0], k[1], k[2].value)):
        sid, pid, cond = key
        in_ledger, in_cache = ledger.get(key, 0), cached.get(key, 0)
        label = f"{codes.get(sid, sid)} {numbers.get(pid, pid)} {cond.value}"
        if in_ledger != in_cache:
            result.problems.append(f"{label}: on hand {in_cache}, ledger sum {in_ledger}")
        if in_ledger < 0:
            result.problems.append(f"{label}: the ledger sum {in_ledger} is negative")
    sums = dict(
        db.session.execute(
            select(DepositAccount.id, func.sum(DepositEntry.amount))
            .join(DepositEntry, DepositEntry.account_id == DepositAccount.id)
            .group_by(DepositAccount.id)
        ).all()
    )
    accounts = db.session.execute(select(DepositAccount)).scalars()
    for account in accounts:
        total = rules.money(Decimal(str(sums.get(account.id) or 0)))
        owner = (
            codes.get(account.station_id, account.station_id)
            if account.station_id
            else f"application {account.application_id}"
        )
        stored = getattr(account, "balance", None)
        if stored is not None and rules.money(Decimal(str(stored))) != total:
            result.problems.append(f"{owner}: deposit balance {stored}, sum of its entries {total}")
        if total < 0:
            result.problems.append(f"{owner}: the deposit ledger sums to {total}, below zero")
    return result
