"""Issues 7 and 8 in reports: every changed field audited, personal data masked in upload
errors, the report-day window, upload limits, bounded error reports, explicit actors."""

from __future__ import annotations

import ast
import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from portal.core.audit import AuditEntry
from portal.core.dates import local_today
from portal.core.errors import DomainError, PermissionDenied
from portal.reports import excel, forms, rules, services
from portal.reports.models import RepairRecord, UploadBatch
from portal.reports.states import RecordSource, ReportStatus, UploadOutcome
from tests.reports.xlsx_helpers import plain_workbook

ROOT = Path(__file__).resolve().parents[2]


def entries(db, object_type, object_id, action=None):
    stmt = select(AuditEntry).where(
        AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id)
    )
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list(db.session.execute(stmt.order_by(AuditEntry.id)).scalars())


# --- audit: every changed field, old and new, masked where personal ---------------------


def test_a_record_edit_audits_every_changed_field_with_personal_ones_masked(db, make):
    station = make.station()
    day = local_today() - dt.timedelta(days=2)
    report = make.report(station, day, records=1)
    record = report.records[0]
    actor = make.reporter(station)
    raw = services.record_raw(record)
    services.update_record(
        actor,
        record,
        {
            **raw,
            "purchase_on": (day - dt.timedelta(days=30)).isoformat(),  # decides the warranty
            "parts": "LCD-P30*2; SCREW*4",
            "repair_type": "unit_swap",
            "standby_serial": "P30000000999",
            "customer_name": "李大伟",
            "customer_phone": "13812349999",
        },
    )
    entry = entries(db, "RepairRecord", record.id, "repair_record.updated")[-1]
    changed = {name for name, _old, _new in entry.changes()}
    assert changed == {
        "purchase_on",
        "parts",
        "repair_type",
        "standby_serial",
        "customer_name",
        "customer_phone",
    }
    assert entry.before["purchase_on"] == raw["purchase_on"].isoformat()
    assert entry.after["parts"] == "LCD-P30*2; SCREW*4"
    assert entry.before["parts"] == raw["parts"]
    # Personal values are kept masked only; the phone's mask is the same before and after,
    # so the entry says that it changed.
    assert entry.before["customer_name"] == "王**"
    assert entry.after["customer_name"] == "李**"
    assert entry.before["customer_phone"] == "138****5678"
    assert entry.after["customer_phone"] == "138****9999"
    assert "王小明" not in str(entry.before) + str(entry.after)
    assert entry.actor_id == actor.id


def test_a_masked_value_that_looks_unchanged_is_still_shown_as_changed(db, make):
    station = make.station()
    report = make.report(station, local_today(), records=1)
    record = report.records[0]
    services.update_record(
        make.reporter(station),
        record,
        {**services.record_raw(record), "customer_phone": "13899995678"},
    )
    entry = entries(db, "RepairRecord", record.id, "repair_record.updated")[-1]
    assert [name for name, _o, _n in entry.changes()] == ["customer_phone"]
    assert entry.before["customer_phone"] == "138****5678"
    assert entry.after["customer_phone"].startswith("138****5678")


def test_deleting_a_record_keeps_all_its_fields_masked_in_the_trail(db, make):
    station = make.station()
    report = make.report(station, local_today(), records=1)
    record = report.records[0]
    record_id = record.id
    services.delete_record(make.reporter(station), record)
    entry = entries(db, "RepairRecord", record_id, "repair_record.deleted")[-1]
    assert entry.before["customer_phone"] == "138****5678"
    assert entry.before["parts"] == "LCD-P30*1#OLD123"
    assert entry.before["purchase_on"]


def test_counts_submit_and_reopen_audit_what_they_change(db, make):
    station = make.station()
    actor = make.reporter(station)
    report = make.report(station, local_today())
    services.update_counts(actor, report, {"received_count": 4, "completed_count": 3})
    counts = entries(db, "DailyReport", report.id, "daily_report.counts")[-1]
    assert counts.before == {"received_count": 0, "completed_count": 0}
    assert counts.after == {"received_count": 4, "completed_count": 3}
    services.submit_report(actor, report)
    submitted = entries(db, "DailyReport", report.id, "daily_report.submitted")[-1]
    assert submitted.after["status"] == "submitted"
    assert submitted.after["submitted_by_id"] == actor.id
    assert submitted.after["first_submitted_at"]
    services.reopen_report(actor, report, "wrong count")
    reopened = entries(db, "DailyReport", report.id, "daily_report.reopened")[-1]
    assert (reopened.before, reopened.after) == ({"status": "submitted"}, {"status": "reopened"})


def test_a_catalogue_edit_audits_every_changed_field(db, make):
    make.catalogues()
    hq = make.user(role="hq")
    entry = services.catalogue_entries("models")[0]
    months = entry.warranty_months
    services.save_catalogue_entry(
        hq,
        "models",
        entry,
        name=entry.name + " Pro",
        serial_pattern=entry.serial_pattern,
        warranty_months=months,
        active=entry.active,
    )
    audit = entries(db, "DeviceModel", entry.id)[-1]
    assert audit.after == {"name": entry.name}


def test_a_changed_warranty_or_category_is_a_new_version_from_today_on(db, make):
    from portal.core.errors import DomainError
    from portal.reports.facts import load_history

    make.catalogues()
    hq = make.user(role="hq")
    model = services.catalogue_entries("models")[0]
    months = model.warranty_months
    tomorrow = local_today() + dt.timedelta(days=1)
    change = {
        "name": model.name,
        "serial_pattern": model.serial_pattern,
        "warranty_months": months + 6,
        "active": True,
    }
    with pytest.raises(DomainError, match="takes effect"):
        services.save_catalogue_entry(hq, "models", model, **change)
    with pytest.raises(DomainError, match="cannot be before today"):
        services.save_catalogue_entry(
            hq, "models", model, effective_on=local_today() - dt.timedelta(days=1), **change
        )
    services.save_catalogue_entry(hq, "models", model, effective_on=tomorrow, **change)
    fault = services.catalogue_entries("faults")[0]
    services.save_catalogue_entry(
        hq,
        "faults",
        fault,
        effective_on=tomorrow,
        name_zh=fault.name_zh,
        name_en=fault.name_en,
        category="other",
        active=True,
    )
    history = load_history()
    assert model.warranty_months == months  # the entry keeps its first version
    assert history.warranty_months(model.code, local_today()) == months
    assert history.warranty_months(model.code, tomorrow) == months + 6
    assert history.fault_category(fault.code, local_today()) == fault.category
    assert history.fault_category(fault.code, tomorrow) == "other"
    versioned = (
        db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "catalogue.models.fact_versioned")
        )
        .scalars()
        .all()
    )
    assert [e.after["warranty_months"] for e in versioned] == [months + 6]
    assert services.load_catalogues(tomorrow).models[model.code].warranty_months == months + 6
    assert services.load_catalogues().models[model.code].warranty_months == months


# --- explicit actors ---------------------------------------------------------------------


def test_every_report_verb_refuses_a_missing_actor(db, make):
    station = make.station()
    report = make.report(station, local_today(), records=1)
    record = report.records[0]
    values = make.record_values(local_today(), 99)
    calls = [
        lambda: services.open_report(None, station, local_today()),
        lambda: services.update_counts(None, report, {"received_count": 1}),
        lambda: services.import_records(None, report, [(None, values)], RecordSource.FORM),
        lambda: services.update_record(None, record, services.record_raw(record)),
        lambda: services.delete_record(None, record),
        lambda: services.submit_report(None, report),
        lambda: services.reopen_report(None, report),
        lambda: services.log_personal_data_shown(None, record),
        lambda: services.save_catalogue_entry(None, "faults", code="Z9", name_zh="z"),
        lambda: services.add_setting(None, local_today(), 1, dt.time(10, 0)),
        lambda: services.file_day_report(None, station, local_today(), [], RecordSource.API),
        lambda: excel.upload(None, station, local_today(), "x.xlsx", b"PK"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()


@pytest.mark.parametrize("role", ["admin", "hq", "auditor", "finance"])
def test_only_the_stations_own_users_report_for_it(db, make, role):
    station = make.station()
    report = make.report(station, local_today(), records=1)
    actor = make.user(role=role)
    with pytest.raises(PermissionDenied):
        services.open_report(actor, station, local_today() - dt.timedelta(days=1))
    with pytest.raises(PermissionDenied):
        services.update_counts(actor, report, {"received_count": 1})
    with pytest.raises(PermissionDenied):
        services.update_record(actor, report.records[0], services.record_raw(report.records[0]))
    with pytest.raises(PermissionDenied):
        services.delete_record(actor, report.records[0])
    with pytest.raises(PermissionDenied):
        services.submit_report(actor, report)


@pytest.mark.parametrize("role", ["auditor", "finance", "station"])
def test_only_hq_side_roles_with_the_permission_manage_catalogues_and_deadlines(db, make, role):
    actor = make.user(role=role)
    with pytest.raises(PermissionDenied):
        services.save_catalogue_entry(actor, "faults", code="Z9", name_zh="z", name_en="z")
    with pytest.raises(PermissionDenied):
        services.add_setting(actor, local_today(), 1, dt.time(10, 0))


# --- personal data in upload errors ------------------------------------------------------


def test_upload_errors_keep_personal_values_masked_on_the_page_and_in_the_workbook(
    client, db, make, login_as
):
    make.catalogues()
    station = make.station()
    login_as("station", station=station)
    day = local_today()
    rows = [make.record_values(day, i) for i in range(1, 3)]
    rows[0]["customer_phone"] = "138123456789"  # twelve digits: refused, shown masked
    rows[1]["customer_name"] = "欧阳明月" * 30  # too long: refused, shown masked
    response = client.post(
        "/reports/upload",
        data={"report_on": day.isoformat(), "file": (io.BytesIO(plain_workbook(rows)), "x.xlsx")},
        content_type="multipart/form-data",
    )
    batch = db.session.execute(
        select(UploadBatch).where(UploadBatch.station_id == station.id)
    ).scalar_one()
    assert batch.outcome == UploadOutcome.REJECTED
    stored = {e["field"]: e["value"] for e in batch.errors}
    assert stored["customer_phone"] == "138*****6789"
    assert stored["customer_name"].startswith("欧*")
    assert "阳" not in stored["customer_name"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "138123456789" not in page
    assert "138*****6789" in page
    assert "阳明" not in page
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/reports/uploads/{batch.id}/errors.xlsx").data)
    )["Errors"]
    values = [c.value for c in sheet["C"]]
    assert "138*****6789" in values
    assert not any("138123456789" in str(v) or "阳明" in str(v) for v in values)


def test_errors_stored_before_masking_are_masked_when_shown(client, db, make, login_as):
    station = make.station()
    login_as("station", station=station)
    batch = UploadBatch(
        station_id=station.id,
        report_on=local_today(),
        filename="old.xlsx",
        sha256="0" * 64,
        outcome=UploadOutcome.REJECTED,
        errors=[{"row": 2, "field": "customer_phone", "value": "13812345678", "message": "x"}],
    )
    db.session.add(batch)
    db.session.flush()
    page = client.get(f"/reports/uploads/{batch.id}").get_data(as_text=True)
    assert "13812345678" not in page
    assert "138****5678" in page


def test_stored_error_reports_are_bounded(db, make):
    make.catalogues()
    station = make.station()
    day = local_today()
    rows = [
        make.record_values(day, i, fault_code="?", device_model="?", result="?", parts="x" * 900)
        for i in range(1, 401)
    ]
    batch = excel.upload(make.reporter(station), station, day, "x.xlsx", plain_workbook(rows))
    assert batch.outcome == UploadOutcome.REJECTED
    assert len(batch.errors) == services.MAX_STORED_PROBLEMS < 4 * len(rows)
    assert "The first 1000 problems are kept" in batch.message
    assert "1600 problems" in batch.message
    longest = max(len(str(e["value"])) for e in batch.errors)
    assert longest <= services.MAX_PROBLEM_VALUE + 1


def test_a_huge_cell_is_refused_with_a_message(db, make):
    from tests.core.test_excel_reading import huge_cell_sheet, with_sheet_xml

    make.catalogues()
    station = make.station()
    data = with_sheet_xml(plain_workbook([make.record_values()]), huge_cell_sheet(100_000_000))
    batch = excel.upload(make.reporter(station), station, local_today(), "big.xlsx", data)
    assert batch.outcome == UploadOutcome.REJECTED
    assert "too large to read" in batch.message
    assert batch.errors is None


def test_hidden_sheets_rows_and_columns_are_refused_with_a_message(db, make):
    make.catalogues()
    station = make.station()
    actor = make.reporter(station)
    workbook = openpyxl.load_workbook(io.BytesIO(plain_workbook([make.record_values()])))
    workbook.create_sheet("Notes").sheet_state = "hidden"
    out = io.BytesIO()
    workbook.save(out)
    batch = excel.upload(actor, station, local_today(), "x.xlsx", out.getvalue())
    assert "hidden sheets (Notes)" in batch.message
    workbook = openpyxl.load_workbook(io.BytesIO(plain_workbook([make.record_values()])))
    workbook["Records"].column_dimensions["D"].hidden = True
    out = io.BytesIO()
    workbook.save(out)
    batch = excel.upload(actor, station, local_today(), "y.xlsx", out.getvalue())
    assert "Hidden rows or columns hold values (cells D1, D2)" in batch.message


# --- the report-day window ---------------------------------------------------------------


def test_a_report_before_the_agreement_or_too_far_back_is_refused(app, db, make):
    station = make.station(agreement_start_on=local_today() - dt.timedelta(days=10))
    actor = make.reporter(station)
    with pytest.raises(DomainError, match="agreement starts on") as caught:
        services.open_report(actor, station, local_today() - dt.timedelta(days=11))
    assert caught.value.field == "report_on"
    services.open_report(actor, station, local_today() - dt.timedelta(days=10))
    old = make.station(agreement_start_on=dt.date(2020, 1, 1))
    days = app.config["REPORT_MAX_DAYS_BACK"]
    assert days == 60
    with pytest.raises(DomainError, match="more than 60 days back"):
        services.open_report(make.reporter(old), old, local_today() - dt.timedelta(days=61))
    services.open_report(make.reporter(old), old, local_today() - dt.timedelta(days=60))


def test_the_window_holds_in_the_form_the_upload_and_the_api(client, db, make, login_as):
    make.catalogues()
    station = make.station(agreement_start_on=dt.date(2020, 1, 1))
    login_as("station", station=station)
    too_old = local_today() - dt.timedelta(days=61)
    response = client.post("/reports/open", data={"report_on": too_old.isoformat()})
    assert response.status_code == 302
    assert services.find_report(station.id, too_old) is None
    data = plain_workbook([make.record_values(too_old)])
    response = client.post(
        "/reports/upload",
        data={"report_on": too_old.isoformat(), "file": (io.BytesIO(data), "x.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "more than 60 days back" in response.get_data(as_text=True)
    assert services.find_report(station.id, too_old) is None
    _token, plain = make.api_token(station)
    response = client.post(
        "/api/v1/reports",
        json={"report_on": too_old.isoformat(), "records": []},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert response.status_code == 422
    assert response.json["errors"]["json"]["report_on"]
    assert services.find_report(station.id, too_old) is None


def test_the_window_is_configurable(app, db, make):
    station = make.station(agreement_start_on=dt.date(2020, 1, 1))
    day = local_today() - dt.timedelta(days=5)
    app.config["REPORT_MAX_DAYS_BACK"] = 3
    try:
        with pytest.raises(DomainError, match="more than 3 days back"):
            services.open_report(make.reporter(station), station, day)
    finally:
        app.config["REPORT_MAX_DAYS_BACK"] = 60


def test_uploads_are_limited_per_station_per_minute(app, client, db, make, login_as):
    make.catalogues()
    station = make.station()
    login_as("station", station=station)
    app.config["UPLOAD_RATE_LIMIT"] = "2 per minute"
    try:
        codes = [
            client.post(
                "/reports/upload",
                data={"report_on": local_today().isoformat(), "file": (io.BytesIO(b"x"), "x.xlsx")},
                content_type="multipart/form-data",
            ).status_code
            for _ in range(3)
        ]
    finally:
        app.config["UPLOAD_RATE_LIMIT"] = "10 per minute"
    assert codes == [302, 302, 429]
    assert client.get("/reports/upload").status_code == 200  # the page itself is not limited


# --- one implementation each -------------------------------------------------------------


def test_the_record_form_the_template_and_the_rules_share_one_field_list():
    assert forms.RecordForm.FIELDS is rules.RECORD_FIELDS
    assert tuple(c.field for c in excel.COLUMNS) == rules.RECORD_FIELDS


def test_a_record_is_one_dict_for_the_form_the_api_and_the_export(client, db, make):
    station = make.station()
    report = make.report(station, local_today(), records=1)
    record = db.session.get(RepairRecord, report.records[0].id)
    whole = services.record_raw(record)
    masked = rules.record_fields(record, dt.UTC, masked=True)
    assert whole["customer_phone"] == "13812345678"
    assert masked["customer_phone"] == "138****5678"
    assert masked["received_at"] == whole["received_at"]
    _token, plain = make.api_token(station)
    api = client.get(
        f"/api/v1/reports/{report.id}", headers={"Authorization": f"Bearer {plain}"}
    ).json["records"][0]
    assert api["customer_phone"] == "138****5678"
    assert api["warranty"] == masked["warranty"] == "warranty"


def test_rules_modules_import_no_flask():
    for module in ("reports", "certification"):
        tree = ast.parse((ROOT / "portal" / module / "rules.py").read_text())
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {name for name in imported if re.match(r"flask", name)}, module


def test_templates_compare_states_with_enums_not_bare_values():
    for path in (ROOT / "templates").rglob("*.html"):
        assert not re.search(r"\.value\s*(==|!=|in)\s", path.read_text()), path.name


def test_rules_name_enums_not_bare_strings():
    from decimal import Decimal

    from portal.certification import rules as cert_rules
    from portal.certification.states import Recommendation
    from portal.reports.states import RepairTypeCode

    kind, tier = cert_rules.recommend(
        "service_station", Decimal(80), Decimal(70), {"accessory_point": True}
    )
    assert (kind, tier) == (Recommendation.APPROVE_LOWER, "accessory_point")
    assert type(kind) is Recommendation
    assert '"unit_swap"' not in (ROOT / "portal" / "reports" / "rules.py").read_text()
    assert RepairTypeCode.UNIT_SWAP == "unit_swap"


def test_the_report_status_enum_reaches_the_templates(client, db, make, login_as):
    station = make.station()
    report = make.report(station, local_today(), submit=True)
    login_as("station", station=station)
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert report.status == ReportStatus.SUBMITTED
    assert 'text-bg-success" data-testid="report-status"' in page


def test_api_token_verbs_take_an_explicit_actor_and_audit_the_revocation(db, make):
    from portal.api import services as token_services

    station = make.station()
    token, _plain = make.api_token(station)
    with pytest.raises(PermissionDenied):
        token_services.create_token(None, "robot")
    with pytest.raises(PermissionDenied):
        token_services.revoke_token(None, token)
    with pytest.raises(PermissionDenied):
        token_services.revoke_token(make.user(role="hq"), token)
    token_services.revoke_token(make.reporter(station), token)
    entry = entries(db, "ApiToken", token.id, "api_token.revoked")[-1]
    assert entry.before == {"revoked_at": None}
    assert entry.after["revoked_at"]
    created = entries(db, "ApiToken", token.id, "api_token.created")[-1]
    assert "token_hash" not in created.after
