"""Station master-data form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.core.regions import province_choices
from portal.stations.services import EDITABLE
from portal.stations.states import CityClass, StationStatus, Tier


class StationForm(FlaskForm):
    """A station's master data; tier and status change only through the station-life actions."""

    code = StringField(_l("Station code"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    province = SelectField(_l("Province"), validators=[DataRequired()])
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=60)])
    city_class = SelectField(
        _l("City class"), choices=CityClass.choices(), validators=[DataRequired()]
    )
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    authorized_region = StringField(
        _l("Authorized region"), validators=[Optional(), Length(max=200)]
    )
    contact_name = StringField(_l("Coordinator"), validators=[Optional(), Length(max=80)])
    contact_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    contact_email = EmailField(
        _l("E-mail"),
        validators=[
            Optional(),
            Length(max=200),
            Email(message=_l("Enter an e-mail address such as name@example.com.")),
        ],
    )
    agreement_start_on = DateField(_l("Agreement starts"), validators=[Optional()])
    agreement_end_on = DateField(_l("Agreement ends"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    version = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.province.choices = province_choices()

    def values(self) -> dict:
        """The station fields from the form."""
        return {name: getattr(self, name).data for name in EDITABLE}


class NewStationForm(StationForm):
    """A new station: master data plus its initial tier and status."""

    tier = SelectField(_l("Tier"), choices=Tier.choices(), validators=[DataRequired()])
    status = SelectField(_l("Status"), choices=StationStatus.choices())
