"""Forms of the spares pages: field shapes only; the services check the values."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.forms import OneTimeTokenField
from portal.spares import rules
from portal.spares.states import LineResolution, ReturnOutcome, StockCondition


class PartForm(FlaskForm):
    part_no = StringField(
        _l("Part no."), validators=[DataRequired(), Length(max=40)], render_kw={"autofocus": True}
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    unit_value = StringField(
        _l("Unit value (CNY)"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"inputmode": "decimal"},
    )
    model_codes = SelectMultipleField(_l("Fits device models"), choices=[], validate_choice=False)
    is_standby = BooleanField(_l("Standby unit"))
    active = BooleanField(_l("Active"), default=True)


class ImportForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"), validators=[FileRequired()])
    form_token = OneTimeTokenField()


class ActionForm(FlaskForm):
    """A button that posts: the CSRF token, the version the user saw, a one-time token."""

    version = HiddenField()
    form_token = OneTimeTokenField()


class NewShipmentForm(FlaskForm):
    station_code = StringField(
        _l("Station code"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autofocus": True, "list": "station-codes"},
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    form_token = OneTimeTokenField()


class LineForm(FlaskForm):
    part_no = StringField(
        _l("Part no."),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"list": "part-numbers", "autocomplete": "off"},
    )
    quantity = IntegerField(
        _l("Quantity"),
        validators=[InputRequired(), NumberRange(min=1, max=rules.MAX_QUANTITY)],
        render_kw={"inputmode": "numeric"},
    )
    form_token = OneTimeTokenField()


class ReturnLineForm(LineForm):
    faulty_serial = StringField(
        _l("Faulty part's serial"),
        validators=[Optional(), Length(max=40)],
        render_kw={"list": "faulty-serials", "autocomplete": "off"},
    )


class NewReturnForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    form_token = OneTimeTokenField()


class ShipReturnForm(FlaskForm):
    version = HiddenField()
    carrier_ref = StringField(_l("Waybill number"), validators=[Optional(), Length(max=100)])
    form_token = OneTimeTokenField()


class SettingForm(FlaskForm):
    effective_on = DateField(_l("In force from"), validators=[DataRequired()])
    coverage_factor = StringField(
        _l("Coverage factor"), validators=[DataRequired(), Length(max=10)]
    )
    return_days = IntegerField(
        _l("Days to return a defective part"),
        validators=[InputRequired(), NumberRange(min=1, max=365)],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


def receipt_form(shipment, formdata=None):
    """One quantity per line of a shipment (prefilled with what was sent)."""

    class ReceiptForm(FlaskForm):
        version = HiddenField()
        form_token = OneTimeTokenField()

    for line in shipment.lines:
        setattr(
            ReceiptForm,
            f"line_{line.id}",
            IntegerField(
                _l("Received of %(no)s", no=line.part.part_no),
                validators=[InputRequired(), NumberRange(min=0, max=rules.MAX_QUANTITY)],
                default=line.quantity_sent,
                render_kw={"inputmode": "numeric"},
            ),
        )
    return ReceiptForm(formdata=formdata)


def resolve_form(shipment, formdata=None):
    """HQ's decision for each line whose received quantity differs from the sent one."""

    class ResolveForm(FlaskForm):
        version = HiddenField()
        form_token = OneTimeTokenField()

    for line in shipment.lines:
        if not line.difference:
            continue
        setattr(
            ResolveForm,
            f"line_{line.id}",
            SelectField(
                _l("Decision on %(no)s", no=line.part.part_no),
                choices=[("", _l("Choose…")), *LineResolution.choices()],
                validators=[DataRequired()],
            ),
        )
        setattr(
            ResolveForm,
            f"note_{line.id}",
            StringField(_l("Note"), validators=[Optional(), Length(max=500)]),
        )
    return ResolveForm(formdata=formdata)


def confirm_form(batch, formdata=None):
    """HQ's finding for each line of a return batch."""

    class ConfirmForm(FlaskForm):
        version = HiddenField()
        form_token = OneTimeTokenField()

    for line in batch.lines:
        setattr(
            ConfirmForm,
            f"line_{line.id}",
            SelectField(
                _l("What arrived of %(no)s", no=line.part.part_no),
                choices=[("", _l("Choose…")), *ReturnOutcome.choices()],
                validators=[DataRequired()],
            ),
        )
        setattr(
            ConfirmForm,
            f"note_{line.id}",
            StringField(_l("Note"), validators=[Optional(), Length(max=500)]),
        )
    return ConfirmForm(formdata=formdata)


def count_form(parts, formdata=None):
    """Counted good and defective quantity of each part (blank = not counted)."""

    class CountForm(FlaskForm):
        note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
        form_token = OneTimeTokenField()

    for part in parts:
        for condition in StockCondition:
            setattr(
                CountForm,
                f"q_{part.id}_{condition.value}",
                IntegerField(
                    f"{part.part_no} {condition.label}",
                    validators=[Optional(), NumberRange(min=0, max=rules.MAX_QUANTITY)],
                    render_kw={"inputmode": "numeric"},
                ),
            )
    return CountForm(formdata=formdata)
