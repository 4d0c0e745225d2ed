"""Render the headline report as one self-contained HTML page (inline CSS, inline SVG charts), German or English.

Templates use Django's template language through a standalone :class:`django.template.Engine` — no Django
project, settings or database needed — because the web app's pages are Django templates too: one template
language for the whole project, the web analysis page can include ``reports/headline.html`` as it is, and no
second engine (Jinja2) becomes a dependency. All values reach the template already formatted as text, so the
engine's own localisation (which would need settings) is never used.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from digifit.reports.charts import headline_chart, online_chart, to_svg
from digifit.reports.headline import HeadlineReport, ReportError
from digifit.reports.locale import LANGUAGES, STRINGS, fmt_ci, fmt_int, fmt_num, fmt_pct, fmt_pp, level_label
from digifit.reports.tables import ReportTable, report_notes, report_tables

__all__ = ["TEMPLATES", "format_cell", "render_html"]

TEMPLATES = Path(__file__).with_name("templates")


@cache
def _engine():
    from django.template import Engine

    return Engine(dirs=[str(TEMPLATES)], autoescape=True, debug=False)


def check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ReportError(f"language {lang!r} is not available; expected one of {', '.join(LANGUAGES)}.")


def format_cell(value: Any, kind: str, lang: str) -> str:
    """Format one table value for people (HTML, PDF)."""
    if value is None:
        return ""
    if kind == "pct":
        return fmt_pct(value, lang)
    if kind == "pp":
        return fmt_pp(value, lang)
    if kind == "int":
        return fmt_int(value, lang)
    if kind == "num":
        return fmt_num(value, lang, 2)
    if kind == "ci":
        return fmt_ci(value[0], value[1], lang)
    if kind == "ci_pp":
        return fmt_ci(value[0], value[1], lang, kind="pp")
    return str(value)


def _table_context(table: ReportTable, lang: str) -> dict[str, Any]:
    return {
        "key": table.key,
        "title": table.title,
        "columns": [{"title": c.title, "kind": c.kind} for c in table.columns],
        "rows": [
            {
                "status": r.status,
                "mark": r.mark,
                "cells": [
                    {"kind": c.kind, "text": format_cell(r.values.get(c.key), c.kind, lang)} for c in table.columns
                ],
            }
            for r in table.rows
        ],
    }


def context(report: HeadlineReport, lang: str, *, mode: str = "screen") -> dict[str, Any]:
    """Return the template context (strings, formatted tables, SVG charts)."""
    check_lang(lang)
    tables = report_tables(report, lang)
    key_figures = [
        {
            "label": level_label("country", ln.key, lang, report.labels),
            "share": fmt_pct(ln.estimate.estimate, lang),
            "ci": fmt_ci(ln.estimate.ci_low, ln.estimate.ci_high, lang),
        }
        for ln in report.headline
        if ln.key in ("DE", "FR", "UK") and ln.status != "suppressed"
    ]
    comp = next((c for c in report.online if c.indicator == "loss25"), None)
    online_figure = ""
    if comp is not None and "suppressed" not in (comp.online.status, comp.offline.status):
        s = STRINGS[lang]
        online_figure = (
            f"{fmt_pct(comp.online.estimate.estimate, lang)} ({s['c_online']}) · "
            f"{fmt_pct(comp.offline.estimate.estimate, lang)} ({s['c_offline']}); "
            f"{s['c_difference']} {fmt_pp(comp.difference.estimate.estimate, lang)}, {s['c_ci']} "
            f"{fmt_ci(comp.difference.estimate.ci_low, comp.difference.estimate.ci_high, lang, kind='pp')}"
        )
    return {
        "lang": lang,
        "mode": mode,
        "s": STRINGS[lang],
        "css": (TEMPLATES / "reports" / "headline.css").read_text(encoding="utf-8"),
        "source": Path(report.source).name,
        "waves": ", ".join(report.waves) or "–",
        "n_rows": fmt_int(report.n_rows, lang),
        "generated": report.generated,
        "key_figures": key_figures,
        "online_figure": online_figure,
        "chart_headline": to_svg(headline_chart(report, lang), lang),
        "chart_online": to_svg(online_chart(report, lang), lang),
        "tables": [_table_context(t, lang) | {"number": str(i)} for i, t in enumerate(tables, start=1)],
        "notes": report_notes(report, lang),
        "design_note": report.design_note,
    }


def render_html(report: HeadlineReport, lang: str = "de", *, mode: str = "screen") -> str:
    """Return the report as a self-contained HTML document.

    Parameters
    ----------
    report : HeadlineReport
    lang : {'de', 'en'}, default 'de'
    mode : {'screen', 'pdf'}, default 'screen'
        ``pdf`` switches to the print layout (A4, page numbers) that :mod:`.render_pdf` uses.
    """
    from django.template import Context

    template = _engine().get_template("reports/headline.html")
    return template.render(Context(context(report, lang, mode=mode)))
