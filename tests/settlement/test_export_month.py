"""The workbook of a month's real settlements: the rows read from the database, totals equal to
the portal's to the cent, user text kept as text, overflow, a station's own month only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from portal.core.actors import SYSTEM
from portal.settlement import export
from portal.settlement.adjustments import record_adjustment
from portal.settlement.models import SettlementLine
from tests.settlement.test_workflow import MONTH, settlement_of


def _lines(db, settlement, tickets, valid=True, reason=None, fee="30.00", travel="0.00"):
    for n, ticket in enumerate(tickets):
        db.session.add(
            SettlementLine(
                settlement_id=settlement.id,
                record_id=None,
                ticket_no=ticket,
                serial_no=f"P30{n:09d}",
                device_model="P30",
                received_at=dt.datetime(2026, 10, 2, 1, n, tzinfo=dt.UTC),
                repair_type="onsite_repair",
                valid=valid,
                reason_code=reason,
                fee=Decimal(fee) if valid else Decimal("0.00"),
                travel=Decimal(travel) if valid else Decimal("0.00"),
            )
        )
    db.session.flush()


@pytest.fixture
def month(db, make):
    runner = make.user(role="finance")
    a = make.station(name="郑州中原通讯维修服务中心")
    b = make.station()
    sa = settlement_of(
        db,
        {"station": a, "runner": runner},
        valid_count=3,
        invalid_count=1,
        labour=Decimal("90.00"),
        travel=Decimal("10.00"),
        penalties=Decimal("-20.00"),
        net=Decimal("80.00"),
    )
    sb = settlement_of(
        db,
        {"station": b, "runner": runner},
        valid_count=1,
        invalid_count=0,
        labour=Decimal("0.01"),
        travel=Decimal("0.00"),
        penalties=Decimal("0.00"),
        net=Decimal("0.01"),
    )
    _lines(db, sa, ['=HYPERLINK("http://evil")', "+SUM(1)", "@A1"], travel="10.00")
    _lines(db, sa, ["-T4"], valid=False, reason="bad_serial")
    _lines(db, sb, ["B-1"], fee="0.01")
    record_adjustment(
        SYSTEM,
        station_id=a.id,
        on=dt.date(2026, 10, 5),
        rule_code="late_report",
        source_type="daily_report",
        source_id="export-test",
    )
    return a, b, sa, sb


def _export(app, month_date, actor, **kw):
    """The export and its bytes (still under the temporary name: the test never commits)."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        record = export.export_month(month_date, actor, **kw)
        with open(export.export_path(record) + ".part", "rb") as handle:
            data = handle.read()
    return record, data


def _book(data, **kw):
    import io

    return openpyxl.load_workbook(io.BytesIO(data), **kw)


def test_the_month_workbook_from_the_database(app, db, make, month):
    a, b, sa, sb = month
    record, data = _export(app, MONTH, make.user(role="finance"))
    book = _book(data)
    values = _book(data, data_only=True)
    summary = book["Summary"]
    codes = [summary.cell(r, 1).value for r in (2, 3)]
    assert codes == sorted([a.code, b.code])
    header = [c.value for c in summary[1]]
    net = header.index("Net payable") + 1
    assert summary.cell(4, 1).value == "Total"
    assert summary.cell(4, net).data_type == "f"
    assert Decimal(str(values["Summary"].cell(4, net).value)) == sa.net + sb.net == Decimal("80.01")
    labour = header.index("Labour fees") + 1
    assert Decimal(str(values["Summary"].cell(4, labour).value)) == Decimal("90.01")
    records = list(book["Records"].iter_rows(min_row=2, values_only=True))
    assert len(records) == 4 == record.record_rows
    tickets = {row[1] for row in records}
    assert {'=HYPERLINK("http://evil")', "+SUM(1)", "@A1", "B-1"} == tickets
    for row in book["Records"].iter_rows(min_row=2):
        assert row[1].data_type == "s"
    invalid = list(book["Invalid"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[2], r[3], r[6]) for r in invalid] == [
        ("-T4", "P30000000000", "P30", "bad_serial")
    ]
    adjustments = list(book["Adjustments"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[2]) for r in adjustments] == [(a.code, -20.0)]
    assert summary.cell(2, 2).value in (a.name, b.name)


def test_superseded_revisions_are_not_exported(app, db, make, month):
    _a, _b, sa, _sb = month
    sa.superseded_at = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    db.session.flush()
    record, data = _export(app, MONTH, make.user(role="finance"))
    book = _book(data)
    assert book["Summary"].max_row == 3  # one station and the totals
    assert record.record_rows == 1


def test_overflow_sheets_with_a_small_limit(app, db, make, month):
    record, data = _export(app, MONTH, make.user(role="finance"), max_rows=3)
    book = _book(data)
    assert [n for n in book.sheetnames if n.startswith("Records")] == ["Records", "Records (2)"]
    assert record.record_rows == 4


def test_a_station_exports_only_its_own_rows(app, db, make, month):
    a, _b, _sa, _sb = month
    record, data = _export(app, MONTH, make.user(role="station", station=a))
    book = _book(data)
    assert {row[0] for row in book["Records"].iter_rows(min_row=2, values_only=True)} == {a.code}
    assert book["Summary"].max_row == 3
    assert record.station_id == a.id
