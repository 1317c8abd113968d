"""Request and response shapes of the API (marshmallow; they make the OpenAPI document)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from portal.core.db import MAX_ID
from portal.reports.states import Location, Payment


class PartSchema(ma.Schema):
    part_no = ma.fields.String(required=True, validate=validate.Length(1, 40))
    quantity = ma.fields.Integer(required=True, validate=validate.Range(1, 9999))
    faulty_serial = ma.fields.String(load_default="", validate=validate.Length(max=40))


class RecordInSchema(ma.Schema):
    """A repair record as a ticket system sends it; times without an offset are China time."""

    class Meta:
        unknown = ma.RAISE

    ticket_no = ma.fields.String(required=True, validate=validate.Length(1, 40))
    received_at = ma.fields.DateTime(required=True)
    completed_at = ma.fields.DateTime(required=True)
    customer_name = ma.fields.String(required=True, validate=validate.Length(1, 80))
    customer_phone = ma.fields.String(required=True, validate=validate.Length(1, 20))
    device_model = ma.fields.String(required=True, validate=validate.Length(1, 40))
    serial_no = ma.fields.String(required=True, validate=validate.Length(1, 40))
    purchase_on = ma.fields.Date(load_default=None, allow_none=True)
    warranty = ma.fields.String(required=True, validate=validate.OneOf([p.value for p in Payment]))
    fault_code = ma.fields.String(required=True, validate=validate.Length(1, 20))
    repair_type = ma.fields.String(required=True, validate=validate.Length(1, 30))
    on_site = ma.fields.String(required=True, validate=validate.OneOf([p.value for p in Location]))
    outside_home_city = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "an on-site repair outside the station's home city (travel)"},
    )
    parts = ma.fields.List(ma.fields.Nested(PartSchema), load_default=list)
    standby_serial = ma.fields.String(load_default="", validate=validate.Length(max=40))
    result = ma.fields.String(required=True, validate=validate.Length(1, 30))
    satisfaction = ma.fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(1, 5)
    )
    return_visit_on = ma.fields.Date(load_default=None, allow_none=True)
    return_visit_outcome = ma.fields.String(load_default="", validate=validate.Length(max=200))


class CountsMixin:
    received_count = ma.fields.Integer(validate=validate.Range(0, 1_000_000))
    completed_count = ma.fields.Integer(validate=validate.Range(0, 1_000_000))
    pending_count = ma.fields.Integer(validate=validate.Range(0, 1_000_000))
    returned_count = ma.fields.Integer(validate=validate.Range(0, 1_000_000))
    complaint_count = ma.fields.Integer(validate=validate.Range(0, 1_000_000))


class ReportInSchema(CountsMixin, ma.Schema):
    """A day's report: counts and records; submit=true submits it after the import."""

    class Meta:
        unknown = ma.RAISE

    report_on = ma.fields.Date(required=True)
    records = ma.fields.List(
        ma.fields.Nested(RecordInSchema), load_default=list, validate=validate.Length(max=5000)
    )
    submit = ma.fields.Boolean(load_default=False)


class PartOutSchema(ma.Schema):
    part_no = ma.fields.String()
    quantity = ma.fields.Integer()
    faulty_serial = ma.fields.String()


class RecordOutSchema(ma.Schema):
    id = ma.fields.Integer()
    report_id = ma.fields.Integer()
    ticket_no = ma.fields.String()
    received_at = ma.fields.AwareDateTime()
    completed_at = ma.fields.AwareDateTime()
    customer_name = ma.fields.String(metadata={"description": "masked"})
    customer_phone = ma.fields.String(metadata={"description": "masked, e.g. 138****5678"})
    device_model = ma.fields.String()
    serial_no = ma.fields.String()
    purchase_on = ma.fields.Date(allow_none=True)
    warranty = ma.fields.String()
    fault_code = ma.fields.String()
    repair_type = ma.fields.String()
    on_site = ma.fields.String()
    outside_home_city = ma.fields.Boolean()
    parts = ma.fields.List(ma.fields.Nested(PartOutSchema))
    standby_serial = ma.fields.String()
    result = ma.fields.String()
    satisfaction = ma.fields.Integer(allow_none=True)
    return_visit_on = ma.fields.Date(allow_none=True)
    return_visit_outcome = ma.fields.String()
    source = ma.fields.String()


class ReportOutSchema(ma.Schema):
    id = ma.fields.Integer()
    station_code = ma.fields.String()
    report_on = ma.fields.Date()
    status = ma.fields.String()
    standing = ma.fields.String(metadata={"description": "on_time, late, missing, open"})
    received_count = ma.fields.Integer()
    completed_count = ma.fields.Integer()
    pending_count = ma.fields.Integer()
    returned_count = ma.fields.Integer()
    complaint_count = ma.fields.Integer()
    first_submitted_at = ma.fields.AwareDateTime(allow_none=True)
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    due_at = ma.fields.AwareDateTime()
    records = ma.fields.List(ma.fields.Nested(RecordOutSchema))
    warnings = ma.fields.List(ma.fields.Dict(), metadata={"description": "accepted, may not pay"})


class RecordQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    date_from = ma.fields.Date(metadata={"description": "received on or after (China time)"})
    date_to = ma.fields.Date(metadata={"description": "received on or before (China time)"})
    serial = ma.fields.String(validate=validate.Length(max=40))
    ticket = ma.fields.String(validate=validate.Length(max=40))
    device_model = ma.fields.String(validate=validate.Length(max=40))
    repair_type = ma.fields.String(validate=validate.Length(max=30))
    result = ma.fields.String(validate=validate.Length(max=30))
    after_id = ma.fields.Integer(validate=validate.Range(0, MAX_ID))
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(1, 500))


class RecordPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(RecordOutSchema))
    next_after_id = ma.fields.Integer(allow_none=True)


class StationSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    tier = ma.fields.String()
    province = ma.fields.String()
    city = ma.fields.String()
    status = ma.fields.String()


class ReportQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    date_from = ma.fields.Date(metadata={"description": "report day on or after"})
    date_to = ma.fields.Date(metadata={"description": "report day on or before"})
    limit = ma.fields.Integer(load_default=31, validate=validate.Range(1, 366))


class ReportSummarySchema(ma.Schema):
    id = ma.fields.Integer()
    report_on = ma.fields.Date()
    status = ma.fields.String()
    standing = ma.fields.String()
    records = ma.fields.Integer(metadata={"description": "number of repair records"})
    first_submitted_at = ma.fields.AwareDateTime(allow_none=True)
