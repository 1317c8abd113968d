"""Forms of the inspection pages: shapes only; the services check the values."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class PlanForm(FlaskForm):
    station_code = StringField(
        _l("Station code"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"placeholder": "HA-ZZ-0001", "autocapitalize": "characters"},
    )
    planned_on = DateField(_l("Day of the visit"), validators=[DataRequired()])
    auditor_id = SelectField(_l("Auditor"), coerce=int, validators=[DataRequired()])
    version_id = SelectField(_l("Checklist"), coerce=int, validators=[DataRequired()])


class SiteVisitForm(FlaskForm):
    planned_on = DateField(_l("Day of the visit"), validators=[DataRequired()])
    auditor_id = SelectField(_l("Auditor"), coerce=int, validators=[DataRequired()])
    version_id = SelectField(_l("Checklist"), coerce=int, validators=[DataRequired()])


class SubmitForm(FlaskForm):
    summary = TextAreaField(_l("Summary for the station"), validators=[Length(max=4000)])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class FindingForm(FlaskForm):
    finding = TextAreaField(_l("Finding"), validators=[DataRequired(), Length(max=2000)])
    critical = BooleanField(_l("Critical"))
    due_on = DateField(_l("Due on"), validators=[Optional()])


class AnswerForm(FlaskForm):
    description = TextAreaField(
        _l("What the station did"), validators=[DataRequired(), Length(max=4000)]
    )
    files = MultipleFileField(
        _l("Evidence (photos or PDF)"),
        render_kw={"accept": "image/jpeg,image/png,application/pdf", "multiple": True},
    )


class ReviewForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])


class SectionForm(FlaskForm):
    title_zh = StringField(_l("Title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), Length(max=200)])
    position = IntegerField(_l("Order"), default=0, validators=[Optional()])


class ItemForm(FlaskForm):
    section_id = SelectField(_l("Section"), coerce=int, validators=[DataRequired()])
    text_zh = TextAreaField(_l("Text (Chinese)"), validators=[DataRequired(), Length(max=2000)])
    text_en = TextAreaField(_l("Text (English)"), validators=[Optional(), Length(max=2000)])
    max_score = IntegerField(
        _l("Maximum score"), default=5, validators=[InputRequired(), NumberRange(1, 100)]
    )
    critical = BooleanField(_l("Critical item (a fail fails the inspection)"))
    photo_required = BooleanField(_l("Photo required"))
    stock_count = BooleanField(_l("Holds the stock count of sampled parts"))
    position = IntegerField(_l("Order"), default=0, validators=[Optional()])


class SettingForm(FlaskForm):
    effective_on = DateField(_l("Takes effect on"), validators=[DataRequired()])
    excellent = IntegerField(_l("Excellent from (%)"), validators=[InputRequired()])
    good = IntegerField(_l("Good from (%)"), validators=[InputRequired()])
    passing = IntegerField(_l("Needs rectification from (%)"), validators=[InputRequired()])
    due_days = IntegerField(_l("Days to rectify"), validators=[InputRequired()])
    due_days_critical = IntegerField(
        _l("Days to rectify a critical item"), validators=[InputRequired()]
    )
    remind_days = IntegerField(_l("Remind this many days before"), validators=[InputRequired()])


class ActionForm(FlaskForm):
    """A button that posts: only the CSRF token."""
