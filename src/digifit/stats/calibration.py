"""Weighting: post-stratification, raking, GREG/raking/logit calibration and weight trimming.

Every verb takes a :class:`~digifit.stats.design.Design` and returns a new one (R's ``postStratify``,
``rake``, ``calibrate``, ``trimWeights``). The fit runs on the cross-classified cell totals or on Σw·x·xᵀ, both
computed by the engine in one aggregation (calibration with bounds: one per iteration); the calibrated weight is
an expression — the old weight times a factor per cell or ``g(xᵀη)`` — so no weight column is written unless
the user asks (``digifit weight``).

Variance after calibration follows R's ``svyrecvar`` exactly (Lumley 2010, ch. 7; Deville & Särndal 1992):

- post-stratification: influence values minus the calibrated weight times the cell mean of ``x · old/new``;
- raking: ten rounds of the post-stratification residual over the margins, with the weights each margin had in
  the last raking iteration (as R stores them);
- calibration: residuals of the weighted regression of the influence values on the calibration variables.

The residuals only need sums per cell (or per calibration variable) and unit, so they come from the estimator's
own aggregation: :mod:`digifit.stats.estimators` groups by the calibration cells and adds these sums.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np

from digifit.errors import CalibrationError
from digifit.stats.design import DOUBLE_ONE, Design, check_columns
from digifit.stats.sparse import Collapse, collapse_empty

__all__ = ["calibrate", "poststratify", "rake", "trim_weights"]

#: rake's default convergence: every margin level within this relative gap of its population count
RAKE_TOLERANCE = 1e-10
#: rake's default limit of full passes over the margins (R's ``maxit`` is 10 unless given)
RAKE_MAX_ITER = 100


# --------------------------------------------------------------------------------------------------------------
# calibration records kept on the design (what the variance needs)


@dataclass(frozen=True)
class CellCalibration:
    """Post-stratification or raking: a weight factor per cell of the cross-classified columns.

    ``cells`` are the sample's distinct combinations of ``columns``; ``factor[c]`` multiplies the pre-calibration
    weight. For raking, ``margins`` lists each margin's columns (indices into ``columns``), ``margin_factor[m]``
    the cumulative weight factor after margin ``m``'s step in the last iteration, per cell (R's ``psw``).
    """

    kind: str  # "poststratify" | "rake"
    columns: tuple[str, ...]
    cells: tuple[tuple, ...]
    factor: np.ndarray
    margins: tuple[tuple[int, ...], ...] = ()
    margin_factor: tuple[np.ndarray, ...] = ()
    margin_levels: tuple[dict[tuple, float], ...] = ()  # raking: each margin's cumulative factor per level
    cell_population: np.ndarray | None = None  # poststratify: population count per cell
    margin_codes: tuple[np.ndarray, ...] = ()  # raking: each cell's level code in each margin
    margin_population: tuple[np.ndarray, ...] = ()  # raking: population count of each margin level
    iterations: int = 0  # raking: full passes the fit took
    collapsed: tuple[Collapse, ...] = ()  # raking: empty margin levels merged into neighbours (stats.sparse)

    def replicate_factors(self, base_cells: np.ndarray) -> np.ndarray:
        """Calibrate every replicate again: its weight factor per cell, from its pre-calibration cell totals.

        ``base_cells`` is (replicates × cells). Post-stratification divides each cell's population by the
        replicate's total; raking repeats the same number of passes on every replicate (as R's ``rake`` does
        on a replicate design, where the full-sample weights decide convergence).
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "poststratify":
                return np.where(base_cells > 0, self.cell_population[None, :] / base_cells, 0.0)
            w = base_cells.copy()
            for _ in range(self.iterations):
                for codes, pop in zip(self.margin_codes, self.margin_population):
                    totals = np.zeros((w.shape[0], len(pop)))
                    for level in range(len(pop)):
                        totals[:, level] = w[:, codes == level].sum(axis=1)
                    w = w * (pop[None, :] / totals)[:, codes]
            return np.where(base_cells > 0, w / base_cells, 0.0)

    def factor_expr(self, table: ir.Table) -> ir.Value:
        """The weight factor of each row as an expression (raking: the product of per-margin factors)."""
        if self.kind == "rake":
            # left-deep product starting from a DOUBLE: Ibis writes float literals bare, which DuckDB reads as
            # DECIMAL, and a product of three DECIMAL CASEs overflows DuckDB's decimal scale
            expr: ir.Value = DOUBLE_ONE
            for cols, levels in zip(self.margins, self.margin_levels):
                expr = expr * _lookup_expr(table, [self.columns[i] for i in cols], levels)
            return expr
        return DOUBLE_ONE * _lookup_expr(table, list(self.columns), dict(zip(self.cells, self.factor.tolist())))


@dataclass(frozen=True)
class GregCalibration:
    """Calibration to totals of a model matrix ``mm`` (intercept, dummies, numeric columns): ``g = 1 + F(xᵀη)``."""

    terms: tuple[tuple[str, Any], ...]  # (column, level) for dummies, (column, None) for numeric; ("(Intercept)", None)
    names: tuple[str, ...]
    eta: np.ndarray
    calfun: str
    bounds: tuple[float, float]
    scale: float
    tmat_inv: np.ndarray  # (Σ w mm mmᵀ)⁻¹ with the pre-calibration weights, for the variance residuals
    population: np.ndarray  # the calibration totals, in the order of ``names``
    kind: str = "calibrate"

    def mm_exprs(self, table: ir.Table) -> list[ir.Value]:
        return [_term_expr(table, col, level) for col, level in self.terms]

    def factor_expr(self, table: ir.Table) -> ir.Value:
        xeta = ibis.literal(0.0)
        for expr, e in zip(self.mm_exprs(table), self.eta.tolist()):
            xeta = xeta + expr * e
        return (1 + _fm1_expr(self.calfun, xeta, self.bounds)) * self.scale


def _term_expr(table: ir.Table, col: str, level: Any) -> ir.Value:
    if col == "(Intercept)":
        return ibis.literal(1.0)
    if level is None:
        return table[col].cast("float64")
    return (table[col] == level).cast("float64")


def double(value: float) -> ir.FloatingValue:
    """A float as a DOUBLE in SQL, exactly (``CAST('repr' AS DOUBLE)``).

    Ibis writes float literals bare and DuckDB reads them as DECIMAL: products of such factors overflow the
    decimal scale, and a DECIMAL CASE costs twice as much per row as a DOUBLE one.
    """
    return ibis.literal(repr(float(value))).cast("float64")


def _lookup_expr(table: ir.Table, columns: list[str], mapping: Mapping[tuple, float]) -> ir.Value:
    """A CASE expression giving each row the value of its combination of ``columns`` (0 if absent)."""
    if len(columns) == 1:
        return table[columns[0]].substitute({k[0]: double(v) for k, v in mapping.items()}, else_=double(0.0))
    branches = [
        (ibis.and_(*[table[c] == val for c, val in zip(columns, key)]), double(value)) for key, value in mapping.items()
    ]
    return ibis.cases(*branches, else_=double(0.0))


# --------------------------------------------------------------------------------------------------------------
# calibration functions of R's calfun objects (Fm1 = F - 1 and its derivative), in numpy and as expressions


def _fm1(calfun: str, u: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    lo, hi = bounds
    if calfun == "linear":
        return np.minimum(np.maximum(u + 1, lo), hi) - 1
    if calfun == "raking":
        with np.errstate(over="ignore"):
            return np.minimum(np.maximum(np.exp(u), lo), hi) - 1
    a = (hi - lo) / ((hi - 1) * (1 - lo))
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(a * u)
        return (lo * (hi - 1) + hi * (1 - lo) * e) / (hi - 1 + (1 - lo) * e) - 1


def _dfm1(calfun: str, u: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    lo, hi = bounds
    inside = (u < hi - 1) & (u > lo - 1)
    if calfun == "linear":
        return inside.astype(float)
    if calfun == "raking":
        with np.errstate(over="ignore"):
            return np.where(inside, np.exp(u), 0.0)
    a = (hi - lo) / ((hi - 1) * (1 - lo))
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(a * u)
        d = hi - 1 + (1 - lo) * e
        return hi * (1 - lo) * e * a / d - ((lo * (hi - 1) + hi * (1 - lo) * e) * ((1 - lo) * e * a)) / d**2


def _fm1_expr(calfun: str, u: ir.FloatingValue, bounds: tuple[float, float]) -> ir.FloatingValue:
    lo, hi = bounds

    def clip(x: ir.FloatingValue) -> ir.FloatingValue:
        if math.isfinite(lo):
            x = ibis.greatest(x, lo)
        if math.isfinite(hi):
            x = ibis.least(x, hi)
        return x

    if calfun == "linear":
        return clip(u + 1) - 1
    if calfun == "raking":
        return clip(u.exp()) - 1
    a = (hi - lo) / ((hi - 1) * (1 - lo))
    e = (u * a).exp()
    return (lo * (hi - 1) + hi * (1 - lo) * e) / (hi - 1 + (1 - lo) * e) - 1


# --------------------------------------------------------------------------------------------------------------
# helpers


def _check_calibratable(design: Design, verb: str) -> None:
    if design.calibration is not None:
        raise CalibrationError(
            f"{verb}: the design is already calibrated ({design.calibration.kind}); calibrate once, to all "
            "margins or totals together."
        )
    if design.implied_weights:
        raise CalibrationError(
            f"{verb}: the design's weights are implied by the fpc; give the weights column explicitly "
            "(weights=...) to calibrate them."
        )
    if design.repweights:
        raise CalibrationError(
            f"{verb}: the design has supplied replicate-weight columns, which are taken as final (calibrated) "
            "weights; calibrate the replicate weights where they were made, or use replicate factors "
            "(variance='jk1', 'bootstrap', ...) so that digifit re-calibrates every replicate."
        )


def _population_table(population: Any, columns: Sequence[str], what: str) -> dict[tuple, float]:
    """Read population counts: {level: count}, {(l1, l2): count}, a CSV path, or a table with a ``Freq`` column."""
    if isinstance(population, Mapping):
        out = {}
        for key, value in population.items():
            k = key if isinstance(key, tuple) else (key,)
            if len(k) != len(columns):
                raise CalibrationError(f"{what}: level {key!r} does not give a value for each of {list(columns)}.")
            out[k] = _count(value, what, key)
        return out
    from pathlib import Path

    import pyarrow as pa

    if isinstance(population, str | Path):
        import pyarrow.csv as pacsv

        path = Path(population)
        if not path.exists():
            raise CalibrationError(f"{what}: population file {str(path)!r} does not exist.")
        strings = {c: pa.string() for c in columns}
        try:
            population = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=strings))
        except pa.ArrowInvalid as exc:
            raise CalibrationError(f"{what}: {str(path)!r} is not a readable CSV file ({exc}).") from None
    if not isinstance(population, pa.Table):
        try:
            population = pa.table(population)
        except Exception:
            raise CalibrationError(
                f"{what}: population must be a mapping level -> count, a CSV file or a table; got "
                f"{type(population).__name__}."
            ) from None
    missing = [c for c in (*columns, "Freq") if c not in population.column_names]
    if missing:
        raise CalibrationError(
            f"{what}: the population table lacks column(s) {', '.join(map(repr, missing))}; expected the level "
            f"column(s) {list(columns)} and a 'Freq' column (as R's postStratify/rake)."
        )
    out = {}
    rows = population.to_pylist()
    for i, row in enumerate(rows, start=2):
        key = tuple(row[c] for c in columns)
        if key in out:
            raise CalibrationError(f"{what}: level {key if len(key) > 1 else key[0]!r} appears twice (row {i}).")
        out[key] = _count(row["Freq"], what, key, row=i)
    return out


def _count(value: Any, what: str, key: Any, row: int | None = None) -> float:
    where = f" row {row}" if row else ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise CalibrationError(f"{what}{where}: the count of {key!r} is {value!r}; expected a number.") from None
    if not math.isfinite(v) or v < 0:
        raise CalibrationError(f"{what}{where}: the count of {key!r} is {value!r}; expected a number >= 0.")
    return v


def _match_levels(sample: Mapping[tuple, Any], population: dict[tuple, float], columns: Sequence[str], what: str):
    """Align sample cells with population keys (types may differ: CSV levels are strings)."""
    by_str = {tuple(str(v) for v in k): k for k in population}
    aligned: dict[tuple, float] = {}
    for key in sample:
        if key in population:
            aligned[key] = population[key]
        elif tuple(str(v) for v in key) in by_str:
            aligned[key] = population[by_str[tuple(str(v) for v in key)]]
    absent_pop = [k for k in sample if k not in aligned]
    if absent_pop:
        shown = ", ".join(repr(k[0] if len(k) == 1 else k) for k in absent_pop[:5])
        raise CalibrationError(
            f"{what}: level(s) {shown} of {'/'.join(columns)} are in the sample but not in the population margin; "
            "add them (with their population count) or recode the data."
        )
    matched = {tuple(str(v) for v in k) for k in aligned}
    absent_sample = [k for k, v in population.items() if tuple(str(x) for x in k) not in matched and v > 0]
    if absent_sample:
        shown = ", ".join(repr(k[0] if len(k) == 1 else k) for k in absent_sample[:5])
        raise CalibrationError(
            f"{what}: level(s) {shown} of {'/'.join(columns)} have population counts but no sample rows; "
            "collapse them with a neighbouring level."
        )
    return aligned


def _cell_totals(design: Design, columns: Sequence[str]) -> tuple[list[tuple], np.ndarray, np.ndarray]:
    """One aggregation: the weight total and row count of every cell of ``columns``; null levels rejected."""
    t = design.table
    w = design.weight_expr()
    res = design.execute(t.group_by([t[c] for c in columns]).aggregate(__dg_w=design.sum_expr(w), __dg_n=t.count()))
    keys = list(zip(*(res.column(c).to_pylist() for c in columns)))
    for key, n in zip(keys, res.column("__dg_n").to_pylist()):
        if any(v is None for v in key):
            col = columns[[v is None for v in key].index(True)]
            raise CalibrationError(
                f"column {col!r} has missing values in {n} row(s); calibration needs a level on every row "
                "(impute or recode them first)."
            )
    order = sorted(range(len(keys)), key=lambda i: tuple(repr(v) for v in keys[i]))
    keys = [keys[i] for i in order]
    totals = np.asarray(res.column("__dg_w").to_pylist(), dtype=float)[order]
    counts = np.asarray(res.column("__dg_n").to_pylist(), dtype=float)[order]
    return keys, totals, counts


def _margin_gap(w: np.ndarray, level_of: Sequence[np.ndarray], pop_of: Sequence[np.ndarray]):
    """The worst relative gap of the raked cell weights ``w`` to the margins: (gap, margin, level, raked total).

    The gap of a level is ``|N̂ − N| / N`` (a level counted 0 in the population is off by its raked total, if any);
    a NaN total (a level whose cells were all set to 0 by another margin) is an infinite gap.
    """
    worst = (-1.0, 0, 0, 0.0)
    for m, (codes, pop) in enumerate(zip(level_of, pop_of)):
        totals = np.bincount(codes, weights=w, minlength=len(pop))
        with np.errstate(divide="ignore", invalid="ignore"):
            gaps = np.where(pop > 0, np.abs(totals - pop) / pop, np.abs(totals))
        gaps = np.where(np.isnan(gaps), np.inf, gaps)
        j = int(np.argmax(gaps))
        if gaps[j] > worst[0]:
            worst = (float(gaps[j]), m, j, float(totals[j]))
    return worst


def _with(design: Design, calibration: Any) -> Design:
    d = dataclasses.replace(design, calibration=calibration, _structure=None)
    if design._structure is not None:
        object.__setattr__(d, "_structure", design._structure)
    return d


# --------------------------------------------------------------------------------------------------------------
# the verbs


def poststratify(design: Design, strata: str | Sequence[str], population: Any) -> Design:
    """Post-stratify the weights to known population counts of the cells of ``strata`` (R's ``postStratify``).

    Parameters
    ----------
    design : Design
    strata : str or list of str
        The post-stratification column(s); cells are their combinations.
    population : mapping, CSV path or table
        ``{level: count}`` (tuples of levels for several columns), or a table/CSV with the level column(s) and a
        ``Freq`` column, as in R.

    Returns
    -------
    Design
        With weights ``w · N_c / N̂_c`` and the post-stratification kept for the variance.

    Raises
    ------
    CalibrationError
        A sample level absent from the population, a population level absent from the sample, a bad count.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from digifit import stats
    >>> d = stats.design(pa.table({"g": ["a", "a", "b"], "w": [1.0, 1.0, 1.0], "y": [1.0, 2.0, 3.0]}), weights="w")
    >>> ps = stats.poststratify(d, "g", {"a": 10, "b": 30})
    >>> stats.total(ps, "y")[0].estimate
    105.0
    """
    _check_calibratable(design, "poststratify")
    columns = (strata,) if isinstance(strata, str) else tuple(strata)
    check_columns(design.table, columns, "poststratify")
    what = f"poststratify on {'/'.join(columns)}"
    keys, totals, _ = _cell_totals(design, columns)
    pop = _match_levels(dict.fromkeys(keys), _population_table(population, columns, what), columns, what)
    factor = np.array([pop[k] for k in keys]) / totals
    if not np.all(np.isfinite(factor)):
        bad = keys[int(np.nonzero(~np.isfinite(factor))[0][0])]
        raise CalibrationError(f"{what}: cell {bad!r} has sample weight 0 but a population count.")
    cal = CellCalibration("poststratify", columns, tuple(keys), factor, cell_population=factor * totals)
    return _with(design, cal)


def rake(
    design: Design,
    margins: Mapping[str | tuple[str, ...], Any] | Sequence[tuple[str | Sequence[str], Any]],
    *,
    max_iter: int = RAKE_MAX_ITER,
    epsilon: float | None = None,
    check_totals: float | None = 1e-6,
    empty_levels: str = "collapse",
    ordered: Sequence[str] = (),
    tolerance: float | None = None,
) -> Design:
    """Rake the weights to population margins by iterative proportional fitting (R's ``rake``).

    Parameters
    ----------
    design : Design
    margins : mapping or list of pairs
        ``{"country": {"DE": 3.1e6, ...}, ("sector", "size"): table_or_csv, ...}``: each margin's column(s) and
        its population counts (as :func:`poststratify` takes them). Margins are fitted in the order given.
    max_iter : int, default 100
        Most full passes over the margins (R's ``control$maxit``); not converged by then is an error.
    epsilon : float, optional
        R's convergence rule instead of digifit's: stop when the largest change of a weighted cell count in a
        pass is below ``epsilon``; below 1 it is a fraction of the total weight (R's ``control$epsilon``).
        ``epsilon=1, max_iter=10`` are R's defaults, for reproducing a result of R's ``rake`` made without
        ``control``; R's tight ``control=list(epsilon=1e-10, maxit=100)`` is ``epsilon=1e-10, max_iter=100``.
    tolerance : float, default 1e-10
        digifit's convergence rule (used unless ``epsilon`` is given): iterate until the raked weight total of
        every level of every margin is within ``tolerance`` (relative) of its population count.
    check_totals : float or None, default 1e-6
        Margins must agree on the population size to this relative tolerance (``None`` to skip).
    empty_levels : {'collapse', 'fail'}, default 'collapse'
        A margin level with a population count but no sample rows: ``'collapse'`` merges it into a
        neighbouring level (the policy of :mod:`digifit.stats.sparse`; the design's
        ``calibration.collapsed`` lists each merge as a :class:`~digifit.stats.sparse.Collapse`), ``'fail'``
        raises (the strict behaviour). Nothing changes when every level has rows.
    ordered : list of str, default ()
        Columns whose levels are ordered (in the population table's order): an empty level of such a column is
        merged into the next level rather than into the largest one.

    Returns
    -------
    Design

    Raises
    ------
    CalibrationError
        Margins whose totals disagree, sample levels missing from the population (and, with
        ``empty_levels='fail'``, population levels missing from the sample), or no convergence (naming the margin
        with the largest remaining discrepancy).

    Notes
    -----
    The fit runs on the weighted counts of the cross-classified cells (one aggregation); each step multiplies the
    weights of a margin's level by ``N_level / N̂_level``. By default it runs until every margin matches (to
    1e-10), which on a handful of cells costs nothing; R's default (``epsilon=1``, ``maxit=10``) stops earlier,
    while the margins still miss their counts by up to about 1e-6 relative.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from digifit import stats
    >>> t = pa.table({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"], "w": [1.0, 2.0, 3.0, 4.0]})
    >>> r = stats.rake(stats.design(t, weights="w"), {"a": {"x": 50, "y": 50}, "b": {"u": 40, "v": 60}})
    >>> [round(e.estimate, 6) for e in stats.proportion(r, "a")]
    [0.5, 0.5]
    """
    _check_calibratable(design, "rake")
    items = list(margins.items()) if isinstance(margins, Mapping) else list(margins)
    if not items:
        raise CalibrationError("rake: no margins given.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise CalibrationError(f"rake: max_iter must be an integer of at least 1; got {max_iter!r}.")
    if epsilon is not None and tolerance is not None:
        raise CalibrationError(
            "rake: give either epsilon (R's rule: the change of a cell in a pass) or tolerance (digifit's: the "
            "gap of every margin), not both."
        )
    for name, value in (("epsilon", epsilon), ("tolerance", tolerance)):
        if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise CalibrationError(f"rake: {name} must be a positive number; got {value!r}.")
    if empty_levels not in ("collapse", "fail"):
        raise CalibrationError(f"rake: empty_levels {empty_levels!r} is not known; expected 'collapse' or 'fail'.")
    margin_cols: list[tuple[str, ...]] = []
    pops: list[dict[tuple, float]] = []
    for cols, population in items:
        cols_t = (cols,) if isinstance(cols, str) else tuple(cols)
        check_columns(design.table, cols_t, "rake margin")
        margin_cols.append(cols_t)
        pops.append(_population_table(population, cols_t, f"rake margin {'/'.join(cols_t)}"))
    columns = tuple(dict.fromkeys(c for cols in margin_cols for c in cols))
    keys, base, _counts = _cell_totals(design, columns)
    collapsed: list[Collapse] = []
    if empty_levels == "collapse":
        kept_cols, kept_pops = [], []
        for cols, pop in zip(margin_cols, pops):
            at = [columns.index(c) for c in cols]
            new_pop, notes = collapse_empty(cols, pop, {tuple(k[i] for i in at) for k in keys}, ordered=ordered)
            collapsed.extend(notes)
            if new_pop is not None:
                kept_cols.append(cols)
                kept_pops.append(new_pop)
        if not kept_cols:
            raise CalibrationError("rake: no margin has a level with sample rows.")
        if len(kept_cols) < len(margin_cols):  # a margin was dropped: the cells of the remaining columns
            margin_cols, pops = kept_cols, kept_pops
            columns = tuple(dict.fromkeys(c for cols in margin_cols for c in cols))
            keys, base, _counts = _cell_totals(design, columns)
        else:
            pops = kept_pops
    idx = [tuple(columns.index(c) for c in cols) for cols in margin_cols]
    level_of = []
    pop_of = []
    for m, cols in enumerate(margin_cols):
        what = f"rake margin {'/'.join(cols)}"
        levels = sorted({tuple(k[i] for i in idx[m]) for k in keys}, key=lambda k: tuple(repr(v) for v in k))
        aligned = _match_levels(dict.fromkeys(levels), pops[m], cols, what)
        code = {lv: j for j, lv in enumerate(levels)}
        level_of.append(np.array([code[tuple(k[i] for i in idx[m])] for k in keys]))
        pop_of.append(np.array([aligned[lv] for lv in levels]))
    if check_totals is not None and len(pop_of) > 1:
        sums = [float(p.sum()) for p in pop_of]
        if max(sums) - min(sums) > check_totals * max(sums):
            shown = ", ".join(f"{'/'.join(c)} sums to {s:,.6g}" for c, s in zip(margin_cols, sums))
            raise CalibrationError(f"rake: the margins disagree on the population size ({shown}).")
    tol = RAKE_TOLERANCE if tolerance is None else float(tolerance)
    eps = None if epsilon is None else (epsilon * base.sum() if epsilon < 1 else float(epsilon))
    w = base.copy()
    old = w.copy()
    converged = False
    margin_w: list[np.ndarray] = []
    cumulative = [np.ones(len(p)) for p in pop_of]  # each margin's factor per level, over all iterations
    iterations = 0
    delta = math.inf
    for _ in range(max_iter):
        iterations += 1
        margin_w = []
        for m in range(len(margin_cols)):
            totals = np.bincount(level_of[m], weights=w, minlength=len(pop_of[m]))
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = pop_of[m] / totals
            w = w * factor[level_of[m]]
            cumulative[m] = cumulative[m] * factor
            margin_w.append(w.copy())
        if eps is not None:  # R's rule: the largest change of a cell in this pass
            delta = float(np.max(np.abs(old - w)))
            if delta < eps:
                converged = True
                break
            old = w.copy()
        elif _margin_gap(w, level_of, pop_of)[0] <= tol:
            converged = True
            break
    if not converged:
        gap, m, level, raked = _margin_gap(w, level_of, pop_of)
        lv = sorted({tuple(k[i] for i in idx[m]) for k in keys}, key=lambda k: tuple(repr(v) for v in k))[level]
        shown = repr(lv[0]) if len(lv) == 1 else repr(lv)
        rule = (
            f"tolerance {tol:g} relative"
            if eps is None
            else f"last change of a cell {delta:,.6g}, epsilon {eps:,.6g} (R's rule)"
        )
        sums = [float(p.sum()) for p in pop_of]
        hint = (
            "; the margins disagree on the population size, so they cannot all be met: make their counts sum "
            "to the same total"
            if max(sums) - min(sums) > tol * max(sums)
            else ""
        )
        raise CalibrationError(
            f"rake did not converge in {max_iter} iterations: margin {'/'.join(margin_cols[m])} is still off by "
            f"{raked - pop_of[m][level]:,.6g} at level {shown} (raked {raked:,.10g}, population "
            f"{pop_of[m][level]:,.10g}: {gap:.3g} relative; {rule}){hint}; raise max_iter or check the margins."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(base > 0, w / base, 1.0)
        margin_factor = tuple(np.where(base > 0, mw / base, 1.0) for mw in margin_w)
    # the weight expression: the product over margins of each margin's cumulative factor of the row's level
    per_margin = []
    for m in range(len(margin_cols)):
        levels: dict[tuple, float] = {}
        for k, code in zip(keys, level_of[m]):
            levels.setdefault(tuple(k[i] for i in idx[m]), float(cumulative[m][code]))
        per_margin.append(levels)
    cal = CellCalibration(
        "rake",
        columns,
        tuple(keys),
        factor,
        tuple(idx),
        margin_factor,
        tuple(per_margin),
        margin_codes=tuple(level_of),
        margin_population=tuple(pop_of),
        iterations=iterations,
        collapsed=tuple(collapsed),
    )
    return _with(design, cal)


def _model_terms(design: Design, terms: Sequence[str], totals: Mapping[str, Any]):
    """Model matrix columns as R's ``model.matrix(~ a + b)``: intercept, treatment dummies, numeric columns."""
    schema = design.table.schema()
    check_columns(design.table, terms, "calibrate")
    unknown = [k for k in totals if k not in terms and k != "(Intercept)"]
    if unknown:
        raise CalibrationError(f"calibrate: totals given for {', '.join(map(repr, unknown))}, which is not a term.")
    out_terms: list[tuple[str, Any]] = [("(Intercept)", None)]
    names = ["(Intercept)"]
    pop: list[float] = [math.nan]
    sizes = []
    t = design.table
    for col in terms:
        if col not in totals:
            raise CalibrationError(f"calibrate: no population total for term {col!r}.")
        given = totals[col]
        if schema[col].is_numeric() and not isinstance(given, Mapping):
            out_terms.append((col, None))
            names.append(col)
            pop.append(_count_any(given, col))
            continue
        if not isinstance(given, Mapping):
            raise CalibrationError(
                f"calibrate: {col!r} is categorical; its total must give the population count of every level, "
                f'e.g. {{"{col}": {{"A": 120, "B": 80}}}}.'
            )
        levels = design.execute(t.filter(t[col].notnull()).select(col).distinct()).column(0).to_pylist()
        levels = sorted(levels, key=lambda v: (str(type(v)), v))
        aligned = _match_levels(
            {(lv,): None for lv in levels},
            {(k,): _count_any(v, col) for k, v in given.items()},
            (col,),
            f"calibrate {col}",
        )
        sizes.append((col, sum(aligned.values())))
        for lv in levels[1:]:
            out_terms.append((col, lv))
            names.append(f"{col}{lv}")
            pop.append(aligned[(lv,)])
    if "(Intercept)" in totals:
        pop[0] = _count_any(totals["(Intercept)"], "(Intercept)")
    elif sizes:
        pop[0] = sizes[0][1]
    else:
        raise CalibrationError(
            'calibrate: the population size is unknown; give a categorical term or "(Intercept)": N in the totals.'
        )
    for col, size in sizes:
        if abs(size - pop[0]) > 1e-6 * max(size, pop[0]):
            raise CalibrationError(
                f"calibrate: the counts of {col!r} sum to {size:,.6g} but the population size is {pop[0]:,.6g}."
            )
    return tuple(out_terms), tuple(names), np.asarray(pop, dtype=float)


def _count_any(value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise CalibrationError(f"calibrate: the total of {what!r} is {value!r}; expected a number.") from None
    if not math.isfinite(v):
        raise CalibrationError(f"calibrate: the total of {what!r} is {value!r}; expected a finite number.")
    return v


def calibrate(
    design: Design,
    terms: str | Sequence[str],
    totals: Mapping[str, Any],
    *,
    calfun: str = "linear",
    bounds: tuple[float, float] = (-math.inf, math.inf),
    max_iter: int = 50,
    epsilon: float = 1e-7,
) -> Design:
    """Calibrate the weights to population totals (R's ``calibrate``: GREG, raking or logit distance).

    Parameters
    ----------
    design : Design
    terms : str or list of str
        Auxiliary columns; categorical columns enter as treatment dummies, numeric ones as they are, with an
        intercept (R's ``~ a + b``).
    totals : mapping
        Per term: for a categorical column the population count of every level, for a numeric column its total,
        e.g. ``{"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069}``; the population size is the sum of
        a categorical column's counts (or ``"(Intercept)": N``).
    calfun : {'linear', 'raking', 'logit'}, default 'linear'
    bounds : (float, float), default (-inf, inf)
        Bounds on the weight ratio ``g = w_new / w``; ``logit`` needs finite ones.
    max_iter : int, default 50
    epsilon : float, default 1e-7
        Convergence: every ``|misfit| / (1 + |total|)`` below it.

    Returns
    -------
    Design

    Raises
    ------
    CalibrationError
        Unknown or missing totals, level mismatches, or no convergence (naming the worst total).

    Notes
    -----
    Unbounded linear calibration has the closed form ``g = 1 + xᵀ T⁻¹ (t_x − t̂_x)``, ``T = Σ w x xᵀ`` (one
    aggregation). Otherwise Newton steps as R's ``grake``, one aggregation each.
    """
    _check_calibratable(design, "calibrate")
    if calfun not in ("linear", "raking", "logit"):
        raise CalibrationError(f"calfun {calfun!r} is not known; expected 'linear', 'raking' or 'logit'.")
    lo, hi = (float(bounds[0]), float(bounds[1]))
    if not lo < 1 < hi:
        raise CalibrationError(f"bounds must satisfy lower < 1 < upper; got {bounds!r}.")
    if calfun == "logit" and not (math.isfinite(lo) and math.isfinite(hi)):
        raise CalibrationError("calfun 'logit' needs finite bounds, e.g. bounds=(0.5, 2).")
    if design.replicate is not None and (calfun != "linear" or math.isfinite(lo) or math.isfinite(hi)):
        raise CalibrationError(
            "calibrate: a replicate design can be re-calibrated in every replicate only with unbounded linear "
            "calibration; calibrate first and use Taylor variance, or use calfun='linear'."
        )
    terms_t = (terms,) if isinstance(terms, str) else tuple(terms)
    model, names, population = _model_terms(design, terms_t, totals)
    t = design.table
    w = design.weight_expr()
    mm = [_term_expr(t, col, level) for col, level in model]
    p = len(mm)
    nulls = design.execute(t.aggregate(**{f"n{i}": t[c].isnull().sum() for i, c in enumerate(terms_t)}))
    for i, col in enumerate(terms_t):
        if nulls.column(f"n{i}")[0].as_py():
            raise CalibrationError(f"calibrate: column {col!r} has missing values; calibration needs every row.")

    def moments(eta: np.ndarray | None, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Σ w·x, Σ w·dF·x xᵀ and Σ w·x·F(xᵀη) (one aggregation)."""
        metrics = {f"s{j}": design.sum_expr(w * mm[j]) for j in range(p)}
        if eta is None:
            dF = ibis.literal(1.0)
            fm1 = None
        else:
            xeta = ibis.literal(0.0)
            for j in range(p):
                xeta = xeta + mm[j] * float(eta[j])
            fm1 = _fm1_expr(calfun, xeta, (lo, hi))
            dF = _dfm1_expr(calfun, xeta, (lo, hi))
            for j in range(p):
                metrics[f"f{j}"] = design.sum_expr(w * scale * mm[j] * fm1)
            metrics["bad"] = (fm1.isnan() | fm1.isinf() | dF.isnan() | dF.isinf()).cast("int64").sum()
        for j in range(p):
            for k in range(j, p):
                metrics[f"t{j}_{k}"] = design.sum_expr(w * scale * dF * mm[j] * mm[k])
        row = design.execute(t.aggregate(**metrics)).to_pylist()[0]
        s = np.array([row[f"s{j}"] for j in range(p)], dtype=float)
        tm = np.zeros((p, p))
        for j in range(p):
            for k in range(j, p):
                tm[j, k] = tm[k, j] = row[f"t{j}_{k}"]
        f = np.array([row[f"f{j}"] for j in range(p)], dtype=float) if fm1 is not None else np.zeros(p)
        if fm1 is not None and int(row["bad"] or 0):
            f[:] = np.nan
        return s, tm, f

    sample_total, tmat, _ = moments(None, 1.0)
    tmat_inv = np.linalg.pinv(tmat)
    if calfun == "linear" and not (math.isfinite(lo) or math.isfinite(hi)):
        eta = np.linalg.solve(tmat, population - sample_total)
        cal = GregCalibration(model, names, eta, "linear", (lo, hi), 1.0, tmat_inv, population)
        return _with(design, cal)
    scales = population / np.where(sample_total == 0, np.nan, sample_total)
    scale = float(np.nanmean(scales)) if np.nanmin(scales) > 20 else 1.0
    st = sample_total * scale
    eta = np.zeros(p)
    misfit = population - st
    iteration = 1
    while True:
        _, tm, f = moments(eta, scale)
        misfit = population - st - f
        if not (np.all(np.isfinite(tm)) and np.all(np.isfinite(misfit))):
            raise CalibrationError(f"calibrate ({calfun}): the weights are not finite at iteration {iteration}.")
        deta = np.linalg.pinv(tm, rcond=256 * np.finfo(float).eps) @ misfit
        eta = eta + deta
        _, _, f = moments(eta, scale)
        while iteration < max_iter and not np.all(np.isfinite(f)):  # step halving, as R's grake
            iteration += 1
            deta = deta / 2
            eta = eta - deta
            _, _, f = moments(eta, scale)
        misfit = population - st - f
        if np.all(np.abs(misfit) / (1 + np.abs(population)) < epsilon):
            break
        iteration += 1
        if iteration <= max_iter:
            continue
        worst = int(np.argmax(np.abs(misfit) / (1 + np.abs(population))))
        raise CalibrationError(
            f"calibrate ({calfun}) did not converge in {max_iter} iterations: total {names[worst]!r} is off by "
            f"{misfit[worst]:,.6g} ({abs(misfit[worst]) / (1 + abs(population[worst])):.3g} relative, epsilon "
            f"{epsilon:g}); widen the bounds or raise max_iter."
        )
    cal = GregCalibration(model, names, eta, calfun, (lo, hi), scale, tmat_inv, population)
    return _with(design, cal)


def _dfm1_expr(calfun: str, u: ir.FloatingValue, bounds: tuple[float, float]) -> ir.FloatingValue:
    lo, hi = bounds
    inside = ibis.literal(True)
    if math.isfinite(hi):
        inside = inside & (u < hi - 1)
    if math.isfinite(lo):
        inside = inside & (u > lo - 1)
    if calfun == "linear":
        return inside.ifelse(1.0, 0.0)
    if calfun == "raking":
        return inside.ifelse(u.exp(), 0.0)
    a = (hi - lo) / ((hi - 1) * (1 - lo))
    e = (u * a).exp()
    d = hi - 1 + (1 - lo) * e
    return hi * (1 - lo) * e * a / d - ((lo * (hi - 1) + hi * (1 - lo) * e) * ((1 - lo) * e * a)) / (d * d)


def trim_weights(design: Design, *, lower: float = -math.inf, upper: float = math.inf, strict: bool = False) -> Design:
    """Trim weights to ``[lower, upper]`` and share what was cut equally among the others (R's ``trimWeights``).

    With ``strict=True`` trimming repeats until no weight is outside the bounds (the redistribution can push
    weights past a bound again). Trimming applies to design weights; to bound calibrated weights use
    :func:`calibrate`'s ``bounds``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from digifit import stats
    >>> d = stats.design(pa.table({"w": [1.0, 1.0, 10.0], "y": [1.0, 1.0, 1.0]}), weights="w")
    >>> stats.total(stats.trim_weights(d, upper=5.0), "y")[0].estimate
    12.0
    """
    if design.calibration is not None:
        raise CalibrationError(
            "trim_weights: the design is calibrated; trim the design weights before calibrating, or bound the "
            "calibration (calibrate(..., bounds=(L, U)))."
        )
    if design.weights is None:
        raise CalibrationError("trim_weights: the design has no weights column to trim.")
    if not lower < upper:
        raise CalibrationError(f"trim_weights: lower ({lower!r}) must be below upper ({upper!r}).")
    # The trimmed weight is a monotone piecewise function of the original weight: pieces (lo, hi] of the
    # original weight that map to w + c ("shift") or to a constant ("const"). Each round splits the pieces at
    # the bounds, sums their rows in one aggregation, and clips/shifts them; the expression stays a flat CASE.
    pieces = list(design.trims) or [(-math.inf, math.inf, "shift", 0.0)]
    t = design.table
    w = design.table[design.weights].cast("float64")
    for _ in range(100):
        split = []
        for lo, hi, kind, value in pieces:
            if kind == "const":
                split.append((lo, hi, kind, value))
                continue
            cuts = sorted({x for x in (lower - value, upper - value) if lo < x < hi and math.isfinite(x)})
            edges = [lo, *cuts, hi]
            split.extend((a, b, kind, value) for a, b in itertools.pairwise(edges))
        pieces = split
        metrics = {}
        for i, (lo, hi, _, _) in enumerate(pieces):
            inside = _in_piece(w, lo, hi)
            metrics[f"n{i}"] = inside.cast("int64").sum()
            metrics[f"s{i}"] = inside.ifelse(w, 0.0).sum()
        row = design.execute(t.aggregate(**metrics)).to_pylist()[0]
        n_out = n_in = 0
        cut = 0.0
        status = []
        for i, (lo, hi, kind, value) in enumerate(pieces):
            n_i = int(row[f"n{i}"] or 0)
            total = float(row[f"s{i}"] or 0.0) + n_i * value if kind == "shift" else n_i * value
            probe = _piece_value(lo, hi, kind, value)
            side = "low" if probe < lower else "high" if probe > upper else "in"
            status.append(side)
            if side == "in":
                n_in += n_i
            else:
                n_out += n_i
                cut += total - n_i * (lower if side == "low" else upper)
        if not n_out:
            break
        if not n_in:
            raise CalibrationError(f"trim_weights: every weight is outside [{lower}, {upper}].")
        share = cut / n_in
        pieces = [
            (lo, hi, "const", lower if side == "low" else upper) if side != "in" else (lo, hi, kind, value + share)
            for (lo, hi, kind, value), side in zip(pieces, status)
        ]
        if not strict:
            break
    else:
        raise CalibrationError("trim_weights(strict=True) did not settle in 100 rounds.")
    return dataclasses.replace(design, trims=tuple(pieces))


def _in_piece(w: ir.FloatingValue, lo: float, hi: float) -> ir.BooleanValue:
    cond = ibis.literal(True)
    if math.isfinite(lo):
        cond = cond & (w > lo)
    if math.isfinite(hi):
        cond = cond & (w <= hi)
    return cond


def _piece_value(lo: float, hi: float, kind: str, value: float) -> float:
    """The trimmed weight of a representative original weight inside the piece (all of it is on one side)."""
    if kind == "const":
        return value
    probe = (lo + hi) / 2 if math.isfinite(lo) and math.isfinite(hi) else (hi - 1 if math.isfinite(hi) else lo + 1)
    return probe + value
