"""Inspection pages: thin handlers that load, call one service, commit once.

The fill-in page saves every answer on its own through small JSON requests (see
static/js/inspection-fill.js); those handlers follow the same pattern and answer JSON.
"""

from __future__ import annotations

import datetime as dt
import io
import os

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal.core.db import MAX_ID
from portal.core.errors import DomainError, NotFound, PermissionDenied
from portal.core.forms import submit as submit_form
from portal.core.pagination import keyset_page
from portal.core.permissions import Permission, can, require, sees_all_stations
from portal.core.regions import province_choices
from portal.core.scoping import get_scoped_or_404
from portal.extensions import db
from portal.inspections import bp, files, forms, services
from portal.inspections.models import (
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
    ChecklistVersion,
    Inspection,
    InspectionFile,
    Rectification,
    StationInspectionSummary,
)
from portal.inspections.states import (
    INSPECTION_FLOW,
    RECTIFICATION_FLOW,
    AnswerResult,
    Grade,
    InspectionKind,
    InspectionStatus,
    RectificationStatus,
)
from portal.stations.models import Station
from portal.stations.states import Tier


def _actor():
    return current_user._get_current_object()


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 <= value <= MAX_ID else None


def _text_arg(name: str, limit: int = 40) -> str:
    value = (request.args.get(name) or "").strip()
    return "".join(ch for ch in value if ch.isprintable())[:limit]


def _load(inspection_id: int) -> Inspection:
    return get_scoped_or_404(Inspection, inspection_id, current_user)


def _page_size() -> int:
    return current_app.config["PAGE_SIZE"]


@bp.app_context_processor
def _template_helpers():
    return {
        "inspections_panel": station_panel,
        "inspections_dashboard": dashboard,
        "inspections_site_visits": site_visit_panel,
        "InspectionStatus": InspectionStatus,
    }


def site_visit_panel(application):
    """The site-visit inspections of an application, for its screening sheet."""
    if not can(current_user, Permission.VIEW_INSPECTIONS):
        return None
    return {
        "visits": services.site_visits(application),
        "can_plan": can(current_user, Permission.PLAN_INSPECTIONS)
        and can(current_user, Permission.REVIEW_APPLICATIONS),
    }


def station_panel(station):
    """Latest score and open rectifications of a station, for its page."""
    if not can(current_user, Permission.VIEW_INSPECTIONS, station):
        return None
    summary = db.session.get(StationInspectionSummary, station.id)
    total, overdue = services.open_counts([station.id]).get(station.id, (0, 0))
    return {"summary": summary, "open": total, "overdue": overdue}


def dashboard():
    """Counts of what waits for the signed-in person, and their reminders."""
    if not can(current_user, Permission.VIEW_INSPECTIONS):
        return None
    return {
        "counts": services.dashboard_counts(current_user),
        "reminders": services.reminders_for(current_user, limit=10),
        "today": services.today(),
    }


# --- lists ---------------------------------------------------------------------------------


def _inspection_filter() -> services.InspectionFilter:
    mine_default = can(current_user, Permission.CONDUCT_INSPECTIONS) and "mine" not in request.args
    return services.InspectionFilter(
        status=_text_arg("status"),
        province=_text_arg("province", 4),
        tier=_text_arg("tier"),
        station=_text_arg("station", 20),
        mine=request.args.get("mine") == "1" or (mine_default and not request.args),
        kind=_text_arg("kind"),
    )


@bp.route("/")
@require(Permission.VIEW_INSPECTIONS)
def index():
    """Inspections, newest first; an auditor starts on their own."""
    flt = _inspection_filter()
    stmt = services.inspection_query(current_user, flt)
    page = keyset_page(
        stmt.options(
            selectinload(Inspection.station),
            selectinload(Inspection.application),
            selectinload(Inspection.auditor),
        ),
        Inspection.id,
        after=_int_arg("after"),
        before=_int_arg("before"),
        size=_page_size(),
        descending=True,
    )
    count, more = services.capped_count(stmt)
    return render_template(
        "inspections/index.html",
        page=page,
        flt=flt,
        count=count,
        more=more,
        statuses=InspectionStatus,
        kinds=InspectionKind,
        provinces=province_choices(),
        tiers=Tier,
    )


def _rectification_filter() -> services.RectificationFilter:
    status = _text_arg("status")
    if "status" not in request.args:
        status = "not_closed"
    return services.RectificationFilter(
        status=status,
        province=_text_arg("province", 4),
        tier=_text_arg("tier"),
        station=_text_arg("station", 20),
        overdue=request.args.get("overdue") == "1",
    )


@bp.route("/rectifications")
@require(Permission.VIEW_INSPECTIONS)
def rectifications():
    """Rectifications, newest first: open ones by default, overdue ones flagged."""
    flt = _rectification_filter()
    stmt = services.rectification_query(current_user, flt)
    page = keyset_page(
        stmt.options(selectinload(Rectification.station), selectinload(Rectification.inspection)),
        Rectification.id,
        after=_int_arg("after"),
        before=_int_arg("before"),
        size=_page_size(),
        descending=True,
    )
    count, more = services.capped_count(stmt)
    return render_template(
        "inspections/rectifications.html",
        page=page,
        flt=flt,
        count=count,
        more=more,
        statuses=RectificationStatus,
        provinces=province_choices(),
        tiers=Tier,
        today=services.today(),
        is_overdue=services.is_overdue,
    )


@bp.route("/network")
@require(Permission.VIEW_INSPECTIONS, Permission.VIEW_ALL_STATIONS)
def network():
    """Every station's latest score and its open rectifications, by province and tier."""
    province = _text_arg("province", 4)
    tier = _text_arg("tier")
    stmt = services.network_query(province, tier)
    page = keyset_page(
        stmt.options(selectinload(StationInspectionSummary.station)),
        StationInspectionSummary.last_id,
        after=_int_arg("after"),
        before=_int_arg("before"),
        size=_page_size(),
        descending=True,
    )
    count, more = services.capped_count(stmt)
    return render_template(
        "inspections/network.html",
        page=page,
        province=province,
        tier=tier,
        count=count,
        more=more,
        provinces=province_choices(),
        tiers=Tier,
        open_counts=services.open_counts(row.station_id for row in page.items),
    )


@bp.route("/stations/<int:station_id>")
@require(Permission.VIEW_INSPECTIONS)
def station_history(station_id: int):
    """One station's inspections with the trend of its scores."""
    station = db.session.get(Station, station_id)
    if station is None or not can(current_user, Permission.VIEW_INSPECTIONS, station):
        abort(404)
    history = services.station_history(station.id)
    scored = [i for i in reversed(history) if i.score is not None]
    return render_template(
        "inspections/station.html",
        station=station,
        history=history,
        trend=_trend(scored),
        open_counts=services.open_counts([station.id]).get(station.id, (0, 0)),
    )


def _trend(scored: list[Inspection]) -> dict | None:
    """Points of an SVG line chart of scores (0-100) over the station's inspections."""
    if not scored:
        return None
    width, height, pad = 600, 200, 24
    n = len(scored)
    step = (width - 2 * pad) / max(n - 1, 1)
    points = []
    for index, inspection in enumerate(scored):
        x = pad + index * step
        y = pad + (height - 2 * pad) * (1 - float(inspection.score) / 100)
        points.append({"x": round(x, 1), "y": round(y, 1), "inspection": inspection})
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "points": points,
        "line": " ".join(f"{p['x']},{p['y']}" for p in points),
        "grid": [
            {"value": v, "y": round(pad + (height - 2 * pad) * (1 - v / 100), 1)}
            for v in (0, 60, 80, 90, 100)
        ],
    }


# --- planning ------------------------------------------------------------------------------


def _plan_choices(form) -> None:
    form.auditor_id.choices = [
        (u.id, u.display_name or u.username) for u in services.auditors()
    ] or [(0, "—")]
    form.version_id.choices = [
        (v.id, f"{v.template.name} v{v.number}") for v in services.published_versions()
    ] or [(0, "—")]


@bp.route("/plan", methods=["GET", "POST"])
@require(Permission.PLAN_INSPECTIONS)
def plan():
    form = forms.PlanForm()
    _plan_choices(form)
    if request.method == "GET":
        form.planned_on.data = services.today()
        form.station_code.data = _text_arg("station", 20)
        if can(current_user, Permission.CONDUCT_INSPECTIONS):
            form.auditor_id.data = current_user.id
        default = services.default_version()
        if default is not None:
            form.version_id.data = default.id
    if form.validate_on_submit():
        code = form.station_code.data.strip().upper()
        station = db.session.execute(
            select(Station).where(Station.code == code)
        ).scalar_one_or_none()
        from portal.auth.models import User

        if station is None:
            form.station_code.errors = [*form.station_code.errors, _("No station has this code.")]
        else:
            ok, inspection = submit_form(
                form,
                lambda: services.plan_inspection(
                    _actor(),
                    planned_on=form.planned_on.data,
                    auditor=db.session.get(User, form.auditor_id.data),
                    version=db.session.get(ChecklistVersion, form.version_id.data),
                    station=station,
                ),
            )
            if ok:
                flash(_("Inspection %(number)s is planned.", number=inspection.number), "success")
                return redirect(url_for("inspections.detail", inspection_id=inspection.id))
    return render_template("inspections/plan.html", form=form), (
        422 if request.method == "POST" else 200
    )


@bp.route("/site-visit/<int:application_id>", methods=["GET", "POST"])
@require(Permission.PLAN_INSPECTIONS, Permission.REVIEW_APPLICATIONS)
def plan_site_visit(application_id: int):
    """Plan the site visit of an application in screening, filled in like an inspection."""
    from portal.auth.models import User
    from portal.certification import services as certification

    application = certification.visible_application(current_user, application_id)
    if application is None:
        abort(404)
    form = forms.SiteVisitForm()
    _plan_choices(form)
    if request.method == "GET":
        form.planned_on.data = services.today()
        default = services.default_version()
        if default is not None:
            form.version_id.data = default.id
    if form.validate_on_submit():
        ok, inspection = submit_form(
            form,
            lambda: services.plan_site_visit(
                _actor(),
                application,
                planned_on=form.planned_on.data,
                auditor=db.session.get(User, form.auditor_id.data),
                version=db.session.get(ChecklistVersion, form.version_id.data),
            ),
        )
        if ok:
            flash(_("Inspection %(number)s is planned.", number=inspection.number), "success")
            return redirect(url_for("certification.screening", application_id=application.id))
    return render_template("inspections/site_visit.html", form=form, application=application), (
        422 if request.method == "POST" else 200
    )


@bp.route("/<int:inspection_id>")
@require(Permission.VIEW_INSPECTIONS)
def detail(inspection_id: int):
    inspection = _load(inspection_id)
    photos = services.photos_of(inspection)
    by_item: dict[int, list] = {}
    for photo in photos:
        by_item.setdefault(photo.item_id, []).append(photo)
    rectification_rows = list(
        db.session.execute(
            select(Rectification)
            .where(Rectification.inspection_id == inspection.id)
            .order_by(Rectification.id)
        ).scalars()
    )
    return render_template(
        "inspections/detail.html",
        inspection=inspection,
        answers={a.item_id: a for a in inspection.answers},
        photos=by_item,
        rectifications=rectification_rows,
        is_filler=can(current_user, Permission.CONDUCT_INSPECTIONS)
        and current_user.id == inspection.auditor_id,
        can_fill=INSPECTION_FLOW.can(inspection.status, "fill"),
        can_cancel=INSPECTION_FLOW.can(inspection.status, "cancel")
        and can(current_user, Permission.PLAN_INSPECTIONS),
        can_add=INSPECTION_FLOW.can(inspection.status, "add_rectification")
        and inspection.station_id is not None
        and can(current_user, Permission.REVIEW_RECTIFICATIONS),
        reason_form=forms.ReasonForm(),
        finding_form=forms.FindingForm(),
        is_overdue=services.is_overdue,
    )


@bp.route("/<int:inspection_id>/cancel", methods=["POST"])
@require(Permission.PLAN_INSPECTIONS)
def cancel(inspection_id: int):
    inspection = _load(inspection_id)
    form = forms.ReasonForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return redirect(url_for("inspections.detail", inspection_id=inspection.id))
    ok, _done = submit_form(
        None, lambda: services.cancel_inspection(_actor(), inspection, form.reason.data)
    )
    if ok:
        flash(_("The inspection is cancelled."), "success")
    return redirect(url_for("inspections.detail", inspection_id=inspection.id))


# --- filling in ----------------------------------------------------------------------------


@bp.route("/<int:inspection_id>/fill")
@require(Permission.CONDUCT_INSPECTIONS)
def fill(inspection_id: int):
    """The phone form: every answer saves itself; offline it waits in the browser."""
    inspection = _load(inspection_id)
    if inspection.auditor_id != current_user.id or not INSPECTION_FLOW.can(
        inspection.status, "fill"
    ):
        if inspection.auditor_id != current_user.id:
            flash(_("Only the inspection's auditor fills it in."), "warning")
        return redirect(url_for("inspections.detail", inspection_id=inspection.id))
    photos: dict[int, list] = {}
    for photo in services.photos_of(inspection):
        photos.setdefault(photo.item_id, []).append(photo)
    return render_template(
        "inspections/fill.html",
        inspection=inspection,
        answers={a.item_id: a for a in inspection.answers},
        photos=photos,
        results=AnswerResult,
        submit_form=forms.SubmitForm(),
        ledger=services.expected_quantity(inspection.station_id, "") is not None,
    )


def _json_error(error: DomainError, status: int):
    body = {"error": str(error.message), "field": error.field}
    if getattr(error, "current", None) is not None:
        body["current"] = error.current
    return jsonify(body), status


def _json_call(action, ok):
    """Run one service call for a JSON request and commit; the error as JSON otherwise."""
    try:
        result = action()
        body = ok(result)
        db.session.commit()
    except services.Conflict as error:
        db.session.rollback()
        return _json_error(error, 409)
    except services.Locked as error:
        db.session.rollback()
        return _json_error(error, 423)
    except PermissionDenied as error:
        db.session.rollback()
        return _json_error(error, 403)
    except NotFound as error:
        db.session.rollback()
        return _json_error(error, 404)
    except DomainError as error:
        db.session.rollback()
        return _json_error(error, 422)
    except StaleDataError:
        db.session.rollback()
        return jsonify({"error": _("Someone else changed this meanwhile. Try again.")}), 409
    return jsonify(body)


def _json_body() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _base_rev(data: dict) -> int:
    try:
        return max(0, int(data.get("base_rev") or 0))
    except (TypeError, ValueError):
        return 0


@bp.route("/<int:inspection_id>/state.json")
@require(Permission.CONDUCT_INSPECTIONS)
def state(inspection_id: int):
    """The saved answers, for a device to catch up (with a fresh form token)."""
    inspection = _load(inspection_id)
    return jsonify(services.inspection_state(inspection) | {"csrf_token": generate_csrf()})


@bp.route("/<int:inspection_id>/answers/<int:item_id>", methods=["POST"])
@require(Permission.CONDUCT_INSPECTIONS)
def save_answer(inspection_id: int, item_id: int):
    inspection = _load(inspection_id)
    data = _json_body()
    return _json_call(
        lambda: services.save_answer(_actor(), inspection, item_id, _base_rev(data), data),
        lambda answer: {"answer": services.answer_state(answer)},
    )


@bp.route("/<int:inspection_id>/stock/<key>", methods=["POST"])
@require(Permission.CONDUCT_INSPECTIONS)
def save_stock(inspection_id: int, key: str):
    inspection = _load(inspection_id)
    data = _json_body()
    return _json_call(
        lambda: services.save_stock_line(_actor(), inspection, key, _base_rev(data), data),
        lambda line: {"line": services.stock_state(line)},
    )


@bp.route("/<int:inspection_id>/photos", methods=["POST"])
@require(Permission.CONDUCT_INSPECTIONS)
def add_photo(inspection_id: int):
    inspection = _load(inspection_id)
    upload = request.files.get("file")
    item_id = request.form.get("item_id", type=int)
    if upload is None:
        return jsonify({"error": _("Choose a photo."), "field": "file"}), 422
    return _json_call(
        lambda: services.add_photo(
            _actor(),
            inspection,
            item_id,
            request.form.get("client_key"),
            upload.filename,
            upload.stream,
        ),
        lambda photo: {
            "photo": services.photo_state(photo)
            | {"preview": url_for("inspections.file_preview", file_id=photo.id)}
        },
    )


@bp.route("/<int:inspection_id>/photos/<int:file_id>/delete", methods=["POST"])
@require(Permission.CONDUCT_INSPECTIONS)
def delete_photo(inspection_id: int, file_id: int):
    inspection = _load(inspection_id)
    photo = db.session.get(InspectionFile, file_id)
    if photo is None or photo.inspection_id != inspection.id:
        abort(404)
    return _json_call(
        lambda: services.delete_photo(_actor(), inspection, photo), lambda _r: {"deleted": True}
    )


def _flash_form_errors(form) -> None:
    """A form refused before anything is done (issue 8.4): each error with its field's label."""
    for field in form:
        for error in field.errors:
            flash(f"{field.label.text}: {error}", "danger")


@bp.route("/<int:inspection_id>/submit", methods=["POST"])
@require(Permission.CONDUCT_INSPECTIONS)
def submit(inspection_id: int):
    inspection = _load(inspection_id)
    form = forms.SubmitForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return redirect(url_for("inspections.fill", inspection_id=inspection.id))
    try:
        services.submit_inspection(_actor(), inspection, form.summary.data or "")
        db.session.commit()
    except services.Problems as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        for problem in error.problems[:20]:
            item = problem.get("item")
            prefix = f"{item.text}: " if item is not None else ""
            flash(f"{prefix}{problem['message']}", "warning")
        return redirect(url_for("inspections.fill", inspection_id=inspection.id))
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return redirect(url_for("inspections.detail", inspection_id=inspection.id))
    except StaleDataError:
        db.session.rollback()
        flash(_("Someone else changed this meanwhile. Try again."), "danger")
        return redirect(url_for("inspections.detail", inspection_id=inspection.id))
    flash(
        _(
            "Submitted: %(score)s %% (%(grade)s).",
            score=inspection.score,
            grade=inspection.grade.label,
        ),
        "success",
    )
    return redirect(url_for("inspections.detail", inspection_id=inspection.id))


@bp.route("/sw.js")
def service_worker():
    """The service worker that keeps opened inspection forms usable offline."""
    path = os.path.join(current_app.static_folder, "js", "inspections-sw.js")
    with open(path, "rb") as handle:
        body = handle.read()
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("inspections.index")
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- files ---------------------------------------------------------------------------------


def _load_file(file_id: int) -> InspectionFile:
    row = db.session.get(InspectionFile, file_id)
    if row is None:
        abort(404)
    _load(row.inspection_id)  # 404 unless the user may see the inspection
    return row


def _send(name: str, mimetype: str, download_name: str | None = None, attachment=False):
    with open(files.path_of(name), "rb") as handle:
        data = io.BytesIO(handle.read())
    response = send_file(
        data, mimetype=mimetype, as_attachment=attachment, download_name=download_name
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/files/<int:file_id>/preview")
@require(Permission.VIEW_INSPECTIONS)
def file_preview(file_id: int):
    row = _load_file(file_id)
    if not row.preview_name:
        abort(404)
    return _send(row.preview_name, "image/jpeg")


@bp.route("/files/<int:file_id>")
@require(Permission.VIEW_INSPECTIONS)
def file_download(file_id: int):
    """The file without metadata; HQ-side users may ask for the original as uploaded."""
    row = _load_file(file_id)
    original = request.args.get("original") == "1" and sees_all_stations(current_user)
    name = row.stored_name if (original or not row.clean_name) else row.clean_name
    return _send(name, row.content_type, row.original_name, attachment=True)


# --- rectifications ------------------------------------------------------------------------


def _load_rectification(rectification_id: int) -> Rectification:
    return get_scoped_or_404(Rectification, rectification_id, current_user)


@bp.route("/<int:inspection_id>/rectifications", methods=["POST"])
@require(Permission.REVIEW_RECTIFICATIONS)
def add_rectification(inspection_id: int):
    inspection = _load(inspection_id)
    form = forms.FindingForm()
    if not form.validate_on_submit():
        flash(_("Describe the finding."), "danger")
    else:
        ok, rectification = submit_form(
            None,
            lambda: services.add_rectification(
                _actor(), inspection, form.finding.data, form.critical.data, form.due_on.data
            ),
        )
        if ok:
            flash(_("Rectification %(n)s is opened.", n=rectification.number), "success")
    return redirect(url_for("inspections.detail", inspection_id=inspection.id))


@bp.route("/rectifications/<int:rectification_id>", methods=["GET", "POST"])
@require(Permission.VIEW_INSPECTIONS)
def rectification(rectification_id: int):
    """A rectification with its answers; the station answers here with evidence."""
    item = _load_rectification(rectification_id)
    answer_form = forms.AnswerForm()
    status = 200
    if request.method == "POST":
        if not can(current_user, Permission.ANSWER_RECTIFICATIONS, item):
            abort(403)
        if answer_form.validate_on_submit():
            uploads = [
                (f.filename, f.stream) for f in request.files.getlist("files") if f and f.filename
            ]
            ok, _response = submit_form(
                answer_form,
                lambda: services.answer_rectification(
                    _actor(), item, answer_form.description.data, uploads
                ),
            )
            if ok:
                flash(_("Your answer is sent to the auditor."), "success")
                return redirect(url_for("inspections.rectification", rectification_id=item.id))
        status = 422
    evidence = {}
    for response in item.responses:
        evidence[response.id] = response.files
    return render_template(
        "inspections/rectification.html",
        item=item,
        answer_form=answer_form,
        review_form=forms.ReviewForm(),
        evidence=evidence,
        can_answer=RECTIFICATION_FLOW.can(item.status, "answer")
        and can(current_user, Permission.ANSWER_RECTIFICATIONS, item),
        can_review=RECTIFICATION_FLOW.can(item.status, "accept")
        and can(current_user, Permission.REVIEW_RECTIFICATIONS),
        overdue=services.is_overdue(item),
    ), status


@bp.route("/rectifications/<int:rectification_id>/review", methods=["POST"])
@require(Permission.REVIEW_RECTIFICATIONS)
def review(rectification_id: int):
    item = _load_rectification(rectification_id)
    form = forms.ReviewForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return redirect(url_for("inspections.rectification", rectification_id=item.id))
    accept = request.form.get("decision") == "accept"
    ok, _done = submit_form(
        None, lambda: services.review_rectification(_actor(), item, accept, form.comment.data)
    )
    if ok:
        flash(_("Accepted and closed.") if accept else _("Rejected; the station is told why."))
    return redirect(url_for("inspections.rectification", rectification_id=item.id))


@bp.route("/<int:inspection_id>/sheet")
@require(Permission.VIEW_INSPECTIONS)
def sheet(inspection_id: int):
    """The rectification confirmation sheet, to print and sign."""
    inspection = _load(inspection_id)
    rows = list(
        db.session.execute(
            select(Rectification)
            .where(Rectification.inspection_id == inspection.id)
            .order_by(Rectification.id)
        ).scalars()
    )
    return render_template(
        "inspections/sheet.html",
        inspection=inspection,
        rectifications=rows,
        printed_on=services.today(),
    )


# --- checklists ----------------------------------------------------------------------------


@bp.route("/checklists")
@require(Permission.VIEW_INSPECTIONS, Permission.VIEW_ALL_STATIONS)
def checklists():
    return render_template(
        "inspections/checklists.html",
        templates=services.templates(),
        action_form=forms.ActionForm(),
    )


@bp.route("/checklists/<int:template_id>/draft", methods=["POST"])
@require(Permission.MANAGE_CHECKLISTS)
def new_draft(template_id: int):
    template = db.session.get(ChecklistTemplate, template_id)
    if template is None:
        abort(404)
    ok, draft = submit_form(None, lambda: services.new_draft(_actor(), template))
    if ok:
        return redirect(url_for("inspections.version", version_id=draft.id))
    return redirect(url_for("inspections.checklists"))


def _version_or_404(version_id: int) -> ChecklistVersion:
    version = db.session.get(ChecklistVersion, version_id)
    if version is None:
        abort(404)
    return version


@bp.route("/checklists/versions/<int:version_id>", methods=["GET", "POST"])
@require(Permission.VIEW_INSPECTIONS, Permission.VIEW_ALL_STATIONS)
def version(version_id: int):
    """A checklist version; a draft can get new sections here."""
    checklist = _version_or_404(version_id)
    section_form = forms.SectionForm()
    status = 200
    if request.method == "POST":
        if not can(current_user, Permission.MANAGE_CHECKLISTS):
            abort(403)
        if section_form.validate_on_submit():
            ok, _section = submit_form(
                section_form,
                lambda: services.save_section(
                    _actor(),
                    checklist,
                    {
                        "title_zh": section_form.title_zh.data,
                        "title_en": section_form.title_en.data,
                        "position": section_form.position.data,
                    },
                ),
            )
            if ok:
                flash(_("The section is added."), "success")
                return redirect(url_for("inspections.version", version_id=checklist.id))
        status = 422
    return render_template(
        "inspections/version.html",
        checklist=checklist,
        section_form=section_form,
        action_form=forms.ActionForm(),
        editable=not checklist.is_published and can(current_user, Permission.MANAGE_CHECKLISTS),
    ), status


def _item_form(checklist: ChecklistVersion, item=None) -> forms.ItemForm:
    form = forms.ItemForm(obj=item) if request.method == "GET" else forms.ItemForm()
    form.section_id.choices = [(s.id, s.title) for s in checklist.sections]
    return form


def _item_values(form) -> dict:
    return {
        name: form[name].data
        for name in (
            "section_id",
            "text_zh",
            "text_en",
            "max_score",
            "critical",
            "photo_required",
            "stock_count",
            "position",
        )
    }


@bp.route("/checklists/versions/<int:version_id>/items/new", methods=["GET", "POST"])
@require(Permission.MANAGE_CHECKLISTS)
def item_new(version_id: int):
    checklist = _version_or_404(version_id)
    form = _item_form(checklist)
    if request.method == "GET":
        form.section_id.data = request.args.get("section_id", type=int)
    if form.validate_on_submit():
        ok, _item = submit_form(
            form, lambda: services.save_item(_actor(), checklist, _item_values(form))
        )
        if ok:
            flash(_("The item is saved."), "success")
            return redirect(url_for("inspections.version", version_id=checklist.id))
    return render_template(
        "inspections/item_form.html", checklist=checklist, form=form, item=None
    ), (422 if request.method == "POST" else 200)


@bp.route("/checklists/items/<int:item_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_CHECKLISTS)
def item_edit(item_id: int):
    item = db.session.get(ChecklistItem, item_id)
    if item is None:
        abort(404)
    checklist = _version_or_404(item.version_id)
    form = _item_form(checklist, item)
    if form.validate_on_submit():
        ok, _item = submit_form(
            form, lambda: services.save_item(_actor(), checklist, _item_values(form), item)
        )
        if ok:
            flash(_("The item is saved."), "success")
            return redirect(url_for("inspections.version", version_id=checklist.id))
    return render_template(
        "inspections/item_form.html", checklist=checklist, form=form, item=item
    ), (422 if request.method == "POST" else 200)


@bp.route("/checklists/items/<int:item_id>/delete", methods=["POST"])
@require(Permission.MANAGE_CHECKLISTS)
def item_delete(item_id: int):
    item = db.session.get(ChecklistItem, item_id)
    if item is None:
        abort(404)
    checklist = _version_or_404(item.version_id)
    ok, _done = submit_form(None, lambda: services.delete_item(_actor(), checklist, item))
    if ok:
        flash(_("The item is deleted."), "success")
    return redirect(url_for("inspections.version", version_id=checklist.id))


@bp.route("/checklists/sections/<int:section_id>/delete", methods=["POST"])
@require(Permission.MANAGE_CHECKLISTS)
def section_delete(section_id: int):
    section = db.session.get(ChecklistSection, section_id)
    if section is None:
        abort(404)
    checklist = _version_or_404(section.version_id)
    ok, _done = submit_form(None, lambda: services.delete_section(_actor(), checklist, section))
    if ok:
        flash(_("The section is deleted."), "success")
    return redirect(url_for("inspections.version", version_id=checklist.id))


@bp.route("/checklists/versions/<int:version_id>/publish", methods=["POST"])
@require(Permission.MANAGE_CHECKLISTS)
def publish(version_id: int):
    checklist = _version_or_404(version_id)
    ok, _done = submit_form(None, lambda: services.publish(_actor(), checklist))
    if ok:
        flash(_("Published: new inspections can use this version."), "success")
    return redirect(url_for("inspections.version", version_id=checklist.id))


@bp.route("/settings", methods=["GET", "POST"])
@require(Permission.VIEW_INSPECTIONS, Permission.VIEW_ALL_STATIONS)
def settings():
    """Grade limits and rectification deadlines, with their history."""
    form = forms.SettingForm()
    day = services.today()
    status = 200
    if request.method == "GET":
        current = services.setting_for(day)
        form.effective_on.data = day + dt.timedelta(days=1)
        for name in services.SETTING_FIELDS:
            form[name].data = getattr(current, name)
    elif not can(current_user, Permission.MANAGE_CHECKLISTS):
        abort(403)
    elif form.validate_on_submit():
        ok, _row = submit_form(
            form,
            lambda: services.add_setting(
                _actor(),
                form.effective_on.data,
                {name: form[name].data for name in services.SETTING_FIELDS},
            ),
        )
        if ok:
            flash(_("The settings are saved."), "success")
            return redirect(url_for("inspections.settings"))
        status = 422
    else:
        status = 422
    return render_template(
        "inspections/settings.html",
        form=form,
        history=services.settings_history(),
        in_force=services.setting_for(day),
        editable=can(current_user, Permission.MANAGE_CHECKLISTS),
        grades=Grade,
    ), status
