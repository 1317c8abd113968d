"""Migration 0006: upload errors kept before masking are masked in place."""

import json

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from tests.conftest import ON_POSTGRES


@pytest.mark.skipif(ON_POSTGRES, reason="runs on a throwaway SQLite file")
def test_earlier_upload_errors_are_masked_by_the_migration(tmp_path, app_config):
    from portal import create_app
    from portal.extensions import db

    fresh = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"})
    with fresh.app_context():
        upgrade(revision="0008_inspections")
        errors = [
            {"row": 2, "field": "customer_phone", "value": "13812345678", "message": "x"},
            {"row": 3, "field": "customer_phone", "value": 13912345678.0, "message": "x"},
            {"row": 3, "field": "customer_name", "value": "王小明", "message": "x"},
            {"row": 4, "field": "serial_no", "value": "P30123", "message": "x"},
        ]
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO stations (code, name, tier, province, city, city_class, address,"
                    " authorized_region, contact_name, contact_phone, contact_email, status,"
                    " notes, created_at, updated_at, version) VALUES ('HA-ZZ-0001', 's',"
                    " 'service_station', 'HA', 'c', '1', '', '', '', '', '', 'active', '',"
                    " '2026-11-01 00:00:00', '2026-11-01 00:00:00', 1)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO report_uploads (station_id, report_on, filename, sha256,"
                    " outcome, row_count, message, errors, uploaded_at) VALUES (1, '2026-11-20',"
                    " 'x.xlsx', :sha, 'rejected', 3, '', :errors, '2026-11-20 01:00:00')"
                ),
                {"sha": "0" * 64, "errors": json.dumps(errors)},
            )
        upgrade()
        with db.engine.connect() as connection:
            stored = json.loads(
                connection.execute(text("SELECT errors FROM report_uploads")).scalar()
            )
        assert [e["value"] for e in stored] == ["138****5678", "139****5678", "王**", "P30123"]
        db.engine.dispose()
