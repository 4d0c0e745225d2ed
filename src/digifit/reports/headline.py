"""The headline report: which tables, each computed by :mod:`digifit.stats` — nothing is re-computed here.

:func:`headline_report` reads a Parquet wave snapshot (the columns of
:func:`digifit.survey.exports.snapshot_write` of a questionnaire with these questions),
builds the design and rakes it to the population margins the analyst gave (:mod:`digifit.survey.margins`: stored per
wave, or a folder of two CSV files), and returns a :class:`HeadlineReport` of tables whose
numbers are :class:`~digifit.stats.Estimate` rows. The renderers (:mod:`.render_html`, :mod:`.render_pdf`,
:mod:`.render_xlsx`) only format them.

The design
----------
- **Strata**: ``country`` (each country's sample is recruited on its own).
- **Clusters**: the business — ``panel_id`` where the response has one, else ``instance_id`` — so a panel
  business answering several waves is one cluster and the pooled estimates' standard errors account for it.
  When every business answered once (a one-wave snapshot) each row is its own cluster: the same design, but
  the engine then returns stratum totals instead of one row per business (much faster at a million rows).
- **Weights**: ``design_weight`` when the snapshot has it, else the country's expansion factor (enterprises /
  responses; raking to country × size gives the same weights as starting from 1); then raked
  (:func:`digifit.stats.rake`) to enterprises by country × size class and by sector.
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digifit import stats
from digifit.errors import DigifitError
from digifit.stats import Design, Estimate
from digifit.stats.duckdb_sql import to_duckdb_sql

__all__ = [
    "MARGIN_FILES",
    "Comparison",
    "HeadlineReport",
    "Line",
    "ReportError",
    "difference",
    "headline_report",
    "rake_margins",
    "reliability",
    "with_columns",
]

MIN_N = 30
MAX_CV = 0.30
MARGIN_FILES = {("country", "size"): "enterprises_country_size.csv", ("sector",): "enterprises_sector.csv"}
LOSS25 = ("dec50", "dec25_50")
LOSS = ("dec50", "dec25_50", "dec1_24")
ANALYSIS_COLUMNS = (
    "country", "size", "sector", "wave", "panel_id", "design_weight", "__business", "__panel", "__one",
    "digital25", "online_before", "loss25", "loss",
)  # fmt: skip
REQUIRED = ("instance_id", "country", "size", "sector", "digital_share", "presence_before__none", "revenue_change")


_WEIGHT_NAMES = {"__one": "1", "__w0": "enterprises/responses per country"}


class ReportError(ValueError, DigifitError):
    """The report cannot be made from these inputs (missing file or column, no rows)."""


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
    margins_dir: str  # the margins folder, or "" when the margins came as data (``margins=``)
    margins: dict[str, dict[str, float]]
    sample: tuple[SampleLine, ...]
    headline: tuple[Line, ...]
    by_sector: tuple[Line, ...]
    by_size: tuple[Line, ...]
    online: tuple[Comparison, ...]
    weighted_vs_unweighted: tuple[Line, ...]
    design_note: str
    sector_scaled: bool = False
    collapsed: tuple[stats.Collapse, ...] = ()  # weighting: empty margin levels merged into neighbours
    generated: str = field(default_factory=lambda: dt.date.today().isoformat())
    margins_source: str = ""  # where the margins come from, as the analyst described them (the weighting note)
    labels: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)  # reports.locale.LevelLabels

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
    """The snapshot as a :class:`~digifit.stats.backends.Source` with the derived columns.

    Returns ``(all_rows, kept)``: two sources on one DuckDB connection, the second restricted to rows whose
    country, size and sector have population counts. The derived columns are Ibis expressions compiled into a
    DuckDB view, so rows never come back to Python.
    """
    import ibis

    from digifit.stats.backends import DuckDBSource

    if isinstance(source, str | Path):
        path = Path(source)
        if not path.exists():
            raise ReportError(f"snapshot {str(path)!r} does not exist.")
    try:
        base = stats.to_source(source, con=con)
        t = base.table
    except DigifitError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportError(f"snapshot {str(source)!r} cannot be read ({first}).") from None
    missing = [c for c in REQUIRED if c not in t.columns]
    if missing:
        raise ReportError(
            f"snapshot lacks column(s) {', '.join(map(repr, missing))}; expected a snapshot of the bundled "
            "questionnaire (future_of_business)."
        )
    panel = t["panel_id"].cast("string").nullif("") if "panel_id" in t.columns else ibis.null("string")
    rev = t["revenue_change"]

    def band(values: Sequence[str]):
        return ibis.cases(
            (rev.isnull() | (rev == "dk"), ibis.null("float64")), (rev.isin(values), 1.0), else_=0.0
        ).cast("float64")

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
        __one=ibis.literal(1.0).cast("float64"),
        __panel=(panel.notnull()).cast("int64"),
    )
    countries = sorted({k[0] for k in margins[("country", "size")]})
    sizes = sorted({k[1] for k in margins[("country", "size")]})
    sectors = sorted({k[0] for k in margins[("sector",)]})
    keep = derived["country"].isin(countries) & derived["size"].isin(sizes) & derived["sector"].isin(sectors)
    if isinstance(base, DuckDBSource):
        # the columns the tables need, computed once into a DuckDB temporary table (engine memory, not Python):
        # every estimator then scans a few in-memory columns instead of re-reading and re-deriving the file
        needed = [c for c in ANALYSIS_COLUMNS if c in derived.columns]
        full = DuckDBSource(base.con, to_duckdb_sql(derived.select(*needed)))
        name = f"{full.name}_kept"
        keep_sql = _sql_keep(countries, sizes, sectors)
        # Ibis writes float literals as 1.0, which DuckDB types DECIMAL: make the constructed columns DOUBLE.
        # __w0, the country's expansion factor (enterprises / responses), is the starting weight when the
        # snapshot has no design weight (raking to country × size makes the result the same as from 1).
        doubles = ", ".join(f'CAST("{c}" AS DOUBLE) AS "{c}"' for c in ("__one", "loss25", "loss"))
        # the calibration and domain columns as ENUMs: the engine compares small integers, not strings
        for col, levels in (("country", countries), ("size", sizes), ("sector", sectors)):
            doubles += f', CAST("{col}" AS ENUM({", ".join(_quote(v) for v in levels)})) AS "{col}"'

        pop = {}
        for (c, _z), v in margins[("country", "size")].items():
            pop[c] = pop.get(c, 0.0) + v
        cases = " ".join(f"WHEN {_quote(c)} THEN CAST({float(v)!r} AS DOUBLE)" for c, v in pop.items())
        w0 = f"(CASE country {cases} END) / CAST(COUNT(*) OVER (PARTITION BY country) AS DOUBLE) AS __w0"
        base.con.execute(
            f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT * REPLACE ({doubles}), {w0} '
            f'FROM "{full.name}" WHERE {keep_sql}'
        )
        return full, DuckDBSource(base.con, f'SELECT * FROM "{name}"')
    return _Derived(base, derived), _Derived(base, derived.filter(keep))


def _quote(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _sql_keep(countries, sizes, sectors) -> str:
    def quoted(values):
        return ", ".join(_quote(v) for v in values)

    return f"country IN ({quoted(countries)}) AND size IN ({quoted(sizes)}) AND sector IN ({quoted(sectors)})"


class _Derived:
    """A source whose table is an expression on another source's table (same engine, same connection)."""

    def __init__(self, base: Any, table: Any):
        self.base = base
        self.table = table

    def execute(self, expr):
        return self.base.execute(expr)

    def register(self, data):
        return self.base.register(data)


def with_columns(design: Design, **columns: Any) -> Design:
    """Return ``design`` on its table plus the given Ibis column expressions (rows, weights, calibration kept).

    A stopgap until :mod:`digifit.stats` has its own way to add derived variables to a design: the calibration
    factors are looked up by column, so they apply to the extended table unchanged.
    """
    import dataclasses

    return dataclasses.replace(design, source=_Derived(design.source, design.table.mutate(**columns)))


def _design(
    source: Any, weights: str | None, margins: dict | None, *, clusters: bool = True, calibrate: bool = True
) -> Design:
    d = Design(source, weights, "country", ("__business",) if clusters else (), (), "fail")
    if not calibrate:
        return d
    # a margin level without responses (a wave just opened) is merged into its neighbour (digifit.stats.sparse)
    return stats.rake(d, margins, max_iter=100, epsilon=1e-7, ordered=("size",))


def rake_margins(margins: dict, countries: set[str]) -> tuple[dict, bool]:
    """The margins restricted to the countries in the sample; return them and whether the sector margin was scaled.

    The sector margin is pooled over all countries; for a subset it is scaled to the subset's enterprises (which
    assumes the subset has the pooled sector mix — an approximation the report states).
    """
    cs = {k: v for k, v in margins[("country", "size")].items() if k[0] in countries}
    sector = dict(margins[("sector",)])
    scaled = len(cs) < len(margins[("country", "size")])
    if scaled:
        factor = sum(cs.values()) / sum(sector.values())
        sector = {k: v * factor for k, v in sector.items()}
    return {("country", "size"): cs, ("sector",): sector}, scaled


# ----------------------------------------------------------------------------------------------------------
# the contrast


def difference(
    design: Design, variable: str | Sequence[str], group: str, *, level: float = 0.95
) -> tuple[Estimate, Estimate, Estimate] | list[tuple[Estimate, Estimate, Estimate]]:
    """Estimate the difference of a variable's mean between ``group = 1`` and ``group = 0``.

    Parameters
    ----------
    design : Design
        The (possibly calibrated) design.
    variable : str or list of str
        Numeric column(s); rows where one is missing are left out of its estimates (``na_rm``). Several
        variables cost the same three estimator calls as one.
    group : str
        0/1 column.
    level : float, default 0.95

    Returns
    -------
    (Estimate, Estimate, Estimate), or a list of them for a list of variables
        The mean in group 1, in group 0, and the difference (group 1 minus group 0; its ``variable`` is
        ``'<variable>[<group>=1] - <variable>[<group>=0]'``, its interval Wald).

    Notes
    -----
    ``d̂ = ȳ₁ − ȳ₀`` has the influence ``w·g·(y − ȳ₁)/W₁ − w·(1 − g)·(y − ȳ₀)/W₀``, which is the influence of
    the mean of ``z = g·(y − ȳ₁)/p₁ − (1 − g)·(y − ȳ₀)/p₀ + d̂`` (``p_g = W_g/W`` among rows with ``y``; the
    mean of ``z`` is exactly ``d̂``). One :func:`digifit.stats.mean` of ``z`` on the same design thus gives
    ``d̂`` with its design-based standard error, degrees of freedom and interval — R's ``svycontrast`` of
    ``svyby(..., covmat=TRUE)``. Three estimator calls: the group means, ``p₁``, the mean of ``z``.
    """
    import ibis

    single = isinstance(variable, str)
    variables = [variable] if single else list(variable)
    by_group = stats.mean(design, variables, by=group, na_rm=True, level=level)
    means: dict[tuple[str, float], Estimate] = {(e.variable, float(e.domain[group])): e for e in by_group}
    for v in variables:
        if {k[1] for k in means if k[0] == v} != {0.0, 1.0}:
            raise ReportError(f"difference of {v!r} by {group!r}: expected the groups 0 and 1 among its rows.")
    t = design.table
    g = t[group].cast("float64")
    shares = {f"__{group}_where_{v}": t[v].isnull().ifelse(ibis.null("float64"), g) for v in variables}
    p1 = {
        e.variable: e.estimate
        for e in stats.mean(with_columns(design, **shares), list(shares), na_rm=True, level=level)
    }
    zs = {}
    for v in variables:
        y1, y0 = means[(v, 1.0)].estimate, means[(v, 0.0)].estimate
        p = p1[f"__{group}_where_{v}"]
        y = t[v]
        zs[f"__diff_{v}_{group}"] = g * (y - y1) / p - (1 - g) * (y - y0) / (1 - p) + (y1 - y0)
    diffs = {e.variable: e for e in stats.mean(with_columns(design, **zs), list(zs), na_rm=True, level=level)}
    from dataclasses import replace

    out = [
        (
            means[(v, 1.0)],
            means[(v, 0.0)],
            replace(diffs[f"__diff_{v}_{group}"], variable=f"{v}[{group}=1] - {v}[{group}=0]", deff=None),
        )
        for v in variables
    ]
    return out[0] if single else out


# ----------------------------------------------------------------------------------------------------------
# the report


def _lines(rows: Sequence[Estimate], column: str | None, min_n: int, max_cv: float) -> list[Line]:
    return [
        Line(str(e.domain[column]) if column else "all", e, reliability(e, min_n=min_n, max_cv=max_cv)) for e in rows
    ]


def headline_report(
    source: str | Path | Any,
    *,
    margins: Mapping | None = None,
    margins_dir: str | Path | None = None,
    margins_source: str = "",
    labels: Mapping | None = None,
    min_n: int = MIN_N,
    max_cv: float = MAX_CV,
    level: float = 0.95,
    ci_method: str = "logit",
    clusters: bool | None = None,
    con: Any = None,
    progress: Callable[[str, float], None] | None = None,
) -> HeadlineReport:
    """Compute the headline report's tables from a wave snapshot.

    Parameters
    ----------
    source : path or table
        A Parquet snapshot (or anything :func:`digifit.stats.design` reads) of the bundled questionnaire.
    margins : dict, optional
        The population margins ``{("country", "size"): {("DE", "micro"): count, …}, ("sector",): {…}}``
        (:func:`digifit.survey.margins.margins_parse`; the web app passes the wave's newest stored version).
    margins_dir : path, optional
        Instead of ``margins``: a folder with ``enterprises_country_size.csv`` and ``enterprises_sector.csv``.
        One of the two is required: the report never weights to margins nobody gave.
    margins_source : str, optional
        Where the margins come from (shown in the weighting note); default the folder.
    labels : mapping, optional
        The level labels of the reported questionnaire version (:func:`digifit.reports.locale.labels_from_schema`);
        without them the report shows the codes.
    min_n : int, default 30
        Cells with fewer responses are suppressed.
    max_cv : float, default 0.30
        Cells with a larger coefficient of variation are flagged.
    level : float, default 0.95
    ci_method : str, default 'logit'
        Interval of the shares (:func:`digifit.stats.confint`); differences use a Wald interval.
    clusters : bool, optional
        Treat each business as a cluster. The default decides from the data: clusters when some business
        answered more than once (a panel over several waves), else each response is its own cluster — the
        same design when every cluster has one row, and much cheaper to compute.
    progress : callable, optional
        ``progress(step, fraction)`` is called before each group of tables (``'weighting'``, ``'headline'``,
        ``'by_sector'``, ``'weighting_comparison'``, ``'online'``, ``'sample'``) and with ``('done', 1.0)``:
        for a background task's progress bar.

    Returns
    -------
    HeadlineReport

    Raises
    ------
    ReportError, DigifitError
    """
    if not isinstance(min_n, int) or min_n < 1:
        raise ReportError(f"min_n must be a positive integer; got {min_n!r}.")

    def step(name: str, fraction: float) -> None:
        if progress is not None:
            progress(name, fraction)

    if not max_cv > 0:
        raise ReportError(f"max_cv must be positive; got {max_cv!r}.")
    if margins is None and margins_dir is None:
        raise ReportError("no population margins: give margins (stored per wave) or margins_dir (a folder).")
    mdir = Path(margins_dir) if margins is None else None
    if margins is None:
        margins = read_margins(mdir)
    missing = [" × ".join(m) for m in MARGIN_FILES if m not in margins]
    if missing:
        raise ReportError(f"the margins lack {', '.join(missing)}; expected country × size and sector.")
    full, table = _prepare(source, margins, con)

    # counts that describe the input (not estimates): rows, exclusions, waves, businesses per country
    t = table.table
    counts = table.execute(
        t.group_by("country").aggregate(
            n=t.count(), businesses=t["__business"].nunique(), panel_rows=t["__panel"].sum()
        )
    ).to_pylist()
    n_all = int(full.execute(full.table.count()))
    n_rows = sum(r["n"] for r in counts)
    if n_rows == 0:
        raise ReportError("the snapshot has no rows in the countries, sizes and sectors of the margins.")
    waves: tuple[str, ...] = ()
    if "wave" in t.columns:
        found = table.execute(t.select("wave").distinct()).column(0).to_pylist()
        waves = tuple(sorted(str(w) for w in found if w))
    # without a design weight, start from the country expansion factor (or 1 where the engine is not DuckDB)
    weights = "design_weight" if "design_weight" in t.columns else ("__w0" if "__w0" in t.columns else "__one")

    businesses = sum(r["businesses"] for r in counts)
    if clusters is None:  # one response per business: each row is its own cluster, the same design, cheaper
        clusters = businesses < n_rows
    to_rake, sector_scaled = rake_margins(margins, {r["country"] for r in counts})
    step("weighting", 0.1)
    design = _design(table, weights, to_rake, clusters=clusters)
    unweighted = _design(table, None, None, clusters=clusters, calibrate=False)
    kw = {"level": level, "ci_method": ci_method}

    step("headline", 0.2)
    headline = stats.mean(design, "digital25", by="country", **kw)
    overall = stats.mean(design, "digital25", **kw)
    head_lines = _lines(headline, "country", min_n, max_cv) + _lines(overall, None, min_n, max_cv)
    step("by_sector", 0.4)
    sector_lines = _lines(stats.mean(design, "digital25", by="sector", **kw), "sector", min_n, max_cv)
    size_lines = _lines(stats.mean(design, "digital25", by="size", **kw), "size", min_n, max_cv)

    step("weighting_comparison", 0.55)
    unw = {e.domain["country"]: e for e in stats.mean(unweighted, "digital25", by="country", **kw)}
    unw_all = stats.mean(unweighted, "digital25", **kw)[0]
    compare = []
    for line in head_lines:
        u = unw_all if line.key == "all" else unw[line.key]
        compare.append(Line(line.key, line.estimate, line.status, u, reliability(u, min_n=min_n, max_cv=max_cv)))

    step("online", 0.6)
    comparisons = []
    indicators = ("loss25", "loss")
    for indicator, (on, off, diff) in zip(
        indicators, difference(design, list(indicators), "online_before", level=level)
    ):
        comparisons.append(
            Comparison(
                indicator,
                Line("online", on, reliability(on, min_n=min_n, max_cv=max_cv)),
                Line("offline", off, reliability(off, min_n=min_n, max_cv=max_cv)),
                # a difference's CV is not a reliability measure (it is near zero differences by nature)
                Line("difference", diff, "suppressed" if min(on.n, off.n) < min_n else "ok"),
            )
        )

    step("sample", 0.9)
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
        "country_size": {f"{c}/{z}": v for (c, z), v in to_rake[("country", "size")].items()},
        "sector": {s: v for (s,), v in to_rake[("sector",)].items()},
    }
    step("done", 1.0)
    return HeadlineReport(
        source=str(source) if isinstance(source, str | Path) else type(source).__name__,
        waves=waves,
        n_rows=n_rows,
        excluded=n_all - n_rows,
        min_n=min_n,
        max_cv=max_cv,
        level=level,
        margins_dir=str(mdir) if mdir is not None else "",
        margins_source=margins_source or (str(mdir) if mdir is not None else ""),
        labels=dict(labels or {}),
        margins=margins_out,
        sample=sample,
        headline=tuple(head_lines),
        by_sector=tuple(sector_lines),
        by_size=tuple(size_lines),
        online=tuple(comparisons),
        weighted_vs_unweighted=tuple(compare),
        design_note=(
            f"strata=country, clusters={'business (panel_id or instance_id)' if clusters else 'response'}, "
            f"weights={_WEIGHT_NAMES.get(weights, weights)}, raked to country×size and sector"
            + (" (sector margin scaled to the countries in the sample)" if sector_scaled else "")
        ),
        sector_scaled=sector_scaled,
        collapsed=design.calibration.collapsed,
    )
