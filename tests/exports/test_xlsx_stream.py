"""The streaming XLSX writer, read back by openpyxl (the reference reader here): every value type, blank cells
keeping their columns, sheets filled in any order, sheet names made valid, the header frozen and bold, text
that looks like a formula stays text, and characters XML cannot carry are dropped, not a broken file."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from openpyxl import load_workbook

from digifit.exports.xlsx_stream import XlsxStream, _column_letters


def _book(fill) -> io.BytesIO:
    out = io.BytesIO()
    with XlsxStream(out) as book:
        fill(book)
    out.seek(0)
    return out


def test_values_come_back_with_their_types():
    when = dt.datetime(2026, 12, 4, 5, 30, 15)

    def fill(book):
        sheet = book.sheet("data", ["text", "int", "float", "bool", "when", "day", "blank", "after"])
        sheet.row(["  spaced <&> \"q\" 'x'  ", -3, 0.1, True, when, dt.date(2026, 2, 28), None, "Ä€😀"])
        sheet.row(['=HYPERLINK("x")', 2**53, 1e-300, False, None, None, "", "z"])

    wb = load_workbook(_book(fill))
    ws = wb["data"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert rows[0] == ["  spaced <&> \"q\" 'x'  ", -3, 0.1, True, when, dt.datetime(2026, 2, 28), None, "Ä€😀"]
    assert rows[1] == ['=HYPERLINK("x")', 2**53, 1e-300, False, None, None, None, "z"]
    assert ws["A3"].data_type == "s"  # text, never a formula cell
    assert ws["B2"].data_type == "n" and ws["D2"].data_type == "b"
    assert ws.freeze_panes == "A2" and ws["A1"].font.b and not ws["A2"].font.b
    assert [c.value for c in ws[1]] == ["text", "int", "float", "bool", "when", "day", "blank", "after"]


def test_sheets_fill_in_any_order_and_names_are_made_valid():
    def fill(book):
        main = book.sheet("data", ["id"])
        tools = book.sheet("tools/with:bad*chars?" + "x" * 40, ["id", "tool"])
        twin = book.sheet("DATA", ["id"])
        for i in range(3):
            main.row([i])
            tools.row([i, f"t{i}"])
            tools.row([i, f"u{i}"])
        twin.row(["only"])

    wb = load_workbook(_book(fill))
    assert wb.sheetnames[0] == "data" and wb.sheetnames[2] == "DATA~2"
    long = wb.sheetnames[1]
    assert len(long) == 31 and long.startswith("tools_with_bad_chars_")
    assert [r[0].value for r in wb["data"].iter_rows(min_row=2)] == [0, 1, 2]
    assert [r[1].value for r in wb[long].iter_rows(min_row=2)] == ["t0", "u0", "t1", "u1", "t2", "u2"]
    assert wb["DATA~2"]["A2"].value == "only"


def test_control_characters_are_dropped_and_the_package_is_sound():
    def fill(book):
        book.sheet("data", ["a"]).row(["bell\x07 and nul\x00 and tab\t and newline\n"])

    raw = _book(fill)
    assert zipfile.ZipFile(raw).testzip() is None
    assert load_workbook(raw)["data"]["A2"].value == "bell and nul and tab\t and newline\n"


def test_many_columns_get_their_letters():
    assert _column_letters(28)[-3:] == ["Z", "AA", "AB"]
    assert _column_letters(703)[-1] == "AAA"

    def fill(book):
        book.sheet("wide", [f"c{i}" for i in range(800)]).row(list(range(800)))

    ws = load_workbook(_book(fill))["wide"]
    assert ws.max_column == 800 and ws.cell(row=2, column=800).value == 799


def test_an_empty_book_still_opens():
    wb = load_workbook(_book(lambda book: None))
    assert wb.sheetnames == ["data"]


def test_an_error_while_writing_leaves_no_half_package():
    out = io.BytesIO()
    try:
        with XlsxStream(out) as book:
            book.sheet("data", ["a"]).row([1])
            raise RuntimeError("the database went away")
    except RuntimeError:
        pass
    assert out.getvalue() == b""  # nothing written: the caller's error stands, no broken file
