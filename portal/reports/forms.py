"""Forms of the reports pages: shapes only; the services check the values."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.reports import rules
from portal.reports.states import Location, Payment


class OpenDayForm(FlaskForm):
    report_on = DateField(_l("Day"), validators=[DataRequired()])


class CountsForm(FlaskForm):
    received_count = IntegerField(_l("Received"), validators=[InputRequired(), NumberRange(min=0)])
    completed_count = IntegerField(
        _l("Completed"), validators=[InputRequired(), NumberRange(min=0)]
    )
    pending_count = IntegerField(_l("Pending"), validators=[InputRequired(), NumberRange(min=0)])
    returned_count = IntegerField(
        _l("Returned to factory"), validators=[InputRequired(), NumberRange(min=0)]
    )
    complaint_count = IntegerField(
        _l("Complaints"), validators=[InputRequired(), NumberRange(min=0)]
    )
    version = HiddenField()


class ActionForm(FlaskForm):
    """A button that posts (submit, reopen, delete): only the CSRF token and the version."""

    version = HiddenField()
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class RecordForm(FlaskForm):
    """Every field of a repair record, as text: the service checks and converts them."""

    ticket_no = StringField(
        _l("Ticket no."),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autofocus": True},
    )
    received_at = StringField(_l("Received at"), validators=[DataRequired()])
    completed_at = StringField(_l("Completed at"), validators=[DataRequired()])
    customer_name = StringField(_l("Customer name"), validators=[DataRequired(), Length(max=80)])
    customer_phone = StringField(_l("Customer phone"), validators=[DataRequired(), Length(max=20)])
    device_model = SelectField(_l("Device model"), validators=[DataRequired()])
    serial_no = StringField(_l("Serial no."), validators=[DataRequired(), Length(max=40)])
    purchase_on = StringField(_l("Purchase date"), validators=[Optional()])
    warranty = SelectField(
        _l("Warranty or paid"),
        choices=Payment.choices(),
        validators=[DataRequired()],
    )
    fault_code = SelectField(_l("Fault code"), validators=[DataRequired()])
    repair_type = SelectField(_l("Repair type"), validators=[DataRequired()])
    on_site = SelectField(
        _l("Where"),
        choices=Location.choices(),
        validators=[DataRequired()],
    )
    outside_home_city = SelectField(
        _l("Outside the station's home city"),
        choices=[("no", _l("No")), ("yes", _l("Yes (travel allowance)"))],
        default="no",
    )
    parts = StringField(_l("Parts used"), validators=[Optional(), Length(max=1000)])
    standby_serial = StringField(_l("Standby unit serial"), validators=[Optional(), Length(max=40)])
    result = SelectField(_l("Repair result"), validators=[DataRequired()])
    satisfaction = SelectField(
        _l("Satisfaction"),
        choices=[("", "—"), *[(str(n), str(n)) for n in range(1, 6)]],
        validators=[Optional()],
    )
    return_visit_on = StringField(_l("Return visit date"), validators=[Optional()])
    return_visit_outcome = StringField(
        _l("Return visit outcome"), validators=[Optional(), Length(max=200)]
    )

    FIELDS = rules.RECORD_FIELDS

    def set_choices(self, catalogues: dict, locale: str) -> None:
        zh = locale.startswith("zh")
        # Nothing a person must choose is chosen for them: each list starts empty.
        blank = [("", str(_l("— choose —")))]
        self.device_model.choices = blank + [
            (m.code, f"{m.code} {m.name}") for m in catalogues["models"]
        ]
        self.fault_code.choices = blank + [
            (f.code, f"{f.code} {f.name_zh if zh else f.name_en}") for f in catalogues["faults"]
        ]
        self.repair_type.choices = blank + [
            (t.code, t.name_zh if zh else t.name_en) for t in catalogues["types"]
        ]
        self.result.choices = blank + [
            (r.code, r.name_zh if zh else r.name_en) for r in catalogues["results"]
        ]

    def raw(self) -> dict:
        return {name: getattr(self, name).data for name in self.FIELDS}


class UploadForm(FlaskForm):
    report_on = DateField(_l("Report day"), validators=[DataRequired()])
    file = FileField(_l("Excel file (.xlsx)"), validators=[FileRequired()])
    submit_after = BooleanField(_l("Submit the day's report after the import"))


class DeviceModelForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    serial_pattern = StringField(
        _l("Serial number pattern (regular expression)"),
        validators=[DataRequired(), Length(max=200)],
    )
    warranty_months = IntegerField(
        _l("Warranty (months)"), default=12, validators=[InputRequired(), NumberRange(0, 120)]
    )
    active = BooleanField(_l("Active"), default=True)
    effective_on = DateField(
        _l("A changed pattern or warranty takes effect on (YYYY-MM-DD)"),
        validators=[Optional()],
    )


class FaultCodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    category = StringField(_l("Category"), validators=[DataRequired(), Length(max=40)])
    active = BooleanField(_l("Active"), default=True)
    effective_on = DateField(
        _l("A changed category takes effect on (YYYY-MM-DD)"), validators=[Optional()]
    )


class RepairTypeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=30)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    centers_only = BooleanField(_l("Service centers only"))
    sort_order = IntegerField(_l("Order"), default=0, validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)


class RepairResultForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=30)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    sort_order = IntegerField(_l("Order"), default=0, validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)


CATALOGUE_FORMS = {
    "models": DeviceModelForm,
    "faults": FaultCodeForm,
    "types": RepairTypeForm,
    "results": RepairResultForm,
}


class SettingForm(FlaskForm):
    effective_on = DateField(_l("Effective from"), validators=[DataRequired()])
    due_days_after = IntegerField(
        _l("Due days after the report day"), default=1, validators=[InputRequired()]
    )
    due_time = TimeField(_l("Due time (China time)"), validators=[DataRequired()])
