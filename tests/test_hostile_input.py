"""No input gives a server error: every route, every role, NUL bytes, huge numbers, long strings.

Walks app.url_map like tests/test_route_access.py. A GET gets every query argument the portal
reads (found in its source and API schemas); a POST gets every field of every form in the
portal; the values are hostile. Any answer of 500 or more, or an exception, fails the test.
Run on SQLite by default and on PostgreSQL with PORTAL_TEST_DATABASE_URL (NUL bytes and
integers past 32 bits crash PostgreSQL queries; SQLite refuses integers past 64 bits).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from tests.access import ANON, ROLES
from tests.test_route_access import Ctx, _routes, _still_signed_in, _tables

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = {
    "nul": "a\x00b\x00\x1b[31m\r\nc",
    "huge": "99999999999999999999",  # every other argument gets it negative
    "decimal": "12345678901.235",
    "long": "x" * 5000,
}


def _values(names, variant, value):
    """Each name with the variant's value; "huge" alternates its sign between names."""
    if variant != "huge":
        return dict.fromkeys(names, value)
    return {name: value if i % 2 == 0 else "-" + value for i, name in enumerate(names)}


ARG_PATTERNS = (
    r"args\.get(?:list)?\(\s*\"([A-Za-z_]+)\"",
    r"args\[\s*\"([A-Za-z_]+)\"\s*\]",
    r"int_arg\(\s*\w+,\s*\"([A-Za-z_]+)\"",
)


def query_arg_names() -> list[str]:
    """Every query argument the portal reads: from its source and the API's query schemas."""
    names: set[str] = {"page", "id", "sort"}
    for path in (ROOT / "portal").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in ARG_PATTERNS:
            names.update(re.findall(pattern, text))
    from marshmallow import Schema

    from portal.api import schemas

    for value in vars(schemas).values():
        if isinstance(value, type) and issubclass(value, Schema) and "Query" in value.__name__:
            names.update(value().fields)
    return sorted(names)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def form_field_names() -> list[str]:
    """Every field of every form class in the portal (the app must be built first)."""
    names: set[str] = set()
    for form in _subclasses(FlaskForm):
        if not form.__module__.startswith("portal."):
            continue
        for name in dir(form):
            if isinstance(getattr(form, name, None), UnboundField):
                names.add(name)
    return sorted(names)


def _sign_in(app, user, password):
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": password})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("role", [*ROLES, ANON])
def test_no_route_answers_hostile_input_with_a_server_error(app, db, make, role):
    _access, url_args, _form_data = _tables()
    arg_names = query_arg_names()
    field_names = form_field_names()
    assert {"q", "after", "from"} <= set(arg_names)
    assert {"username", "password", "name"} <= set(field_names)
    password = "hostile-walk-1"
    own_station = make.station()
    ctx = Ctx(own_station, make.station(), make.user(role="finance"), make, db, {})
    user = None
    if role != ANON:
        user = make.user(
            role=role, station=own_station if role == "station" else None, password=password
        )
    db.session.commit()

    def fresh_client():
        return _sign_in(app, user, password) if user else app.test_client()

    headers = {}
    if role == "station":
        from portal.api import services as api_services

        _token, plain = api_services.create_token(user, "hostile")
        db.session.commit()
        headers = {"Authorization": f"Bearer {plain}"}

    client = fresh_client()
    failures = []
    with app.test_request_context():
        from flask import url_for

        # Every object the URLs need exists before any hostile request changes things.
        urls = {}
        for rule, _method in _routes(app):
            kwargs = url_args[rule.endpoint](ctx) if rule.endpoint in url_args else {}
            urls[rule.endpoint] = url_for(rule.endpoint, **kwargs)
        db.session.commit()
        for rule, method in _routes(app):
            url = urls[rule.endpoint]
            for variant, value in HOSTILE.items():
                query = _values(arg_names, variant, value)
                send = {"query_string": query, "headers": headers}
                if method != "GET":
                    if rule.rule.startswith("/api/v1"):
                        fields = _values(field_names, variant, value)
                        send["json"] = fields | {"day": value, "records": [fields]}
                    else:
                        send["data"] = _values(field_names, variant, value)
                try:
                    response = client.open(url, method=method, **send)
                    status = response.status_code
                except Exception as error:  # the test client re-raises what the app did not
                    status = f"{type(error).__name__}: {str(error)[:200]}"
                if not isinstance(status, int) or status >= 500:
                    failures.append(f"{method} {url} [{variant}] as {role}: {status}")
                # Only a POST can sign the user out (logout, a password or role change).
                signed_out = method != "GET" and user and not _still_signed_in(client)
                if rule.endpoint == "auth.logout" or signed_out:
                    client = fresh_client()
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("value", ["a\x00b", "99999999999999999999", "x" * 3000])
def test_sign_in_with_hostile_username_is_a_plain_refusal(client, value):
    response = client.post("/login", data={"username": value, "password": "whatever-1"})
    assert response.status_code == 200
    assert "The username or password is not correct." in response.get_data(as_text=True) or (
        "Field cannot be longer" in response.get_data(as_text=True)
    )


def test_audit_after_past_every_integer_is_a_page_not_an_error(client, login_as):
    login_as("admin")
    for value in ("99999999999999999999", "-99999999999999999999", "2147483648", "1e9"):
        assert client.get(f"/audit/?after={value}").status_code == 200
        assert client.get(f"/audit/?before={value}").status_code == 200


@pytest.mark.parametrize("path", ["/stations/?q=a%00b", "/users/?q=a%00b", "/audit/?actor=a%00b"])
def test_nul_in_list_filters_is_dropped(client, login_as, path):
    login_as("admin")
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "\x00" not in html
    assert 'value="ab"' in html
