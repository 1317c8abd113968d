"""Form helpers shared by modules: submit(), money and bounded whole-number fields, one-time
tokens for forms that move money or stock."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import (
    HiddenField,
    IntegerField,
    SelectMultipleField,
    StringField,
    ValidationError,
    widgets,
)

from portal.core.db import UTCDateTime, now_utc
from portal.core.errors import DomainError
from portal.core.inputs import INT_MAX, INT_MIN, MONEY_MAX, AmountError, parse_amount
from portal.extensions import db

CHANGED_MEANWHILE = _l("Someone else changed this meanwhile. Reload it and make your change again.")
ALREADY_SUBMITTED = _l(
    "This form was already sent and is recorded once; nothing was recorded again. "
    "Check the page for the result."
)
FORM_EXPIRED = _l("This form has expired or was not loaded from the portal. Reload the page.")
# A one-time token is accepted this long after the page was shown.
FORM_TOKEN_MAX_AGE = dt.timedelta(hours=24)
_SALT = "portal.one-time-form"


class UsedFormToken(db.Model):
    """A one-time form token that has been spent: its unique nonce refuses a second use."""

    __tablename__ = "used_form_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc, index=True)


class FormAlreadySubmitted(DomainError):
    """The same one-time form arrived again (a double click, a reload, a retried post)."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def issue_form_token() -> str:
    """A fresh signed one-time token (no database write: showing a form stays read-only)."""
    return _serializer().dumps(secrets.token_hex(16))


def _nonce(token: str | None) -> str | None:
    """The nonce of a token this portal signed within FORM_TOKEN_MAX_AGE, else None."""
    if not token or len(token) > 200:
        return None
    try:
        nonce = _serializer().loads(token, max_age=int(FORM_TOKEN_MAX_AGE.total_seconds()))
    except BadSignature:  # also SignatureExpired
        return None
    return nonce if isinstance(nonce, str) and 0 < len(nonce) <= 64 else None


class OneTimeTokenField(HiddenField):
    """A hidden one-time token: the form's action is recorded once, however often it is posted.

    Add `form_token = OneTimeTokenField()` to any form that moves money or stock and post it
    through submit(): the token is spent in the transaction that records the action, so a
    second post of the same page (double click, reload, back button) is refused with a message
    and records nothing. A form written by hand puts `one_time_token()` in a hidden input
    named form_token.
    """

    def __init__(self, label=None, validators=None, **kwargs):
        label = _l("Form") if label is None else label
        kwargs.setdefault("default", issue_form_token)
        super().__init__(label, validators, **kwargs)

    def pre_validate(self, form):
        # raw_data, not data: a post without the field would otherwise get a fresh default.
        if not self.raw_data or _nonce(self.raw_data[0]) is None:
            raise ValidationError(str(FORM_EXPIRED))


def one_time_fields(form) -> list[OneTimeTokenField]:
    if form is None:
        return []
    return [field for field in form if isinstance(field, OneTimeTokenField)]


def spend_form_token(token: str | None) -> None:
    """Spend a one-time token in the current transaction; FormAlreadySubmitted if it was spent.

    Call it before the action it guards: a concurrent post of the same token then waits for the
    first one's transaction (PostgreSQL's unique index; SQLite's BEGIN IMMEDIATE) and is refused
    once it has committed; if the first one is rolled back, the token is free again.
    """
    nonce = _nonce(token)
    if nonce is None:
        raise DomainError(FORM_EXPIRED)
    spent = db.session.execute(select(UsedFormToken.id).where(UsedFormToken.nonce == nonce)).first()
    if spent is not None:
        raise FormAlreadySubmitted(ALREADY_SUBMITTED)
    try:
        with db.session.begin_nested():
            db.session.add(UsedFormToken(nonce=nonce, used_at=now_utc()))
    except IntegrityError:
        raise FormAlreadySubmitted(ALREADY_SUBMITTED) from None


def prune_form_tokens(now: dt.datetime | None = None) -> int:
    """Forget spent tokens older than any token still accepted; how many were removed."""
    cutoff = (now or now_utc()) - FORM_TOKEN_MAX_AGE - dt.timedelta(hours=1)
    result = db.session.execute(
        UsedFormToken.__table__.delete().where(UsedFormToken.used_at < cutoff)
    )
    return result.rowcount or 0


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


def submit(form, action, *, once=None):
    """Run one service call for a submitted form and commit it, or show why it was refused.

    Returns (True, result) after the commit; on a DomainError or a concurrent change it rolls
    back, puts the message next to its field (or flashes it) and returns (False, None), so the
    view re-renders the form with what the user typed. The one-time token of `once` (default:
    the form) is spent in the same transaction, so a form posted twice is recorded once.
    """
    from flask import flash
    from sqlalchemy.orm.exc import StaleDataError

    from portal.core.errors import ConcurrentChange

    try:
        for field in one_time_fields(once if once is not None else form):
            spend_form_token(field.raw_data[0] if field.raw_data else None)
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
