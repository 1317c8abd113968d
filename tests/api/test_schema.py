"""Schemathesis, in-process: generated requests against the OpenAPI document never cause a
server error, and every response matches the document."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_headers(app, db, make):
    make.catalogues()
    station = make.station()
    make.report(station, records=2)
    _token, plain = make.api_token(station)
    limit = app.config["API_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    yield {"Authorization": f"Bearer {plain}"}
    app.config["API_RATE_LIMIT"] = limit


def test_api_conforms_to_its_document(app, api_headers):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "GET /api/v1/station",
        "POST /api/v1/reports",
        "GET /api/v1/reports/{report_id}",
        "GET /api/v1/reports",
        "GET /api/v1/records",
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(headers=api_headers, checks=CHECKS)

        run()
