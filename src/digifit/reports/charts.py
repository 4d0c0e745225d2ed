"""Charts as Vega-Lite specifications (bars with confidence-interval error bars), rendered to SVG by vl-convert.

The specs are plain dictionaries — the same JSON the web page can hand to vega-embed — built from the report's
estimates (suppressed cells are left out). :func:`to_svg` renders one offline with ``vl-convert-python``
(no browser, no network), with German or English number formatting.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from digifit.reports.headline import HeadlineReport
from digifit.reports.locale import label, level_label

__all__ = ["headline_chart", "online_chart", "to_svg"]

VL_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
COLOUR = "#7fa7c9"
COLOUR_2 = "#d08a2e"
FONT = "DejaVu Sans"
#: d3-format's de-DE locale with the space before the per cent sign that German style (and the tables) use.
GERMAN = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " €"], "percent": " %", "minus": "−"}


def _config() -> dict[str, Any]:
    return {
        "font": FONT,
        "view": {"stroke": None},
        "axis": {"labelFontSize": 11, "titleFontSize": 11, "grid": True, "gridColor": "#e6e6e6"},
        "title": {"fontSize": 13, "anchor": "start", "fontWeight": "bold"},
    }


def headline_chart(report: HeadlineReport, lang: str) -> dict[str, Any]:
    """Horizontal bars: the weighted share with ≥ 25 % digital revenue per country, with the 95 % CI."""
    values = [
        {
            "label": level_label("country", ln.key, lang, report.labels),
            "estimate": ln.estimate.estimate,
            "low": float(ln.estimate.ci_low),
            "high": float(ln.estimate.ci_high),
            "all": ln.key == "all",
        }
        for ln in report.headline
        if ln.status != "suppressed"
    ]
    order = [v["label"] for v in values]
    y = {"field": "label", "type": "nominal", "sort": order, "title": None}
    return {
        "$schema": VL_SCHEMA,
        "title": label("chart_headline", lang),
        "width": 420,
        "height": {"step": 24},
        "data": {"values": values},
        "layer": [
            {
                "mark": {"type": "bar", "height": {"band": 0.65}},
                "encoding": {
                    "y": y,
                    "x": {
                        "field": "estimate",
                        "type": "quantitative",
                        "axis": {"format": ".0%"},
                        "scale": {"domain": [0, 1]},
                        "title": None,
                    },
                    "color": {
                        "field": "all",
                        "type": "nominal",
                        "scale": {"domain": [False, True], "range": [COLOUR, "#7a7a7a"]},
                        "legend": None,
                    },
                },
            },
            {
                "mark": {"type": "rule", "color": "#111", "strokeWidth": 1.5},
                "encoding": {"y": y, "x": {"field": "low", "type": "quantitative"}, "x2": {"field": "high"}},
            },
            {
                "mark": {"type": "text", "align": "left", "dx": 6, "fontSize": 11, "color": "#111"},
                "encoding": {
                    "y": y,
                    "x": {"field": "high", "type": "quantitative"},
                    "text": {"field": "estimate", "type": "quantitative", "format": ".1%"},
                },
            },
        ],
        "config": _config(),
    }


def online_chart(report: HeadlineReport, lang: str) -> dict[str, Any]:
    """Grouped bars: the share with a revenue fall of 25 % or more, online before the crisis vs not."""
    comp = next(c for c in report.online if c.indicator == "loss25")
    values = [
        {
            "group": label(key, lang),
            "estimate": line.estimate.estimate,
            "low": float(line.estimate.ci_low),
            "high": float(line.estimate.ci_high),
        }
        for key, line in (("c_online", comp.online), ("c_offline", comp.offline))
        if line.status != "suppressed"
    ]
    x = {"field": "group", "type": "nominal", "title": None, "axis": {"labelAngle": 0}, "sort": None}
    top = max([v["high"] for v in values] + [0.05]) * 1.25
    return {
        "$schema": VL_SCHEMA,
        "title": label("chart_online", lang),
        "width": 260,
        "height": 160,
        "data": {"values": values},
        "layer": [
            {
                "mark": {"type": "bar", "width": {"band": 0.55}},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "estimate",
                        "type": "quantitative",
                        "axis": {"format": ".0%"},
                        "scale": {"domain": [0, top]},
                        "title": None,
                    },
                    "color": {
                        "field": "group",
                        "type": "nominal",
                        "scale": {"range": [COLOUR, COLOUR_2]},
                        "legend": None,
                    },
                },
            },
            {
                "mark": {"type": "rule", "color": "#111", "strokeWidth": 1.5},
                "encoding": {"x": x, "y": {"field": "low", "type": "quantitative"}, "y2": {"field": "high"}},
            },
            {
                "mark": {"type": "text", "dy": -8, "fontSize": 11},
                "encoding": {
                    "x": x,
                    "y": {"field": "high", "type": "quantitative"},
                    "text": {"field": "estimate", "type": "quantitative", "format": ".1%"},
                },
            },
        ],
        "config": _config(),
    }


def to_svg(spec: dict[str, Any], lang: str) -> str:
    """Render a Vega-Lite spec to SVG with vl-convert (German or English number format).

    The last few renderings are kept, so the HTML and the PDF of one report render each chart once.
    """
    return _svg(json.dumps(spec, sort_keys=True), lang)


@lru_cache(maxsize=16)
def _svg(spec_json: str, lang: str) -> str:
    import vl_convert as vlc

    spec = json.loads(spec_json)
    return vlc.vegalite_to_svg(spec, vl_version="5.20", format_locale=GERMAN if lang == "de" else "en-US")
