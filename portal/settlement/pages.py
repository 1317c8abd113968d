"""Settlement pages: exports (and, with the workflow, the month list and a settlement's page).
Thin: load, call one service, commit once."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from portal.core import jobs
from portal.core.dates import local_today
from portal.core.errors import DomainError
from portal.core.forms import CHANGED_MEANWHILE
from portal.core.inputs import int_arg
from portal.core.pagination import KeysetPage, keyset_page
from portal.core.permissions import Permission, require, sees_all_stations
from portal.core.regions import PROVINCES, province_choices
from portal.core.scoping import get_scoped_or_404, scope_to_user
from portal.extensions import db
from portal.reports.models import RepairType
from portal.settlement import bp, export, run_jobs, workflow
from portal.settlement.adjustments import adjustments_of
from portal.settlement.models import Settlement, SettlementLine
from portal.settlement.rules import reason_label
from portal.settlement.states import LOCKED_STATES, SettlementStatus
from portal.stations.models import Station
from portal.stations.states import Tier

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _actor():
    return current_user._get_current_object()


def _month_arg() -> dt.date:
    """The month of ?month=YYYY-MM, else last month (the one usually being settled)."""
    text = request.args.get("month") or request.form.get("month") or ""
    try:
        return export.parse_month(text)
    except DomainError:
        first = dt.date.today().replace(day=1)  # noqa: DTZ011 - a default for a page
        return (first - dt.timedelta(days=1)).replace(day=1)


def _station_choices():
    if not sees_all_stations(current_user):
        return []
    return db.session.execute(
        select(Station.id, Station.code, Station.name).order_by(Station.code)
    ).all()


@bp.route("/exports", methods=["GET", "POST"])
@require(Permission.EXPORT_SETTLEMENTS)
def exports():
    month = _month_arg()
    if request.method == "POST":
        station_id = int_arg(request.form, "station_id", minimum=1)
        try:
            job = export.start_export(
                month, _actor(), station_id=station_id, locale=str(get_locale() or "zh")
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            return redirect(url_for("settlement.exports", month=f"{month:%Y-%m}"))
        flash(_("The export has started; the file appears here when it is ready."), "info")
        return redirect(url_for("settlement.exports", month=f"{month:%Y-%m}", job=job.id))
    job = None
    job_id = int_arg(request.args, "job", minimum=1)
    if job_id:
        try:
            job = jobs.get_visible(job_id, current_user)
        except DomainError:
            job = None
    return render_template(
        "settlement/exports.html",
        month=month,
        exports=export.exports_of(month, current_user),
        stations=_station_choices(),
        job=job,
        progress=jobs.progress_of(job, current_user) if job else None,
    )


@bp.route("/exports/<int:export_id>/download")
@require(Permission.EXPORT_SETTLEMENTS)
def export_download(export_id: int):
    record = db.session.get(export.SettlementExport, export_id)
    if record is None:
        abort(404)
    if not sees_all_stations(current_user) and record.station_id != current_user.station_id:
        abort(404)
    path = export.export_path(record)
    if not os.path.isfile(path):
        abort(404)
    response = Response(_chunks(path), mimetype=XLSX)
    response.headers.set("Content-Disposition", "attachment", filename=record.filename)
    response.headers["Content-Length"] = str(os.path.getsize(path))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-SHA256"] = record.sha256
    return response


def _chunks(path: str):
    """The file in pieces, opened only while it is sent (a network workbook is large)."""
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 16):
            yield chunk


# --- the month's settlements -------------------------------------------------------------------


def _filters() -> dict:
    args = request.args
    state = args.get("state") or ""
    tier = args.get("tier") or ""
    province = (args.get("province") or "").strip().upper()[:4]
    return {
        "state": state if state in {s.value for s in SettlementStatus} else "",
        "tier": tier if tier in {t.value for t in Tier} else "",
        "province": province if province in PROVINCES else "",
        "disputed": args.get("disputed") == "1",
    }


def _month_query(month: dt.date, flt: dict):
    stmt = (
        select(Settlement)
        .join(Station, Station.id == Settlement.station_id)
        .where(Settlement.month == month, Settlement.status != SettlementStatus.SUPERSEDED)
    )
    stmt = scope_to_user(stmt, Settlement.station_id, current_user)
    if flt["state"]:
        stmt = stmt.where(Settlement.status == SettlementStatus(flt["state"]))
    if flt["tier"]:
        stmt = stmt.where(Station.tier == Tier(flt["tier"]))
    if flt["province"]:
        stmt = stmt.where(Station.province == flt["province"])
    if flt["disputed"]:
        # Disputed now, or disputed earlier in this revision's life (a reason is kept).
        stmt = stmt.where(
            or_(Settlement.status == SettlementStatus.DISPUTED, Settlement.dispute_reason != "")
        )
    return stmt


@bp.route("/")
@require(Permission.VIEW_SETTLEMENTS)
def index():
    month = _month_arg()
    flt = _filters()
    stmt = _month_query(month, flt)
    totals_stmt = stmt.with_only_columns(
        func.count(Settlement.id),
        *(func.coalesce(func.sum(getattr(Settlement, f)), 0) for f in TOTAL_FIELDS),
    ).order_by(None)
    row = db.session.execute(totals_stmt).one()
    totals = {"count": row[0], **{f: row[i + 1] for i, f in enumerate(TOTAL_FIELDS)}}
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "code"
    page = _sorted_page(stmt, sort)
    return render_template(
        "settlement/index.html",
        month=month,
        flt=flt,
        sort=sort,
        page=page,
        totals=totals,
        SettlementStatus=SettlementStatus,
        Tier=Tier,
        provinces=province_choices(),
    )


SORTS = ("code", "net")


def _key(sort: str, text: str | None):
    """A page key from a link: a station code, or (net, id) for the net order; None if bad."""
    text = (text or "").strip()[:60]
    if not text:
        return None
    if sort == "code":
        return text
    net, _, ident = text.rpartition(":")
    try:
        return Decimal(net), int(ident)
    except (ArithmeticError, ValueError):
        return None


def _sorted_page(stmt, sort: str) -> KeysetPage:
    """One page of the month's settlements by station code (A-Z) or by net payable (largest
    first), keyset-paged on the sort key and the id (deep pages cost what the first costs)."""
    size = current_app.config["PAGE_SIZE"]
    after, before = _key(sort, request.args.get("after")), _key(sort, request.args.get("before"))
    forward = before is None
    key = after if forward else before
    if sort == "code":
        if key is not None:
            stmt = stmt.where(Station.code > key if forward else Station.code < key)
        order = (Station.code.asc(),) if forward else (Station.code.desc(),)
    else:
        if key is not None:
            net, ident = key
            if forward:
                stmt = stmt.where(
                    or_(Settlement.net < net, and_(Settlement.net == net, Settlement.id < ident))
                )
            else:
                stmt = stmt.where(
                    or_(Settlement.net > net, and_(Settlement.net == net, Settlement.id > ident))
                )
        if forward:
            order = (Settlement.net.desc(), Settlement.id.desc())
        else:
            order = (Settlement.net.asc(), Settlement.id.asc())
    rows = list(db.session.execute(stmt.order_by(*order).limit(size + 1)).scalars())
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()

    def key_of(settlement):
        if sort == "code":
            return settlement.station.code
        return f"{settlement.net}:{settlement.id}"

    first = key_of(rows[0]) if rows else None
    last = key_of(rows[-1]) if rows else None
    if forward:
        return KeysetPage(rows, last if more else None, first if (after and rows) else None)
    return KeysetPage(rows, last if rows else None, first if more else None)


TOTAL_FIELDS = (
    "valid_count",
    "invalid_count",
    "labour",
    "travel",
    "rewards",
    "penalties",
    "deductions",
    "net",
    "carried_out",
)


def _settlement_or_404(settlement_id: int) -> Settlement:
    return get_scoped_or_404(Settlement, settlement_id, current_user)


@bp.route("/<int:settlement_id>")
@require(Permission.VIEW_SETTLEMENTS)
def detail(settlement_id: int):
    settlement = _settlement_or_404(settlement_id)
    return _render_detail(settlement)


def _render_detail(settlement: Settlement, status: int = 200, errors: dict | None = None):
    from portal.core.audit import AuditEntry

    show = request.args.get("show") or "all"
    lines_stmt = select(SettlementLine).where(SettlementLine.settlement_id == settlement.id)
    if show == "valid":
        lines_stmt = lines_stmt.where(SettlementLine.valid.is_(True))
    elif show == "invalid":
        lines_stmt = lines_stmt.where(SettlementLine.valid.is_(False))
    lines = keyset_page(
        lines_stmt,
        SettlementLine.id,
        after=int_arg(request.args, "after", minimum=0),
        before=int_arg(request.args, "before", minimum=0),
        size=current_app.config["PAGE_SIZE"],
    )
    revisions = list(
        db.session.execute(
            select(Settlement)
            .where(
                Settlement.station_id == settlement.station_id,
                Settlement.month == settlement.month,
            )
            .order_by(Settlement.revision)
        ).scalars()
    )
    history = list(
        db.session.execute(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == "Settlement",
                AuditEntry.object_id.in_([str(r.id) for r in revisions]),
            )
            .order_by(AuditEntry.id.desc())
            .limit(100)
        ).scalars()
    )
    repair_types = dict(
        db.session.execute(
            select(RepairType.code, RepairType.name_zh if _chinese() else RepairType.name_en)
        ).all()
    )
    users = _user_names(
        {
            settlement.run_by_id,
            settlement.computed_by_id,
            settlement.hq_approved_by_id,
            settlement.finance_approved_by_id,
        }
    )
    return (
        render_template(
            "settlement/detail.html",
            s=settlement,
            lines=lines,
            show=show,
            adjustments=adjustments_of(settlement.station_id, settlement.month),
            revisions=revisions,
            history=history,
            actions=workflow.allowed_actions(current_user, settlement),
            difference=workflow.difference(settlement),
            repair_types=repair_types,
            reason_label=reason_label,
            users=users,
            errors=errors or {},
            exports=[
                e
                for e in export.exports_of(settlement.month, current_user)
                if e.station_id in (None, settlement.station_id)
            ],
            today=local_today(),
            figure_labels=figure_labels(),
            SettlementStatus=SettlementStatus,
            LOCKED_STATES=LOCKED_STATES,
            text_labels=TEXT_LABELS,
            action_labels={f"settlement.{k}": a.label for k, a in workflow.ACTIONS.items()},
        ),
        status,
    )


TEXT_LABELS = {
    "reason": _l("Reason"),
    "answer": _l("Answer to the station"),
    "paid_reference": _l("Payment reference"),
}


def figure_labels() -> dict:
    return {
        "valid_count": _("Valid records"),
        "invalid_count": _("Invalid records"),
        "labour": _("Labour fees"),
        "travel": _("Travel allowances"),
        "rewards": _("Rewards"),
        "penalties": _("Penalties"),
        "deductions": _("Deductions"),
        "carried_in": _("Carried from last month"),
        "carried_out": _("Carried to next month"),
        "net": _("Net payable"),
    }


def _user_names(ids) -> dict:
    from portal.auth.models import User

    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def _chinese() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "zh"


@bp.route("/<int:settlement_id>/<action>", methods=["POST"])
@require(Permission.VIEW_SETTLEMENTS)
def act(settlement_id: int, action: str):
    settlement = _settlement_or_404(settlement_id)
    if action not in workflow.ACTIONS:
        abort(404)
    form = request.form.to_dict()
    try:
        result = workflow.run(_actor(), settlement, action, form)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(str(CHANGED_MEANWHILE), "danger")
        return redirect(url_for("settlement.detail", settlement_id=settlement_id))
    except DomainError as error:
        db.session.rollback()
        settlement = _settlement_or_404(settlement_id)
        if error.field:
            return _render_detail(settlement, 422, {error.field: str(error.message)})
        flash(str(error.message), "danger")
        return redirect(url_for("settlement.detail", settlement_id=settlement_id))
    flash(_("Done: %(action)s.", action=workflow.ACTIONS[action].label), "success")
    return redirect(url_for("settlement.detail", settlement_id=result.id))


# --- running a month ---------------------------------------------------------------------------


@bp.route("/run", methods=["GET", "POST"])
@require(Permission.RUN_SETTLEMENTS)
def run_page():
    month = _month_arg()
    errors = {}
    codes = ""
    if request.method == "POST":
        codes = (request.form.get("stations") or "").strip()
        try:
            station_ids = run_jobs.station_ids_from_codes(codes)
            job = run_jobs.start_run(month, station_ids, _actor())
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            errors[error.field or "stations"] = str(error.message)
        else:
            return redirect(url_for("settlement.run_page", month=f"{month:%Y-%m}", job=job.id))
    job = None
    job_id = int_arg(request.args, "job", minimum=1)
    if job_id:
        try:
            job = jobs.get_visible(job_id, current_user)
        except DomainError:
            job = None
    return (
        render_template(
            "settlement/run.html",
            month=month,
            codes=codes,
            errors=errors,
            job=job,
            progress=jobs.progress_of(job, current_user) if job else None,
        ),
        422 if errors else 200,
    )


# --- what waits, on the home page --------------------------------------------------------------

WAITING_FOR = (
    (Permission.CONFIRM_SETTLEMENTS, SettlementStatus.DRAFT, _l("to confirm or dispute")),
    (Permission.REVIEW_SETTLEMENTS, SettlementStatus.DISPUTED, _l("disputed, to answer")),
    (Permission.REVIEW_SETTLEMENTS, SettlementStatus.CONFIRMED, _l("confirmed, to approve for HQ")),
    (
        Permission.APPROVE_SETTLEMENT_PAYMENTS,
        SettlementStatus.HQ_APPROVED,
        _l("approved by HQ, to approve for payment"),
    ),
    (
        Permission.APPROVE_SETTLEMENT_PAYMENTS,
        SettlementStatus.FINANCE_APPROVED,
        _l("approved, to mark as paid"),
    ),
)


@bp.app_context_processor
def _settlement_helpers():
    return {"settlement_dashboard": dashboard}


def dashboard() -> list[dict]:
    """(month, state, what to do, count) of the settlements that wait for this person."""
    from portal.core.permissions import can

    if not can(current_user, Permission.VIEW_SETTLEMENTS):
        return []
    states = {state: label for perm, state, label in WAITING_FOR if can(current_user, perm)}
    if not states:
        return []
    stmt = scope_to_user(
        select(Settlement.month, Settlement.status, func.count(Settlement.id))
        .where(Settlement.status.in_(list(states)))
        .group_by(Settlement.month, Settlement.status)
        .order_by(Settlement.month.desc()),
        Settlement.station_id,
        current_user,
    )
    return [
        {"month": month, "state": status, "label": states[status], "count": count}
        for month, status, count in db.session.execute(stmt.limit(12))
    ]
