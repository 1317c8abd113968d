"""The /api/v1 resources: the station, its daily reports and records (the pages' services)."""

from __future__ import annotations

import datetime as dt

from flask import current_app, g, request
from flask_login import current_user
from flask_smorest import Blueprint, abort
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from portal.api import api
from portal.api import services as token_services
from portal.api.idempotency import idempotent
from portal.api.schemas import (
    RecordPageSchema,
    RecordQuerySchema,
    ReportInSchema,
    ReportOutSchema,
    ReportQuerySchema,
    ReportSummarySchema,
    StationSchema,
)
from portal.core.errors import DomainError
from portal.extensions import db, limiter
from portal.reports import rules, services
from portal.reports.models import DailyReport, RepairRecord
from portal.reports.states import RecordSource
from portal.stations.models import Station

blp = Blueprint(
    "api_v1",
    __name__,
    url_prefix="/api/v1",
    description="Daily reports and repair records of the token's station.",
)
ERRORS = (401, 403, 404, 429)


def _token_key() -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return "api-token:" + token_services.hash_token(header[7:].strip())[:32]
    return "api-anon:" + (request.remote_addr or "")


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_token_key)(blp)


@blp.errorhandler(HTTPException)
def _json_error(error):
    """Every API error as JSON: code, status, message and per-field errors."""
    return api.handle_http_exception(error)


@blp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    plain = header[7:].strip() if header.startswith("Bearer ") else None
    token = token_services.authenticate(plain)
    if token is None and plain is None and current_user.is_authenticated:
        # Signed in to the portal, but the API takes a station token, never a session cookie
        # (the API is CSRF-exempt, so a cookie must not be enough).
        abort(
            403,
            message="The API takes a station token (Authorization: Bearer <token>), "
            "not a portal sign-in.",
        )
    if token is None:
        abort(401, message="A valid station token is required: Authorization: Bearer <token>.")
    if db.session.is_modified(token):
        db.session.commit()
    g.api_actor = token_services.ApiActor(token)


def _responses(*codes):
    def decorator(view):
        for code in codes:
            view = blp.alt_response(code, schema=api.ERROR_SCHEMA, description="Error")(view)
        return view

    return decorator


def _station() -> Station:
    return db.session.get(Station, g.api_actor.station_id)


def _report_or_404(report_id: int) -> DailyReport:
    report = db.session.get(DailyReport, report_id)
    if report is None or report.station_id != g.api_actor.station_id:
        abort(404, message="No such report of this station.")
    return report


def _record_out(record: RepairRecord) -> dict:
    """A record as the API shows it: the record's fields (masked), times in UTC, parts listed."""
    return {
        **rules.record_fields(record, dt.UTC, masked=True),
        "outside_home_city": record.outside_home_city,
        "id": record.id,
        "report_id": record.report_id,
        "parts": [
            {"part_no": p.part_no, "quantity": p.quantity, "faulty_serial": p.faulty_serial}
            for p in record.parts
        ],
        "source": record.source.value,
    }


def _report_out(report: DailyReport, warnings=None) -> dict:
    return {
        "id": report.id,
        "station_code": report.station.code,
        "report_on": report.report_on,
        "status": report.status.value,
        "standing": services.report_standing(report).value,
        **{name: getattr(report, name) for name in services.COUNT_FIELDS},
        "first_submitted_at": report.first_submitted_at,
        "submitted_at": report.submitted_at,
        "due_at": services.due_for(report.report_on),
        "records": [_record_out(r) for r in report.records],
        "warnings": warnings or [],
    }


def _raw_record(item: dict) -> dict:
    raw = {k: v for k, v in item.items() if k != "parts"}
    raw["parts"] = rules.format_parts(
        (p["part_no"], p["quantity"], p.get("faulty_serial") or "") for p in item.get("parts", [])
    )
    return raw


def _problems_to_errors(problems: list[dict]) -> dict:
    records: dict[str, dict[str, list[str]]] = {}
    for problem in problems:
        key = str(problem["row"])
        records.setdefault(key, {}).setdefault(problem["field"], []).append(problem["message"])
    return {"json": {"records": records}}


@blp.route("/station")
@blp.response(200, StationSchema)
@_responses(*ERRORS)
def station():
    """The token's station."""
    s = _station()
    return {
        "id": s.id,
        "code": s.code,
        "name": s.name,
        "tier": s.tier.value,
        "province": s.province,
        "city": s.city,
        "status": s.status.value,
    }


@blp.route("/reports", methods=["POST"])
@idempotent()
@blp.arguments(ReportInSchema)
@blp.response(201, ReportOutSchema)
@_responses(*ERRORS, 409)
def create_report(payload):
    """Create the day's report (or add to its open draft) with records; all or nothing.

    Counts given replace the report's counts. With submit=true the report is submitted after
    the records are stored. If any record is bad, nothing is stored and the answer (422) lists
    every problem by record index and field. Send an Idempotency-Key to make a retry safe: the
    same key with the same request returns the first answer and stores nothing again.
    """
    actor = g.api_actor
    rows = [(index, _raw_record(item)) for index, item in enumerate(payload["records"])]
    counts = {k: payload[k] for k in services.COUNT_FIELDS if k in payload}
    try:
        report, result = services.file_day_report(
            actor,
            _station(),
            payload["report_on"],
            rows,
            RecordSource.API,
            counts=counts,
            submit=payload["submit"],
        )
    except services.ReportSubmitted:
        abort(409, message="The report of this day is submitted; reopen it in the portal to amend.")
    except services.RecordsRejected as error:
        abort(422, message=str(error.message), errors=_problems_to_errors(error.problems))
    except DomainError as error:
        field = error.field or "_schema"
        abort(422, message=str(error.message), errors={"json": {field: [str(error.message)]}})
    db.session.flush()
    db.session.expire(report)  # read back what the services stored; @idempotent commits
    return _report_out(report, result.warnings if result else [])


@blp.route("/reports/<int:report_id>")
@blp.response(200, ReportOutSchema)
@_responses(*ERRORS)
def get_report(report_id: int):
    """One report of the station with its records (404 for another station's)."""
    return _report_out(_report_or_404(report_id))


@blp.route("/records")
@blp.arguments(RecordQuerySchema, location="query")
@blp.response(200, RecordPageSchema)
@_responses(*ERRORS)
def list_records(args):
    """The station's records, newest first; page on with after_id=next_after_id."""
    flt = services.RecordFilter(
        station_id=g.api_actor.station_id,
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        serial=args.get("serial", ""),
        ticket=args.get("ticket", ""),
        device_model=args.get("device_model", ""),
        repair_type=args.get("repair_type", ""),
        result=args.get("result", ""),
    )
    stmt = services.record_query(g.api_actor, flt)
    if args.get("after_id"):
        stmt = stmt.where(RepairRecord.id < args["after_id"])
    limit = args["limit"]
    rows = list(
        db.session.execute(stmt.order_by(RepairRecord.id.desc()).limit(limit + 1)).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [_record_out(r) for r in rows], "next_after_id": rows[-1].id if more else None}


@blp.route("/reports")
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, ReportSummarySchema(many=True))
@_responses(*ERRORS)
def list_reports(args):
    """The station's reports, newest day first (find a day's report id here)."""
    stmt = select(DailyReport).where(DailyReport.station_id == g.api_actor.station_id)
    if args.get("date_from"):
        stmt = stmt.where(DailyReport.report_on >= args["date_from"])
    if args.get("date_to"):
        stmt = stmt.where(DailyReport.report_on <= args["date_to"])
    reports = list(
        db.session.execute(
            stmt.order_by(DailyReport.report_on.desc()).limit(args["limit"])
        ).scalars()
    )
    counts = dict(
        db.session.execute(
            select(RepairRecord.report_id, func.count())
            .where(RepairRecord.report_id.in_([r.id for r in reports]))
            .group_by(RepairRecord.report_id)
        ).all()
    )
    settings = services.settings_list()  # once per request, not once per report
    return [
        {
            "id": r.id,
            "report_on": r.report_on,
            "status": r.status.value,
            "standing": services.report_standing(r, settings).value,
            "records": counts.get(r.id, 0),
            "first_submitted_at": r.first_submitted_at,
        }
        for r in reports
    ]
