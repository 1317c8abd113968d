"""Reading uploads within bounds: crafted files are refused before they cost time or memory."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile

import openpyxl
import pytest

from portal.core import excel as xl

HEADER = ["Ticket", "Name"]


def workbook(rows=(("T-1", "王小明"),), *, prepare=None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Records"
    sheet.append(HEADER)
    for row in rows:
        sheet.append(list(row))
    if prepare:
        prepare(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_sheet_xml(data: bytes, write_sheet) -> bytes:
    """The workbook with its first sheet's XML replaced by what write_sheet streams."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with target.open(info.filename, "w") as stream:
                    write_sheet(stream)
            else:
                target.writestr(info.filename, source.read(info.filename))
    return out.getvalue()


def huge_cell_sheet(chars: int):
    def write(stream):
        stream.write(
            b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
            b'openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" '
            b't="inlineStr"><is><t>Ticket</t></is></c></row><row r="2"><c r="A2" '
            b't="inlineStr"><is><t>'
        )
        block = b"A" * (1 << 20)
        left = chars
        while left > 0:
            stream.write(block[: min(left, len(block))])
            left -= len(block)
        stream.write(b"</t></is></c></row></sheetData></worksheet>")

    return write


def lie_about_size(data: bytes, member: str, size: int) -> bytes:
    """The zip with member's uncompressed size set to size in both of its headers."""
    raw = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    struct.pack_into("<I", raw, info.header_offset + 22, size)
    name = member.encode()
    central = raw.find(b"PK\x01\x02")
    while central >= 0:
        length = struct.unpack_from("<H", raw, central + 28)[0]
        if bytes(raw[central + 46 : central + 46 + length]) == name:
            struct.pack_into("<I", raw, central + 24, size)
            return bytes(raw)
        central = raw.find(b"PK\x01\x02", central + 4)
    raise AssertionError("member not found")


def refusal(data: bytes) -> str:
    with pytest.raises(xl.WorkbookRefused) as caught:
        xl.read_sheet(data, "Records", max_rows=100)
    return caught.value.message


def peak_bytes(action) -> int:
    tracemalloc.start()
    try:
        action()
    finally:
        _size, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def test_a_plain_workbook_is_read():
    sheet = xl.read_sheet(workbook(), "Records", max_rows=100)
    assert sheet.header == HEADER
    assert sheet.rows == [(2, ["T-1", "王小明"])]


def test_a_100_million_character_cell_compressed_small_is_refused_without_reading_it():
    data = with_sheet_xml(workbook(), huge_cell_sheet(100_000_000))
    assert len(data) < 1_000_000  # about 100 KB on disk
    peak = peak_bytes(
        lambda: pytest.raises(xl.WorkbookRefused, xl.read_sheet, data, "Records", max_rows=100)
    )
    assert refusal(data) == "too_large"  # its declared size is over the part bound
    assert peak < 5 * 1024 * 1024


def test_a_part_that_lies_about_its_size_is_refused_when_it_unpacks_to_more():
    data = lie_about_size(
        with_sheet_xml(workbook(), huge_cell_sheet(100_000_000)), "xl/worksheets/sheet1.xml", 4000
    )
    peak = peak_bytes(
        lambda: pytest.raises(xl.WorkbookRefused, xl.read_sheet, data, "Records", max_rows=100)
    )
    assert refusal(data) == "not_xlsx"  # zipfile stops at the declared size: the CRC fails
    assert peak < 5 * 1024 * 1024


def test_a_long_cell_inside_the_part_bound_is_refused_while_streaming():
    data = with_sheet_xml(workbook(), huge_cell_sheet(20_000_000))
    peak = peak_bytes(
        lambda: pytest.raises(xl.WorkbookRefused, xl.read_sheet, data, "Records", max_rows=100)
    )
    assert refusal(data) == "cell_too_long"
    assert peak < 8 * 1024 * 1024


def test_a_cell_just_over_the_bound_is_refused_with_its_reference():
    data = workbook([("T-1", "x" * (xl.MAX_CELL_CHARS + 1))])
    assert refusal(data) == "cell_too_long:B2"
    assert xl.read_sheet(workbook([("T-1", "x" * xl.MAX_CELL_CHARS)]), "Records", max_rows=9)


def test_too_many_parts_are_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("xl/workbook.xml", "<workbook/>")
        for n in range(xl.MAX_PARTS):
            target.writestr(f"junk/{n}.xml", "")
    assert refusal(out.getvalue()) == "too_large"


def test_hidden_sheets_are_refused():
    def hide(book):
        book.create_sheet("Secret").sheet_state = "hidden"

    assert refusal(workbook(prepare=hide)) == "hidden_sheets:Secret"


def test_values_in_hidden_rows_and_columns_are_refused():
    def hide_row(book):
        book["Records"].row_dimensions[2].hidden = True

    def hide_column(book):
        book["Records"].column_dimensions["B"].hidden = True

    assert refusal(workbook(prepare=hide_row)) == "hidden_cells:A2, B2"
    assert refusal(workbook(prepare=hide_column)) == "hidden_cells:B1, B2"


def test_hidden_rows_and_columns_without_values_are_accepted():
    def hide_empty(book):
        book["Records"].row_dimensions[9].hidden = True
        book["Records"].column_dimensions["F"].hidden = True

    assert xl.read_sheet(workbook(prepare=hide_empty), "Records", max_rows=9).rows


def test_xml_with_a_document_type_is_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><workbook>&b;</workbook>'
    )
    source = zipfile.ZipFile(io.BytesIO(workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = bomb if info.filename == "xl/workbook.xml" else source.read(info.filename)
            target.writestr(info.filename, content)
    assert refusal(out.getvalue()) == "not_xlsx"
