"""Pure rules: record checks, parts syntax, deadlines, day standing, masking."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from portal.reports import rules
from portal.reports.states import DayStatus, ReportStatus

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 11, 20)
CATALOGUES = rules.Catalogues(
    models={"P30": rules.ModelRule(rules.compile_serial_pattern(r"P30\d{9}"), 12)},
    faults={"D01"},
    types={"instore_simple": False, "complex": True, "unit_swap": False},
    results={"repaired", "unrepairable"},
)


def raw(**over):
    values = {
        "ticket_no": "T-1",
        "received_at": "2026-11-20 09:30",
        "completed_at": "2026-11-20 11:00",
        "customer_name": "王小明",
        "customer_phone": "13812345678",
        "device_model": "P30",
        "serial_no": "P30000000001",
        "purchase_on": "2026-05-01",
        "warranty": "warranty",
        "fault_code": "D01",
        "repair_type": "instore_simple",
        "on_site": "instore",
        "parts": "LCD-P30*1#OLD1; SCREW*4",
        "standby_serial": "",
        "result": "repaired",
        "satisfaction": "5",
        "return_visit_on": None,
        "return_visit_outcome": "",
    }
    values.update(over)
    return values


def clean(**over):
    return rules.clean_record(
        raw(**over),
        CATALOGUES,
        report_on=DAY,
        tz=TZ,
        allowed_types={"instore_simple", "unit_swap", "onsite_repair"},
    )


def fields(result):
    return sorted(p.field for p in result.errors)


def test_a_good_record_is_clean_and_typed():
    result = clean()
    assert result.errors == []
    assert result.warnings == []
    v = result.values
    assert v["received_at"] == dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC)
    assert v["purchase_on"] == dt.date(2026, 5, 1)
    assert v["warranty"] is True
    assert v["on_site"] is False
    assert v["parts"] == [("LCD-P30", 1, "OLD1"), ("SCREW", 4, "")]
    assert v["satisfaction"] == 5


def test_spreadsheet_values_are_read_as_spreadsheets_give_them():
    result = clean(
        received_at=dt.datetime(2026, 11, 20, 9, 30),  # noqa: DTZ001 - as a sheet gives it
        completed_at=dt.datetime(2026, 11, 20, 10, 0),  # noqa: DTZ001
        purchase_on=dt.date(2026, 5, 1),
        customer_phone=13812345678.0,
        ticket_no=1001.0,
        satisfaction=4.0,
        warranty="保修",
        on_site="上门",
    )
    assert result.errors == []
    assert result.values["customer_phone"] == "13812345678"
    assert result.values["ticket_no"] == "1001"
    assert result.values["on_site"] is True


def test_every_problem_is_listed_not_only_the_first():
    result = clean(
        ticket_no="",
        received_at="yesterday",
        customer_phone="12345",
        device_model="NOPE",
        fault_code="ZZ9",
        repair_type="magic",
        result="",
        satisfaction="7",
        parts="LCD*0",
        warranty="maybe",
        on_site="home",
    )
    assert fields(result) == sorted(
        [
            "ticket_no",
            "received_at",
            "customer_phone",
            "device_model",
            "fault_code",
            "repair_type",
            "result",
            "satisfaction",
            "parts",
            "warranty",
            "on_site",
        ]
    )


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"completed_at": "2026-11-20 08:00"}, "completed_at"),
        ({"received_at": "2026-11-21 08:00", "completed_at": "2026-11-21 09:00"}, "received_at"),
        ({"purchase_on": "2026-11-21"}, "purchase_on"),
        ({"purchase_on": ""}, "purchase_on"),  # a warranty repair needs it
        ({"repair_type": "unit_swap"}, "standby_serial"),
        ({"return_visit_on": "2026-11-01"}, "return_visit_on"),
        ({"customer_name": "王\x00明"}, "customer_name"),
        ({"received_at": "1899-01-01 10:00"}, "received_at"),
        ({"serial_no": "X" * 41}, "serial_no"),
    ],
)
def test_inconsistent_values_are_refused(over, field):
    assert field in fields(clean(**over))


def test_bad_serial_old_purchase_and_tier_are_warnings_not_errors():
    result = clean(serial_no="P30ABC", purchase_on="2025-10-01", repair_type="complex")
    assert result.errors == []
    assert sorted(p.field for p in result.warnings) == ["repair_type", "serial_no", "warranty"]


def test_warranty_ends_exactly_after_its_months():
    assert clean(purchase_on="2025-11-20").warnings == []
    assert [p.field for p in clean(purchase_on="2025-11-19").warnings] == ["warranty"]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", []),
        ("A1*2", [("A1", 2, "")]),
        ("a1 x 2 # sn9；B-2×1", [("A1", 2, "SN9"), ("B-2", 1, "")]),
    ],
)
def test_parts_syntax(text, parts):
    assert rules.parse_parts(text) == parts


@pytest.mark.parametrize("text", ["A1", "A1*", "*2", "A1*2#", "A1*-1"])
def test_bad_parts_are_refused(text):
    with pytest.raises(ValueError, match=r".*"):
        rules.parse_parts(text)


def test_phone_and_name_masks():
    assert rules.mask_phone("13812345678") == "138****5678"
    assert rules.mask_phone("0371-12345678") == "037******5678"
    assert rules.mask_phone("") == ""
    assert rules.mask_name("王小明") == "王**"


def test_due_at_is_ten_next_morning_china_time_by_default():
    due = rules.due_at(DAY, 1, dt.time(10, 0), TZ)
    assert due == dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)


def test_day_status():
    due = rules.due_at(DAY, 1, dt.time(10, 0), TZ)
    before = due - dt.timedelta(minutes=1)
    after = due + dt.timedelta(minutes=1)
    today = dt.date(2026, 11, 21)
    sub = ReportStatus.SUBMITTED
    assert rules.day_status(DAY, today, before, due, sub, before) == DayStatus.ON_TIME
    assert rules.day_status(DAY, today, after, due, sub, due) == DayStatus.ON_TIME
    assert rules.day_status(DAY, today, after, due, sub, after) == DayStatus.LATE
    assert rules.day_status(DAY, today, after, due, None, None) == DayStatus.MISSING
    draft = ReportStatus.DRAFT
    assert rules.day_status(DAY, today, after, due, draft, None) == DayStatus.MISSING
    assert rules.day_status(DAY, today, before, due, None, None) == DayStatus.OPEN
    assert rules.day_status(today, DAY, before, due, None, None) == DayStatus.FUTURE


def test_add_months_keeps_the_month_end():
    assert rules.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert rules.add_months(dt.date(2026, 11, 20), 12) == dt.date(2027, 11, 20)


def test_counts_must_be_whole_and_not_negative():
    clean_counts, problems = rules.check_counts({"received_count": "3", "pending_count": "-1"})
    assert clean_counts["received_count"] == 3
    assert [p.field for p in problems] == ["pending_count"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("p30 000 000 001", "P30000000001"),
        ("Ｐ３０００００００００１", "P30000000001"),  # full-width letters and digits
        ("\u3000p30000000001\u3000", "P30000000001"),  # full-width spaces
        ("P30-000\t000 001", "P30-000000001"),
    ],
)
def test_serials_are_normalized_before_any_check(typed, stored):
    result = clean(serial_no=typed, standby_serial=typed.lower())
    assert result.values["serial_no"] == stored
    assert result.values["standby_serial"] == stored
    assert "serial_no" not in [p.field for p in result.warnings] or "-" in stored
    assert rules.parse_parts("LCD*1#Ｐ３０００００００００１") == [("LCD", 1, "P30000000001")]


def test_only_types_outside_the_tier_scope_are_warned_about():
    assert clean(repair_type="unit_swap", standby_serial="P30000000009").warnings == []
    scoped = rules.clean_record(
        raw(repair_type="unit_swap", standby_serial="P30000000009"),
        CATALOGUES,
        report_on=DAY,
        tz=TZ,
        allowed_types={"accessory_sale"},
    )
    assert [(p.field, p.message) for p in scoped.warnings] == [("repair_type", "tier_scope")]


def test_the_serial_lookup_finds_serials_and_standby_units_typed_any_way(make, db):
    from portal.reports import services

    station = make.station()
    report = make.report(station, records=1, parts="")
    make.update(report.records[0], standby_serial="P30999999999")
    hq = make.user(role="hq")
    serial = report.records[0].serial_no
    typed = " " + serial.lower().replace("p", "Ｐ") + "\u3000"
    assert [r.id for r in services.serial_history(hq, typed)] == [report.records[0].id]
    assert [r.id for r in services.serial_history(hq, "p30 999 999 999")] == [report.records[0].id]


def test_an_onsite_repair_says_whether_it_was_outside_the_home_city():
    onsite = {"on_site": "上门"}
    assert clean(**onsite, outside_home_city="是").values["outside_home_city"] is True
    assert clean(**onsite, outside_home_city=True).values["outside_home_city"] is True
    assert clean(**onsite, outside_home_city="").values["outside_home_city"] is False
    assert clean(**onsite).values["outside_home_city"] is False
    assert fields(clean(**onsite, outside_home_city="maybe")) == ["outside_home_city"]
    refused = clean(on_site="instore", outside_home_city="yes")
    assert [(p.field, p.message) for p in refused.errors] == [
        ("outside_home_city", "outside_needs_onsite")
    ]


def test_an_in_store_record_cannot_be_an_onsite_repair():
    catalogues = rules.Catalogues(
        models=CATALOGUES.models,
        faults=CATALOGUES.faults,
        types={**CATALOGUES.types, "onsite_repair": False},
        results=CATALOGUES.results,
    )

    def checked(**over):
        return rules.clean_record(raw(**over), catalogues, report_on=DAY, tz=TZ, allowed_types=None)

    refused = checked(on_site="instore", repair_type="onsite_repair")
    assert [(p.field, p.message) for p in refused.errors] == [
        ("repair_type", "onsite_type_in_store")
    ]
    assert checked(on_site="onsite", repair_type="onsite_repair").errors == []
