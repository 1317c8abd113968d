"""Demo stations: all three tiers across several provinces."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal.core.actors import SYSTEM
from portal.extensions import db
from portal.stations import services
from portal.stations.models import Station

# code, name, tier, province, city, city class, status
DEMO_STATIONS = [
    ("HA-ZZ-0001", "郑州中原通讯维修服务中心", "service_center", "HA", "郑州", "1", "active"),
    ("HA-ZZ-0002", "郑州二七电子维修站", "service_station", "HA", "郑州", "1", "active"),
    ("HA-LY-0001", "洛阳华信维修服务站", "service_station", "HA", "洛阳", "2", "active"),
    ("HA-XC-0001", "许昌长葛附件代卖点", "accessory_point", "HA", "许昌", "3", "active"),
    ("HN-CS-0001", "长沙湘江通信服务中心", "service_center", "HN", "长沙", "1", "active"),
    ("HN-ZZ-0001", "株洲天元维修服务站", "service_station", "HN", "株洲", "2", "active"),
    ("HN-YY-0001", "岳阳汨罗附件代卖点", "accessory_point", "HN", "岳阳", "3", "suspended"),
    ("GD-GZ-0001", "广州天河通讯服务中心", "service_center", "GD", "广州", "1", "active"),
    ("GD-GZ-0002", "广州番禺维修服务站", "service_station", "GD", "广州", "1", "active"),
    ("GD-SZ-0001", "深圳南山电子服务中心", "service_center", "GD", "深圳", "1", "active"),
    ("GD-FS-0001", "佛山顺德维修服务站", "service_station", "GD", "佛山", "2", "active"),
    ("GD-ZJ-0001", "湛江雷州附件代卖点", "accessory_point", "GD", "湛江", "3", "revoked"),
    ("SD-JN-0001", "济南泉城通讯服务中心", "service_center", "SD", "济南", "1", "active"),
    ("SD-QD-0001", "青岛崂山维修服务站", "service_station", "SD", "青岛", "2", "active"),
    ("SD-WF-0001", "潍坊寿光附件代卖点", "accessory_point", "SD", "潍坊", "3", "active"),
    ("SC-CD-0001", "成都锦江通信服务中心", "service_center", "SC", "成都", "1", "active"),
    ("SC-MY-0001", "绵阳涪城维修服务站", "service_station", "SC", "绵阳", "2", "active"),
    ("SC-NC-0001", "南充阆中附件代卖点", "accessory_point", "SC", "南充", "3", "active"),
    ("JS-NJ-0001", "南京鼓楼通讯服务中心", "service_center", "JS", "南京", "1", "active"),
    ("JS-SZ-0001", "苏州工业园维修服务站", "service_station", "JS", "苏州", "2", "active"),
    ("JS-XZ-0001", "徐州邳州附件代卖点", "accessory_point", "JS", "徐州", "3", "active"),
    ("ZJ-HZ-0001", "杭州西湖电子服务中心", "service_center", "ZJ", "杭州", "1", "active"),
    ("ZJ-NB-0001", "宁波鄞州维修服务站", "service_station", "ZJ", "宁波", "2", "suspended"),
    ("ZJ-JH-0001", "金华义乌附件代卖点", "accessory_point", "ZJ", "金华", "3", "active"),
]

CONTACTS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇"]


def load() -> None:
    """Create the demo stations that do not exist yet."""
    have = set(db.session.execute(select(Station.code)).scalars())
    start = dt.date(2025, 1, 1)
    for n, (code, name, tier, province, city, city_class, status) in enumerate(DEMO_STATIONS):
        if code in have:
            continue
        services.create_station(
            SYSTEM,
            code=code,
            name=name,
            tier=tier,
            province=province,
            city=city,
            city_class=city_class,
            address=f"{city}市示范路{n + 1}号",
            authorized_region=f"{city}市",
            contact_name=CONTACTS[n % len(CONTACTS)],
            contact_phone=f"1380000{n:04d}",
            contact_email=f"{code.lower()}@example.com",
            status=status,
            agreement_start_on=start + dt.timedelta(days=15 * n),
            agreement_end_on=start + dt.timedelta(days=15 * n + 3 * 365),
            notes="",
        )
