"""Form helpers shared by modules."""

from wtforms import SelectMultipleField, widgets


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes for a multiple choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def apply_domain_error(form, error) -> bool:
    """Put a DomainError's message next to its field; False if the field is unknown."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        return False
    field.errors = [*list(field.errors), str(error.message)]
    return True
