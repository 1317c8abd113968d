"""Form helpers shared by modules: submit(), money and bounded whole-number fields."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectMultipleField, StringField, widgets

from portal.core.inputs import INT_MAX, INT_MIN, MONEY_MAX, AmountError, parse_amount

CHANGED_MEANWHILE = _l("Someone else changed this meanwhile. Reload it and make your change again.")


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes for a multiple choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class MoneyField(StringField):
    """An amount in yuan for a Numeric(12, 2) column, kept exactly as typed (never rounded).

    `1,234.50` is accepted; more than two decimals, a decimal comma and values outside the
    column's range (or [minimum, maximum]) are refused next to the field. `.data` is a Decimal
    (None when left empty: add DataRequired() or Optional() as the form needs).
    """

    def __init__(self, label=None, validators=None, *, minimum=None, maximum=MONEY_MAX, **kw):
        super().__init__(label, validators, **kw)
        self.minimum = None if minimum is None else Decimal(str(minimum))
        self.maximum = Decimal(str(maximum))

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = valuelist[0] if valuelist else ""
        if not (text or "").strip():
            self.data = None
            return
        try:
            self.data = parse_amount(text, minimum=self.minimum, maximum=self.maximum)
        except AmountError as error:
            self.data = None
            raise ValueError(str(error)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:.2f}"


class WholeNumberField(IntegerField):
    """A whole number bounded to its column's range (an INTEGER by default), with a message."""

    def __init__(self, label=None, validators=None, *, minimum=INT_MIN, maximum=INT_MAX, **kw):
        super().__init__(label, validators, **kw)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        if len(text) > 20:
            self.data = None
            raise ValueError(self._range_message())
        super().process_formdata(valuelist)
        if self.data is not None and not self.minimum <= self.data <= self.maximum:
            self.data = None
            raise ValueError(self._range_message())

    def _range_message(self) -> str:
        return str(
            _l(
                "Enter a whole number between %(low)s and %(high)s.",
                low=f"{self.minimum:,}",
                high=f"{self.maximum:,}",
            )
        )


def apply_domain_error(form, error) -> bool:
    """Put a DomainError's message next to its field; False if the field is unknown.

    An error that carries several `problems` ({"field", "message"}) puts each next to its field.
    """
    problems = getattr(error, "problems", None)
    if form is not None and problems:
        placed = False
        for problem in problems:
            target = getattr(form, problem.get("field") or "", None)
            if target is not None:
                target.errors = [*list(target.errors), str(problem["message"])]
                placed = True
        return placed
    field = getattr(form, error.field, None) if (form is not None and error.field) else None
    if field is None:
        return False
    field.errors = [*list(field.errors), str(error.message)]
    return True


def submit(form, action):
    """Run one service call for a submitted form and commit it, or show why it was refused.

    Returns (True, result) after the commit; on a DomainError or a concurrent change it rolls
    back, puts the message next to its field (or flashes it) and returns (False, None), so the
    view re-renders the form with what the user typed.
    """
    from flask import flash
    from sqlalchemy.orm.exc import StaleDataError

    from portal.core.errors import ConcurrentChange, DomainError
    from portal.extensions import db

    try:
        result = action()
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        error = ConcurrentChange(CHANGED_MEANWHILE)
        flash(str(error.message), "danger")
        return False, None
    except DomainError as error:
        db.session.rollback()
        if not apply_domain_error(form, error):
            flash(str(error.message), "danger")
        return False, None
    return True, result
