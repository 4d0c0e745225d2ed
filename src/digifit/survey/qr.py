"""QR codes of the respondent links (a version's test link, a wave's open link), to open them on a phone."""

from __future__ import annotations

import segno
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def link_qr_svg(url: str, title: str) -> SafeString:
    """The QR code of ``url`` as inline SVG: a view box and no fixed size (CSS scales it), dark on light,
    ``title`` as its accessible name."""
    svg = segno.make(url, error="m").svg_inline(
        scale=1, omitsize=True, title=escape(title), svgclass="qr", lineclass=None
    )
    return mark_safe(svg)  # segno's own markup; the only text in it is the escaped title
