"""Provinces of mainland China: the code used in station codes, and the names."""

from flask_babel import lazy_gettext as _l

PROVINCES: dict[str, tuple[str, object]] = {
    "BJ": ("北京", _l("Beijing")),
    "TJ": ("天津", _l("Tianjin")),
    "HE": ("河北", _l("Hebei")),
    "SX": ("山西", _l("Shanxi")),
    "NM": ("内蒙古", _l("Inner Mongolia")),
    "LN": ("辽宁", _l("Liaoning")),
    "JL": ("吉林", _l("Jilin")),
    "HL": ("黑龙江", _l("Heilongjiang")),
    "SH": ("上海", _l("Shanghai")),
    "JS": ("江苏", _l("Jiangsu")),
    "ZJ": ("浙江", _l("Zhejiang")),
    "AH": ("安徽", _l("Anhui")),
    "FJ": ("福建", _l("Fujian")),
    "JX": ("江西", _l("Jiangxi")),
    "SD": ("山东", _l("Shandong")),
    "HA": ("河南", _l("Henan")),
    "HB": ("湖北", _l("Hubei")),
    "HN": ("湖南", _l("Hunan")),
    "GD": ("广东", _l("Guangdong")),
    "GX": ("广西", _l("Guangxi")),
    "HI": ("海南", _l("Hainan")),
    "CQ": ("重庆", _l("Chongqing")),
    "SC": ("四川", _l("Sichuan")),
    "GZ": ("贵州", _l("Guizhou")),
    "YN": ("云南", _l("Yunnan")),
    "XZ": ("西藏", _l("Tibet")),
    "SN": ("陕西", _l("Shaanxi")),
    "GS": ("甘肃", _l("Gansu")),
    "QH": ("青海", _l("Qinghai")),
    "NX": ("宁夏", _l("Ningxia")),
    "XJ": ("新疆", _l("Xinjiang")),
}


def province_label(code: str | None):
    """The province's name in the current language, falling back to the code."""
    if not code or code not in PROVINCES:
        return code or ""
    return PROVINCES[code][1]


def province_choices() -> list[tuple[str, object]]:
    return [(code, label) for code, (_zh, label) in PROVINCES.items()]
