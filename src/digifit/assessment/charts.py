"""Server-side SVG charts of the result page (no JavaScript, works offline and in print). No Django.

Texts are passed in already translated; everything is escaped here. The charts carry ``role="img"`` and a
``<title>`` so screen readers get the numbers too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from digifit.assessment.display import format_score

__all__ = ["BANDS", "Bar", "band", "dimension_chart", "share_chart"]

ACCENT = "#1f6feb"
LOW, MID, HIGH = "#d1495b", "#edae49", "#00798c"
#: Colour bands of a 0–100 score: (cut-off, band); a score exactly on a cut-off belongs to the band above it.
BANDS: tuple[tuple[float, str], ...] = ((0.0, "low"), (40.0, "mid"), (70.0, "high"))
COLOURS = {"low": LOW, "mid": MID, "high": HIGH}


def band(score: float) -> str:
    """Return the colour band of an exact score: ``'low'`` below 40, ``'mid'`` from 40 below 70, else ``'high'``.

    >>> band(40), band(40 - 1e-9), band(70)
    ('mid', 'low', 'high')
    """
    found = BANDS[0][1]
    for cut, name in BANDS:
        if score >= cut:
            found = name
    return found


def _colour(score: float) -> str:
    return COLOURS[band(score)]


@dataclass(frozen=True)
class Bar:
    """One bar: a label, a 0–100 value (None = not scored) and an optional previous value."""

    label: str
    value: float | None
    previous: float | None = None


def dimension_chart(
    bars: Sequence[Bar], *, title: str, previous_label: str = "", width: int = 720, language: str | None = "de"
) -> str:
    """Return horizontal bars of 0–100 scores, with a marker at the previous result when given.

    The figures are :func:`digifit.assessment.display.format_score` in ``language``, as everywhere else.
    """
    label_w, right = 290, 48
    plot_w = width - label_w - right
    row_h, top = 36, 26
    height = top + row_h * len(bars) + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'class="chart" font-family="system-ui, sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0, 25, 50, 75, 100):
        x = label_w + plot_w * tick / 100
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 6}" stroke="#d0d7de" '
            f'stroke-dasharray="{"0" if tick in (0, 100) else "3 3"}"/>'
        )
        out.append(f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" fill="#57606a" font-size="11">{tick}</text>')
    for i, bar in enumerate(bars):
        y = top + i * row_h
        out.append(
            f'<text x="{label_w - 10}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" fill="#24292f">'
            f"{escape(bar.label)}</text>"
        )
        if bar.value is None:
            out.append(f'<text x="{label_w + 6}" y="{y + row_h / 2 + 4:.1f}" fill="#57606a">–</text>')
            continue
        w = plot_w * max(0.0, min(100.0, bar.value)) / 100
        shown = format_score(bar.value, language)
        out.append(
            f'<rect x="{label_w}" y="{y + 7}" width="{max(w, 2):.1f}" height="{row_h - 14}" rx="4" '
            f'fill="{_colour(bar.value)}"><title>{escape(bar.label)}: {shown}</title></rect>'
        )
        out.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + row_h / 2 + 4:.1f}" fill="#24292f" '
            f'font-weight="600">{shown}</text>'
        )
        if bar.previous is not None:
            px = label_w + plot_w * max(0.0, min(100.0, bar.previous)) / 100
            before = format_score(bar.previous, language)
            out.append(
                f'<line x1="{px:.1f}" y1="{y + 3}" x2="{px:.1f}" y2="{y + row_h - 3}" stroke="#24292f" '
                f'stroke-width="2.5"><title>{escape(previous_label)}: {before}</title></line>'
            )
    out.append("</svg>")
    return "".join(out)


def share_chart(
    estimate: float,
    ci_low: float,
    ci_high: float,
    *,
    own: int | None,
    title: str,
    own_label: str = "",
    width: int = 230,
) -> str:
    """Return a small 0–100 % axis with the peers' share (dot), its confidence interval (band) and, when the
    business has the item, a marker at 100 % (it counts among the ``yes``)."""
    pad, height = 10, 30
    plot = width - 2 * pad

    def x(p: float) -> float:
        return pad + plot * max(0.0, min(1.0, p))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" class="share" font-family="system-ui, sans-serif" font-size="10">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{pad}" y1="15" x2="{width - pad}" y2="15" stroke="#d0d7de" stroke-width="2"/>',
    ]
    for tick in (0, 0.5, 1):
        out.append(f'<line x1="{x(tick):.1f}" y1="11" x2="{x(tick):.1f}" y2="19" stroke="#afb8c1"/>')
    out.append(
        f'<rect x="{x(ci_low):.1f}" y="9" width="{max(x(ci_high) - x(ci_low), 2):.1f}" height="12" rx="3" '
        f'fill="{ACCENT}" fill-opacity="0.25"/>'
    )
    out.append(f'<circle cx="{x(estimate):.1f}" cy="15" r="5" fill="{ACCENT}"/>')
    if own:
        out.append(f'<path d="M{x(1):.1f} 4 l-5 -4 h10 z" fill="#24292f"><title>{escape(own_label)}</title></path>')
    out.append("</svg>")
    return "".join(out)
