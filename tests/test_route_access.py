"""Every route, every role: a new page cannot be added without deciding who may see it."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.access import ANON, ROLES

SKIP_ENDPOINTS = {"static", "bootstrap.static"}
# Routes whose success is a redirect to the sign-in page.
ENDS_AT_LOGIN = {"auth.logout"}


def _tables():
    """The foundation's table plus every tests/<module>/access.py."""
    modules = [importlib.import_module("tests.core_access")]
    root = Path(__file__).parent
    for info in pkgutil.iter_modules([str(root)]):
        if info.ispkg and (root / info.name / "access.py").exists():
            modules.append(importlib.import_module(f"tests.{info.name}.access"))
    access, url_args, form_data = {}, {}, {}
    for module in modules:
        overlap = set(access) & set(module.ACCESS)
        assert not overlap, f"endpoints listed twice: {overlap}"
        access.update(module.ACCESS)
        url_args.update(getattr(module, "URL_ARGS", {}))
        form_data.update(getattr(module, "FORM_DATA", {}))
    return access, url_args, form_data


@dataclass
class Ctx:
    own_station: object
    other_station: object
    other_user: object
    make: object
    db: object
    objects: dict


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_in_an_access_table(app):
    access, _args, _data = _tables()
    missing = sorted(
        f"{rule.endpoint} {method} ({rule.rule})"
        for rule, method in _routes(app)
        if method not in access.get(rule.endpoint, {})
    )
    assert not missing, "routes with no access decision:\n" + "\n".join(missing)
    stale = sorted(set(access) - {rule.endpoint for rule in app.url_map.iter_rules()})
    assert not stale, f"access table lists routes that do not exist: {stale}"


def _sign_in(app, user, password):
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": password})
    assert response.status_code == 302
    return client


def _is_login_redirect(response) -> bool:
    return response.status_code in (301, 302, 303) and "/login" in response.headers.get(
        "Location", ""
    )


@pytest.mark.parametrize("role", [*ROLES, ANON])
def test_each_role_reaches_exactly_its_routes(app, db, make, role):
    access, url_args, form_data = _tables()
    password = "route-walk-1"
    own_station = make.station()
    other_station = make.station()
    other_user = make.user(role="finance")
    ctx = Ctx(own_station, other_station, other_user, make, db, {})
    user = None
    if role != ANON:
        user = make.user(
            role=role, station=own_station if role == "station" else None, password=password
        )

    def fresh_client():
        return _sign_in(app, user, password) if user else app.test_client()

    client = fresh_client()
    failures = []
    with app.test_request_context():
        from flask import url_for

        for rule, method in _routes(app):
            allowed = role in access[rule.endpoint][method]
            kwargs = url_args[rule.endpoint](ctx) if rule.endpoint in url_args else {}
            url = url_for(rule.endpoint, **kwargs)
            data = form_data[rule.endpoint](ctx) if rule.endpoint in form_data else {}
            response = client.open(url, method=method, data=data if method != "GET" else None)
            status = response.status_code
            if allowed:
                ok = status not in (401, 403) and status < 500
                if rule.endpoint not in ENDS_AT_LOGIN:
                    ok = ok and not _is_login_redirect(response)
            elif role == ANON:
                ok = _is_login_redirect(response) or status in (401, 404)
            else:
                ok = status in (403, 404)
            if not ok:
                failures.append(f"{method} {url} as {role}: {status} (allowed={allowed})")
            if rule.endpoint == "auth.logout" or (user and not _still_signed_in(client)):
                client = fresh_client()
    assert not failures, "\n".join(failures)


def _still_signed_in(client) -> bool:
    response = client.get("/account/password")
    return response.status_code == 200
