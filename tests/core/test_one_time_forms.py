"""One-time form tokens: any form that moves money or stock is recorded once per page shown."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from flask_wtf import FlaskForm
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import StringField

from portal.core.db import now_utc
from portal.core.errors import DomainError
from portal.core.forms import (
    FormAlreadySubmitted,
    OneTimeTokenField,
    UsedFormToken,
    issue_form_token,
    prune_form_tokens,
    spend_form_token,
    submit,
)


class _MoneyForm(FlaskForm):
    amount = StringField("amount")
    form_token = OneTimeTokenField()


@pytest.fixture
def ctx(app, db):
    with app.test_request_context(method="POST", headers={"Accept-Language": "en"}):
        yield


def _spent(db) -> int:
    return db.session.execute(select(func.count()).select_from(UsedFormToken)).scalar_one()


def test_a_token_is_spent_once(ctx, db):
    token = issue_form_token()
    spend_form_token(token)
    db.session.commit()
    with pytest.raises(FormAlreadySubmitted):
        spend_form_token(token)
    assert _spent(db) == 1


def test_a_rolled_back_action_leaves_the_token_unspent(ctx, db):
    token = issue_form_token()
    spend_form_token(token)
    db.session.rollback()
    spend_form_token(token)
    assert _spent(db) == 1


def test_forged_and_expired_tokens_are_refused(app, ctx, db):
    forged = URLSafeTimedSerializer("another-key", salt="portal.one-time-form").dumps("abc")
    for token in (None, "", "abc", forged, "x" * 300):
        with pytest.raises(DomainError, match="expired"):
            spend_form_token(token)
    with time_machine.travel(now_utc() - dt.timedelta(hours=25)):
        old = issue_form_token()
    with pytest.raises(DomainError, match="expired"):
        spend_form_token(old)
    assert _spent(db) == 0


def test_the_field_refuses_a_post_without_its_token(ctx):
    missing = _MoneyForm(formdata=MultiDict({"amount": "5"}), meta={"csrf": False})
    assert not missing.validate()
    assert "expired" in missing.form_token.errors[0]
    posted = _MoneyForm(
        formdata=MultiDict({"amount": "5", "form_token": issue_form_token()}), meta={"csrf": False}
    )
    assert posted.validate()


def test_a_shown_form_carries_a_fresh_token(app, db):
    with app.test_request_context():
        html = _MoneyForm(meta={"csrf": False}).form_token()
        other = _MoneyForm(meta={"csrf": False}).form_token()
    assert 'type="hidden"' in str(html)
    assert html != other


def test_submit_spends_the_token_with_the_action_and_refuses_a_replay(ctx, db):
    calls = []
    data = MultiDict({"amount": "5", "form_token": issue_form_token()})
    first = _MoneyForm(formdata=data, meta={"csrf": False})
    assert submit(first, lambda: calls.append("recorded")) == (True, None)
    again = _MoneyForm(formdata=data, meta={"csrf": False})
    assert submit(again, lambda: calls.append("recorded")) == (False, None)
    assert calls == ["recorded"]

    def refuse():
        raise DomainError("no", field="amount")

    fresh = MultiDict({"amount": "5", "form_token": issue_form_token()})
    assert submit(_MoneyForm(formdata=fresh, meta={"csrf": False}), refuse)[0] is False
    # The refused action did not spend the token: the corrected form goes through.
    corrected = _MoneyForm(formdata=fresh, meta={"csrf": False})
    assert submit(corrected, lambda: calls.append("recorded"))[0] is True
    assert calls == ["recorded", "recorded"]


def test_spent_tokens_older_than_their_lifetime_are_pruned(ctx, db):
    with time_machine.travel(now_utc() - dt.timedelta(hours=30)):
        spend_form_token(issue_form_token())
    spend_form_token(issue_form_token())
    assert prune_form_tokens() == 1
    assert _spent(db) == 1
