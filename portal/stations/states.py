"""Station tiers, city classes and statuses."""

from flask_babel import lazy_gettext as _l

from portal.core.workflow import LabelledEnum


class Tier(LabelledEnum):
    ACCESSORY_POINT = "accessory_point", _l("Authorized accessory point")
    SERVICE_STATION = "service_station", _l("Authorized service station")
    SERVICE_CENTER = "service_center", _l("Authorized service center")


class StationStatus(LabelledEnum):
    ACTIVE = "active", _l("Active")
    SUSPENDED = "suspended", _l("Suspended")
    REVOKED = "revoked", _l("Revoked")


class CityClass(LabelledEnum):
    CLASS_1 = "1", _l("Class 1: provincial capital or larger")
    CLASS_2 = "2", _l("Class 2: prefecture city")
    CLASS_3 = "3", _l("Class 3: county")
