"""The reach page's charts as Vega-Lite specifications (plain dictionaries the page hands to vega-embed).

Every number comes from :mod:`digifit.programme.reach` through :class:`~digifit.programme.selectors.ReachSummary`;
these functions only lay them out. Texts are in the UI language; number and date formats follow the page's
language in the browser (``digifit/embed-charts.js`` sets the locale).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from digifit.programme.selectors import ReachSummary

VL_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
COLOUR = "#2f6f9f"
COLOUR_BAND = "#9cc3e0"
COLOUR_TARGET = "#c0392b"

__all__ = ["funnel_chart", "trend_chart"]


def _base(title: str, height: int) -> dict[str, Any]:
    return {
        "$schema": VL_SCHEMA,
        "title": title,
        "width": "container",
        "height": height,
        "autosize": {"type": "fit", "contains": "padding"},
        "config": {"view": {"stroke": None}, "axis": {"gridColor": "#e6e6e6"}, "title": {"anchor": "start"}},
    }


def funnel_chart(summary: ReachSummary) -> dict[str, Any]:
    """Horizontal bars: registered → attended → digitally fit (overall)."""
    total = summary.total
    values = [
        {"stage": _("Registered"), "n": total.registered, "order": 1},
        {"stage": _("Attended"), "n": total.attended, "order": 2},
        {"stage": _("Digitally fit"), "n": total.fit, "order": 3},
    ]
    spec = _base(_("Funnel: registered → attended → digitally fit"), 150)
    spec["data"] = {"values": values}
    y = {"field": "stage", "type": "nominal", "sort": [v["stage"] for v in values], "title": None}
    spec["layer"] = [
        {
            "mark": {"type": "bar", "color": COLOUR},
            "encoding": {
                "y": y,
                "x": {"field": "n", "type": "quantitative", "title": _("Businesses"), "axis": {"format": ",d"}},
                "tooltip": [
                    {"field": "stage", "title": _("Stage")},
                    {"field": "n", "title": _("Businesses"), "format": ",d"},
                ],
            },
        },
        {
            "mark": {"type": "text", "align": "left", "dx": 4},
            "encoding": {"y": y, "x": {"field": "n", "type": "quantitative"}, "text": {"field": "n", "format": ",d"}},
        },
    ]
    return spec


def trend_chart(summary: ReachSummary) -> dict[str, Any]:
    """The cumulative count of digitally fit businesses, the forecast's median and band, and the target line."""
    fit, forecast = _("Digitally fit (cumulative)"), _("Forecast (median)")
    level = summary.forecast.level if summary.forecast else 0.9
    band_label = _("Forecast interval (%(level)d %%)") % {"level": round(100 * level)}
    actual = [{"week": d.isoformat(), "n": n, "series": fit} for d, n in summary.cumulative]
    median = [{"week": p.week_end.isoformat(), "n": p.median, "series": forecast} for p in summary.band]
    if actual and median:  # the median line starts where the history ends
        median.insert(0, {**actual[-1], "series": forecast})
    band = [{"week": p.week_end.isoformat(), "low": p.low, "high": p.high} for p in summary.band]
    x = {"field": "week", "type": "temporal", "title": None, "axis": {"format": "%b %Y", "labelOverlap": True}}
    y_title = _("Businesses")
    spec = _base(_("Digitally fit against the target"), 260)
    colours = {"domain": [fit, forecast], "range": [COLOUR, COLOUR]}
    spec["layer"] = [
        {
            "data": {"values": band},
            "mark": {"type": "area", "color": COLOUR_BAND, "opacity": 0.45},
            "encoding": {
                "x": x,
                "y": {"field": "low", "type": "quantitative", "title": y_title, "axis": {"format": ",d"}},
                "y2": {"field": "high"},
                "tooltip": [
                    {"field": "week", "type": "temporal", "title": _("Week ending"), "format": "%d.%m.%Y"},
                    {"field": "low", "title": band_label + " ↓", "format": ",d"},
                    {"field": "high", "title": band_label + " ↑", "format": ",d"},
                ],
            },
        },
        {
            "data": {"values": actual + median},
            "mark": {"type": "line", "strokeWidth": 2},
            "encoding": {
                "x": x,
                "y": {"field": "n", "type": "quantitative", "title": y_title},
                "color": {
                    "field": "series",
                    "type": "nominal",
                    "scale": colours,
                    "legend": {"orient": "bottom", "title": None},
                },
                "strokeDash": {
                    "field": "series",
                    "type": "nominal",
                    "scale": {"domain": [fit, forecast], "range": [[1, 0], [5, 4]]},
                    "legend": None,
                },
                "tooltip": [
                    {"field": "week", "type": "temporal", "title": _("Week ending"), "format": "%d.%m.%Y"},
                    {"field": "n", "title": y_title, "format": ",d"},
                ],
            },
        },
        {
            "data": {"values": [{"target": summary.target, "label": _("Target")}]},
            "mark": {"type": "rule", "color": COLOUR_TARGET, "strokeWidth": 1.5},
            "encoding": {"y": {"field": "target", "type": "quantitative"}},
        },
        {
            "data": {"values": [{"target": summary.target, "label": _("Target")}]},
            "mark": {"type": "text", "align": "left", "baseline": "bottom", "dx": 2, "dy": -2, "color": COLOUR_TARGET},
            "encoding": {
                "y": {"field": "target", "type": "quantitative"},
                "x": {"value": 0},
                "text": {"field": "label"},
            },
        },
    ]
    return spec
