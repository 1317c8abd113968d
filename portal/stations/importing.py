"""Station master data from a spreadsheet (HQ): a network starts from the sheets it has.

All or nothing: every row is checked (by the same service as the station form, so the same
rules and words), every bad row is listed, and nothing is written unless all rows pass. A row
whose station exists with the same master data changes nothing, so importing the same file
again changes nothing; a row with changed master data updates it (audited field by field).
Tier and status of an existing station are not changed by an import: they move only through
the station-life actions, with a reason and the dated tier history.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.core.actors import require_actor
from portal.core.errors import DomainError, PermissionDenied
from portal.core.imports import ImportColumn, ImportRefused, problem, read_rows, template
from portal.core.permissions import Permission, can
from portal.extensions import db
from portal.reports.rules import parse_date
from portal.stations import services
from portal.stations.models import Station
from portal.stations.states import CityClass, StationStatus, Tier

SHEET = "Stations"
COLUMNS = (
    ImportColumn("code", "网点编码", "Station code", width=14),
    ImportColumn("name", "网点名称", "Name", width=24),
    ImportColumn("tier", "级别", "Tier", width=18),
    ImportColumn("province", "省份代码", "Province code", width=10),
    ImportColumn("city", "城市", "City", width=12),
    ImportColumn("city_class", "城市级别", "City class", width=10),
    ImportColumn("authorized_region", "驻地城市/授权区域", "Home city / region", width=18),
    ImportColumn("address", "地址", "Address", required=False, width=30),
    ImportColumn("contact_name", "联系人", "Contact", required=False, width=12),
    ImportColumn("contact_phone", "联系电话", "Contact phone", required=False, width=16),
    ImportColumn("contact_email", "电子邮箱", "Contact e-mail", required=False, width=22),
    ImportColumn("agreement_start_on", "协议开始", "Agreement starts", width=13),
    ImportColumn("agreement_end_on", "协议结束", "Agreement ends", width=13),
)
BY_FIELD = {c.field: c for c in COLUMNS}
TIER_WORDS = {
    **{t.value: t for t in Tier},
    "配件网点": Tier.ACCESSORY_POINT,
    "授权配件点": Tier.ACCESSORY_POINT,
    "服务站": Tier.SERVICE_STATION,
    "授权服务站": Tier.SERVICE_STATION,
    "服务中心": Tier.SERVICE_CENTER,
    "授权服务中心": Tier.SERVICE_CENTER,
}
TEXT_FIELDS = (
    "name",
    "city",
    "authorized_region",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
)


def template_bytes() -> bytes:
    return template(
        SHEET,
        COLUMNS,
        {
            "code": "HA-ZZ-0101",
            "name": "郑州示例通讯服务站",
            "tier": "service_station",
            "province": "HA",
            "city": "郑州",
            "city_class": "1",
            "authorized_region": "郑州市",
            "address": "金水路 1 号",
            "contact_name": "张三",
            "contact_phone": "13800000000",
            "contact_email": "",
            "agreement_start_on": "2026-01-01",
            "agreement_end_on": "2028-12-31",
        },
    )


def _values(raw: dict) -> tuple[dict, list[tuple[str, object]]]:
    """Typed values of a row and the problems of its fields."""
    out, bad = {}, []
    for field in TEXT_FIELDS:
        text = str(raw.get(field) or "").strip()
        if field == "contact_phone" and isinstance(raw.get(field), int):
            text = str(raw[field])
        out[field] = text
    out["code"] = str(raw.get("code") or "").strip().upper()
    out["province"] = str(raw.get("province") or "").strip().upper()
    tier = TIER_WORDS.get(str(raw.get("tier") or "").strip().lower()) or TIER_WORDS.get(
        str(raw.get("tier") or "").strip()
    )
    if tier is None:
        bad.append(("tier", _l("Write accessory_point, service_station or service_center.")))
    out["tier"] = tier
    try:
        out["city_class"] = CityClass(str(raw.get("city_class") or "").strip())
    except ValueError:
        bad.append(("city_class", _l("Write 1, 2 or 3.")))
    for field in ("agreement_start_on", "agreement_end_on"):
        value = raw.get(field)
        if isinstance(value, dt.datetime):
            out[field] = value.date()
        elif isinstance(value, dt.date):
            out[field] = value
        else:
            try:
                out[field] = parse_date(value)
            except ValueError:
                bad.append((field, _l("Write a date like 2026-01-31.")))
    for field, column in BY_FIELD.items():
        if column.required and field not in dict(bad) and not out.get(field):
            bad.append((field, _l("Required.")))
    return out, bad


def import_stations(actor, filename: str, data: bytes) -> dict:
    """Create or update every station of the file, or nothing (ImportRefused lists the rows)."""
    actor = require_actor(actor)
    if not can(actor, Permission.MANAGE_STATIONS):
        raise PermissionDenied(_l("You may not create stations."))
    rows = read_rows(data, SHEET, COLUMNS)
    problems: list[dict] = []
    created = updated = unchanged = 0
    seen: dict[str, int] = {}
    existing = {
        s.code: s
        for s in db.session.execute(
            select(Station).where(
                Station.code.in_({str(r.get("code") or "").strip().upper() for _n, r in rows})
            )
        ).scalars()
    }
    whole = db.session.begin_nested()  # undone whole when any row is refused
    for number, raw in rows:
        values, bad = _values(raw)
        if values["code"] in seen:
            bad.append(
                ("code", _l("The same station is on row %(row)d.", row=seen[values["code"]]))
            )
        seen.setdefault(values["code"], number)
        if bad:
            problems.extend(problem(number, BY_FIELD[f], m) for f, m in bad)
            continue
        station = existing.get(values["code"])
        try:
            with db.session.begin_nested():
                if station is None:
                    services.create_station(
                        actor,
                        **values,
                        status=StationStatus.ACTIVE,
                        notes=f"imported from {filename}"[:200],
                    )
                    created += 1
                    continue
                if station.tier != values["tier"]:
                    raise DomainError(
                        _l(
                            "The station exists with another tier; change its tier on its page "
                            "(with a reason)."
                        ),
                        field="tier",
                    )
                master = {k: v for k, v in values.items() if k not in ("code", "tier")}
                if all(getattr(station, k) == v for k, v in master.items()):
                    unchanged += 1
                    continue
                services.update_station(actor, station, **master)
                updated += 1
        except DomainError as error:
            field = error.field if error.field in BY_FIELD else None
            problems.append(problem(number, BY_FIELD.get(field), error.message))
    if problems:
        whole.rollback()
        bad_rows = len({p["row"] for p in problems})
        raise ImportRefused(
            _l("Nothing was imported: %(n)d rows have problems.", n=bad_rows), problems
        )
    whole.commit()
    return {
        "rows": len(rows),
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
