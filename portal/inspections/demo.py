"""Demo inspections: the default checklist, inspections in every state, rectifications open,
answered, accepted, rejected and overdue, and the penalties they caused.

Idempotent: nothing is added once any inspection exists.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid

from PIL import Image
from sqlalchemy import func, select

from portal.auth import services as auth_services
from portal.extensions import db
from portal.inspections import rules, services
from portal.inspections.models import Inspection, Rectification, StationInspectionSummary
from portal.stations.models import Station
from portal.stations.states import StationStatus

# Station -> list of (days ago submitted, {item number: result}, stock difference)
HISTORY = {
    "HA-ZZ-0001": [(150, {}, 0), (95, {2: "partial", 6: "partial"}, 0)],
    "GD-GZ-0001": [(120, {3: "partial"}, 0)],
}
COLOURS = [(52, 120, 200), (200, 90, 60), (90, 160, 90), (180, 180, 60)]


def _jpeg(n: int) -> bytes:
    image = Image.new("RGB", (64, 48), COLOURS[n % len(COLOURS)])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _fill(auditor, inspection: Inspection, results: dict, difference: int = 0, upto=None):
    """Answer the items (pass unless told), photos where required, one counted part."""
    for number, answer in enumerate(inspection.answers, start=1):
        if upto is not None and number > upto:
            break
        item = answer.item
        result = results.get(number, "pass")
        services.save_answer(
            auditor,
            inspection,
            item.id,
            answer.rev,
            {
                "result": result,
                "score": rules.default_score(result, item.max_score),
                "note": "" if result == "pass" else "现场发现问题，需整改。",
            },
        )
        if item.photo_required:
            services.add_photo(
                auditor, inspection, item.id, None, f"item-{number}.jpg", io.BytesIO(_jpeg(number))
            )
        if item.stock_count and inspection.station_id:
            services.save_stock_line(
                auditor,
                inspection,
                str(uuid.uuid4()),
                0,
                {
                    "part_number": "LCD-P30",
                    "part_name": "P30 显示屏总成",
                    "expected_qty": 6,
                    "counted_qty": 6 + difference,
                },
            )


def _backdate(inspection: Inspection, days: int) -> None:
    """Move a just-submitted inspection and its rectifications `days` into the past."""
    delta = dt.timedelta(days=days)
    inspection.planned_on -= delta
    inspection.submitted_on -= delta
    inspection.submitted_at -= delta
    if inspection.started_at:
        inspection.started_at -= delta
    for rectification in _rectifications(inspection):
        rectification.due_on -= delta
        rectification.opened_at -= delta
    db.session.flush()
    summary = db.session.get(StationInspectionSummary, inspection.station_id)
    if summary is not None and summary.last_id == inspection.id:
        summary.last_on = inspection.submitted_on


def _rectifications(inspection: Inspection) -> list[Rectification]:
    return list(
        db.session.execute(
            select(Rectification)
            .where(Rectification.inspection_id == inspection.id)
            .order_by(Rectification.id)
        ).scalars()
    )


def _submitted(hq, auditor, station, version, days_ago, results, difference=0, summary=""):
    inspection = services.plan_inspection(
        hq, planned_on=services.today(), auditor=auditor, version=version, station=station
    )
    _fill(auditor, inspection, results, difference)
    services.submit_inspection(auditor, inspection, summary)
    if days_ago:
        _backdate(inspection, days_ago)
    return inspection


def _answer(station_user, rectification, text, n):
    return services.answer_rectification(
        station_user, rectification, text, [(f"evidence-{n}.jpg", io.BytesIO(_jpeg(n)))]
    )


def load() -> None:
    """Create the demo inspections once."""
    hq = auth_services.find_user("hq")
    auditor = auth_services.find_user("auditor")
    station_a_user = auth_services.find_user("station-a")
    if hq is None or auditor is None:
        return
    version = services.load_default_template(hq)
    if db.session.execute(select(func.count()).select_from(Inspection)).scalar_one():
        return
    stations = {
        s.code: s
        for s in db.session.execute(
            select(Station).where(Station.status == StationStatus.ACTIVE).order_by(Station.code)
        ).scalars()
    }
    station_a = stations.get("HA-ZZ-0001")
    station_b = stations.get("GD-GZ-0001")

    # Older history: a score trend for the two demo stations.
    for code, visits in HISTORY.items():
        if code in stations:
            user = station_user_for(stations[code])
            for n, (days_ago, results, difference) in enumerate(visits):
                old = _submitted(
                    hq, auditor, stations[code], version, days_ago, results, difference
                )
                for rectification in _rectifications(old) if user else []:
                    _answer(user, rectification, "已按要求整改。", n)
                    services.review_rectification(auditor, rectification, True, "")

    # Every other active station: one inspection, graded variously (the network list).
    patterns = [{}, {1: "partial"}, {}, {3: "partial", 14: "partial"}, {}, {2: "fail"}]
    for n, (code, station) in enumerate(stations.items()):
        if code in ("HA-ZZ-0001", "GD-GZ-0001", "HA-ZZ-0002", "GD-SZ-0001", "SD-QD-0001"):
            continue
        inspection = _submitted(
            hq, auditor, station, version, 30 + 3 * n, patterns[n % len(patterns)]
        )
        for rectification in _rectifications(inspection):
            # Most were put right long ago.
            if n % 3 and station_user_for(station):
                user = station_user_for(station)
                _answer(user, rectification, "已整改完毕，见照片。", n)
                services.review_rectification(auditor, rectification, True, "")

    if station_a is not None and station_a_user is not None:
        # 40 days ago: rectifications accepted, rejected, answered and one overdue.
        inspection = _submitted(
            hq,
            auditor,
            station_a,
            version,
            40,
            {2: "partial", 7: "partial", 10: "fail", 13: "partial", 16: "partial"},
            difference=-1,
            summary="总体良好，备件管理和店面形象需改进。",
        )
        found = _rectifications(inspection)
        _answer(station_a_user, found[0], "已补全维修记录中缺失的客户签字。", 1)
        services.review_rectification(auditor, found[0], True, "")
        _answer(station_a_user, found[1], "工具已更换。", 2)
        services.review_rectification(
            auditor, found[1], False, "照片看不清示波器的校准标签，请重新拍摄。"
        )
        _answer(station_a_user, found[2], "坏件已全部贴标签并寄回总部。", 3)
        # found[3] and the rest stay open: overdue since the due date passed.

    if station_b is not None:
        # 13 days ago: a counterfeit part found (critical fail, overdue), another due soon.
        _submitted(
            hq,
            auditor,
            station_b,
            version,
            13,
            {12: "fail", 15: "partial"},
            summary="发现兼容配件，已记录处罚。",
        )

    # Planned, being filled in, cancelled.
    if "HA-ZZ-0002" in stations:
        services.plan_inspection(
            hq,
            planned_on=services.today() + dt.timedelta(days=2),
            auditor=auditor,
            version=version,
            station=stations["HA-ZZ-0002"],
        )
    if "GD-SZ-0001" in stations:
        half = services.plan_inspection(
            auditor,
            planned_on=services.today(),
            auditor=auditor,
            version=version,
            station=stations["GD-SZ-0001"],
        )
        _fill(auditor, half, {3: "partial"}, upto=8)
    if "SD-QD-0001" in stations:
        cancelled = services.plan_inspection(
            hq,
            planned_on=services.today() - dt.timedelta(days=5),
            auditor=auditor,
            version=version,
            station=stations["SD-QD-0001"],
        )
        services.cancel_inspection(hq, cancelled, "站点临时停业装修，改期检查。")

    actor = services.system_actor()
    services.penalize_overdue(actor)
    services.send_reminders(actor)


def station_user_for(station: Station):
    from portal.auth.models import User

    return db.session.execute(
        select(User).where(User.station_id == station.id, User.active.is_(True)).limit(1)
    ).scalar_one_or_none()
