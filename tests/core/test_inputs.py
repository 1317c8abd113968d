"""Input hygiene in one place: control characters, amounts, numbers bound to their columns."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import Column, Integer, MetaData, Table, insert
from sqlalchemy.exc import StatementError
from werkzeug.datastructures import MultiDict

from portal.core.forms import MoneyField, WholeNumberField
from portal.core.inputs import AmountError, CleanMultiDict, clean_text, int_arg, parse_amount
from portal.core.money import AmountOutOfRange, Money


def test_control_characters_are_removed_but_line_breaks_and_tabs_stay():
    assert clean_text("a\x00b\x1b[0m\x7fc") == "ab[0mc"
    assert clean_text("line one\r\nline two\tend") == "line one\r\nline two\tend"
    assert clean_text(None) is None
    cleaned = CleanMultiDict([("q\x00", "x\x00y"), ("q\x00", "z")])
    assert cleaned.getlist("q") == ["xy", "z"]


def test_every_request_parameter_arrives_clean(app):
    with app.test_request_context("/?q=a%00b&after=%001", method="POST", data={"f\x00": "c\x00d"}):
        from flask import request

        assert request.args["q"] == "ab"
        assert request.args["after"] == "1"
        assert request.form["f"] == "cd"


def test_int_arg_bounds_to_the_column():
    args = MultiDict(
        {"a": "12", "b": "99999999999999999999", "c": "-3", "d": "1e9", "e": "2147483648"}
    )
    assert int_arg(args, "a") == 12
    assert int_arg(args, "b") is None
    assert int_arg(args, "c", minimum=0) is None
    assert int_arg(args, "d") is None
    assert int_arg(args, "e") is None
    assert int_arg(args, "missing") is None


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1234.5", "1234.5"),
        ("1,234.50", "1234.50"),
        ("12,345,678.90", "12345678.90"),
        ("１，２３４．５０", "1234.50"),  # full-width, as a Chinese input method types it
        (" 0.01 ", "0.01"),
        ("9999999999.99", "9999999999.99"),
        ("-20", "-20"),
    ],
)
def test_amounts_accepted_exactly_as_typed(app, typed, amount):
    with app.test_request_context():
        assert parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("12.345", "two decimal places"),
        ("12345678901.235", "two decimal places"),
        ("12345678901.23", "between"),
        ("10000000000", "between"),
        ("12,5", "a dot for decimals"),
        ("1,23,456.00", "a dot for decimals"),
        ("1e5", "like 1234.50"),
        ("NaN", "like 1234.50"),
        ("", "Enter an amount"),
        ("¥12", "like 1234.50"),
    ],
)
def test_amounts_refused_with_a_reason(app, typed, why):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(AmountError) as error:
            parse_amount(typed)
        assert why in str(error.value)


def test_amount_limits_can_be_narrowed(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert parse_amount("0.01", minimum=Decimal("0.01")) == Decimal("0.01")
        with pytest.raises(AmountError, match="between 0.01 and"):
            parse_amount("0", minimum=Decimal("0.01"))


class ProbeForm(FlaskForm):
    class Meta:
        csrf = False

    amount = MoneyField("Amount", minimum="0.01")
    count = WholeNumberField("Count", minimum=0)


@pytest.mark.parametrize(
    ("amount", "count", "errors"),
    [
        ("1,234.50", "3", set()),
        ("12.345", "3", {"amount"}),
        ("99999999999.00", "99999999999999999999", {"amount", "count"}),
        ("5", "-1", {"count"}),
        ("5", "2147483648", {"count"}),
        ("5", "x" * 5000, {"count"}),
    ],
)
def test_core_fields_refuse_next_to_the_field_and_keep_the_input(app, amount, count, errors):
    with app.test_request_context(
        method="POST", data={"amount": amount, "count": count}, headers={"Accept-Language": "en"}
    ):
        form = ProbeForm()
        assert form.validate() is (not errors)
        assert set(form.errors) == errors
        if not errors:
            assert form.amount.data == Decimal("1234.50")
            assert form.count.data == 3
        assert f'value="{amount}"' in form.amount()


def test_money_column_refuses_what_it_cannot_hold(db):
    table = Table(
        "money_range_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("amount", Money()),
    )
    conn = db.session.connection()
    table.create(conn)
    conn.execute(insert(table).values(id=1, amount=Decimal("9999999999.99")))
    with pytest.raises(StatementError) as error:
        conn.execute(insert(table).values(id=2, amount=Decimal("12345678901.235")))
    assert isinstance(error.value.orig, AmountOutOfRange)
