"""The monthly run (SPEC 8.3): judge every record of a month and write each station's figures.

`run_month` works through the stations in batches, each in its own transaction, so a run that
dies leaves whole stations written and none half-written; running again finishes the rest and
gives the same figures for the same data (idempotent). Only a settlement in draft or disputed
is (re)computed: one that the station confirmed, or that HQ or finance approved, stays as it
is (an amendment reopens it). Two runs at once: the current settlement row of a station is
locked (PostgreSQL) or the write transaction is exclusive (SQLite), and the unique index on the
current revision refuses a second one, so each station ends with one settlement.

The engine (`rules.judge`) is pure and counts in fen; Decimal appears only here, at the edge.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, column, func, insert, or_, select, table
from sqlalchemy.exc import IntegrityError

from portal.core import audit
from portal.core.dates import local_today, local_tz
from portal.core.db import now_utc
from portal.core.errors import PermissionDenied
from portal.core.permissions import Permission, can
from portal.extensions import db
from portal.reports.models import DailyReport, RepairRecord
from portal.reports.states import ReportStatus
from portal.settlement import adjustments as adj
from portal.settlement import earlier, rules
from portal.settlement.catalogue import Versions, load_versions
from portal.settlement.models import Settlement, SettlementLine
from portal.settlement.states import SettlementStatus
from portal.stations.models import Station, StationTierPeriod
from portal.stations.states import StationStatus

RECOMPUTABLE = frozenset({SettlementStatus.DRAFT, SettlementStatus.DISPUTED})
BATCH = 100
SATISFACTION_MIN_RECORDS = 50
SATISFACTION_MIN_AVERAGE_X100 = 475
FIGURES = (
    "valid_count",
    "invalid_count",
    "labour",
    "travel",
    "rewards",
    "penalties",
    "deductions",
    "carried_in",
    "carried_out",
    "net",
)


@dataclass
class RunResult:
    month: dt.date
    stations: int = 0
    computed: int = 0
    skipped: int = 0
    records: int = 0
    settlement_ids: list[int] = field(default_factory=list)


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    """(first day, first day of the next month)."""
    first = month.replace(day=1)
    return first, adj.next_month(first)


@functools.lru_cache(maxsize=4096)
def money(fen: int) -> Decimal:
    """Integer fen as Decimal yuan (cached: a month has few distinct line amounts)."""
    return Decimal(fen).scaleb(-2).quantize(Decimal("0.01"))


def _memo(function):
    """A per-run cache of a question asked once per record with few distinct answers."""
    answers: dict = {}

    def ask(*args):
        try:
            return answers[args]
        except KeyError:
            answer = answers[args] = function(*args)
            return answer

    return ask


class CatalogueRules:
    """The engine's questions answered from the versioned rules and the versioned catalogue
    facts (`reports.facts`), each for the record's day. A month has few distinct questions
    (models × days, tiers × types × days), so each answer is computed once per run."""

    def __init__(self, versions: Versions):
        from portal.reports.facts import load_history

        self.versions = versions
        self.facts = load_history()
        self.serial_pattern = _memo(self.facts.serial_pattern)
        self.warranty_months = _memo(self._warranty_months)
        self.fault_category = _memo(self.facts.fault_category)
        self.tier_allows = _memo(versions.tier_allows)
        self.fee_cents = _memo(versions.fee_cents)
        self.travel_cents = _memo(versions.travel_cents)
        self.repeat_window_days = _memo(versions.repeat_window_days)

    def _warranty_months(self, model, day):
        months = self.facts.warranty_months(model, day)
        return months if months is not None else self.versions.default_warranty_months(day)


def stations_of_month(month: dt.date) -> list[int]:
    """Every station under agreement at some day of the month, or with a report in it."""
    first, after = month_bounds(month)
    under_agreement = select(Station.id).where(
        or_(Station.agreement_start_on.is_(None), Station.agreement_start_on < after),
        or_(Station.agreement_end_on.is_(None), Station.agreement_end_on >= first),
    )
    reporting = select(DailyReport.station_id).where(
        DailyReport.report_on >= first, DailyReport.report_on < after
    )
    query = (
        select(Station.id)
        .where(or_(Station.id.in_(under_agreement), Station.id.in_(reporting)))
        .order_by(Station.code)
    )
    return list(db.session.execute(query).scalars())


def run_month(
    month: dt.date,
    station_ids: list[int] | None,
    actor,
    progress: Callable[[int, int], None] | None = None,
    *,
    batch_size: int = BATCH,
) -> RunResult:
    """Compute and write the month's settlements; commits after every batch of stations."""
    if not can(actor, Permission.RUN_SETTLEMENTS):
        raise PermissionDenied("You may not run settlements.")
    first, after = month_bounds(month)
    ids = list(dict.fromkeys(station_ids)) if station_ids else stations_of_month(first)
    result = RunResult(first, stations=len(ids))
    versions = load_versions(after - dt.timedelta(days=1))
    engine_rules = CatalogueRules(versions)
    window = max(
        [row.repeat_window_days for row in versions.parameters] or [rules_default_window()]
    )
    history = rules.RepairHistory(_repairs_between(first - dt.timedelta(days=window + 1), after))
    tz = local_tz()
    if progress:
        progress(0, len(ids))
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        _run_batch(chunk, first, after, versions, engine_rules, history, tz, actor, result)
        db.session.commit()
        if progress:
            progress(min(start + batch_size, len(ids)), len(ids))
    return result


def rules_default_window() -> int:
    from portal.settlement.catalogue import DEFAULT_REPEAT_DAYS

    return DEFAULT_REPEAT_DAYS


def _repairs_between(start: dt.date, after: dt.date) -> list[rules.PriorRepair]:
    """Repaired records completed in [start, after) at every station (UTC bounds padded a day)."""
    low = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    high = dt.datetime.combine(after + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    rows = db.session.connection().execute(  # Core rows: no ORM processing per row
        select(
            RepairRecord.id,
            RepairRecord.serial_no,
            RepairRecord.fault_code,
            RepairRecord.completed_at,
        ).where(
            RepairRecord.result == rules.REPAIRED,
            RepairRecord.completed_at >= low,
            RepairRecord.completed_at < high,
        )
    )
    repairs = [rules.PriorRepair(rid, serial, fault, at) for rid, serial, fault, at in rows]
    # Repairs from before the portal count too (imported by HQ; they have no record id).
    repairs.extend(
        rules.PriorRepair(None, serial, fault, at)
        for serial, fault, at in earlier.repaired_between(low, high)
    )
    return repairs


def _tiers(station_ids: list[int]) -> dict[int, list[tuple[dt.date, dt.date | None, str]]]:
    periods: dict[int, list] = {}
    for sid, tier, start, until in db.session.execute(
        select(
            StationTierPeriod.station_id,
            StationTierPeriod.tier,
            StationTierPeriod.effective_from,
            StationTierPeriod.effective_until,
        )
        .where(StationTierPeriod.station_id.in_(station_ids))
        .order_by(StationTierPeriod.effective_from.desc(), StationTierPeriod.id.desc())
    ):
        periods.setdefault(sid, []).append((start, until, tier.value))
    return periods


def _tier_on(periods, day: dt.date) -> str | None:
    for start, until, tier in periods:
        if start <= day and (until is None or until > day):
            return tier
    return None


def _facts(chunk, first, after, tz) -> dict[int, list[rules.RecordFact]]:
    tiers = _tiers(chunk)
    by_station: dict[int, list[rules.RecordFact]] = {sid: [] for sid in chunk}
    rows = db.session.connection().execute(  # Core rows: no ORM processing per row
        select(
            RepairRecord.id,
            RepairRecord.station_id,
            RepairRecord.ticket_no,
            RepairRecord.received_at,
            RepairRecord.completed_at,
            DailyReport.report_on,
            DailyReport.status,
            RepairRecord.serial_no,
            RepairRecord.device_model,
            RepairRecord.fault_code,
            RepairRecord.warranty,
            RepairRecord.purchase_on,
            RepairRecord.repair_type,
            RepairRecord.on_site,
            RepairRecord.outside_home_city,
            RepairRecord.result,
            RepairRecord.part_not_held,
        )
        .join(DailyReport, DailyReport.id == RepairRecord.report_id)
        .where(
            DailyReport.station_id.in_(chunk),
            DailyReport.report_on >= first,
            DailyReport.report_on < after,
        )
    )
    tier_cache: dict[tuple[int, dt.date], str | None] = {}
    for (
        rid,
        sid,
        ticket,
        received_at,
        completed_at,
        report_on,
        status,
        serial,
        model,
        fault,
        warranty,
        purchase_on,
        repair_type,
        on_site,
        outside,
        result,
        not_held,
    ) in rows:
        key = (sid, report_on)
        if key not in tier_cache:
            tier_cache[key] = _tier_on(tiers.get(sid, ()), report_on)
        by_station[sid].append(
            rules.RecordFact(
                id=rid,
                station_id=sid,
                ticket_no=ticket,
                received_at=received_at,
                received_day=received_at.astimezone(tz).date(),
                completed_at=completed_at,
                completed_day=report_on,
                serial_no=serial,
                device_model=model,
                fault_code=fault,
                warranty=bool(warranty),
                purchase_on=purchase_on,
                repair_type=repair_type,
                on_site=bool(on_site),
                outside_home_city=bool(outside),
                result=result,
                part_not_held=bool(not_held),
                reported=status == ReportStatus.SUBMITTED,
                tier=tier_cache[key],
            )
        )
    return by_station


def _current_settlements(chunk, first) -> dict[int, Settlement]:
    query = (
        select(Settlement)
        .where(
            Settlement.station_id.in_(chunk),
            Settlement.month == first,
            Settlement.superseded_at.is_(None),
        )
        .order_by(Settlement.station_id)
        .with_for_update()
    )
    return {s.station_id: s for s in db.session.execute(query).scalars()}


def _create(station_id: int, first: dt.date) -> Settlement:
    settlement = Settlement(station_id=station_id, month=first, status=SettlementStatus.DRAFT)
    try:
        with db.session.begin_nested():
            db.session.add(settlement)
            db.session.flush()
    except IntegrityError:
        # Another run created it meanwhile: take that one (and wait for its lock).
        return db.session.execute(
            select(Settlement)
            .where(
                Settlement.station_id == station_id,
                Settlement.month == first,
                Settlement.superseded_at.is_(None),
            )
            .with_for_update()
        ).scalar_one()
    return settlement


def _run_batch(chunk, first, after, versions, engine_rules, history, tz, actor, result) -> None:
    current = _current_settlements(chunk, first)
    todo = [sid for sid in chunk if current.get(sid) is None or current[sid].status in RECOMPUTABLE]
    result.skipped += len(chunk) - len(todo)
    if not todo:
        return
    _report_adjustments(todo, first, after, actor)
    facts = _facts(todo, first, after, tz)
    _satisfaction_rewards(todo, first, after, actor)
    sums = _adjustment_sums(todo, first)
    carried = _carried_in(todo, first)
    used_tickets = earlier.tickets_of(todo)
    used = versions.as_json(first, after - dt.timedelta(days=1))
    line_rows = []
    for sid in todo:
        settlement = current.get(sid) or _create(sid, first)
        if settlement.status not in RECOMPUTABLE:  # created by a concurrent run and moved on
            result.skipped += 1
            continue
        judged = rules.judge(facts[sid], history, engine_rules, earlier_tickets=used_tickets)
        labour = sum(j.fee_cents for j in judged)
        travel = sum(j.travel_cents for j in judged)
        rewards, penalties, deductions = sums.get(sid, (0, 0, 0))
        carried_in = carried.get(sid, 0)
        net, carried_out = rules.settle_cents(
            labour, travel, rewards, penalties, deductions, carried_in
        )
        valid = sum(1 for j in judged if j.valid)
        tracker = audit.track(settlement)
        new = settlement.id is None or settlement.computed_at is None
        figures = {
            "valid_count": valid,
            "invalid_count": len(judged) - valid,
            "labour": money(labour),
            "travel": money(travel),
            "rewards": money(rewards),
            "penalties": money(penalties),
            "deductions": money(deductions),
            "carried_in": money(carried_in),
            "carried_out": money(carried_out),
            "net": money(net),
        }
        changed = new or any(getattr(settlement, k) != v for k, v in figures.items())
        changed = changed or settlement.rule_versions != used
        for key, value in figures.items():
            setattr(settlement, key, value)
        settlement.rule_versions = used
        settlement.run_by_id = (
            getattr(actor, "id", None) if isinstance(getattr(actor, "id", None), int) else None
        )
        settlement.computed_by_id = settlement.run_by_id
        if changed:
            settlement.computed_at = now_utc()
        db.session.flush()
        db.session.execute(
            SettlementLine.__table__.delete().where(SettlementLine.settlement_id == settlement.id)
        )
        line_rows.extend(
            (
                settlement.id,
                j.record.id,
                j.record.ticket_no,
                j.record.received_at,
                j.record.completed_at,
                j.record.serial_no,
                j.record.device_model,
                j.record.repair_type,
                j.record.tier or "",
                j.record.warranty,
                j.reason is None,
                j.reason,
                j.fee_cents,
                j.travel_cents,
            )
            for j in judged
        )
        if changed:
            audit.record_changes(
                "settlement.computed",
                tracker,
                actor=actor,
                station_id=sid,
                comment=f"{first:%Y-%m}",
            )
        result.computed += 1
        result.records += len(judged)
        result.settlement_ids.append(settlement.id)
    _insert_lines(line_rows)


LINE_COLUMNS = (
    "settlement_id",
    "record_id",
    "ticket_no",
    "received_at",
    "completed_at",
    "serial_no",
    "device_model",
    "repair_type",
    "tier",
    "warranty",
    "valid",
    "reason_code",
    "fee",
    "travel",
)
# The lines table without column types: the run converts each value once, as the column's
# type would, so a million lines skip a million type-processor calls per column (issue 10's
# run target). The values written are exactly those SettlementLine's types write.
_LINES = table("settlement_lines", *(column(name) for name in LINE_COLUMNS))


def _insert_lines(rows: list[tuple]) -> None:
    if not rows:
        return
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    if sqlite:  # as UTCDateTime and Money bind on SQLite: naive UTC text, exact decimal text

        def stamp(value):
            return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

        def amount(fen):
            return str(money(fen))
    else:  # PostgreSQL takes aware datetimes and Decimals as they are

        def stamp(value):
            return value

        amount = money
    dicts = [
        dict(
            zip(
                LINE_COLUMNS,
                (
                    *row[:3],
                    stamp(row[3]),
                    stamp(row[4]),
                    *row[5:12],
                    amount(row[12]),
                    amount(row[13]),
                ),
                strict=True,
            )
        )
        for row in rows
    ]
    for start in range(0, len(dicts), 5000):
        db.session.execute(insert(_LINES), dicts[start : start + 5000])


def _report_adjustments(station_ids, first, after, actor) -> None:
    """Late and missing daily reports of the month as penalties (once per report or day)."""
    from portal.reports import services as reports

    settings = reports.settings_list()
    now = now_utc()
    today = local_today()
    stations = db.session.execute(
        select(
            Station.id, Station.status, Station.agreement_start_on, Station.agreement_end_on
        ).where(Station.id.in_(station_ids))
    ).all()
    reports_by_day = {
        (sid, day): (rid, status, submitted)
        for rid, sid, day, status, submitted in db.session.execute(
            select(
                DailyReport.id,
                DailyReport.station_id,
                DailyReport.report_on,
                DailyReport.status,
                DailyReport.first_submitted_at,
            ).where(
                DailyReport.station_id.in_(station_ids),
                DailyReport.report_on >= first,
                DailyReport.report_on < after,
            )
        )
    }
    last = min(after - dt.timedelta(days=1), today)
    for sid, status, start_on, end_on in stations:
        if status is not StationStatus.ACTIVE:
            continue
        day = max(first, start_on or first)
        stop = min(last, end_on or last)
        while day <= stop:
            due = reports.due_for(day, settings)
            report = reports_by_day.get((sid, day))
            if report is not None and report[2] is not None:
                if report[2] > due:
                    adj.record_adjustment(
                        actor,
                        station_id=sid,
                        on=day,
                        rule_code=adj.LATE_REPORT,
                        source_type="daily_report",
                        source_id=report[0],
                    )
            elif now > due:
                adj.record_adjustment(
                    actor,
                    station_id=sid,
                    on=day,
                    rule_code=adj.MISSING_REPORT,
                    source_type="report_day",
                    source_id=f"{sid}:{day.isoformat()}",
                )
            day += dt.timedelta(days=1)


def _satisfaction_rewards(station_ids, first, after, actor) -> None:
    """SPEC 6: an average of at least 4.75 over 50 or more scored records of the month."""
    rows = db.session.execute(
        select(
            RepairRecord.station_id,
            func.count(RepairRecord.satisfaction),
            func.sum(RepairRecord.satisfaction),
        )
        .join(DailyReport, DailyReport.id == RepairRecord.report_id)
        .where(
            DailyReport.station_id.in_(station_ids),
            DailyReport.report_on >= first,
            DailyReport.report_on < after,
            RepairRecord.satisfaction.is_not(None),
        )
        .group_by(RepairRecord.station_id)
    )
    for sid, count, total in rows:
        if count >= SATISFACTION_MIN_RECORDS and int(total) * 100 >= (
            SATISFACTION_MIN_AVERAGE_X100 * count
        ):
            adj.record_adjustment(
                actor,
                station_id=sid,
                on=first,
                rule_code=adj.HIGH_SATISFACTION,
                source_type="satisfaction_month",
                source_id=f"{sid}:{first:%Y-%m}",
            )


def _adjustment_sums(station_ids, first) -> dict[int, tuple[int, int, int]]:
    """(rewards, penalties, deductions) in fen per station; the last two as positive amounts."""
    sums: dict[int, list[int]] = {}
    for sid, code, amount in db.session.execute(
        select(adj.Adjustment.station_id, adj.Adjustment.rule_code, adj.Adjustment.amount).where(
            adj.Adjustment.station_id.in_(station_ids), adj.Adjustment.month == first
        )
    ):
        fen = int(Decimal(amount) * 100)
        bucket = sums.setdefault(sid, [0, 0, 0])
        if code == adj.UNRETURNED_DEFECTIVE:
            bucket[2] -= fen
        elif fen > 0:
            bucket[0] += fen
        else:
            bucket[1] -= fen
    return {sid: tuple(v) for sid, v in sums.items()}


def _carried_in(station_ids, first) -> dict[int, int]:
    """What each station's current settlement of the month before carried out, in fen."""
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    return {
        sid: int(Decimal(amount) * 100)
        for sid, amount in db.session.execute(
            select(Settlement.station_id, Settlement.carried_out).where(
                Settlement.station_id.in_(station_ids),
                Settlement.month == previous,
                Settlement.superseded_at.is_(None),
                and_(Settlement.carried_out > 0),
            )
        )
    }
