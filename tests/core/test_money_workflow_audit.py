"""Money rounding and storage, the transition table, the append-only audit trail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from portal.core import audit
from portal.core.actors import SYSTEM
from portal.core.errors import InvalidTransition
from portal.core.money import Money, to_money
from portal.core.workflow import LabelledEnum, TransitionTable


def test_to_money_rounds_half_up_and_refuses_floats():
    assert to_money("0.105") == Decimal("0.11")
    assert to_money("2.675") == Decimal("2.68")
    assert to_money(Decimal("-0.005")) == Decimal("-0.01")
    assert to_money(7) == Decimal("7.00")
    with pytest.raises(TypeError):
        to_money(0.1)
    with pytest.raises(ValueError, match="not an amount"):
        to_money("12,5")


@pytest.mark.parametrize("value", ["0.105", "0.10", "9999999999.99", "-1234567.89", "0.01", "100"])
def test_money_survives_a_database_round_trip(db, value):
    table = Table(
        "money_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("amount", Money()),
    )
    conn = db.session.connection()
    table.create(conn)
    conn.execute(insert(table).values(id=1, amount=Decimal(value)))
    stored = conn.execute(select(table.c.amount)).scalar_one()
    assert isinstance(stored, Decimal)
    assert stored == to_money(value)
    assert str(stored) == str(to_money(value))


class Light(LabelledEnum):
    RED = "red", "Red"
    GREEN = "green", "Green"


def test_transition_table_allows_only_listed_moves():
    table = TransitionTable("light", {(Light.RED, "go"): Light.GREEN})
    assert table.target(Light.RED, "go") is Light.GREEN
    assert table.actions_from(Light.RED) == ["go"]
    with pytest.raises(InvalidTransition) as error:
        table.target(Light.GREEN, "go")
    assert "go" in str(error.value.message)
    assert "Green" in str(error.value.message)


def test_audit_entries_cannot_be_changed_or_deleted(db, make):
    station = make.station()
    entry = audit.record("probe", station, actor=SYSTEM, comment="first")
    db.session.flush()
    entry.comment = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    entry = audit.record("probe", make.station(), actor=SYSTEM, comment="second")
    db.session.flush()
    db.session.delete(entry)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()


def test_audit_page_filters_and_is_read_only(client, login_as, make, app):
    login_as("hq")
    station = make.station(name="审计对象")
    html = client.get(f"/audit/?object_type=Station&object_id={station.id}").get_data(as_text=True)
    assert 'data-action="station.created"' in html
    assert "<td>Station created</td>" in html  # the event by its name, not its code
    assert "审计对象" in html
    html = client.get("/audit/?action=no.such.action").get_data(as_text=True)
    assert 'data-action="station.created"' not in html
    audit_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/audit")]
    assert all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in audit_rules)


def test_audit_page_date_filter_uses_local_days(client, login_as, make, db):
    """Bounds are China days: 17:30 UTC on 1 March is already 2 March in Shanghai."""
    login_as("admin")
    station = make.station()
    late_evening = dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC)  # 23:30 on 1 March local
    after_midnight = dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC)  # 01:30 on 2 March local
    for moment, action in ((late_evening, "probe.evening"), (after_midnight, "probe.night")):
        with time_machine.travel(moment, tick=False):
            audit.record(action, station, actor=SYSTEM)
    db.session.commit()

    def shown(query):
        html = client.get(f"/audit/?object_type=Station&object_id={station.id}&{query}")
        html = html.get_data(as_text=True)
        return {a for a in ("probe.evening", "probe.night") if f'data-action="{a}"' in html}

    assert shown("from=2026-03-02&to=2026-03-02") == {"probe.night"}
    assert shown("from=2026-03-01&to=2026-03-01") == {"probe.evening"}
    assert shown("to=2026-03-01") == {"probe.evening"}
    assert shown("from=2026-03-02") == {"probe.night"}
    assert shown("from=2026-02-28&to=2026-03-02") == {"probe.evening", "probe.night"}


def test_audit_page_filters_by_station_code(client, login_as, make):
    login_as("hq")
    one = make.station(name="甲站")
    make.station(name="乙站")
    html = client.get(f"/audit/?station={one.code.lower()}").get_data(as_text=True)
    assert "甲站" in html
    assert "乙站" not in html
    assert "data-action=" in client.get("/audit/").get_data(as_text=True)
    assert "data-action=" not in client.get("/audit/?station=XX-NO-0000").get_data(as_text=True)
