"""Names, never codes: every event, object type and audited field has a name in both
languages, and the audit trail, timelines and record pages show names, not codes."""

from __future__ import annotations

import re
from pathlib import Path

from portal.certification.states import APPLICATION_FLOW, STATION_LIFE
from portal.core import audit, names
from portal.core.actors import SYSTEM
from portal.reports.states import UploadOutcome
from portal.spares.models import DepositEntryKind
from portal.spares.states import RETURN_FLOW, SHIPMENT_FLOW

ROOT = Path(__file__).resolve().parents[2] / "portal"
LITERAL = re.compile(r"""record(?:_changes|_created|_deleted)?\(\s*"([a-z_]+\.[a-z_.]+)\"""")


def _written_events() -> set[str]:
    """Every event name a service can write: the literals plus the ones built from tables."""
    found = set()
    for path in ROOT.rglob("*.py"):
        found.update(LITERAL.findall(path.read_text(encoding="utf-8")))
    found.update(f"application.{action}" for _state, action in APPLICATION_FLOW.moves)
    found.update(f"station.{action}" for _state, action in STATION_LIFE.moves)
    found.update(f"shipment.{action}" for _state, action in SHIPMENT_FLOW.moves)
    found.update(f"return_batch.{action}" for _state, action in RETURN_FLOW.moves)
    found.update(f"deposit.{kind.value}" for kind in DepositEntryKind)
    found.update(f"report_upload.{outcome.value}" for outcome in UploadOutcome)
    found.update(f"rectification.reminded_{kind}" for kind in ("due_soon", "overdue"))
    found.update(f"catalogue.{kind}.saved" for kind in ("models", "faults", "types", "results"))
    return found


def test_the_literal_pattern_finds_the_services_events():
    # Guards the scan itself: these are written by literal calls in the services.
    assert {"station.created", "daily_report.reopened", "user.created"} <= _written_events()


def test_every_event_a_service_writes_has_a_name():
    missing = sorted(
        e
        for e in _written_events()
        if e not in names.EVENT_NAMES and not e.endswith((".edit", "_edit"))
    )
    assert not missing, f"events without a name in portal/core/names.py: {missing}"


def test_every_model_has_a_name_unless_it_is_bookkeeping():
    from portal.extensions import db

    # Rows that are never an audit entry's object: lines of a parent, caches, links, tokens.
    bookkeeping = {
        "AuditEntry",
        "IdempotencyKey",
        "InspectionAnswer",
        "InspectionFile",
        "InspectionStockLine",
        "OpeningStock",
        "PartFit",
        "PartUsed",
        "RectificationReminder",
        "ReturnLine",
        "ShipmentLine",
        "StationCodeSequence",
        "StationInspectionSummary",
        "StationTierPeriod",
        "StockCountLine",
        "StockMovement",
        "StockOnHand",
        "UsedFormToken",
        "UserRole",
        "UserSession",
    }
    mapped = {m.class_.__name__ for m in db.Model.registry.mappers}
    missing = sorted(mapped - bookkeeping - set(names.OBJECT_TYPE_NAMES))
    assert not missing, f"models without a name in portal/core/names.py: {missing}"


def test_audit_trail_and_timeline_show_names_with_links(client, login_as, make, db):
    login_as("hq")
    station = make.station()
    audit.record(
        "application.return",
        actor=SYSTEM,
        object_type="Application",
        object_id=7,
        label="A00007 某公司",
        station_id=station.id,
        before={"status": "submitted", "requested_tier": "service_center"},
        after={"status": "returned", "requested_tier": "service_station"},
    )
    audit.record(
        "daily_report.opened",
        actor=SYSTEM,
        object_type="DailyReport",
        object_id=3,
        label=f"2026-03-01 #{station.id}",
        station_id=station.id,
        after={"report_on": "2026-03-01", "received_count": 2},
    )
    db.session.commit()
    html = client.get("/audit/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    visible = re.sub(r"<[^>]+>", " ", html)
    assert "已退回申请单位" in visible  # the event
    assert "认证申请" in visible  # the object type
    assert "状态 : 已提交 → 退回补充材料" in re.sub(r"\s+", " ", visible)  # states by name
    assert "授权维修服务中心" in visible
    assert "授权维修服务站" in visible
    assert "申请级别" in visible  # the field by its name
    assert "日报" in visible
    assert f"{station.code} 2026-03-01" in visible
    assert 'href="/reports/3"' in html
    assert 'href="/certification/applications/7"' in html
    for code in ("application.return", "daily_report.opened", "DailyReport", "requested_tier"):
        assert code not in visible, code
    assert f"#{station.id}" not in visible


def test_value_text_names_enums_catalogues_and_booleans(app, db, make):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert names.value_text("Station", "status", "suspended") == "暂停"
        assert names.value_text("Station", "tier", "accessory_point") == "授权附件代卖点"
        assert names.value_text(None, "compliant", True) == "是"
        assert names.value_text(None, "province", "HA") == "河南"
        assert names.event_name("not.known_event") == "Known event"
        assert names.field_name("received_count") == "接收"
