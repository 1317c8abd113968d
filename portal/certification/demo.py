"""Demo certification data: applications in every state, staff with certificates, deposits.

Idempotent: a station that already has staff, and a candidate that already exists, are left
alone.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from sqlalchemy import select

from portal.auth import services as auth_services
from portal.certification import rules, services
from portal.certification.models import StationProfile, Technician
from portal.certification.states import AttachmentKind, StaffRole
from portal.core.actors import SYSTEM
from portal.extensions import db
from portal.spares import services as deposits
from portal.stations.models import Station
from portal.stations.states import StationStatus

DEMO_PASSWORD = "portal-demo"  # noqa: S105 - documented demo password, demo data only
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

AREAS = {
    "accessory_point": ("6", "0", "0"),
    "service_station": ("12", "9.5", "4"),
    "service_center": ("20", "15", "10"),
}
# Stations that demo a gap: code -> what is wrong.
NON_COMPLIANT = {"HA-ZZ-0002": "expired", "GD-SZ-0001": "area", "SD-QD-0001": "deposit"}
# Stations with an engineer whose certificate runs out within 60 days.
EXPIRING = {"HA-ZZ-0001", "GD-GZ-0001", "SC-MY-0001"}
NAMES = [
    "王磊",
    "李强",
    "张敏",
    "刘芳",
    "陈杰",
    "杨帆",
    "赵丽",
    "黄涛",
    "周静",
    "吴昊",
    "徐坤",
    "孙悦",
]


def _id_number(n: int) -> str:
    return f"41010219{80 + n % 20:02d}0{1 + n % 9}1{n % 10}{n:03d}"[:17] + "X"


def _issued_for(kind: str, today: dt.date, n: int) -> dt.date:
    if kind == "expiring":
        # Last valid day 20 days from today.
        return rules.add_months(today + dt.timedelta(days=21), -rules.CERTIFICATE_MONTHS)
    if kind == "expired":
        return today - dt.timedelta(days=800 + n)
    return today - dt.timedelta(days=90 + 7 * n)


def _hq():
    """The demo HQ user reviews, certifies and authorizes (the system if it is absent)."""
    return auth_services.find_user("hq") or SYSTEM


def _cashier():
    """The demo finance user records the demo deposits (money moves only with an actor)."""
    return auth_services.find_user("finance") or SYSTEM


def _staff_station(station: Station, today: dt.date, n: int) -> None:
    hq = _hq()
    tier = station.tier.value
    requirements = services.requirements_for(station.tier, today)
    engineers = requirements.engineers_for(station.city_class.value)
    reception, repair, storage = AREAS[tier]
    if NON_COMPLIANT.get(station.code) == "area":
        repair = "9.5"
    db.session.add(
        StationProfile(
            station_id=station.id,
            reception_area=Decimal(reception),
            repair_area=Decimal(repair),
            storage_area=Decimal(storage),
        )
    )
    people = [(station.contact_name or NAMES[n % len(NAMES)], StaffRole.COORDINATOR, None)]
    kinds = ["valid"] * engineers
    if station.code in EXPIRING and kinds:
        kinds[-1] = "expiring"
    if NON_COMPLIANT.get(station.code) == "expired" and kinds:
        kinds[-1] = "expired"
    for i, kind in enumerate(kinds):
        people.append((NAMES[(n + i + 1) % len(NAMES)], StaffRole.REPAIR_TECHNICIAN, kind))
    people.append((NAMES[(n + 7) % len(NAMES)], StaffRole.SERVICE_CLERK, "valid"))
    for i, (name, role, cert) in enumerate(people):
        person = services.add_technician(
            hq,
            station,
            name=name,
            role=role,
            phone=f"1391234{n:02d}{i:02d}",
            id_number=_id_number(n * 10 + i),
        )
        if cert:
            track = "repair_technician" if role is StaffRole.REPAIR_TECHNICIAN else "service_clerk"
            services.record_attempt(
                hq,
                person,
                track=track,
                theory_score=Decimal(70 + (n + i) % 25),
                practical_score=Decimal(65 + (n * 3 + i) % 30),
                attempted_on=_issued_for(cert, today, n + i),
                examiner="总部培训部 刘工",
            )
    account = deposits.account_for_station(station.id, create=True)
    amount = requirements.deposit
    if NON_COMPLIANT.get(station.code) == "deposit":
        amount = amount - Decimal(1500)
    deposits.record_entry(
        _cashier(),
        account,
        kind="paid",
        amount=amount,
        entry_on=station.agreement_start_on or today,
        reference=f"BANK-{station.code}",
    )


# username, company, tier, province, city, city class, target state
CANDIDATES = [
    ("cand-draft", "郑州新航通讯器材有限公司", "service_station", "HA", "郑州", "1", "draft"),
    (
        "cand-submitted",
        "开封宋都电子维修有限公司",
        "service_station",
        "HA",
        "开封",
        "2",
        "submitted",
    ),
    ("cand-returned", "南阳卧龙通信服务有限公司", "accessory_point", "HA", "南阳", "2", "returned"),
    (
        "cand-screening",
        "东莞长安通讯维修有限公司",
        "service_station",
        "GD",
        "东莞",
        "2",
        "screening",
    ),
    (
        "cand-evaluated",
        "中山石岐电子服务有限公司",
        "service_center",
        "GD",
        "中山",
        "2",
        "evaluated",
    ),
    ("cand-approved", "烟台芝罘通信技术有限公司", "service_station", "SD", "烟台", "2", "approved"),
    (
        "cand-authorized",
        "宜宾翠屏通讯服务有限公司",
        "accessory_point",
        "SC",
        "宜宾",
        "3",
        "authorized",
    ),
    ("cand-rejected", "常州武进电子商行", "service_center", "JS", "常州", "2", "rejected"),
]
CITY_CODES = {"宜宾": "YB"}


def _credit_code(n: int) -> str:
    first = f"9141010{n:02d}MA4{n:02d}K0"[:17].ljust(17, "0")
    return first + rules.credit_code_check_char(first)


def _candidate(n: int, row, today: dt.date) -> None:
    username, company, tier, province, city, city_class, target = row
    application = services.sign_up(
        username=username,
        password=DEMO_PASSWORD,
        display_name=f"{company[:4]} 负责人",
        email=f"{username}@example.com",
        company_name=company,
    )
    applicant = auth_services.find_user(username)
    applicant.is_demo = True
    hq = _hq()
    values = {
        "company_name": company,
        "credit_code": _credit_code(n),
        "legal_representative": NAMES[n % len(NAMES)],
        "address": f"{city}市人民路{10 + n}号",
        "province": province,
        "city": city,
        "city_class": city_class,
        "requested_tier": tier,
        "brands_serviced": "华为、中兴、联想",
        "contact_phone": f"1370000{n:04d}",
        "contact_email": f"{username}@example.com",
        "no_counterfeit_declared": True,
    }
    services.save_step(applicant, application, "company", values)
    if target == "draft":
        return
    reception, repair, storage = AREAS[tier]
    services.save_step(
        applicant,
        application,
        "areas",
        {"reception_area": reception, "repair_area": repair, "storage_area": storage},
    )
    services.save_step(
        applicant,
        application,
        "equipment",
        {
            "has_tools": True,
            "has_computer": True,
            "has_test_instruments": tier != "accessory_point",
            "service_phone": f"0371-6600{n:04d}",
            "equipment_notes": "综合测试仪 1 台，BGA 返修台 1 台",
        },
    )
    services.save_step(
        applicant,
        application,
        "finances",
        {
            "financial_year": today.year - 1,
            "total_assets": Decimal(1200000 + 10000 * n),
            "revenue": Decimal(3400000 + 5000 * n),
            "net_profit": Decimal(210000 + 1000 * n),
        },
    )
    services.add_staff(
        applicant, application, name=NAMES[n % len(NAMES)], role="coordinator", phone="13900000000"
    )
    engineers = services.requirements_for(tier, today).engineers_for(city_class)
    for i in range(engineers):
        person = services.add_staff(
            applicant,
            application,
            name=NAMES[(n + i + 3) % len(NAMES)],
            role="repair_technician",
            id_number=_id_number(500 + n * 10 + i),
        )
        if target in ("screening", "evaluated", "approved", "authorized"):
            services.record_attempt(
                hq,
                person,
                track="repair_technician",
                theory_score=Decimal(82),
                practical_score=Decimal(78),
                attempted_on=today - dt.timedelta(days=20),
                examiner="总部培训部 刘工",
            )
    services.upload_attachment(
        applicant, application, AttachmentKind.BUSINESS_LICENCE, "营业执照.pdf", io.BytesIO(PDF)
    )
    services.upload_attachment(
        applicant, application, AttachmentKind.FINANCIAL_REPORT, "2025审计报告.pdf", io.BytesIO(PDF)
    )
    services.submit(applicant, application)
    if target == "submitted":
        return
    if target == "returned":
        services.return_to_candidate(
            hq, application, "请补充维修区照片，并说明备件存储区的面积测量方法。"
        )
        return
    if target == "rejected":
        services.reject(hq, application, "经营场所不符合服务中心要求，且近一年有销售兼容产品记录。")
        return
    services.start_screening(hq, application)
    ratings = {
        "qualification": 90,
        "experience": 80,
        "personnel": 85,
        "site": 75,
        "equipment": 80,
        "financial": 70,
    }
    services.save_screening(
        hq,
        application,
        ratings=ratings,
        visited_on=today - dt.timedelta(days=5),
        visit_notes="现场接待区整洁，维修区工具齐全，备件区已分区管理。",
    )
    services.upload_attachment(
        hq, application, AttachmentKind.SITE_PHOTO, "现场照片.png", io.BytesIO(PNG)
    )
    if target == "screening":
        return
    services.evaluate(hq, application)
    if target == "evaluated":
        return
    services.approve(hq, application, tier, "同意按申请级别授权")
    if target == "approved":
        return
    requirement = services.requirements_for(tier, today)
    services.record_application_deposit(
        _cashier(),
        application,
        kind="paid",
        amount=requirement.deposit,
        entry_on=today - dt.timedelta(days=2),
        reference=f"BANK-A{application.id:05d}",
    )
    services.authorize(
        hq,
        application,
        city_code=CITY_CODES.get(city, "XX"),
        agreement_start_on=today,
        agreement_end_on=rules.add_months(today, 36),
        authorized_region=f"{city}市",
    )


def load() -> None:
    """Demo staff, certificates and deposits for the demo stations; demo applications."""
    today = services.today()
    stations = db.session.execute(
        select(Station).where(Station.status != StationStatus.REVOKED).order_by(Station.code)
    ).scalars()
    for n, station in enumerate(list(stations)):
        has_staff = db.session.execute(
            select(Technician.id).where(Technician.station_id == station.id).limit(1)
        ).first()
        if has_staff or db.session.get(StationProfile, station.id):
            continue
        _staff_station(station, today, n)
    for n, row in enumerate(CANDIDATES, start=1):
        if auth_services.find_user(row[0]) is None:
            _candidate(n, row, today)
    services.check_all_stations(SYSTEM, today)
