"""Token form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name (the system that will use it)"), validators=[DataRequired(), Length(max=80)]
    )
