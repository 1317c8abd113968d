"""Access table of the reports module's routes."""

from tests.access import ADMIN, HQ, HQ_SIDE, STATION

SEE = HQ_SIDE | {STATION}

ACCESS = {
    "reports.index": {"GET": SEE},
    "reports.open_day": {"POST": {STATION}},
    "reports.detail": {"GET": SEE},
    "reports.update_counts": {"POST": {STATION}},
    "reports.submit": {"POST": {STATION}},
    "reports.reopen": {"POST": {STATION}},
    "reports.record_new": {"GET": {STATION}, "POST": {STATION}},
    "reports.record_edit": {"GET": {STATION}, "POST": {STATION}},
    "reports.record_delete": {"POST": {STATION}},
    "reports.record_detail": {"GET": SEE},
    "reports.template": {"GET": SEE},
    "reports.upload": {"GET": {STATION}, "POST": {STATION}},
    "reports.upload_result": {"GET": SEE},
    "reports.upload_errors": {"GET": SEE},
    "reports.month_calendar": {"GET": SEE},
    "reports.records": {"GET": SEE},
    "reports.records_export": {"GET": SEE},
    "reports.coverage": {"GET": HQ_SIDE},
    "reports.warnings": {"GET": SEE},
    "reports.serial_lookup": {"GET": HQ_SIDE},
    "reports.catalogues": {"GET": {ADMIN, HQ}},
    "reports.catalogue_edit": {"GET": {ADMIN, HQ}, "POST": {ADMIN, HQ}},
    "reports.settings": {"GET": {ADMIN, HQ}, "POST": {ADMIN, HQ}},
}


def _report(ctx):
    if "report" not in ctx.objects:
        ctx.objects["report"] = ctx.make.report(ctx.own_station, records=2)
    return ctx.objects["report"]


def _rejected_upload(ctx):
    if "upload" not in ctx.objects:
        from portal.core import dates
        from portal.reports import services
        from portal.reports.states import UploadOutcome

        ctx.objects["upload"] = services.record_upload(
            ctx.make.reporter(ctx.own_station),
            ctx.own_station.id,
            dates.local_today(),
            "bad.xlsx",
            "0" * 64,
            UploadOutcome.REJECTED,
            row_count=1,
            message="Nothing was imported.",
            errors=[{"row": 2, "field": "serial_no", "value": "", "message": "required"}],
        )
    return ctx.objects["upload"]


def _fault(ctx):
    ctx.make.catalogues()
    from portal.reports import services

    return services.catalogue_entries("faults")[0]


URL_ARGS = {
    "reports.detail": lambda ctx: {"report_id": _report(ctx).id},
    "reports.update_counts": lambda ctx: {"report_id": _report(ctx).id},
    "reports.submit": lambda ctx: {"report_id": _report(ctx).id},
    "reports.reopen": lambda ctx: {"report_id": _report(ctx).id},
    "reports.record_new": lambda ctx: {"report_id": _report(ctx).id},
    "reports.record_edit": lambda ctx: {"record_id": _report(ctx).records[0].id},
    "reports.record_delete": lambda ctx: {"record_id": _report(ctx).records[-1].id},
    "reports.record_detail": lambda ctx: {"record_id": _report(ctx).records[0].id},
    "reports.upload_result": lambda ctx: {"batch_id": _rejected_upload(ctx).id},
    "reports.upload_errors": lambda ctx: {"batch_id": _rejected_upload(ctx).id},
    "reports.catalogue_edit": lambda ctx: {"kind": "faults", "entry_id": _fault(ctx).id},
}

FORM_DATA = {
    "reports.open_day": lambda ctx: {"report_on": "2026-01-05"},
}
