"""Formula payloads are neutralised in CSV and XLSX cells; numbers stay numbers."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from digifit.exports.cells import safe_cell

PAYLOADS = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_quoted_in_csv(payload):
    out = io.StringIO()
    csv.writer(out).writerow([safe_cell(payload), safe_cell(-5)])
    cell, number = next(csv.reader(io.StringIO(out.getvalue())))
    assert cell == "'" + payload
    assert number == "-5"


def test_xlsx_has_no_formula_cell_and_numbers_stay_numeric():
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("data")
    for payload in PAYLOADS:
        ws.append([safe_cell(payload), safe_cell(-5), safe_cell("plain")])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    sheet = openpyxl.load_workbook(buf)["data"]
    for payload, row in zip(PAYLOADS, sheet.iter_rows(), strict=True):
        text, number, plain = row
        assert text.data_type != "f"
        assert text.value.startswith("'")
        assert payload.strip() in text.value
        assert number.data_type == "n" and number.value == -5
        assert plain.value == "plain"


def test_reach_csv_quotes_a_formula_group_and_keeps_the_counts_numeric():
    from digifit.programme.reach import FunnelRow, funnel_to_csv

    rows = [FunnelRow((("region", p),), 3, -2, 1) for p in ('=HYPERLINK("http://x")', "+1", "@SUM(A1)", "\tfoo")]
    parsed = list(csv.reader(io.StringIO(funnel_to_csv(rows))))
    assert [r[0] for r in parsed[1:]] == ["'" + r.group[0][1] for r in rows]
    assert all(r[1:] == ["3", "-2", "1"] for r in parsed[1:])
