"""A streaming XLSX writer for large exports: rows go straight to each sheet's XML, in constant memory.

Why not openpyxl or XlsxWriter here: both build a cell object (or a cell record) per value and measured
100-190 k cells/s on the project's 2-core machine, i.e. 35-70 s for a 100 k-submission export of the bundled
questionnaire (about 7 M cells); this writer formats each row as one string of SpreadsheetML and reaches the
export's target of 100 k rows in < 10 s (figures in docs/benchmarks.md, ``benchmarks/run_exports.py``). It writes
only what an export needs — numbers, booleans, text, datetimes and a frozen bold header row, one or more sheets
— and nothing of what a report workbook needs (those stay with openpyxl: ``digifit.reports``). openpyxl reads
every file it writes back in the tests.

* Text is an inline string (``t="inlineStr"``): never a formula, whatever it starts with (the export still
  quotes formula-like text, :func:`digifit.exports.cells.safe_cell`, for the spreadsheet programs that re-type
  what one edits); characters XML 1.0 cannot carry are dropped. No shared-string table, so nothing grows with
  the number of distinct texts.
* A datetime is a serial day number (1900 date system) with an ISO date-time number format, as Excel stores
  it; give it naive (UTC) — the export does.
* Each sheet's XML goes to its own temporary file while rows arrive (sheets fill in any order, e.g. a
  submission's main row and its repeat rows), and the package is zipped when the writer is closed.

No Django imports.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

__all__ = ["XlsxStream"]

_EPOCH = dt.datetime(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug built into the offset)
_DAY = dt.timedelta(days=1)
_INF = float("inf")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

# style 0: default; 1: the header (bold); 2: a datetime (yyyy-mm-dd hh:mm:ss)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f"<styleSheet {_NS}>"
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _column_letters(n: int) -> list[str]:
    """``["A", "B", …]`` for ``n`` columns (``AA`` after ``Z``)."""
    out = []
    for i in range(1, n + 1):
        name = ""
        while i:
            i, rest = divmod(i - 1, 26)
            name = chr(65 + rest) + name
        out.append(name)
    return out


_NEEDS_WORK = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPACE = frozenset(" \t\n\r")


@functools.lru_cache(maxsize=8192)
def _plain_text_cell(value: str) -> str:
    """The cell of a text without reference or style: exports repeat the same codes and labels on every row."""
    return _inline(value, "", "")


_INT_CELLS = {i: f"<c><v>{i}</v></c>" for i in range(-1, 101)}  # 0/1 of the choice columns, small counts


def _inline(value: str, ref: str, style: str) -> str:
    """An inline-string cell; ``xml:space`` only where leading or trailing white space must survive."""
    if _NEEDS_WORK.search(value):
        value = escape(_ILLEGAL.sub("", value))
    if value and (value[0] in _SPACE or value[-1] in _SPACE):
        return f'<c{ref}{style} t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'
    return f'<c{ref}{style} t="inlineStr"><is><t>{value}</t></is></c>'


class _Sheet:
    def __init__(self, name: str, columns: int) -> None:
        self.name = name
        self.file = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 - closed by XlsxStream
        self.letters = _column_letters(max(columns, 1))
        self.rows = 0
        self.file.write(
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet {_NS} xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
            "<sheetData>"
        )

    def row(self, values: Sequence[Any], style: str = "") -> None:
        """Append one row. A cell carries its reference (``r="C7"``) only after a blank one: without it a
        reader places a cell right after the previous one, which keeps the rows short."""
        self.rows += 1
        n = self.rows
        letters = self.letters
        if len(values) > len(letters):
            letters = self.letters = _column_letters(len(values))
        parts = [f'<row r="{n}">']
        append = parts.append
        gap = False
        for i, value in enumerate(values):
            kind = type(value)
            if value is None or (kind is str and not value):
                gap = True
                continue
            if not gap and not style:  # the common case: a cell right after the previous one
                if kind is str:
                    append(_plain_text_cell(value) if len(value) < 64 else _inline(value, "", ""))
                    continue
                if kind is int and -1 <= value <= 100:
                    append(_INT_CELLS[value])
                    continue
            ref = f' r="{letters[i]}{n}"' if gap else ""
            gap = False
            if kind is str:
                append(_inline(value, ref, style))
            elif kind is int or kind is float:
                if kind is float and (value != value or value in (_INF, -_INF)):  # NaN/inf: no number in XLSX
                    gap = True
                    continue
                append(f"<c{ref}{style}><v>{value!r}</v></c>")
            elif kind is bool:
                append(f'<c{ref}{style} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, dt.datetime):
                days = (value.replace(tzinfo=None) - _EPOCH) / _DAY
                append(f'<c{ref} s="2"><v>{days!r}</v></c>')
            elif isinstance(value, dt.date):
                days = (dt.datetime.combine(value, dt.time()) - _EPOCH) / _DAY
                append(f'<c{ref} s="2"><v>{days!r}</v></c>')
            elif isinstance(value, int | float):  # a subclass (an IntEnum, numpy's float64)
                append(f"<c{ref}{style}><v>{float(value)!r}</v></c>")
            else:
                append(_inline(str(value), ref, style))
        append("</row>")
        self.file.write("".join(parts))

    def finish(self) -> None:
        self.file.write("</sheetData></worksheet>")
        self.file.flush()
        self.file.seek(0)


class XlsxStream:
    """Write an XLSX package sheet by sheet, row by row.

    >>> import io
    >>> from openpyxl import load_workbook
    >>> out = io.BytesIO()
    >>> with XlsxStream(out) as book:
    ...     data = book.sheet("data", ["name", "n"])
    ...     data.row(["=1+1", 3])
    >>> sheet = load_workbook(out)["data"]
    >>> [c.value for c in sheet[2]], sheet["A2"].data_type
    (['=1+1', 3], 's')
    """

    def __init__(self, target: IO[bytes] | str | Path, *, compresslevel: int = 1) -> None:
        self.target = target
        self.compresslevel = compresslevel
        self.sheets: list[_Sheet] = []
        self._names: set[str] = set()

    def sheet(self, name: str, header: Iterable[Any]) -> _Sheet:
        """Add a sheet named ``name`` (made valid: at most 31 characters, no ``[]:*?/\\``, unique) whose first
        row is ``header`` (bold, frozen)."""
        clean = _SHEET_NAME_BAD.sub("_", name)[:31] or "sheet"
        base, n = clean, 2
        while clean.lower() in self._names:
            suffix = f"~{n}"
            clean, n = base[: 31 - len(suffix)] + suffix, n + 1
        self._names.add(clean.lower())
        header = list(header)
        sheet = _Sheet(clean, len(header))
        sheet.row(header, style=' s="1"')
        self.sheets.append(sheet)
        return sheet

    def close(self) -> None:
        """Zip the package into the target (the sheets' temporary files go away)."""
        if not self.sheets:
            self.sheet("data", [])
        sheets = self.sheets
        n = len(sheets)
        content_types = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                for i in range(1, n + 1)
            )
            + "</Types>"
        )
        root_rels = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        )
        workbook = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook {_NS} xmlns:r="{_REL}"><sheets>'
            + "".join(f'<sheet name={quoteattr(s.name)} sheetId="{i}" r:id="rId{i}"/>' for i, s in enumerate(sheets, 1))
            + "</sheets></workbook>"
        )
        workbook_rels = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, n + 1)
            )
            + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
        )
        with zipfile.ZipFile(
            self.target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=self.compresslevel
        ) as zf:
            zf.writestr("[Content_Types].xml", content_types)
            zf.writestr("_rels/.rels", root_rels)
            zf.writestr("xl/workbook.xml", workbook)
            zf.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
            zf.writestr("xl/styles.xml", _STYLES)
            for i, sheet in enumerate(sheets, 1):
                sheet.finish()
                with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as out:
                    while chunk := sheet.file.read(1 << 20):
                        out.write(chunk.encode("utf-8"))
                sheet.file.close()

    def __enter__(self) -> XlsxStream:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            for sheet in self.sheets:
                sheet.file.close()
