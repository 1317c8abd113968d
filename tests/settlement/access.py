"""Access table of the settlement routes."""

from tests.access import ADMIN, FINANCE, HQ, STATION

EXPORTERS = {ADMIN, HQ, FINANCE, STATION}

ACCESS = {
    "settlement.exports": {"GET": EXPORTERS, "POST": EXPORTERS},
    "settlement.export_download": {"GET": EXPORTERS},
    "settlement.rules_page": {"GET": {ADMIN, HQ, FINANCE, STATION}},
    "settlement.rules_change": {"POST": {ADMIN, FINANCE}},
    "settlement.adjustments_page": {"GET": {ADMIN, HQ}, "POST": {ADMIN, HQ}},
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


URL_ARGS = {
    "settlement.export_download": _export,
    "settlement.rules_change": lambda ctx: {"which": "validity"},
}
