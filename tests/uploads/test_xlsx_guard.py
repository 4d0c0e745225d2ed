"""Hostile .xlsx files are refused by the upload guard quickly and with little memory."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import openpyxl
import pytest

from digifit.uploads import UploadLimits, UploadRefused, check_xlsx

CT = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def _zip(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        zf.writestr("[Content_Types].xml", CT)
        for name, payload in entries:
            if callable(payload):
                with zf.open(name, "w", force_zip64=True) as fh:
                    payload(fh)
            else:
                zf.writestr(name, payload)
    return buf.getvalue()


def _whitespace_gb(fh):
    chunk = b" " * (1 << 20)
    for _ in range(1024):
        fh.write(chunk)


def _row_bomb(fh):
    fh.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    row = b"<row/>" * 10000
    for _ in range(100):
        fh.write(row)
    fh.write(b"</sheetData></worksheet>")


def _strings_bomb(fh):
    fh.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
    si = b"<si><t>x</t></si>" * 10000
    for _ in range(100):
        fh.write(si)
    fh.write(b"</sst>")


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><sst>&lol2;</sst>'
)
XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><sst>&e;</sst>'


def _many_entries() -> bytes:
    return _zip([(f"xl/e{i}.bin", b"") for i in range(10_000)], zipfile.ZIP_STORED)


HOSTILE = {
    "zip_bomb": (lambda: _zip([("xl/worksheets/sheet1.xml", _whitespace_gb)]), {"entry_too_large", "ratio"}),
    "row_bomb": (lambda: _zip([("xl/worksheets/sheet1.xml", _row_bomb)]), {"too_many_rows", "ratio"}),
    "strings_bomb": (lambda: _zip([("xl/sharedStrings.xml", _strings_bomb)]), {"too_many_strings", "ratio"}),
    "too_large": (lambda: b"PK\x03\x04" + b"\0" * (11 * 2**20), {"too_large"}),
    "many_entries": (_many_entries, {"too_many_entries"}),
    "zip_slip": (lambda: _zip([("xl/../../x", b"x")]), {"bad_path"}),
    "absolute": (lambda: _zip([("/etc/x", b"x")]), {"bad_path"}),
    "laughs": (lambda: _zip([("xl/sharedStrings.xml", LAUGHS)]), {"xml_entities"}),
    "xxe": (lambda: _zip([("xl/sharedStrings.xml", XXE)]), {"xml_entities"}),
    "not_zip": (lambda: b"name,type\nq1,text\n", {"not_xlsx"}),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_file_is_refused_fast_and_small(kind):
    build, codes = HOSTILE[kind]
    data = build()
    started = time.perf_counter()
    with pytest.raises(UploadRefused) as info:
        check_xlsx(data, UploadLimits())
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    with pytest.raises(UploadRefused):
        check_xlsx(data, UploadLimits())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert info.value.code in codes
    assert "\n" not in str(info.value)
    assert elapsed < 2.0
    assert peak < 200 * 2**20


def test_lying_header_is_caught_while_streaming():
    limits = UploadLimits(max_entry_bytes=1000, max_ratio=1e9)
    data = _zip([("xl/worksheets/sheet1.xml", b"<a>" + b" " * 5000 + b"</a>")])
    # Patch the central directory and local header sizes down to claim 10 bytes.
    zf = zipfile.ZipFile(io.BytesIO(data))
    info = zf.getinfo("xl/worksheets/sheet1.xml")
    real = info.file_size.to_bytes(4, "little")
    forged = data.replace(real, (10).to_bytes(4, "little"))
    with pytest.raises(UploadRefused) as err:
        check_xlsx(forged, limits)
    assert err.value.code in {"entry_too_large", "corrupt"}


def test_valid_workbook_passes():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label"])
    ws.append(["text", "q1", "Name"])
    buf = io.BytesIO()
    wb.save(buf)
    check_xlsx(buf.getvalue())


@pytest.mark.parametrize(("writer", "code"), [(_row_bomb, "too_many_rows"), (_strings_bomb, "too_many_strings")])
def test_rows_and_strings_are_counted_while_streaming(writer, code):
    name = "xl/worksheets/sheet1.xml" if writer is _row_bomb else "xl/sharedStrings.xml"
    with pytest.raises(UploadRefused) as info:
        check_xlsx(_zip([(name, writer)]), UploadLimits(max_ratio=1e9))
    assert info.value.code == code


def test_dimension_over_the_limit_is_refused():
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="A1:C2000000"/><sheetData/></worksheet>'
    )
    with pytest.raises(UploadRefused) as info:
        check_xlsx(_zip([("xl/worksheets/sheet1.xml", sheet)]))
    assert info.value.code == "too_many_rows"
