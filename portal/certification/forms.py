"""Certification forms: field shapes and simple checks (rules that need data are services')."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from portal.certification.states import CRITERIA, AttachmentKind, StaffRole, Track
from portal.core.forms import MoneyField, OneTimeTokenField
from portal.core.regions import province_choices
from portal.spares.models import DepositEntryKind
from portal.stations.states import CityClass, Tier

BLANK = [("", "—")]


class SignupForm(FlaskForm):
    company_name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=200)])
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(),
            Length(max=200),
            Email(message=_l("Enter an e-mail address such as name@example.com.")),
        ],
    )
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(min=3, max=80),
            Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Letters, digits, dot, dash, underscore.")),
        ],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two do not match."))],
    )


class CompanyForm(FlaskForm):
    company_name = StringField(_l("Company name"), validators=[Optional(), Length(max=200)])
    credit_code = StringField(
        _l("Unified social credit code"), validators=[Optional(), Length(max=18)]
    )
    legal_representative = StringField(
        _l("Legal representative"), validators=[Optional(), Length(max=80)]
    )
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    province = SelectField(_l("Province"), validators=[Optional()])
    city = StringField(_l("City"), validators=[Optional(), Length(max=60)])
    city_class = SelectField(
        _l("City class"), choices=BLANK + CityClass.choices(), validators=[Optional()]
    )
    requested_tier = SelectField(
        _l("Requested tier"), choices=BLANK + Tier.choices(), validators=[Optional()]
    )
    brands_serviced = TextAreaField(
        _l("Brands you already service"), validators=[Optional(), Length(max=2000)]
    )
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    contact_email = EmailField(
        _l("Contact e-mail"),
        validators=[
            Optional(),
            Length(max=200),
            Email(message=_l("Enter an e-mail address such as name@example.com.")),
        ],
    )
    no_counterfeit_declared = BooleanField(
        _l("We declare that we do not sell counterfeit or compatible products.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.province.choices = BLANK + province_choices()


class StaffForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    role = SelectField(_l("Role"), choices=StaffRole.choices())
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    id_number = StringField(_l("ID number"), validators=[Optional(), Length(max=18)])


def _area(label):
    return DecimalField(label, places=2, validators=[Optional(), NumberRange(min=0)])


class AreasForm(FlaskForm):
    reception_area = _area(_l("Reception area (m²)"))
    repair_area = _area(_l("Repair area (m²)"))
    storage_area = _area(_l("Storage area (m²)"))


class EquipmentForm(FlaskForm):
    has_tools = BooleanField(_l("Repair tools"))
    has_computer = BooleanField(_l("Computer"))
    has_test_instruments = BooleanField(_l("Test and measurement instruments"))
    service_phone = StringField(_l("Service phone"), validators=[Optional(), Length(max=40)])
    equipment_notes = TextAreaField(_l("Equipment list"), validators=[Optional(), Length(max=4000)])


def _money(label):
    return MoneyField(label, validators=[Optional()])


class FinancesForm(FlaskForm):
    financial_year = IntegerField(
        _l("Audited year"), validators=[Optional(), NumberRange(min=1990, max=2100)]
    )
    total_assets = _money(_l("Total assets (CNY)"))
    revenue = _money(_l("Revenue (CNY)"))
    net_profit = _money(_l("Net profit (CNY)"))


class AttachmentForm(FlaskForm):
    kind = SelectField(_l("Document"))
    file = FileField(_l("File (PDF, JPG or PNG)"))

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k.value, k.label) for k in kinds] or AttachmentKind.choices()


class CommentForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])


class ViolationForm(FlaskForm):
    comment = TextAreaField(
        _l("What was sold, where, when"), validators=[DataRequired(), Length(max=4000)]
    )


class ScreeningForm(FlaskForm):
    visited_on = DateField(_l("Site visit on"), validators=[Optional()])
    visit_notes = TextAreaField(_l("Site-visit notes"), validators=[Optional(), Length(max=8000)])


for _key, _label in CRITERIA:
    setattr(
        ScreeningForm,
        _key,
        DecimalField(_label, places=0, validators=[Optional(), NumberRange(min=0, max=100)]),
    )


class ApproveForm(FlaskForm):
    tier = SelectField(_l("Approve at tier"), choices=Tier.choices())
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])


class DepositForm(FlaskForm):
    needs_confirmation = False  # set by the view when the amount exceeds the tier's need
    kind = SelectField(_l("Entry"), choices=DepositEntryKind.choices())
    amount = MoneyField(_l("Amount (CNY)"), validators=[InputRequired()], minimum="0.01")
    entry_on = DateField(_l("Date"), validators=[DataRequired()])
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=100)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    confirm_above = BooleanField(_l("Yes, record more than the tier requires"))
    form_token = OneTimeTokenField()


class ReverseForm(FlaskForm):
    note = StringField(
        _l("Reason for the correction"), validators=[DataRequired(), Length(max=500)]
    )
    form_token = OneTimeTokenField()


class AuthorizeForm(FlaskForm):
    city_code = StringField(
        _l("City code (2–4 letters)"), validators=[DataRequired(), Length(min=2, max=4)]
    )
    authorized_region = StringField(
        _l("Authorized region"), validators=[Optional(), Length(max=200)]
    )
    agreement_start_on = DateField(_l("Agreement starts"), validators=[DataRequired()])
    agreement_end_on = DateField(_l("Agreement ends"), validators=[DataRequired()])


class RuleSetForm(FlaskForm):
    effective_on = DateField(_l("In force from"), validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


RULE_FIELD_LABELS = {
    "deposit": _l("Deposit (CNY)"),
    "coordinators": _l("Coordinators"),
    "engineers_class1": _l("Certified engineers, city class 1"),
    "engineers_class23": _l("Certified engineers, city class 2–3"),
    "repair_area": _l("Repair area (m²)"),
    "storage_area": _l("Storage area (m²)"),
}
INTEGER_RULES = ("coordinators", "engineers_class1", "engineers_class23")
for _tier in Tier:
    for _field, _flabel in RULE_FIELD_LABELS.items():
        if _field in INTEGER_RULES:
            _f = IntegerField(_flabel, validators=[Optional(), NumberRange(min=0)])
        else:
            _f = DecimalField(_flabel, places=2, validators=[Optional(), NumberRange(min=0)])
        setattr(RuleSetForm, f"{_tier.value}__{_field}", _f)


class WeightsForm(FlaskForm):
    effective_on = DateField(_l("In force from"), validators=[DataRequired()])
    pass_mark = IntegerField(
        _l("Pass mark"), validators=[DataRequired(), NumberRange(min=1, max=100)]
    )


for _key, _label in CRITERIA:
    setattr(
        WeightsForm,
        _key,
        IntegerField(_label, validators=[Optional(), NumberRange(min=0, max=100)]),
    )


class AttemptForm(FlaskForm):
    track = SelectField(_l("Track"), choices=Track.choices())
    theory_score = DecimalField(
        _l("Theory score"), places=1, validators=[DataRequired(), NumberRange(min=0, max=100)]
    )
    practical_score = DecimalField(
        _l("Practical score"), places=1, validators=[DataRequired(), NumberRange(min=0, max=100)]
    )
    attempted_on = DateField(_l("Exam date"), validators=[DataRequired()])
    examiner = StringField(_l("Examiner"), validators=[DataRequired(), Length(max=80)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class TierChangeForm(FlaskForm):
    tier = SelectField(_l("New tier"), choices=Tier.choices())
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
