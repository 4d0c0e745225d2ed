"""The report's tables in one neutral shape that every renderer formats: columns with a kind, rows of values.

Values are the :class:`~digifit.stats.Estimate` numbers as they are (shares as fractions, ``n`` as integers);
the renderers decide how they look (``33,1 %`` in HTML/PDF, ``0.331`` with the number format ``0.0%`` in XLSX).
A suppressed row keeps its label and ``n`` but no estimate; its mark and the flag mark are in ``Row.mark``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from digifit.reports.headline import HeadlineReport, Line
from digifit.reports.locale import label, level_label

__all__ = ["Column", "ReportTable", "Row", "report_notes", "report_tables"]


@dataclass(frozen=True)
class Column:
    """``kind``: ``text``, ``pct`` (a share), ``pp`` (a difference of shares), ``int``, ``num`` (2 decimals),
    ``ci`` (a ``(low, high)`` pair of shares) or ``ci_pp`` (of differences)."""

    key: str
    title: str
    kind: str


@dataclass(frozen=True)
class Row:
    values: dict[str, Any]
    status: str = "ok"  # ok | flagged | suppressed

    @property
    def mark(self) -> str:
        return {"suppressed": "–", "flagged": "*"}.get(self.status, "")


@dataclass(frozen=True)
class ReportTable:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = field(default=())


def _share_row(line: Line, column: str, lang: str, labels=None) -> Row:
    e = line.estimate
    hidden = line.status == "suppressed"
    return Row(
        {
            "label": level_label(column, line.key, lang, labels),
            "share": None if hidden else e.estimate,
            "ci": None if hidden else (float(e.ci_low), float(e.ci_high)),
            "n": e.n,
            "cv": None if hidden else float(e.cv),
        },
        line.status,
    )


def _share_table(key: str, title: str, first: str, column: str, lines, lang: str, labels=None) -> ReportTable:
    cols = (
        Column("label", label(first, lang), "text"),
        Column("share", label("c_share", lang), "pct"),
        Column("ci", label("c_ci", lang), "ci"),
        Column("n", label("c_n", lang), "int"),
        Column("cv", label("c_cv", lang), "pct"),
    )
    return ReportTable(key, label(title, lang), cols, tuple(_share_row(ln, column, lang, labels) for ln in lines))


def report_tables(report: HeadlineReport, lang: str) -> list[ReportTable]:
    """Return the report's tables, in order, with titles in ``lang``."""
    tables = [
        _share_table("headline", "t_headline", "c_country", "country", report.headline, lang, report.labels),
    ]
    cols = (
        Column("label", label("c_indicator", lang), "text"),
        Column("online", label("c_online", lang), "pct"),
        Column("online_ci", label("c_ci", lang), "ci"),
        Column("online_n", label("c_n", lang), "int"),
        Column("offline", label("c_offline", lang), "pct"),
        Column("offline_ci", label("c_ci", lang), "ci"),
        Column("offline_n", label("c_n", lang), "int"),
        Column("difference", label("c_difference", lang), "pp"),
        Column("difference_ci", label("c_ci", lang), "ci_pp"),
    )
    rows = []
    for comp in report.online:
        values: dict[str, Any] = {"label": label(f"i_{comp.indicator}", lang)}
        status = "ok"
        for name, line in (("online", comp.online), ("offline", comp.offline), ("difference", comp.difference)):
            e = line.estimate
            hidden = line.status == "suppressed"
            values[name] = None if hidden else e.estimate
            values[f"{name}_ci"] = None if hidden else (float(e.ci_low), float(e.ci_high))
            if name != "difference":
                values[f"{name}_n"] = e.n
            if line.status == "suppressed" or (line.status == "flagged" and status == "ok"):
                status = line.status
        rows.append(Row(values, status))
    tables.append(ReportTable("online", label("t_online", lang), cols, tuple(rows)))
    tables.append(_share_table("by_sector", "t_sector", "c_sector", "sector", report.by_sector, lang, report.labels))
    tables.append(_share_table("by_size", "t_size", "c_size", "size", report.by_size, lang, report.labels))
    cols = (
        Column("label", label("c_country", lang), "text"),
        Column("unweighted", label("c_unweighted", lang), "pct"),
        Column("unweighted_ci", label("c_ci", lang), "ci"),
        Column("weighted", label("c_weighted", lang), "pct"),
        Column("weighted_ci", label("c_ci", lang), "ci"),
        Column("n", label("c_n", lang), "int"),
    )
    rows = []
    for line in report.weighted_vs_unweighted:
        u, w = line.unweighted, line.estimate
        hidden = line.status == "suppressed"
        rows.append(
            Row(
                {
                    "label": level_label("country", line.key, lang, report.labels),
                    "unweighted": None if hidden else u.estimate,
                    "unweighted_ci": None if hidden else (float(u.ci_low), float(u.ci_high)),
                    "weighted": None if hidden else w.estimate,
                    "weighted_ci": None if hidden else (float(w.ci_low), float(w.ci_high)),
                    "n": w.n,
                },
                line.status,
            )
        )
    tables.append(ReportTable("weighting", label("t_weighting", lang), cols, tuple(rows)))
    cols = (
        Column("label", label("c_country", lang), "text"),
        Column("responses", label("c_responses", lang), "int"),
        Column("businesses", label("c_businesses", lang), "int"),
        Column("panel", label("c_panel", lang), "int"),
        Column("population", label("c_population", lang), "int"),
        Column("weighted_total", label("c_weighted_total", lang), "int"),
        Column("deff", label("c_deff", lang), "num"),
    )
    rows = [
        Row(
            {
                "label": level_label("country", s.country, lang, report.labels),
                "responses": s.n,
                "businesses": s.businesses,
                "panel": s.panel_rows,
                "population": s.population,
                "weighted_total": s.weighted_total.estimate,
                "deff": s.deff,
            }
        )
        for s in report.sample
    ]
    tables.append(ReportTable("sample", label("t_sample", lang), cols, tuple(rows)))
    by_country: dict[str, dict[str, float]] = {}
    for key, value in report.margins["country_size"].items():
        country, size = key.split("/")
        by_country.setdefault(country, {})[size] = value
    sizes = list(dict.fromkeys(k.split("/")[1] for k in report.margins["country_size"]))
    order = ["micro", "small", "medium", "large"]
    sizes.sort(key=lambda z: order.index(z) if z in order else len(order))
    cols = (
        Column("label", label("c_country", lang), "text"),
        *(Column(z, level_label("size", z, lang, report.labels), "int") for z in sizes),
    )
    rows = [
        Row({"label": level_label("country", c, lang, report.labels), **values}) for c, values in by_country.items()
    ]
    tables.append(ReportTable("margins_country_size", label("t_margins_cs", lang), cols, tuple(rows)))
    cols = (Column("label", label("c_sector", lang), "text"), Column("population", label("c_population", lang), "int"))
    rows = [
        Row({"label": level_label("sector", sector, lang, report.labels), "population": value})
        for sector, value in report.margins["sector"].items()
    ]
    tables.append(ReportTable("margins_sector", label("t_margins_sector", lang), cols, tuple(rows)))
    return tables


def report_notes(report: HeadlineReport, lang: str) -> list[str]:
    """Return the footnotes: marks, what a CI means, weighting, variance, the difference, the data."""
    margins = report.margins_source or report.margins_dir
    max_cv = f"{report.max_cv:.0%}".replace("%", " %" if lang == "de" else "%")
    notes = [
        label("note_suppressed", lang, min_n=report.min_n),
        label("note_flagged", lang, max_cv=max_cv),
        label("note_ci", lang),
        label("note_weighting", lang, margins=margins),
        label("note_design", lang),
        label("note_difference", lang),
        label("note_unweighted", lang),
    ]
    if report.sector_scaled:
        notes.append(label("note_sector_scaled", lang))
    return notes
