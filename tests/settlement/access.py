"""Access table of the settlement routes."""

from tests.access import ADMIN, FINANCE, HQ, STATION

EXPORTERS = {ADMIN, HQ, FINANCE, STATION}
VIEWERS = {ADMIN, HQ, FINANCE, STATION}  # the auditor does not see settlements
RUNNERS = {ADMIN, FINANCE, HQ}

ACCESS = {
    "settlement.index": {"GET": VIEWERS},
    "settlement.detail": {"GET": VIEWERS},
    # Every viewer may post; the move itself is refused (with a message) to whoever may not.
    "settlement.act": {"POST": VIEWERS},
    "settlement.run_page": {"GET": RUNNERS, "POST": RUNNERS},
    "settlement.exports": {"GET": EXPORTERS, "POST": EXPORTERS},
    "settlement.export_download": {"GET": EXPORTERS},
    "settlement.rules_page": {"GET": {ADMIN, HQ, FINANCE, STATION}},
    "settlement.rules_change": {"POST": {ADMIN, FINANCE}},
    "settlement.adjustments_page": {"GET": {ADMIN, HQ}, "POST": {ADMIN, HQ}},
    "settlement.earlier_repairs": {"GET": {ADMIN, HQ}, "POST": {ADMIN, HQ}},
    "settlement.earlier_template": {"GET": {ADMIN, HQ}},
}


def _export(ctx):
    """A kept workbook of the walk's own station."""
    if "export_id" not in ctx.objects:
        import datetime as dt
        import os

        from portal.core import files
        from portal.settlement import export

        record = export.SettlementExport(
            month=dt.date(2026, 10, 1),
            station_id=ctx.own_station.id,
            filename="settlement-2026-10-walk.xlsx",
            stored_name=f"walk-{ctx.own_station.id}.xlsx",
            sha256="0" * 64,
            size_bytes=4,
            created_by_name="system",
        )
        path = os.path.join(export.export_folder(), record.stored_name)
        os.makedirs(export.export_folder(), exist_ok=True)
        with open(path + files.PART_SUFFIX, "wb") as handle:
            handle.write(b"PK\x03\x04")
        os.replace(path + files.PART_SUFFIX, path)
        ctx.db.session.add(record)
        ctx.db.session.flush()
        ctx.objects["export_id"] = record.id
    return {"export_id": ctx.objects["export_id"]}


def _settlement(ctx):
    """A draft settlement of the walk's own station."""
    if "settlement_id" not in ctx.objects:
        from tests.settlement.test_workflow import settlement_of

        row = settlement_of(ctx.db, {"station": ctx.own_station, "runner": ctx.other_user})
        ctx.objects["settlement_id"] = row.id
    return {"settlement_id": ctx.objects["settlement_id"]}


URL_ARGS = {
    "settlement.export_download": _export,
    "settlement.rules_change": lambda ctx: {"which": "validity"},
    "settlement.detail": _settlement,
    "settlement.act": lambda ctx: {**_settlement(ctx), "action": "confirm"},
}
