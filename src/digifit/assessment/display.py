"""How a Digital-Check number is shown: the one place that rounds. Pure Python, no Django.

Scores are computed and stored exact (:mod:`digifit.assessment.scoring`); every comparison — a DII level, a
maturity band, a learning-path threshold, the overall as the mean of the dimensions — uses the exact values.
Rounding happens only here, when a person reads a number: on the result page, in the export's ``*_rounded``
columns, in ``digifit check score`` and in the API's ``rounded``/``display`` blocks, so that they all show the
same figure.

The rule: **one decimal, half away from zero, from the shortest decimal form of the exact value** (58.333… →
58.3, 6.25 → 6.3, −0.04 → 0.0), and the decimal separator of the language as Django's locale formats have it
(German and French ``58,3``, English ``58.3``).

::

    format_score(350 / 6, "de")     # '58,3'
    format_score(350 / 6, "en")     # '58.3'
    format_score(12.5, "de", sign=True)   # '+12,5'
    rounded(350 / 6)                # 58.3 (a number, for JSON and exports)
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "DECIMALS",
    "DECIMAL_SEPARATORS",
    "format_percent",
    "format_score",
    "rounded",
    "scores_display",
    "scores_rounded",
]

#: Decimals of a shown score (0–100).
DECIMALS = 1
#: Decimal separator per language; the same as Django's locale formats (a test keeps them equal).
DECIMAL_SEPARATORS = {"de": ",", "en": ".", "fr": ","}
#: What is shown for a score that does not exist (too few answers).
MISSING = "–"


def _quantized(value: float, decimals: int) -> Decimal:
    # repr is the shortest decimal that reads back as the same float: 6.25 stays 6.25, 350/6 is 58.333…336
    exact = Decimal(repr(float(value)))
    out = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return abs(out) if out.is_zero() else out  # never "-0.0"


def rounded(value: float | None, decimals: int = DECIMALS) -> float | None:
    """Return ``value`` rounded as it is shown (half away from zero), or None.

    >>> rounded(350 / 6), rounded(6.25), rounded(None)
    (58.3, 6.3, None)
    """
    if value is None:
        return None
    return float(_quantized(value, decimals))


def _separator(language: str | None) -> str:
    base = (language or "").lower().replace("_", "-").split("-")[0]
    return DECIMAL_SEPARATORS.get(base, ".")


def format_score(
    value: float | None, language: str | None = "de", *, decimals: int = DECIMALS, sign: bool = False
) -> str:
    """Return a score as a person reads it: ``'58,3'`` in German, ``'58.3'`` in English; ``'–'`` for None.

    ``sign=True`` writes ``+`` before a positive figure (a change since the previous check).

    >>> format_score(350 / 6, "de"), format_score(350 / 6, "en"), format_score(-2.25, "fr", sign=True)
    ('58,3', '58.3', '-2,3')
    """
    if value is None:
        return MISSING
    number = _quantized(value, decimals)
    text = f"{number:f}".replace(".", _separator(language))
    return f"+{text}" if sign and number > 0 else text


def format_percent(share: float | None, language: str | None = "de", *, decimals: int = 0) -> str:
    """Return a share (0–1) as a percentage, rounded by the same rule: ``format_percent(0.425) == '43 %'``."""
    if share is None:
        return MISSING
    return f"{format_score(share * 100, language, decimals=decimals)} %"


def _scores(result: Any) -> tuple[Mapping[str, float | None], float | None]:
    if isinstance(result, Mapping):
        return result.get("dimensions") or {}, result.get("overall")
    return result.dimensions, result.overall


def scores_rounded(result: Any) -> dict[str, Any]:
    """Return ``{"dimensions": {dim: 66.7, ...}, "overall": 58.3}``: the shown figures as numbers.

    ``result`` is a :class:`~digifit.assessment.scoring.CheckResult` or its stored dictionary.
    """
    dimensions, overall = _scores(result)
    return {"dimensions": {d: rounded(v) for d, v in dimensions.items()}, "overall": rounded(overall)}


def scores_display(result: Any, language: str | None) -> dict[str, Any]:
    """Return ``{"language": "de", "dimensions": {dim: "66,7", ...}, "overall": "58,3"}``: the shown texts."""
    dimensions, overall = _scores(result)
    return {
        "language": language,
        "dimensions": {d: format_score(v, language) for d, v in dimensions.items()},
        "overall": format_score(overall, language),
    }
