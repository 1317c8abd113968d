"""Pages of the settlement's versioned rules (finance, admin) and of manual adjustments (HQ).

Each change is a new version from a date that is today or later; the history stays listed.
"""

from __future__ import annotations

import datetime as dt
import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.core.dates import local_today
from portal.core.errors import DomainError
from portal.core.forms import MoneyField, MultiCheckboxField, OneTimeTokenField, WholeNumberField
from portal.core.forms import submit as submit_form
from portal.core.permissions import Permission, require
from portal.extensions import db
from portal.reports.models import RepairType
from portal.settlement import adjustments as adj
from portal.settlement import bp, catalogue
from portal.stations.models import Station
from portal.stations.states import Tier


def _actor():
    return current_user._get_current_object()


def _repair_types() -> list[RepairType]:
    return list(
        db.session.execute(select(RepairType).order_by(RepairType.sort_order, RepairType.id))
        .scalars()
        .all()
    )


def _type_name(row: RepairType) -> str:
    from flask_babel import get_locale

    return row.name_en if str(get_locale() or "zh").startswith("en") else row.name_zh


def _fee_field_name(tier: str, repair_type: str) -> str:
    return f"fee__{tier}__{repair_type}"


def _fee_form(types: list[RepairType], formdata=None):
    """A form with the effective date, the travel allowance and a fee per paid tier × type."""

    class FeeForm(FlaskForm):
        effective_on = DateField(_l("Takes effect on (YYYY-MM-DD)"), validators=[DataRequired()])
        travel_allowance = MoneyField(
            _l("Travel allowance (CNY)"), validators=[InputRequired()], minimum=0
        )
        note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])

    for tier in ("service_station", "service_center"):
        for row in types:
            setattr(
                FeeForm,
                _fee_field_name(tier, row.code),
                MoneyField(
                    f"{Tier(tier).label} · {_type_name(row)}",
                    validators=[Optional()],
                    minimum=0,
                ),
            )
    return FeeForm(formdata=formdata)


class ValidityForm(FlaskForm):
    effective_on = DateField(_l("Takes effect on (YYYY-MM-DD)"), validators=[DataRequired()])
    repeat_window_days = WholeNumberField(
        _l("Repeat window (days)"), validators=[InputRequired()], minimum=0, maximum=3650
    )
    default_warranty_months = WholeNumberField(
        _l("Default warranty (months)"), validators=[InputRequired()], minimum=0, maximum=240
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class AmountForm(FlaskForm):
    rule_code = SelectField(_l("Rule"))
    effective_on = DateField(_l("Takes effect on (YYYY-MM-DD)"), validators=[DataRequired()])
    amount = MoneyField(_l("Amount (CNY; a penalty is negative)"), validators=[InputRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class ScopeForm(FlaskForm):
    tier = SelectField(_l("Tier"), choices=Tier.choices())
    effective_on = DateField(_l("Takes effect on (YYYY-MM-DD)"), validators=[DataRequired()])
    repair_types = MultiCheckboxField(_l("Repair types the tier may do"))


def _fixed_rules():
    return [(code, str(rule.label)) for code, rule in adj.RULES.items() if rule.amount is not None]


def _forms(types, formdata=None, which=None):
    tomorrow = local_today() + dt.timedelta(days=1)
    today = local_today()
    versions = catalogue.load_versions(dt.date.max)
    schedule = versions.schedule(today)
    fee = _fee_form(types, formdata if which == "fees" else None)
    validity = ValidityForm(formdata=formdata if which == "validity" else None)
    amount = AmountForm(formdata=formdata if which == "amounts" else None)
    amount.rule_code.choices = _fixed_rules()
    scope = ScopeForm(formdata=formdata if which == "scope" else None)
    scope.repair_types.choices = [(row.code, _type_name(row)) for row in types]
    if which != "fees":
        fee.effective_on.data = tomorrow
        if schedule is not None:
            fee.travel_allowance.data = schedule.travel_allowance
            for rate in schedule.rates:
                field = getattr(fee, _fee_field_name(rate.tier, rate.repair_type), None)
                if field is not None:
                    field.data = rate.fee
    if which != "validity":
        validity.effective_on.data = tomorrow
        validity.repeat_window_days.data = versions.repeat_window_days(today)
        validity.default_warranty_months.data = versions.default_warranty_months(today)
    if which != "amounts":
        amount.effective_on.data = tomorrow
    if which != "scope":
        scope.effective_on.data = tomorrow
        scope.repair_types.data = [
            row.code
            for row in types
            if versions.tier_allows(scope.tier.data or "", row.code, today)
        ]
    return {"fee_form": fee, "validity_form": validity, "amount_form": amount, "scope_form": scope}


def _render(types, forms, status=200):
    history = catalogue.load_versions(dt.date.max)
    return (
        render_template(
            "settlement/rules.html",
            types=types,
            type_name=_type_name,
            tiers=[Tier(t) for t in catalogue.TIERS],
            fee_tiers=[Tier.SERVICE_STATION, Tier.SERVICE_CENTER],
            history=history,
            today=local_today(),
            fee_field=_fee_field_name,
            rule_labels={code: rule.label for code, rule in adj.RULES.items()},
            **forms,
        ),
        status,
    )


@bp.route("/rules")
@require(Permission.VIEW_SETTLEMENTS)
def rules_page():
    types = _repair_types()
    return _render(types, _forms(types))


@bp.route("/rules/<any(fees, validity, amounts, scope):which>", methods=["POST"])
@require(Permission.MANAGE_SETTLEMENT_RULES)
def rules_change(which: str):
    types = _repair_types()
    forms = _forms(types, request.form, which)
    form = forms[
        {
            "fees": "fee_form",
            "validity": "validity_form",
            "amounts": "amount_form",
            "scope": "scope_form",
        }[which]
    ]
    if form.validate():
        actor = _actor()
        if which == "fees":
            rates = {
                (tier, row.code): getattr(form, _fee_field_name(tier, row.code)).data
                for tier in ("service_station", "service_center")
                for row in types
            }
            action = lambda: catalogue.add_fee_schedule(  # noqa: E731
                actor,
                effective_on=form.effective_on.data,
                travel_allowance=form.travel_allowance.data,
                rates=rates,
                note=form.note.data or "",
            )
        elif which == "validity":
            action = lambda: catalogue.add_validity_parameters(  # noqa: E731
                actor,
                effective_on=form.effective_on.data,
                repeat_window_days=form.repeat_window_days.data,
                default_warranty_months=form.default_warranty_months.data,
                note=form.note.data or "",
            )
        elif which == "amounts":
            action = lambda: catalogue.add_rule_amount(  # noqa: E731
                actor,
                rule_code=form.rule_code.data,
                effective_on=form.effective_on.data,
                amount=form.amount.data,
                note=form.note.data or "",
            )
        else:
            action = lambda: catalogue.set_tier_scope(  # noqa: E731
                actor,
                tier=form.tier.data,
                effective_on=form.effective_on.data,
                repair_types=set(form.repair_types.data or []),
            )
        ok, _result = submit_form(form, action)
        if ok:
            flash(_("The new version is saved; it applies from its effective date."), "success")
            return redirect(url_for("settlement.rules_page", _anchor=which))
    return _render(types, forms, 422)


# --- manual adjustments (HQ, with a reason) ----------------------------------------------------


class AdjustmentForm(FlaskForm):
    station_code = StringField(_l("Station code"), validators=[DataRequired(), Length(max=20)])
    on = DateField(_l("Day of the event (YYYY-MM-DD)"), validators=[DataRequired()])
    rule_code = SelectField(_l("Rule"))
    amount = MoneyField(
        _l("Amount (CNY; empty = the rule's amount; a penalty is negative)"),
        validators=[Optional()],
    )
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    form_token = OneTimeTokenField()


def _manual_adjustment(actor, form) -> adj.Adjustment:
    code = (form.station_code.data or "").strip().upper()
    station_id = db.session.execute(
        select(Station.id).where(Station.code == code)
    ).scalar_one_or_none()
    if station_id is None:
        raise DomainError(_l("No station with this code."), field="station_code")
    rule = adj.rule_of(form.rule_code.data)
    amount = form.amount.data
    if amount is not None and rule.amount is not None and (amount > 0) != (rule.amount > 0):
        raise DomainError(
            _l("A reward is a positive amount and a penalty a negative one."), field="amount"
        )
    return adj.record_adjustment(
        actor,
        station_id=station_id,
        on=form.on.data,
        rule_code=rule.code,
        source_type="manual",
        source_id=uuid.uuid4().hex,
        amount=amount,
        reason=form.reason.data,
        manual=True,
    )


@bp.route("/adjustments", methods=["GET", "POST"])
@require(Permission.RECORD_ADJUSTMENTS)
def adjustments_page():
    form = AdjustmentForm()
    form.rule_code.choices = [(code, str(rule.label)) for code, rule in adj.RULES.items()]
    if request.method == "GET":
        form.on.data = local_today()
        form.station_code.data = request.args.get("station", "")[:20]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            actor = _actor()
            ok, entry = submit_form(form, lambda: _manual_adjustment(actor, form))
            if ok:
                flash(
                    _("The adjustment is recorded for %(month)s.", month=f"{entry.month:%Y-%m}"),
                    "success",
                )
                return redirect(url_for("settlement.adjustments_page"))
    recent = db.session.execute(
        select(adj.Adjustment, Station.code, Station.name)
        .join(Station, Station.id == adj.Adjustment.station_id)
        .where(adj.Adjustment.source_type == "manual")
        .order_by(adj.Adjustment.id.desc())
        .limit(50)
    ).all()
    return render_template("settlement/adjustments.html", form=form, recent=recent), status


# --- earlier repairs (HQ): repairs from before the portal, for the repeat rule ---------------


class EarlierImportForm(FlaskForm):
    file = FileField(
        _l("Workbook (.xlsx) filled from the template"),
        validators=[FileRequired(), FileAllowed(["xlsx"], _l("An .xlsx workbook, please."))],
    )
    form_token = OneTimeTokenField()


@bp.route("/earlier-repairs/template.xlsx")
@require(Permission.MANAGE_STATIONS)
def earlier_template():
    from flask import Response

    from portal.settlement import earlier

    return Response(
        earlier.template_bytes(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename=earlier-repairs-template.xlsx"},
    )


@bp.route("/earlier-repairs", methods=["GET", "POST"])
@require(Permission.MANAGE_STATIONS)
def earlier_repairs():
    from portal.core.imports import ImportRefused
    from portal.settlement import earlier

    form = EarlierImportForm()
    problems, status = [], 200
    if request.method == "POST":
        status = 422
        if form.validate():
            upload = form.file.data
            data = upload.read(MAX_IMPORT_BYTES + 1)
            if len(data) > MAX_IMPORT_BYTES:
                form.file.errors.append(_("The file is larger than 10 MB."))
            else:
                try:
                    ok, batch = submit_form(
                        form,
                        lambda: earlier.import_earlier_repairs(_actor(), upload.filename, data),
                    )
                except ImportRefused as refused:
                    db.session.rollback()
                    flash(str(refused.message), "danger")
                    problems = refused.problems
                    ok = False
                if ok:
                    flash(
                        _(
                            "%(added)d earlier repairs imported (%(rows)d rows; the rest were "
                            "there already).",
                            added=batch.added_count,
                            rows=batch.row_count,
                        ),
                        "success",
                    )
                    return redirect(url_for("settlement.earlier_repairs"))
    return (
        render_template(
            "settlement/earlier_repairs.html",
            form=form,
            problems=problems,
            imports=earlier.recent_imports(),
        ),
        status,
    )


MAX_IMPORT_BYTES = 10 * 1024 * 1024
