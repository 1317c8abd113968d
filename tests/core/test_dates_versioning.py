"""The one calendar helper, the one "today", the one enum column, versioned rows, audit diffs."""

import datetime as dt

import pytest
import time_machine

from portal.core import audit, dates, versioning
from portal.core.db import enum_type
from portal.core.errors import DomainError
from portal.reports.models import ReportSetting
from portal.stations.states import Tier


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2024, 2, 29), 24, dt.date(2026, 2, 28)),  # a leap-day certificate
        (dt.date(2024, 2, 29), 48, dt.date(2028, 2, 29)),
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2026, 11, 20), 12, dt.date(2027, 11, 20)),
        (dt.date(2026, 12, 15), 1, dt.date(2027, 1, 15)),
        (dt.date(2026, 3, 31), -1, dt.date(2026, 2, 28)),
        (dt.date(2026, 1, 15), -13, dt.date(2024, 12, 15)),
    ],
)
def test_add_months(day, months, expected):
    assert dates.add_months(day, months) == expected


def test_today_is_the_portals_local_day_not_utcs(app):
    # 23:30 UTC on 22 November is 07:30 on 23 November in Shanghai.
    with app.app_context(), time_machine.travel(dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)):
        assert dates.local_today() == dt.date(2026, 11, 23)
        app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
        try:
            assert dates.local_today() == dt.date(2026, 11, 22)
        finally:
            app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Shanghai"


def test_enum_columns_store_values():
    column = enum_type(Tier, 30)
    assert column.enums == [t.value for t in Tier]
    assert column.length == 30
    assert column.native_enum is False


def test_the_version_in_force_is_the_newest_effective_by_then(db):
    for day, hours in ((dt.date(2090, 1, 1), 10), (dt.date(2090, 6, 1), 12)):
        db.session.add(ReportSetting(effective_on=day, due_days_after=1, due_time=dt.time(hours)))
    db.session.flush()
    earlier = versioning.in_force(ReportSetting, dt.date(2089, 12, 31))
    assert earlier is None or earlier.effective_on < dt.date(2090, 1, 1)
    assert versioning.in_force(ReportSetting, dt.date(1999, 1, 1)) is None
    assert versioning.in_force(ReportSetting, dt.date(2090, 5, 31)).due_time == dt.time(10)
    assert versioning.in_force(ReportSetting, dt.date(2090, 6, 1)).due_time == dt.time(12)
    rows = sorted(db.session.query(ReportSetting).all(), key=lambda r: r.effective_on, reverse=True)
    assert versioning.pick_in_force(rows, dt.date(2090, 5, 31)).due_time == dt.time(10)


def test_an_effective_date_before_today_is_refused(app):
    with app.app_context(), time_machine.travel(dt.datetime(2026, 11, 23, 4, 0, tzinfo=dt.UTC)):
        with pytest.raises(DomainError, match="before today") as caught:
            versioning.require_not_past(dt.date(2026, 11, 22))
        assert caught.value.field == "effective_on"
        versioning.require_not_past(dt.date(2026, 11, 23))


def test_audit_diff_masks_personal_fields_and_keeps_a_change_visible():
    class Person:
        __audit_masked__ = {"phone": lambda v: v[:3] + "****" + v[-4:]}

    before, after = audit.diff(
        Person(),
        {"phone": "13812345678", "city": "郑州", "same": 1},
        {"phone": "13899995678", "city": "洛阳", "same": 1},
    )
    assert before == {"phone": "138****5678", "city": "郑州"}
    assert after == {"phone": "138****5678" + audit.CHANGED_MARK, "city": "洛阳"}
