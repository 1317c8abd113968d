"""No page runs a query per row: the statement count of a list does not grow with its rows."""

from __future__ import annotations

import contextlib
import datetime as dt

from sqlalchemy import event

from portal.core.actors import SYSTEM
from portal.core.audit import record as audit_record
from portal.core.dates import local_today
from portal.extensions import db as _db


@contextlib.contextmanager
def counted():
    statements = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        statements.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _get(client, url, **kw) -> int:
    with counted() as statements:
        response = client.get(url, **kw)
    assert response.status_code == 200, (url, response.status_code)
    import os

    if os.environ.get("SHOW_QUERIES"):
        print("\n---", url, len(statements))
        for st in statements:
            print("   ", " ".join(st.split())[:150])
    return len(statements)


def test_the_api_reports_list_does_not_query_per_report(client, db, make):
    station = make.station()
    _token, plain = make.api_token(station)
    headers = {"Authorization": f"Bearer {plain}"}
    for back in range(2, 5):
        make.report(station, local_today() - dt.timedelta(days=back))
    db.session.commit()
    _get(client, "/api/v1/reports", headers=headers)  # the token's last use: written once
    few = _get(client, "/api/v1/reports", headers=headers)
    for back in range(5, 17):
        make.report(station, local_today() - dt.timedelta(days=back))
    db.session.commit()
    many = _get(client, "/api/v1/reports", headers=headers)
    assert many == few


def test_the_audit_trail_and_record_list_do_not_query_per_row(client, db, make, login_as):
    station = make.station()
    for n in range(3):
        audit_record("probe.entry", station, actor=SYSTEM, comment=str(n))
    make.report(station, local_today() - dt.timedelta(days=2), records=2, parts="")
    db.session.commit()
    login_as("hq")
    for url in ("/audit/", "/reports/records", "/stations/"):
        _get(client, url)  # the session's last-seen time: written once per few minutes
    few = {url: _get(client, url) for url in ("/audit/", "/reports/records", "/stations/")}
    for n in range(20):
        audit_record("probe.entry", make.station(), actor=SYSTEM, comment=str(n))
    make.report(station, local_today() - dt.timedelta(days=3), records=12, parts="")
    db.session.commit()
    many = {url: _get(client, url) for url in ("/audit/", "/reports/records", "/stations/")}
    assert many == few


def test_records_page_by_received_time_both_ways(client, db, make, login_as, app):
    import re

    station = make.station()
    day = local_today() - dt.timedelta(days=2)
    make.report(station, day, records=7, parts="")
    db.session.commit()
    login_as("hq")
    app.config["PAGE_SIZE"] = 3
    try:

        def tickets(page):
            return re.findall(r"T-\d{8}-\d+", page)

        first = client.get("/reports/records").get_data(as_text=True)
        after = re.search(r'href="[^"]*after=([^"&]+)', first).group(1)
        second = client.get(f"/reports/records?after={after}").get_data(as_text=True)
        before = re.search(r'href="[^"]*before=([^"&]+)', second).group(1)
        back = client.get(f"/reports/records?before={before}").get_data(as_text=True)
        assert tickets(back) == tickets(first)
        assert not set(tickets(first)) & set(tickets(second))
        assert len(tickets(first)) == 3
        # A token from nowhere is the first page, not an error.
        assert client.get("/reports/records?after=2026-99-99~x").status_code == 200
    finally:
        app.config["PAGE_SIZE"] = 50
