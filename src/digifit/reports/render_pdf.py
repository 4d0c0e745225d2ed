"""Render the headline report as PDF with WeasyPrint: the HTML report in its print layout (A4, page numbers).

Charts are inline SVG (rendered by vl-convert), so the PDF needs no browser and no network. WeasyPrint needs
Debian's Pango (``libpango-1.0-0``, ``libpangoft2-1.0-0``) and a font (``fonts-dejavu-core``); the Makefile
installs them.
"""

from __future__ import annotations

from pathlib import Path

from digifit.reports.headline import HeadlineReport
from digifit.reports.render_html import render_html

__all__ = ["render_pdf"]


def render_pdf(report: HeadlineReport, lang: str = "de", target: str | Path | None = None) -> bytes:
    """Return the report as PDF bytes (and write them to ``target`` when given)."""
    from weasyprint import HTML

    html = render_html(report, lang, mode="pdf")
    # PDF/UA-1: tagged (headings, tables, reading order) as German public bodies must publish (BITV 2.0)
    data = HTML(string=html, base_url=str(Path.cwd())).write_pdf(pdf_variant="pdf/ua-1")
    if target is not None:
        Path(target).write_bytes(data)
    return data
