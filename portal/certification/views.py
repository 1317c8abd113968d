"""Certification pages: thin handlers that load, call one service, commit once."""

from __future__ import annotations

import io
from decimal import Decimal

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.certification import bp, forms, rules, services
from portal.certification.models import (
    Application,
    Attachment,
    Certificate,
    StationProfile,
    Technician,
    TierRuleSet,
)
from portal.certification.states import (
    ACTION_LABELS,
    APPLICATION_FLOW,
    CANDIDATE_KINDS,
    CRITERIA,
    REQUIREMENT_LABELS,
    STATION_ACTION_LABELS,
    STATION_LIFE,
    ApplicationStatus,
    AttachmentKind,
    Recommendation,
)
from portal.core.db import now_utc
from portal.core.forms import submit as submit_form
from portal.core.permissions import Permission, can, require, require_any
from portal.core.scoping import get_scoped_or_404
from portal.extensions import db, limiter
from portal.spares import services as deposits
from portal.spares.models import DepositEntry
from portal.stations.models import Station
from portal.stations.states import Tier
from portal.stations.views import render_detail


def _actor():
    return current_user._get_current_object()


def _load_application(application_id: int) -> Application:
    application = services.visible_application(current_user, application_id)
    if application is None:
        abort(404)
    return application


def _above_tier_confirmed(station, form) -> bool:
    """A payment that takes the deposit above what the tier requires is recorded only once the
    person confirms it (a typed extra zero is the usual cause)."""
    if form.kind.data not in ("paid", "top_up") or form.confirm_above.data:
        return True
    account = deposits.account_for_station(station.id, create=True)
    after = deposits.balance(account) + form.amount.data
    required = services.requirements_for(station.tier).deposit
    if after <= required:
        return True
    form.amount.errors.append(
        _(
            "This brings the deposit to %(after)s, above the %(required)s the tier requires. "
            "Check the amount, or tick the confirmation below.",
            after=f"{after:,.2f}",
            required=f"{required:,.2f}",
        )
    )
    form.needs_confirmation = True
    return False


def _entry_values(form) -> dict:
    """A deposit entry from a DepositForm."""
    return {
        "kind": form.kind.data,
        "amount": form.amount.data,
        "entry_on": form.entry_on.data,
        "reference": form.reference.data,
        "note": form.note.data,
    }


def _status() -> int:
    """A form page answers 422 when it is shown again after a refused post, else 200."""
    return 422 if request.method == "POST" else 200


@bp.app_context_processor
def _template_helpers():
    return {
        "certification_panel": station_panel_context,
        "certification_dashboard": dashboard_context,
        "REQUIREMENT_LABELS": REQUIREMENT_LABELS,
        "mask_id_number": rules.mask_id_number,
        "cert_today": services.today(),
        "ApplicationStatus": ApplicationStatus,
        "AttachmentKind": AttachmentKind,
    }


# --- applying ------------------------------------------------------------------------------


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config.get("SIGNUP_LIMIT", "10 per hour"),
    key_func=lambda: "signup:" + (request.remote_addr or ""),
    methods=["POST"],
)
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = forms.SignupForm()
    if form.validate_on_submit():
        ok, _application = submit_form(
            form,
            lambda: services.sign_up(
                username=form.username.data,
                password=form.password.data,
                display_name=form.display_name.data,
                email=form.email.data,
                company_name=form.company_name.data,
            ),
        )
        if ok:
            _sign_in_new_candidate(_application.applicant)
            flash(_("Your account is ready: fill in your application."), "success")
            return redirect(url_for("certification.my_application"))
    return render_template("certification/signup.html", form=form), _status()


def _sign_in_new_candidate(user) -> None:
    """Sign the new candidate in, as the login form does (a fresh server-side session)."""
    from flask import session
    from flask_login import login_user

    from portal.auth import services as auth_services
    from portal.core import security_log

    session.clear()
    auth_services.start_session(
        user, ip=request.remote_addr or "", user_agent=request.user_agent.string
    )
    login_user(user)
    db.session.commit()
    security_log.event("login.success", user=user.username)


@bp.route("/my-application")
@require(Permission.APPLY)
def my_application():
    application = services.application_of(current_user)
    if application is None:
        abort(404)
    return redirect(url_for("certification.application", application_id=application.id))


@bp.route("/applications/<int:application_id>")
@require_any(Permission.APPLY, Permission.VIEW_APPLICATIONS)
def application(application_id: int):
    return _application_page(_load_application(application_id))


def _application_page(app_: Application, status: int = 200, **refused_forms):
    """The application page; a refused action form is shown with its input and errors (422)."""
    reviewer = can(current_user, Permission.REVIEW_APPLICATIONS)
    context = {
        "application": app_,
        "missing": services.missing_for_submission(app_),
        "editable": APPLICATION_FLOW.can(app_.status, "edit"),
        "timeline": services.timeline(app_),
        "steps": services.STEPS,
        "step_labels": services.STEP_LABELS,
        "comment_form": forms.CommentForm(formdata=None),
        "violation_form": forms.ViolationForm(formdata=None),
        "flow": APPLICATION_FLOW,
        "action_labels": ACTION_LABELS,
        "reviewer": reviewer,
        "is_applicant": app_.applicant_id == current_user.id,
        "deposit_balance": services.application_deposit(app_),
        "ledger": deposits.entries(
            deposits.account_for_application(app_.id)
            or (deposits.account_for_station(app_.station_id) if app_.station_id else None)
        ),
        "deposit_form": forms.DepositForm(formdata=None, kind="paid", entry_on=services.today()),
        "approve_form": forms.ApproveForm(
            formdata=None, tier=app_.requested_tier.value if app_.requested_tier else None
        ),
        "photo_form": forms.AttachmentForm(formdata=None, kinds=[AttachmentKind.SITE_PHOTO]),
        "attachment_form": forms.AttachmentForm(formdata=None, kinds=CANDIDATE_KINDS),
        "checks": None,
    }
    if app_.requested_tier and app_.status is not ApplicationStatus.DRAFT:
        tier = app_.approved_tier or app_.requested_tier
        context["checks"] = (tier, services.check_application(app_, tier))
    context.update(refused_forms)
    return render_template("certification/application.html", **context), status


STEP_FORMS = {
    "company": forms.CompanyForm,
    "areas": forms.AreasForm,
    "equipment": forms.EquipmentForm,
    "finances": forms.FinancesForm,
}


@bp.route("/applications/<int:application_id>/step/<step>", methods=["GET", "POST"])
@require(Permission.APPLY)
def edit_step(application_id: int, step: str):
    app_ = _load_application(application_id)
    if step not in services.STEPS or app_.applicant_id != current_user.id:
        abort(404)
    if not APPLICATION_FLOW.can(app_.status, "edit"):
        flash(
            _("The application cannot be changed while it is %(state)s.", state=app_.status.label),
            "warning",
        )
        return redirect(url_for("certification.application", application_id=app_.id))
    form = None
    staff_form = forms.StaffForm() if step == "staff" else None
    attachment_form = forms.AttachmentForm(kinds=CANDIDATE_KINDS) if step == "attachments" else None
    if step in STEP_FORMS:
        cls = STEP_FORMS[step]
        form = cls(obj=app_) if request.method == "GET" else cls()
        if request.method == "GET":
            for name in ("province", "city_class", "requested_tier"):
                value = getattr(app_, name, None) if name in form else None
                if value is not None and name in form:
                    form[name].data = getattr(value, "value", value)
        if form.validate_on_submit():
            values = {name: form[name].data for name in services.APP_FIELDS_BY_STEP[step]}
            ok, _saved = submit_form(form, lambda: services.save_step(_actor(), app_, step, values))
            if ok:
                flash(_("Saved as a draft."), "success")
                nxt = request.form.get("next_step")
                target = nxt if nxt in services.STEPS else step
                return redirect(
                    url_for("certification.edit_step", application_id=app_.id, step=target)
                )
    elif step == "staff" and staff_form.validate_on_submit():
        ok, _person = submit_form(
            staff_form,
            lambda: services.add_staff(
                _actor(),
                app_,
                name=staff_form.name.data,
                role=staff_form.role.data,
                phone=staff_form.phone.data,
                id_number=staff_form.id_number.data,
            ),
        )
        if ok:
            flash(_("Added to the staff list."), "success")
            return redirect(
                url_for("certification.edit_step", application_id=app_.id, step="staff")
            )
    return render_template(
        "certification/edit_step.html",
        application=app_,
        step=step,
        form=form,
        staff_form=staff_form,
        attachment_form=attachment_form,
        steps=services.STEPS,
        step_labels=services.STEP_LABELS,
    ), _status()


@bp.route("/applications/<int:application_id>/staff/<int:technician_id>/remove", methods=["POST"])
@require(Permission.APPLY)
def remove_staff(application_id: int, technician_id: int):
    app_ = _load_application(application_id)
    technician = db.session.get(Technician, technician_id)
    if technician is None or technician.application_id != app_.id:
        abort(404)
    submit_form(None, lambda: services.remove_staff(_actor(), app_, technician))
    return redirect(url_for("certification.edit_step", application_id=app_.id, step="staff"))


@bp.route("/applications/<int:application_id>/attachments", methods=["POST"])
@require_any(Permission.APPLY, Permission.REVIEW_APPLICATIONS)
def upload(application_id: int):
    app_ = _load_application(application_id)
    upload_form = forms.AttachmentForm()
    upload_form.kind.choices = AttachmentKind.choices()
    file = request.files.get("file")
    if not upload_form.validate_on_submit() or file is None:
        flash(_("Choose a document type and a file."), "danger")
    else:
        ok, _stored = submit_form(
            None,
            lambda: services.upload_attachment(
                _actor(), app_, upload_form.kind.data, file.filename, file.stream
            ),
        )
        if ok:
            flash(_("The file is stored."), "success")
    if upload_form.kind.data == AttachmentKind.SITE_PHOTO.value:
        return redirect(url_for("certification.screening", application_id=app_.id))
    return redirect(url_for("certification.edit_step", application_id=app_.id, step="attachments"))


@bp.route("/attachments/<int:attachment_id>")
@require_any(Permission.APPLY, Permission.VIEW_APPLICATIONS)
def download(attachment_id: int):
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    _load_application(attachment.application_id)
    # Read whole (at most ATTACHMENT_MAX_MB) so no file handle outlives the request.
    with open(services.attachment_path(attachment), "rb") as handle:
        data = io.BytesIO(handle.read())
    return send_file(
        data,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.original_name,
    )


@bp.route("/applications/<int:application_id>/submit", methods=["POST"])
@require(Permission.APPLY)
def submit(application_id: int):
    app_ = _load_application(application_id)
    ok, _submitted = submit_form(None, lambda: services.submit(_actor(), app_))
    if ok:
        flash(_("Your application is submitted to HQ."), "success")
    return redirect(url_for("certification.application", application_id=app_.id))


# --- HQ review -----------------------------------------------------------------------------


@bp.route("/applications")
@require(Permission.VIEW_APPLICATIONS)
def queue():
    raw = request.args.get("status") or ""
    status = ApplicationStatus(raw) if raw in {s.value for s in ApplicationStatus} else None
    q = (request.args.get("q") or "").strip()[:100]
    counts = services.queue_counts()
    return render_template(
        "certification/queue.html",
        applications=services.application_queue(status, q),
        counts=counts,
        open_count=sum(n for s, n in counts.items() if s not in services.CLOSED_OR_DRAFT),
        q=q,
        status=status,
        statuses=ApplicationStatus,
        now=now_utc(),
    )


REVIEW_ACTIONS = {
    "start_screening": lambda actor, app_, comment: services.start_screening(actor, app_, comment),
    "return": services.return_to_candidate,
    "reject": services.reject,
    "violation": services.record_counterfeit_violation,
    "evaluate": lambda actor, app_, comment: services.evaluate(actor, app_),
}


@bp.route("/applications/<int:application_id>/review/<action>", methods=["POST"])
@require(Permission.REVIEW_APPLICATIONS)
def review_action(application_id: int, action: str):
    app_ = _load_application(application_id)
    if action not in REVIEW_ACTIONS:
        abort(404)
    violation = action == "violation"
    form = forms.ViolationForm() if violation else forms.CommentForm()
    if form.validate_on_submit():
        ok, _moved = submit_form(
            form, lambda: REVIEW_ACTIONS[action](_actor(), app_, form.comment.data or "")
        )
        if ok:
            label = ACTION_LABELS.get(action) or _("Violation recorded")
            flash(_("Done: %(action)s.", action=label), "success")
            if action == "evaluate":
                return redirect(url_for("certification.report", application_id=app_.id))
            return redirect(url_for("certification.application", application_id=app_.id))
    return _application_page(app_, 422, **{"violation_form" if violation else "comment_form": form})


@bp.route("/applications/<int:application_id>/screening", methods=["GET", "POST"])
@require(Permission.REVIEW_APPLICATIONS)
def screening(application_id: int):
    app_ = _load_application(application_id)
    sheet = app_.screening
    form = forms.ScreeningForm()
    if request.method == "GET" and sheet is not None:
        form.visited_on.data = sheet.visited_on
        form.visit_notes.data = sheet.visit_notes
        for key, _label in CRITERIA:
            if key in (sheet.ratings or {}):
                form[key].data = Decimal(sheet.ratings[key])
    weight_set = sheet.weight_set if sheet else services.weights_in_force()
    if form.validate_on_submit():
        ok, _sheet = submit_form(
            form,
            lambda: services.save_screening(
                _actor(),
                app_,
                ratings={key: form[key].data for key, _label in CRITERIA},
                visited_on=form.visited_on.data,
                visit_notes=form.visit_notes.data,
            ),
        )
        if ok:
            flash(_("The screening sheet is saved."), "success")
            return redirect(url_for("certification.screening", application_id=app_.id))
    return render_template(
        "certification/screening.html",
        application=app_,
        form=form,
        sheet=sheet,
        weight_set=weight_set,
        criteria=CRITERIA,
        editable=APPLICATION_FLOW.can(app_.status, "screen"),
        photo_form=forms.AttachmentForm(kinds=[AttachmentKind.SITE_PHOTO]),
        comment_form=forms.CommentForm(),
    ), _status()


@bp.route("/applications/<int:application_id>/report")
@require(Permission.VIEW_APPLICATIONS)
def report(application_id: int):
    return _report_page(_load_application(application_id))


def _report_page(app_: Application, status: int = 200, **refused_forms):
    """The evaluation report; a refused decision form is shown with its errors (422)."""
    context = {
        "application": app_,
        "report": services.evaluation(app_),
        "criteria": CRITERIA,
        "Recommendation": Recommendation,
        "Tier": Tier,
        "tiers": list(Tier),
        "approve_form": forms.ApproveForm(
            formdata=None, tier=app_.requested_tier.value if app_.requested_tier else None
        ),
        "comment_form": forms.CommentForm(formdata=None),
    }
    context.update(refused_forms)
    return render_template("certification/report.html", **context), status


@bp.route("/applications/<int:application_id>/approve", methods=["POST"])
@require(Permission.REVIEW_APPLICATIONS)
def approve(application_id: int):
    app_ = _load_application(application_id)
    form = forms.ApproveForm()
    if form.validate_on_submit():
        ok, _approved = submit_form(
            form, lambda: services.approve(_actor(), app_, form.tier.data, form.comment.data)
        )
        if ok:
            flash(_("Approved at %(tier)s.", tier=app_.approved_tier.label), "success")
            return redirect(url_for("certification.application", application_id=app_.id))
    return _report_page(app_, 422, approve_form=form)


@bp.route("/applications/<int:application_id>/deposit", methods=["POST"])
@require(Permission.RECORD_DEPOSITS)
def application_deposit(application_id: int):
    app_ = _load_application(application_id)
    form = forms.DepositForm()
    if form.validate_on_submit():
        ok, _entry = submit_form(
            form,
            lambda: services.record_application_deposit(_actor(), app_, **_entry_values(form)),
            once=form,
        )
        if ok:
            flash(_("The deposit entry is recorded."), "success")
            return redirect(url_for("certification.application", application_id=app_.id))
    return _application_page(app_, 422, deposit_form=form)


@bp.route("/applications/<int:application_id>/authorize", methods=["GET", "POST"])
@require(Permission.REVIEW_APPLICATIONS)
def authorize(application_id: int):
    app_ = _load_application(application_id)
    form = forms.AuthorizeForm()
    if request.method == "GET":
        start = services.today()
        form.agreement_start_on.data = start
        form.agreement_end_on.data = rules.add_months(start, 36)
        form.authorized_region.data = app_.city
    if form.validate_on_submit():
        ok, station = submit_form(
            form,
            lambda: services.authorize(
                _actor(),
                app_,
                city_code=form.city_code.data,
                agreement_start_on=form.agreement_start_on.data,
                agreement_end_on=form.agreement_end_on.data,
                authorized_region=form.authorized_region.data,
            ),
        )
        if ok:
            flash(_("Authorized: station %(code)s is created.", code=station.code), "success")
            return redirect(url_for("stations.detail", station_id=station.id))
    tier = app_.approved_tier or app_.requested_tier
    checks = services.check_application(app_, tier) if tier else []
    return render_template(
        "certification/authorize.html",
        application=app_,
        form=form,
        checks=checks,
        tier=tier,
        clean=rules.is_clean(checks) if checks else False,
    ), _status()


# --- tier rules ----------------------------------------------------------------------------


@bp.route("/rules")
@require(Permission.VIEW_ALL_STATIONS)
def tier_rules():
    from portal.certification.models import ScreeningWeightSet

    rule_sets = list(
        db.session.execute(select(TierRuleSet).order_by(TierRuleSet.effective_on.desc())).scalars()
    )
    weight_sets = list(
        db.session.execute(
            select(ScreeningWeightSet).order_by(ScreeningWeightSet.effective_on.desc())
        ).scalars()
    )
    today = services.today()
    return render_template(
        "certification/rules.html",
        rule_sets=rule_sets,
        weight_sets=weight_sets,
        in_force=services.rule_set_in_force(today),
        weights_in_force=services.weights_in_force(today),
        criteria=CRITERIA,
        field_labels=forms.RULE_FIELD_LABELS,
        tiers=list(Tier),
    )


@bp.route("/rules/new", methods=["GET", "POST"])
@require(Permission.MANAGE_TIER_RULES)
def new_tier_rules():
    form = forms.RuleSetForm()
    if request.method == "GET":
        current = services.rule_set_in_force()
        form.effective_on.data = services.today()
        for row in current.requirements:
            for field in forms.RULE_FIELD_LABELS:
                form[f"{row.tier.value}__{field}"].data = getattr(row, field)
    if form.validate_on_submit():
        values = {
            tier.value: {f: form[f"{tier.value}__{f}"].data for f in forms.RULE_FIELD_LABELS}
            for tier in Tier
        }
        ok, _rule_set = submit_form(
            form,
            lambda: services.create_rule_set(
                _actor(), effective_on=form.effective_on.data, values=values, note=form.note.data
            ),
        )
        if ok:
            flash(_("The new tier rules are saved."), "success")
            return redirect(url_for("certification.tier_rules"))
    return render_template(
        "certification/rules_form.html",
        form=form,
        tiers=list(Tier),
        field_labels=forms.RULE_FIELD_LABELS,
    ), _status()


@bp.route("/rules/weights/new", methods=["GET", "POST"])
@require(Permission.MANAGE_TIER_RULES)
def new_weights():
    form = forms.WeightsForm()
    if request.method == "GET":
        current = services.weights_in_force()
        form.effective_on.data = services.today()
        form.pass_mark.data = current.pass_mark
        for key, _label in CRITERIA:
            form[key].data = current.weights.get(key, 0)
    if form.validate_on_submit():
        ok, _weights = submit_form(
            form,
            lambda: services.create_weight_set(
                _actor(),
                effective_on=form.effective_on.data,
                weights={key: form[key].data for key, _label in CRITERIA},
                pass_mark=form.pass_mark.data,
            ),
        )
        if ok:
            flash(_("The new screening weights are saved."), "success")
            return redirect(url_for("certification.tier_rules"))
    return render_template(
        "certification/weights_form.html", form=form, criteria=CRITERIA
    ), _status()


# --- compliance ----------------------------------------------------------------------------


@bp.route("/compliance")
@require(Permission.VIEW_ALL_STATIONS)
def noncompliant():
    gap = request.args.get("gap") or ""
    gap = gap if gap in REQUIREMENT_LABELS else ""
    return render_template(
        "certification/noncompliant.html",
        rows=services.non_compliant_stations(gap or None),
        gap=gap,
    )


def dashboard_context() -> dict:
    """What the home page shows of certification for the signed-in user."""
    ctx = {}
    if can(current_user, Permission.VIEW_ALL_STATIONS):
        ctx["non_compliant"] = services.non_compliant_stations()
    if can(current_user, Permission.VIEW_APPLICATIONS):
        ctx["queue_counts"] = services.queue_counts()
    if services.is_candidate(current_user):
        ctx["application"] = services.application_of(current_user)
    return ctx


def station_panel_context(station: Station) -> dict:
    """What the station page's certification panel shows (called from the template)."""
    account = deposits.account_for_station(station.id)
    results = services.check_station(station)
    ctx = {
        "checks": results,
        "clean": rules.is_clean(results),
        "balance": deposits.balance(account),
        "ledger": deposits.entries(account) if can(current_user, Permission.VIEW_DEPOSITS) else [],
        "technicians": services.station_technicians(station.id),
        "profile": db.session.get(StationProfile, station.id),
        "actions": [a for a in STATION_LIFE.actions_from(station.status) if a != "change_tier"],
        "action_labels": STATION_ACTION_LABELS,
        "can_change_tier": STATION_LIFE.can(station.status, "change_tier"),
        "reason_form": forms.ReasonForm(formdata=None),
        "tier_form": forms.TierChangeForm(formdata=None, tier=station.tier.value),
        "deposit_form": forms.DepositForm(formdata=None, kind="top_up", entry_on=services.today()),
        "reverse_form": forms.ReverseForm(formdata=None),
        "areas_form": forms.AreasForm(
            formdata=None, obj=db.session.get(StationProfile, station.id)
        ),
        "staff_form": forms.StaffForm(formdata=None),
        "today": services.today(),
    }
    # A refused form of this panel comes back with what was typed and its errors.
    ctx.update(g.get("certification_forms") or {})
    return ctx


def _station(station_id: int) -> Station:
    return get_scoped_or_404(Station, station_id, current_user, Station.id)


def _back(station: Station):
    return redirect(url_for("stations.detail", station_id=station.id) + "#certification")


def _station_page(station: Station, **refused_forms):
    """The station page again, the refused panel form keeping its input and errors (422)."""
    g.certification_forms = refused_forms
    return render_detail(station, 422)


@bp.route("/stations/<int:station_id>/life/<action>", methods=["POST"])
@require(Permission.MANAGE_STATIONS)
def station_action(station_id: int, action: str):
    station = _station(station_id)
    if action not in services.STATION_ACTIONS:
        abort(404)
    form = forms.ReasonForm()
    if form.validate_on_submit():
        ok, _moved = submit_form(
            form, lambda: services.STATION_ACTIONS[action](_actor(), station, form.reason.data)
        )
        if ok:
            flash(_("Done: %(action)s.", action=STATION_ACTION_LABELS[action]), "success")
            return _back(station)
    return _station_page(station, reason_form=form)


@bp.route("/stations/<int:station_id>/tier", methods=["POST"])
@require(Permission.MANAGE_STATIONS)
def station_tier(station_id: int):
    station = _station(station_id)
    form = forms.TierChangeForm()
    if form.validate_on_submit():
        ok, _changed = submit_form(
            form, lambda: services.change_tier(_actor(), station, form.tier.data, form.reason.data)
        )
        if ok:
            flash(_("The tier is changed to %(tier)s.", tier=station.tier.label), "success")
            return _back(station)
    return _station_page(station, tier_form=form)


@bp.route("/stations/<int:station_id>/areas", methods=["POST"])
@require(Permission.MANAGE_STATIONS)
def station_areas(station_id: int):
    station = _station(station_id)
    form = forms.AreasForm()
    if form.validate_on_submit():
        ok, _profile = submit_form(
            form,
            lambda: services.set_station_areas(
                _actor(),
                station,
                reception_area=form.reception_area.data,
                repair_area=form.repair_area.data,
                storage_area=form.storage_area.data,
            ),
        )
        if ok:
            flash(_("The floor areas are saved."), "success")
            return _back(station)
    return _station_page(station, areas_form=form)


@bp.route("/stations/<int:station_id>/deposit", methods=["POST"])
@require(Permission.RECORD_DEPOSITS)
def station_deposit(station_id: int):
    station = _station(station_id)
    form = forms.DepositForm()
    if form.validate_on_submit() and _above_tier_confirmed(station, form):
        ok, _entry = submit_form(
            form,
            lambda: services.record_station_deposit(_actor(), station, **_entry_values(form)),
            once=form,
        )
        if ok:
            flash(_("The deposit entry is recorded."), "success")
            return _back(station)
    return _station_page(station, deposit_form=form)


@bp.route("/deposits/<int:entry_id>/reverse", methods=["POST"])
@require(Permission.RECORD_DEPOSITS)
def reverse_deposit(entry_id: int):
    entry = db.session.get(DepositEntry, entry_id)
    if entry is None:
        abort(404)
    form = forms.ReverseForm()
    if not form.validate_on_submit():
        flash(
            form.form_token.errors[0]
            if form.form_token.errors
            else _("Give the reason for the correction."),
            "danger",
        )
    else:
        ok, _reversal = submit_form(
            None, lambda: services.reverse_deposit(_actor(), entry, form.note.data), once=form
        )
        if ok:
            flash(_("The entry is reversed."), "success")
    account = entry.account
    if account.station_id:
        return redirect(url_for("stations.detail", station_id=account.station_id))
    return redirect(url_for("certification.application", application_id=account.application_id))


# --- technicians and certificates ----------------------------------------------------------


def _technician(technician_id: int) -> Technician:
    technician = db.session.get(Technician, technician_id)
    if technician is None:
        abort(404)
    if can(current_user, Permission.VIEW_ALL_STATIONS):
        return technician
    if technician.station_id is None or technician.station_id != current_user.station_id:
        abort(404)
    return technician


@bp.route("/stations/<int:station_id>/technicians", methods=["POST"])
@require(Permission.MANAGE_TECHNICIANS)
def add_technician(station_id: int):
    station = _station(station_id)
    form = forms.StaffForm()
    if form.validate_on_submit():
        ok, _person = submit_form(
            form,
            lambda: services.add_technician(
                _actor(),
                station,
                name=form.name.data,
                role=form.role.data,
                phone=form.phone.data,
                id_number=form.id_number.data,
            ),
        )
        if ok:
            flash(_("The technician is added."), "success")
            return _back(station)
    return _station_page(station, staff_form=form)


@bp.route("/technicians/<int:technician_id>", methods=["GET", "POST"])
@require_any(Permission.VIEW_ALL_STATIONS, Permission.VIEW_OWN_STATION)
def technician(technician_id: int):
    person = _technician(technician_id)
    form = forms.AttemptForm()
    if request.method == "GET":
        form.attempted_on.data = services.today()
    if request.method == "POST":
        if not can(current_user, Permission.MANAGE_TECHNICIANS):
            abort(403)
        if form.validate_on_submit():
            ok, passed = submit_form(
                form,
                lambda: (
                    services.record_attempt(
                        _actor(),
                        person,
                        track=form.track.data,
                        theory_score=form.theory_score.data,
                        practical_score=form.practical_score.data,
                        attempted_on=form.attempted_on.data,
                        examiner=form.examiner.data,
                    ).passed
                ),
            )
            if ok:
                if passed:
                    flash(_("Passed: a certificate is issued."), "success")
                else:
                    flash(_("Not passed: both scores must reach 60."), "warning")
                return redirect(url_for("certification.technician", technician_id=person.id))
    return _technician_page(person, 422 if request.method == "POST" else 200, form=form)


def _technician_page(
    person: Technician, status: int = 200, form=None, reason_form=None, refused_certificate_id=None
):
    """A technician's page: exams and certificates; refused forms keep their input (422)."""
    if form is None:
        form = forms.AttemptForm(formdata=None, attempted_on=services.today())
    return render_template(
        "certification/technician.html",
        person=person,
        form=form,
        reason_form=reason_form or forms.ReasonForm(formdata=None),
        refused_certificate_id=refused_certificate_id,
        today=services.today(),
        show_id=False,
    ), status


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["POST"])
@require(Permission.MANAGE_TECHNICIANS)
def revoke_certificate(certificate_id: int):
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        abort(404)
    form = forms.ReasonForm()
    if form.validate_on_submit():
        ok, _revoked = submit_form(
            form, lambda: services.revoke_certificate(_actor(), certificate, form.reason.data)
        )
        if ok:
            flash(_("The certificate is revoked."), "success")
            return redirect(
                url_for("certification.technician", technician_id=certificate.technician_id)
            )
    return _technician_page(
        _technician(certificate.technician_id),
        422,
        reason_form=form,
        refused_certificate_id=certificate.id,
    )


@bp.route("/certificates/expiring")
@require_any(Permission.VIEW_ALL_STATIONS, Permission.VIEW_OWN_STATION)
def expiring():
    days = request.args.get("days", type=int) or 60
    days = min(max(days, 1), 366)
    return render_template(
        "certification/expiring.html",
        certificates=services.expiring_certificates(current_user, days=days),
        today=services.today(),
        days=days,
    )
