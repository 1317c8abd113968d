"""Form helpers shared by modules."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, widgets

CHANGED_MEANWHILE = _l("Someone else changed this meanwhile. Reload it and make your change again.")


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes for a multiple choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


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
