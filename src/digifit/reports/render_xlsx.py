"""Render the headline report as an Excel workbook with openpyxl: one sheet per table, plus a notes sheet.

Numbers are stored as numbers — shares as fractions with the number format ``0.0%``, ``n`` as integers,
confidence limits in their own columns — so analysts can compute with them; a suppressed cell is empty and its
row carries the mark ``–`` in the last column, a flagged one ``*``; the notes sheet explains the marks. Text cells
pass :func:`~digifit.exports.cells.safe_cell` (a label from the answers never becomes a formula).
"""

from __future__ import annotations

import io
from pathlib import Path

from digifit.exports.cells import safe_cell
from digifit.reports.headline import HeadlineReport
from digifit.reports.locale import STRINGS
from digifit.reports.render_html import check_lang
from digifit.reports.tables import report_notes, report_tables

__all__ = ["render_xlsx"]

FORMATS = {"pct": "0.0%", "pp": "+0.0%;-0.0%;0.0%", "int": "#,##0", "num": "0.00"}
SHEET_NAMES = {
    "headline": ("Land", "Country"),
    "online": ("Online vor der Krise", "Online before crisis"),
    "by_sector": ("Branche", "Sector"),
    "by_size": ("Größenklasse", "Size class"),
    "weighting": ("Gewichtung", "Weighting"),
    "sample": ("Stichprobe", "Sample"),
    "margins_country_size": ("Rand Land × Größe", "Margin country × size"),
    "margins_sector": ("Rand Branche", "Margin sector"),
}


def render_xlsx(report: HeadlineReport, lang: str = "de", target: str | Path | None = None) -> bytes:
    """Return the report as XLSX bytes (and write them to ``target`` when given)."""
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    check_lang(lang)
    s = STRINGS[lang]
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for table in report_tables(report, lang):
        ws = wb.create_sheet(SHEET_NAMES[table.key][0 if lang == "de" else 1])
        ws.append([safe_cell(table.title)])
        ws["A1"].font = Font(bold=True, size=12)
        header: list[str] = []
        kinds: list[str] = []
        for c in table.columns:
            if c.kind in ("ci", "ci_pp"):
                header += [f"{c.title}: {s['c_ci_low']}", f"{c.title}: {s['c_ci_high']}"]
                kinds += ["pct" if c.kind == "ci" else "pp"] * 2
            else:
                header.append(c.title)
                kinds.append(c.kind)
        header.append(s["c_note"])
        kinds.append("text")
        ws.append([safe_cell(h) for h in header])
        for cell in ws[2]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        for row in table.rows:
            values: list[object] = []
            for c in table.columns:
                v = row.values.get(c.key)
                if c.kind in ("ci", "ci_pp"):
                    values += list(v) if v is not None else [None, None]
                else:
                    values.append(float(v) if c.kind in ("pct", "pp", "num") and v is not None else v)
            values.append(row.mark or None)
            ws.append([safe_cell(v) for v in values])  # labels come from answers: never a formula
            r = ws.max_row
            for j, kind in enumerate(kinds, start=1):
                if kind in FORMATS:
                    ws.cell(r, j).number_format = FORMATS[kind]
        for j in range(1, len(header) + 1):
            ws.column_dimensions[get_column_letter(j)].width = 34 if j == 1 else 14
        ws.freeze_panes = "B3"
    notes = wb.create_sheet(s["t_notes"])
    notes.append([safe_cell(s["t_notes"])])
    notes["A1"].font = Font(bold=True, size=12)
    for text in report_notes(report, lang):
        notes.append([safe_cell(text)])
    notes.append([])
    notes.append([s["source"], safe_cell(Path(report.source).name)])
    notes.append([s["waves"], safe_cell(", ".join(report.waves))])
    notes.append([s["generated"], safe_cell(report.generated)])
    notes.append(["design", safe_cell(report.design_note)])
    notes.column_dimensions["A"].width = 120
    for row in notes.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if target is not None:
        Path(target).write_bytes(data)
    return data
