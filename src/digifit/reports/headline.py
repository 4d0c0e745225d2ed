"""The headline report: which tables, each computed by :mod:`digifit.stats` — nothing is re-computed here.

:func:`headline_report` reads a Parquet wave snapshot (the columns of
:func:`digifit.survey.exports.snapshot_write` for the bundled questionnaire, or :mod:`digifit.demo.waves`),
builds the design and rakes it to the population margins, and returns a :class:`HeadlineReport` of tables whose
numbers are :class:`~digifit.stats.Estimate` rows. The renderers (:mod:`.render_html`, :mod:`.render_pdf`,
:mod:`.render_xlsx`) only format them.

The design
----------
- **Strata**: ``country`` (each country's sample is recruited on its own).
- **Clusters**: the business — ``panel_id`` where the response has one, else ``instance_id`` — so a panel
  business answering several waves is one cluster and the pooled estimates' standard errors account for it.
- **Weights**: ``design_weight`` when the snapshot has it (the demo's country expansion factor), else 1; then
  raked (:func:`digifit.stats.rake`) to enterprises by country × size class and by sector.
- Rows whose country, size or sector has no population count (e.g. ``country = other``) are left out; the
  report says how many.

Derived 0/1 columns (data preparation, in the engine): ``digital25`` (as the questionnaire calculates it),
``online_before`` (``presence_before`` other than ``none``), ``loss25`` (revenue fell by 25 % or more) and
``loss`` (revenue fell), both missing for ``dk``.

The "online before the crisis" difference
-----------------------------------------
The two groups are domains of one cluster sample, so their estimates are not independent; subtracting and
adding the variances would be wrong. :func:`difference` estimates ``ȳ₁ − ȳ₀`` with its linearisation variable
``z = g·(y − ȳ₁)/p₁ − (1 − g)·(y − ȳ₀)/p₀`` (``p`` the groups' weighted shares, all from :mod:`digifit.stats`),
as R's ``svyby(covmat=TRUE)`` + ``svycontrast`` do: ``stats.mean`` of ``z + d̂`` on the same (raked) design
returns ``d̂`` with the Taylor standard error of the difference, calibration and clusters included. Without
calibration it equals the slope of ``stats.glm(design, "y ~ g")`` and its sandwich SE (tested).

Reliability
-----------
:func:`reliability`: a cell with ``n < min_n`` (default 30) is **suppressed** (not shown, marked); otherwise a
cell with ``cv > max_cv`` (default 0.30) is **flagged** (shown, marked "interpret with caution").
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digifit import stats
from digifit.errors import DigifitError
from digifit.stats import Design, Estimate

__all__ = [
    "MARGIN_FILES",
    "Comparison",
    "HeadlineReport",
    "Line",
    "ReportError",
    "default_margins_dir",
    "difference",
    "headline_report",
    "reliability",
]

MIN_N = 30
MAX_CV = 0.30
MARGIN_FILES = {("country", "size"): "enterprises_country_size.csv", ("sector",): "enterprises_sector.csv"}
LOSS25 = ("dec50", "dec25_50")
LOSS = ("dec50", "dec25_50", "dec1_24")
REQUIRED = ("instance_id", "country", "size", "sector", "digital_share", "presence_before__none", "revenue_change")


class ReportError(ValueError, DigifitError):
    """The report cannot be made from these inputs (missing file or column, no rows)."""


def default_margins_dir() -> Path:
    """Return the bundled (illustrative) margins folder, ``digifit/demo/margins``."""
    from digifit.demo.waves import MARGINS_DIR

    return MARGINS_DIR


def reliability(estimate: Estimate, *, min_n: int = MIN_N, max_cv: float = MAX_CV) -> str:
    """Classify a cell: ``'suppressed'`` (n < min_n), ``'flagged'`` (cv > max_cv) or ``'ok'``.

    Examples
    --------
    >>> e = Estimate("mean", "y", None, {}, 0.5, 0.15, 0.2, 0.8, 10, 30, 1.0, 0.30)
    >>> reliability(e), reliability(e, min_n=31), reliability(e, max_cv=0.29)
    ('ok', 'suppressed', 'flagged')
    """
    if estimate.n < min_n:
        return "suppressed"
    cv = estimate.cv
    if cv is not None and not (isinstance(cv, float) and math.isnan(cv)) and cv > max_cv:
        return "flagged"
    return "ok"


@dataclass(frozen=True)
class Line:
    """One row of a table: a level (``'DE'``, ``'ict'``, ``'all'``) and its estimate with reliability."""

    key: str
    estimate: Estimate
    status: str
    unweighted: Estimate | None = None
    unweighted_status: str | None = None


@dataclass(frozen=True)
class Comparison:
    """Online before the crisis vs not, for one indicator: the two groups and their difference."""

    indicator: str
    online: Line
    offline: Line
    difference: Line


@dataclass(frozen=True)
class SampleLine:
    """Sample and weighting per country: responses, businesses, population, raked total, design effect."""

    country: str
    n: int
    businesses: int
    panel_rows: int
    population: float
    weighted_total: Estimate
    deff: float | None


@dataclass(frozen=True)
class HeadlineReport:
    """Everything the renderers show; every number is a :mod:`digifit.stats` estimate or an input count."""

    source: str
    waves: tuple[str, ...]
    n_rows: int
    excluded: int
    min_n: int
    max_cv: float
    level: float
    margins_dir: str
    margins: dict[str, dict[str, float]]
    sample: tuple[SampleLine, ...]
    headline: tuple[Line, ...]
    by_sector: tuple[Line, ...]
    by_size: tuple[Line, ...]
    online: tuple[Comparison, ...]
    weighted_vs_unweighted: tuple[Line, ...]
    design_note: str
    generated: str = field(default_factory=lambda: dt.date.today().isoformat())

    def line(self, table: str, key: str) -> Line:
        """Return the line ``key`` of ``table`` (``'headline'``, ``'by_sector'``, …)."""
        for line in getattr(self, table):
            if line.key == key:
                return line
        raise KeyError(f"table {table!r} has no line {key!r}")


# ----------------------------------------------------------------------------------------------------------
# inputs


def read_margins(directory: str | Path) -> dict[tuple[str, ...], dict[tuple[str, ...], float]]:
    """Read the two margin CSV files (columns: the level columns and ``Freq``)."""
    d = Path(directory)
    out: dict[tuple[str, ...], dict[tuple[str, ...], float]] = {}
    for cols, name in MARGIN_FILES.items():
        path = d / name
        if not path.exists():
            raise ReportError(
                f"margins folder {str(d)!r}: {name} is missing; expected {', '.join(MARGIN_FILES.values())}."
            )
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in (*cols, "Freq") if c not in (reader.fieldnames or [])]
            if missing:
                raise ReportError(
                    f"{path}: column(s) {', '.join(map(repr, missing))} missing; expected {[*cols, 'Freq']}."
                )
            table = {}
            for i, row in enumerate(reader, start=2):
                try:
                    table[tuple(row[c] for c in cols)] = float(row["Freq"])
                except ValueError:
                    raise ReportError(
                        f"{path} row {i}, column 'Freq': got {row['Freq']!r}; expected a number."
                    ) from None
        out[cols] = table
    return out


def _prepare(source: Any, margins: dict, con: Any = None):
    """The snapshot as an Ibis table with the derived columns, restricted to levels with population counts."""
    import ibis

    if isinstance(source, str | Path):
        path = Path(source)
        if not path.exists():
            raise ReportError(f"snapshot {str(path)!r} does not exist.")
        con = con or ibis.duckdb.connect()
        try:
            t = con.read_parquet(str(path))
        except Exception as exc:
            raise ReportError(
                f"snapshot {str(path)!r} is not a readable Parquet file ({str(exc).splitlines()[0]})."
            ) from None
    else:
        t = stats.to_source(source).table
    missing = [c for c in REQUIRED if c not in t.columns]
    if missing:
        raise ReportError(
            f"snapshot lacks column(s) {', '.join(map(repr, missing))}; expected a snapshot of the bundled "
            "questionnaire (future_of_business)."
        )
    panel = t["panel_id"].cast("string").nullif("") if "panel_id" in t.columns else ibis.null("string")
    rev = t["revenue_change"]

    def band(values: Sequence[str]):
        return ibis.cases((rev.isnull() | (rev == "dk"), ibis.null("float64")), (rev.isin(values), 1.0), else_=0.0)

    if "digital25" in t.columns:
        digital25 = t["digital25"].cast("float64")
    else:
        digital25 = t["digital_share"].isin(["p25_49", "p50_74", "p75plus"]).cast("float64")
    derived = t.mutate(
        __business=panel.fill_null(t["instance_id"].cast("string")),
        digital25=digital25,
        online_before=(1 - t["presence_before__none"].cast("float64")),
        loss25=band(LOSS25),
        loss=band(LOSS),
        __one=ibis.literal(1.0),
    )
    countries = sorted({k[0] for k in margins[("country", "size")]})
    sizes = sorted({k[1] for k in margins[("country", "size")]})
    sectors = sorted({k[0] for k in margins[("sector",)]})
    keep = derived["country"].isin(countries) & derived["size"].isin(sizes) & derived["sector"].isin(sectors)
    return derived, derived.filter(keep)


def _design(table, weights: str | None, margins_dir: Path, *, calibrate: bool = True) -> Design:
    d = stats.design(table, weights=weights, strata="country", ids="__business", validate=False)
    if not calibrate:
        return d
    return stats.rake(
        d,
        {cols: margins_dir / name for cols, name in MARGIN_FILES.items()},
        max_iter=100,
        epsilon=1e-7,
    )


# ----------------------------------------------------------------------------------------------------------
# the contrast


def difference(
    design: Design,
    variable: str,
    group: str,
    *,
    rebuild: Callable[[Any], Design],
    level: float = 0.95,
) -> tuple[Estimate, Estimate, Estimate]:
    """Estimate the difference of ``variable``'s mean between ``group = 1`` and ``group = 0``.

    Parameters
    ----------
    design : Design
        The (possibly calibrated) design.
    variable : str
        Numeric column; rows where it is missing are left out (``na_rm``).
    group : str
        0/1 column.
    rebuild : callable
        ``rebuild(table) -> Design``: the same design (weights, clusters, calibration) on a table with one more
        column — the linearisation variable is added to the data, the design rebuilt on it.
    level : float, default 0.95

    Returns
    -------
    (Estimate, Estimate, Estimate)
        The mean in group 1, in group 0, and the difference (group 1 minus group 0; its ``variable`` is
        ``'<variable>[<group>=1] - <variable>[<group>=0]'``).

    Notes
    -----
    ``d̂ = ȳ₁ − ȳ₀`` has the influence ``w·g·(y − ȳ₁)/W₁ − w·(1 − g)·(y − ȳ₀)/W₀``, which is the influence of
    the mean of ``z = g·(y − ȳ₁)/p₁ − (1 − g)·(y − ȳ₀)/p₀ + d̂`` (``p_g = W_g/W``; the mean of ``z`` is
    exactly ``d̂``). One :func:`digifit.stats.mean` of ``z`` thus gives ``d̂`` with its design-based standard
    error, degrees of freedom and interval — R's ``svycontrast`` of ``svyby(..., covmat=TRUE)``.
    """
    import ibis

    by_group = stats.mean(design, variable, by=group, na_rm=True, level=level)
    means = {float(e.domain[group]): e for e in by_group}
    if set(means) != {0.0, 1.0}:
        raise ReportError(f"difference of {variable!r} by {group!r}: expected the groups 0 and 1; got {sorted(means)}.")
    t = design.table
    share_col = f"__{group}_where_{variable}"
    with_share = t.mutate(**{share_col: t[variable].isnull().ifelse(ibis.null("float64"), t[group].cast("float64"))})
    share_design = rebuild(with_share)
    p1 = stats.mean(share_design, share_col, na_rm=True, level=level)[0].estimate
    y1, y0 = means[1.0].estimate, means[0.0].estimate
    d_hat = y1 - y0
    y, g = with_share[variable], with_share[group].cast("float64")
    z = g * (y - y1) / p1 - (1 - g) * (y - y0) / (1 - p1) + d_hat
    name = f"{variable}[{group}=1] - {variable}[{group}=0]"
    zcol = f"__diff_{variable}_{group}"
    est = stats.mean(rebuild(with_share.mutate(**{zcol: z})), zcol, na_rm=True, level=level)[0]
    from dataclasses import replace

    return means[1.0], means[0.0], replace(est, variable=name, deff=None)


# ----------------------------------------------------------------------------------------------------------
# the report


def _lines(rows: Sequence[Estimate], column: str | None, min_n: int, max_cv: float) -> list[Line]:
    return [
        Line(str(e.domain[column]) if column else "all", e, reliability(e, min_n=min_n, max_cv=max_cv)) for e in rows
    ]


def headline_report(
    source: str | Path | Any,
    *,
    margins_dir: str | Path | None = None,
    min_n: int = MIN_N,
    max_cv: float = MAX_CV,
    level: float = 0.95,
    ci_method: str = "logit",
    con: Any = None,
) -> HeadlineReport:
    """Compute the headline report's tables from a wave snapshot.

    Parameters
    ----------
    source : path or table
        A Parquet snapshot (or anything :func:`digifit.stats.design` reads) of the bundled questionnaire.
    margins_dir : path, optional
        Folder with ``enterprises_country_size.csv`` and ``enterprises_sector.csv`` (default: the bundled,
        illustrative ones).
    min_n : int, default 30
        Cells with fewer responses are suppressed.
    max_cv : float, default 0.30
        Cells with a larger coefficient of variation are flagged.
    level : float, default 0.95
    ci_method : str, default 'logit'
        Interval of the shares (:func:`digifit.stats.confint`); differences use a t interval on the design df.

    Returns
    -------
    HeadlineReport

    Raises
    ------
    ReportError, DigifitError
    """
    if not isinstance(min_n, int) or min_n < 1:
        raise ReportError(f"min_n must be a positive integer; got {min_n!r}.")
    if not max_cv > 0:
        raise ReportError(f"max_cv must be positive; got {max_cv!r}.")
    mdir = Path(margins_dir) if margins_dir is not None else default_margins_dir()
    margins = read_margins(mdir)
    full, table = _prepare(source, margins, con)
    weights = "design_weight" if "design_weight" in table.columns else None

    # counts that describe the input (not estimates): rows, exclusions, waves, businesses per country
    import ibis

    counts = (
        table.group_by("country")
        .aggregate(
            n=table.count(),
            businesses=table["__business"].nunique(),
            panel_rows=table["panel_id"].notnull().cast("int64").sum()
            if "panel_id" in table.columns
            else ibis.literal(0),
        )
        .to_pyarrow()
        .to_pylist()
    )
    n_all = int(full.count().to_pyarrow().as_py())
    n_rows = sum(r["n"] for r in counts)
    if n_rows == 0:
        raise ReportError("the snapshot has no rows in the countries, sizes and sectors of the margins.")
    waves = ()
    if "wave" in table.columns:
        waves = tuple(sorted(str(w) for w in table.select("wave").distinct().to_pyarrow().column(0).to_pylist() if w))

    def rebuild(t) -> Design:
        return _design(t, weights, mdir)

    design = rebuild(table)
    unweighted = _design(table, None, mdir, calibrate=False)
    kw = {"level": level, "ci_method": ci_method}

    headline = stats.mean(design, "digital25", by="country", **kw)
    overall = stats.mean(design, "digital25", **kw)
    head_lines = _lines(headline, "country", min_n, max_cv) + _lines(overall, None, min_n, max_cv)
    sector_lines = _lines(stats.mean(design, "digital25", by="sector", **kw), "sector", min_n, max_cv)
    size_lines = _lines(stats.mean(design, "digital25", by="size", **kw), "size", min_n, max_cv)

    unw = {e.domain["country"]: e for e in stats.mean(unweighted, "digital25", by="country", **kw)}
    unw_all = stats.mean(unweighted, "digital25", **kw)[0]
    compare = []
    for line in head_lines:
        u = unw_all if line.key == "all" else unw[line.key]
        compare.append(Line(line.key, line.estimate, line.status, u, reliability(u, min_n=min_n, max_cv=max_cv)))

    comparisons = []
    for indicator in ("loss25", "loss"):
        on, off, diff = difference(design, indicator, "online_before", rebuild=rebuild, level=level)
        comparisons.append(
            Comparison(
                indicator,
                Line("online", on, reliability(on, min_n=min_n, max_cv=max_cv)),
                Line("offline", off, reliability(off, min_n=min_n, max_cv=max_cv)),
                # a difference's CV is not a reliability measure (it is near zero differences by nature)
                Line("difference", diff, "suppressed" if min(on.n, off.n) < min_n else "ok"),
            )
        )

    totals = {e.domain["country"]: e for e in stats.total(design, "__one", by="country", level=level)}
    pop = margins[("country", "size")]
    deff = {line.key: line.estimate.deff for line in head_lines}
    order = [c for c in ("DE", "FR", "UK", "IT", "ES", "PL")] + sorted(r["country"] for r in counts)
    seen: dict[str, None] = {}
    for c in order:
        if any(r["country"] == c for r in counts):
            seen.setdefault(c)
    sample = tuple(
        SampleLine(
            country=c,
            n=int(r["n"]),
            businesses=int(r["businesses"]),
            panel_rows=int(r["panel_rows"]),
            population=sum(v for (cc, _z), v in pop.items() if cc == c),
            weighted_total=totals[c],
            deff=deff.get(c),
        )
        for c in seen
        for r in counts
        if r["country"] == c
    )
    country_rank = {c: i for i, c in enumerate(seen)}
    head_lines.sort(key=lambda ln: country_rank.get(ln.key, len(country_rank)))
    compare.sort(key=lambda ln: country_rank.get(ln.key, len(country_rank)))
    sector_order = [k[0] for k in margins[("sector",)]]
    sector_lines.sort(key=lambda ln: sector_order.index(ln.key) if ln.key in sector_order else 99)
    size_order = ["micro", "small", "medium", "large"]
    size_lines.sort(key=lambda ln: size_order.index(ln.key) if ln.key in size_order else 99)

    margins_out = {
        "country_size": {f"{c}/{z}": v for (c, z), v in margins[("country", "size")].items()},
        "sector": {s: v for (s,), v in margins[("sector",)].items()},
    }
    return HeadlineReport(
        source=str(source) if isinstance(source, str | Path) else type(source).__name__,
        waves=waves,
        n_rows=n_rows,
        excluded=n_all - n_rows,
        min_n=min_n,
        max_cv=max_cv,
        level=level,
        margins_dir=str(mdir),
        margins=margins_out,
        sample=sample,
        headline=tuple(head_lines),
        by_sector=tuple(sector_lines),
        by_size=tuple(size_lines),
        online=tuple(comparisons),
        weighted_vs_unweighted=tuple(compare),
        design_note=(
            f"strata=country, clusters=business (panel_id or instance_id), weights={weights or '1'}, "
            "raked to country×size and sector"
        ),
    )
