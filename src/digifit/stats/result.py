"""The one result type every estimator returns: a small table of :class:`Estimate` rows."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Estimate", "Estimates"]

#: The keys of one row of ``digifit estimate --json`` (a stable contract), in order.
JSON_KEYS = (
    "statistic",
    "variable",
    "level",
    "domain",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "n",
    "deff",
)


@dataclass(frozen=True)
class Estimate:
    """One estimated quantity with its uncertainty.

    Attributes
    ----------
    statistic : str
        ``'mean'``, ``'total'``, ``'proportion'``, ``'ratio'`` or ``'quantile'``.
    variable : str
        The analysis variable (``'num/den'`` for a ratio).
    level : object
        The category for a proportion, the probability for a quantile, else ``None``.
    domain : dict
        Domain column → value; ``{}`` for the whole population.
    estimate, se, ci_low, ci_high : float
        Point estimate, standard error and confidence interval.
    df : int
        Design degrees of freedom in the domain (PSUs minus strata), as R's ``degf()`` of the subset.
    n : int
        Rows used (in the domain, with a non-missing value).
    deff : float or None
        Design effect (R's ``deff=TRUE``: against simple random sampling without replacement).
    cv : float
        Coefficient of variation ``se / |estimate|``.
    ci_method : str
        How the interval was computed.
    """

    statistic: str
    variable: str
    level: Any
    domain: dict[str, Any]
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    df: int
    n: int
    deff: float | None = None
    cv: float = field(default=math.nan)
    ci_method: str = "wald"

    def to_dict(self) -> dict[str, Any]:
        """Return the row as the JSON contract's dictionary (plus ``cv`` and ``ci_method``)."""
        row = asdict(self)
        return {key: _json_value(row[key]) for key in (*JSON_KEYS, "cv", "ci_method")}


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


@dataclass(frozen=True)
class Estimates(Sequence[Estimate]):
    """An ordered, immutable table of estimates (what every estimator returns)."""

    rows: tuple[Estimate, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):  # type: ignore[override]
        return self.rows[index]

    def __iter__(self) -> Iterator[Estimate]:
        return iter(self.rows)

    def __add__(self, other: Estimates) -> Estimates:
        return Estimates(self.rows + other.rows)

    def to_dicts(self) -> list[dict[str, Any]]:
        """Return the rows as JSON-ready dictionaries."""
        return [row.to_dict() for row in self.rows]

    def to_arrow(self):
        """Return the rows as a :class:`pyarrow.Table` (domain flattened into ``domain.<col>`` columns)."""
        import pyarrow as pa

        records = []
        for row in self.rows:
            rec = row.to_dict()
            domain = rec.pop("domain")
            rec["level"] = None if rec["level"] is None else str(rec["level"])
            for key, value in domain.items():
                rec[f"domain.{key}"] = value
            records.append(rec)
        return pa.Table.from_pylist(records)

    def __repr__(self) -> str:
        return format_table(self)


def format_table(estimates: Estimates) -> str:
    """Render estimates as a plain-text table for people."""
    headers = [
        "statistic",
        "variable",
        "level",
        "domain",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "df",
        "n",
        "deff",
    ]
    lines = []
    for e in estimates:
        domain = ", ".join(f"{k}={v}" for k, v in e.domain.items()) or "(all)"
        lines.append(
            [
                e.statistic,
                e.variable,
                "" if e.level is None else str(e.level),
                domain,
                _fmt(e.estimate),
                _fmt(e.se),
                _fmt(e.ci_low),
                _fmt(e.ci_high),
                str(e.df),
                str(e.n),
                "" if e.deff is None else _fmt(e.deff),
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in lines)) if lines else len(h) for i, h in enumerate(headers)]
    numeric = {4, 5, 6, 7, 8, 9, 10}

    def render(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([render(headers), render(["-" * w for w in widths]), *(render(r) for r in lines)])


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "NA"
    return f"{x:.6g}"
