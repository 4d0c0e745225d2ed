"""The survey design: weights, strata, cluster ids per stage, fpc per stage, the lonely-PSU policy.

A :class:`Design` is a value: it is validated once — by :func:`design` (one aggregation over the data that
also yields the design's unit structure) or, with ``validate=False``, inside the first estimator's own
aggregation — and estimators never change it.

Conventions follow R's ``survey::svydesign`` with ``nest=TRUE``: cluster ids are taken within strata (and
later-stage ids within their parent cluster); without ``ids`` each row is its own PSU; without ``weights`` the
weights are implied by the fpc where the fpc is given for every stage, else 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from digifit.errors import DesignError, LonelyPSUError
from digifit.stats.backends import NA_VALUES, Source, na_markers, to_source
from digifit.stats.codes import KeyCodes, numbers

__all__ = ["LONELY_PSU_POLICIES", "Design", "design"]

LONELY_PSU_POLICIES = ("fail", "remove", "certainty", "adjust", "average")

#: 1.0 typed DOUBLE in SQL. Ibis writes float literals bare and DuckDB reads a bare ``1.0`` as a DECIMAL, so a
#: product of such literals (weights × calibration factors) can overflow DuckDB's decimal scale.
DOUBLE_ONE = ibis.literal(Decimal("1")).cast("float64")

# column names used inside the aggregations (chosen to avoid clashing with user columns)
STRATUM_KEY = "__dg_stratum"
UNIT_KEY = "__dg_id{}"


@dataclass(frozen=True)
class Structure:
    """The design's unit structure, computed once from the data (one row per final-stage unit).

    ``row_psu`` is True when each row is its own PSU (no ``ids``): then units are strata-level aggregates
    and the variance uses within-stratum sums of squares computed by the engine.

    Units, strata and clusters are integer codes (:class:`~digifit.stats.codes.KeyCodes`: Arrow ranks the key
    columns, numpy combines them), never Python tuples: unit ``i`` is row ``i`` of the aggregation the
    structure was derived from; a stratum's or cluster's code is its rank among the sorted distinct keys.
    """

    row_psu: bool
    stages: int
    units: KeyCodes  # the unit keys (stratum, id1, ..., id_stages), one row per unit (row_psu: (stratum,))
    unit_of_rank: np.ndarray  # rank of a unit's key among the sorted keys -> unit index
    stratum: np.ndarray  # unit -> stratum code
    parents: tuple[np.ndarray, ...]  # stage s (0-based) -> unit -> index of its stage-s cluster (stage 0: PSU)
    sampsize: tuple[np.ndarray, ...]  # stage s -> unit -> number of sampled units in its stage-s stratum
    popsize: tuple[np.ndarray, ...] | None  # stage s -> unit -> population size of that stratum (inf = none)
    implied_weight: np.ndarray | None  # unit -> weight implied by the fpc when no weights column
    n_strata: int
    n_rows: int
    stratum_labels: tuple[Any, ...]

    @property
    def n_psu(self) -> int:
        """The number of PSUs (codes of ``parents[0]`` run from 0 to ``n_psu - 1``)."""
        return int(self.parents[0].max()) + 1 if len(self.parents[0]) else 0

    @property
    def key_columns(self) -> list[str]:
        """The names of the unit key columns in an aggregation (stratum, then the id of each stage)."""
        return [STRATUM_KEY] + ([] if self.row_psu else [UNIT_KEY.format(s + 1) for s in range(self.stages)])

    @property
    def unit_keys(self) -> tuple[pa.Array | pa.ChunkedArray, ...]:
        """Per key column, each unit's value (in unit order): what a join back onto the rows needs."""
        return self.units.columns

    def unit_of(self, agg: pa.Table) -> np.ndarray:
        """The unit index of every row of an aggregation grouped by (at least) the unit keys (vectorised)."""
        rank = self.units.lookup([agg.column(c) for c in self.key_columns])
        if rank.size and rank.min() < 0:
            raise DesignError("internal error: an aggregated row has a unit that is not in the design's structure.")
        return self.unit_of_rank[rank]


@dataclass(frozen=True)
class Design:
    """A survey design bound to a table. Build it with :func:`design`.

    The columns and their types are checked when the design is built; the values (missing or negative
    weights, missing strata or ids, fpc consistency, lonely PSUs) and the unit structure are checked in the
    first aggregation that reads the data — an estimator's own, so an estimate costs one pass — and cached.

    Attributes
    ----------
    source : Source
        Where the data live (:mod:`digifit.stats.backends`); never materialised. ``table`` is its Ibis table.
    weights, strata : str or None
        Column names.
    ids, fpc : tuple of str
        One column per stage.
    lonely_psu : str
        One of ``fail``, ``remove``, ``certainty``, ``adjust``, ``average`` (R's ``survey.lonely.psu``).
    """

    source: Source = field(repr=False, compare=False)
    weights: str | None
    strata: str | None
    ids: tuple[str, ...]
    fpc: tuple[str, ...]
    lonely_psu: str
    calibration: Any = None  # a calibration record (digifit.stats.calibration), kept for the variance
    trims: tuple[tuple[float, float, str, float], ...] = ()  # trim_weights: pieces (lo, hi, kind, value)
    replicate: Any = None  # ReplicateFactors (digifit.stats.replicates): replicate variance instead of Taylor
    repweights: tuple[str, ...] = ()  # replicate-weight columns supplied with the data (full analysis weights)
    na_values: tuple[str, ...] = NA_VALUES  # what the reader takes as missing: never a category
    _structure: Structure | None = field(default=None, repr=False, compare=False)

    @property
    def table(self) -> ir.Table:
        """The data as an Ibis table (expressions only; :meth:`execute` runs them)."""
        return self.source.table

    def execute(self, expr: ir.Expr):
        """Run an Ibis expression on the design's engine."""
        return self.source.execute(expr)

    def replicate_degf(self) -> int:
        """R's ``degf`` of a design with supplied replicate-weight columns: their rank minus 1 (cached).

        The rank is that of the columns' Gram matrix Σ w_r·w_s, one aggregation of R(R+1)/2 sums.
        """
        cached = self.__dict__.get("_rep_degf")
        if cached is None:
            t = self.table
            cols = [t[c].cast("float64") for c in self.repweights]
            metrics = {f"g{i}_{j}": (cols[i] * cols[j]).sum() for i in range(len(cols)) for j in range(i, len(cols))}
            row = self.execute(t.aggregate(**metrics)).to_pylist()[0]
            gram = np.zeros((len(cols), len(cols)))
            for i in range(len(cols)):
                for j in range(i, len(cols)):
                    gram[i, j] = gram[j, i] = row[f"g{i}_{j}"]
            scale = np.sqrt(np.maximum(np.diag(gram), 1e-300))
            corr = gram / np.outer(scale, scale)
            cached = int(np.linalg.matrix_rank(corr, tol=1e-10)) - 1
            self.__dict__["_rep_degf"] = cached
        return cached

    @property
    def is_replicate(self) -> bool:
        """True when variances come from replicates (factors or supplied replicate-weight columns)."""
        return self.replicate is not None

    @property
    def row_psu(self) -> bool:
        """True when each row is its own PSU (no ``ids``)."""
        return not self.ids

    @property
    def stages(self) -> int:
        """Number of variance stages: stages with an fpc (R uses later stages only when they have one)."""
        if self.row_psu:
            return 1
        return min(len(self.ids), len(self.fpc)) if self.fpc else 1

    @property
    def implied_weights(self) -> bool:
        """True when the weights are implied by the fpc (no weights column, an fpc for every stage)."""
        return self.weights is None and bool(self.fpc) and (self.row_psu or len(self.fpc) >= len(self.ids))

    @property
    def structure(self) -> Structure:
        """The validated unit structure (computed by one aggregation on first use, then cached)."""
        if self._structure is None:
            agg = self.execute(self.table.group_by(**self.key_exprs()).aggregate(**self.design_metrics()))
            self._cache(agg)
        return self._structure  # type: ignore[return-value]

    def structure_from(self, agg) -> Structure:
        """Return the structure, deriving it from an estimator's aggregation if not yet known.

        ``agg`` has the unit key columns, the :meth:`design_metrics` columns, and possibly more keys (domains,
        categories); rows are collapsed to units first.
        """
        if self._structure is None:
            key_cols = list(self.key_exprs())
            extra = set(agg.column_names) - set(key_cols) - set(self.design_metrics())
            # with missing keys nothing is collapsed: the structure refuses them, naming the rows
            if len(agg.column_names) and extra and not any(agg.column(c).null_count for c in key_cols):
                agg = _collapse(agg, key_cols, list(self.design_metrics()))
            self._cache(agg)
        return self._structure  # type: ignore[return-value]

    def _cache(self, agg) -> None:
        s = _structure(
            self, agg, self.weights, self.strata, self.ids, self.fpc, self.stages, self.row_psu, self.lonely_psu
        )
        object.__setattr__(self, "_structure", s)

    @property
    def columns(self) -> tuple[str, ...]:
        """The data's column names."""
        return tuple(self.table.columns)

    @property
    def degf(self) -> int:
        """Design degrees of freedom of the whole design: PSUs minus strata (R's ``degf``)."""
        s = self.structure
        n_psu = s.n_psu if not s.row_psu else s.n_rows
        return int(n_psu - s.n_strata)

    def weight_expr(self, table: ir.Table | None = None) -> ir.FloatingValue:
        """Return the row weight as an Ibis expression (1 when the weights are implied by the fpc).

        A calibrated design's weight is the pre-calibration weight times the calibration factor of the row.
        """
        t = self.table if table is None else table
        w = self.base_weight_expr(t)
        if self.calibration is not None:
            w = w * self.calibration.factor_expr(t)
        return w

    def sum_expr(self, expr: ir.Value, table: ir.Table | None = None) -> ir.Value:
        """Σ expr over the rows, also when ``expr`` is a constant (no weights column): count × constant."""
        t = self.table if table is None else table
        return expr.sum() if isinstance(expr, ir.Column) else t.count().cast("float64") * expr

    def base_weight_expr(self, table: ir.Table | None = None) -> ir.FloatingValue:
        """Return the weight before calibration (after trimming) as an Ibis expression."""
        t = self.table if table is None else table
        if self.weights is None:
            return DOUBLE_ONE
        w = t[self.weights].cast("float64")
        if self.trims:  # trimmed: a piecewise function of the original weight (see calibration.trim_weights)
            branches = []
            for lo, hi, kind, value in self.trims:
                cond = ibis.literal(True)
                if lo != float("-inf"):
                    cond = cond & (w > lo)
                if hi != float("inf"):
                    cond = cond & (w <= hi)
                branches.append((cond, w + value if kind == "shift" else ibis.literal(value)))
            w = ibis.cases(*branches, else_=w)
        return w

    def key_exprs(self, table: ir.Table | None = None) -> dict[str, ir.Value]:
        """Return the expressions that identify a unit: stratum and the cluster id of each variance stage."""
        t = self.table if table is None else table
        return unit_keys(t, self.strata, self.ids, self.stages, self.row_psu)

    def design_metrics(self, table: ir.Table | None = None) -> dict[str, ir.Value]:
        """Return the per-unit aggregates that validate the design's values (added to every aggregation)."""
        t = self.table if table is None else table
        metrics: dict[str, ir.Value] = {"__dg_n": t.count()}
        if self.weights:
            w = t[self.weights]
            metrics["__dg_wnull"] = w.isnull().sum()
            metrics["__dg_wmin"] = w.min()
        for s, col in enumerate(self.fpc[: self.stages]):
            metrics[f"__dg_fmin{s}"] = t[col].min()
            metrics[f"__dg_fmax{s}"] = t[col].max()
            metrics[f"__dg_fnull{s}"] = t[col].isnull().sum()
        return metrics


_COLLAPSE = {
    "__dg_n": "sum",
    "__dg_wnull": "sum",
    "__dg_wmin": "min",
    "__dg_fmin": "min",
    "__dg_fmax": "max",
    "__dg_fnull": "sum",
}


def _collapse(agg: pa.Table, key_cols: list[str], metrics: list[str]) -> pa.Table:
    """Sum/min/max the design metrics of ``agg`` over its extra keys, leaving one row per unit (numpy only).

    The units come out in the order of their keys; the key columns have no missing values.
    """
    keys = KeyCodes([agg.column(c) for c in key_cols])
    codes, size = keys.codes, keys.size
    first = pa.array(keys.first)
    out: dict[str, Any] = {c: agg.column(c).take(first) for c in key_cols}
    for name in metrics:
        how = _COLLAPSE[name.rstrip("0123456789")]
        col = agg.column(name)
        values = numbers(col.fill_null(0) if how == "sum" else col)
        if how == "sum":
            out[name] = np.bincount(codes, weights=values, minlength=size)
        else:
            acc = np.full(size, np.inf if how == "min" else -np.inf)
            (np.fmin if how == "min" else np.fmax).at(acc, codes, values)
            out[name] = acc
    return pa.table(out)


def _as_tuple(value: str | Sequence[str] | None, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip()) if "," in value else (value,)
    try:
        out = tuple(value)
    except TypeError:
        raise DesignError(f"{name} must be a column name or a list of column names; got {value!r}.") from None
    for v in out:
        if not isinstance(v, str):
            raise DesignError(f"{name} must be column names; got {v!r}.")
    return out


def check_columns(table: ir.Table, columns: Sequence[str], role: str) -> None:
    """Raise :class:`DesignError` naming the first column of ``columns`` that ``table`` lacks."""
    have = set(table.columns)
    for col in columns:
        if col not in have:
            # names are case-sensitive (R's fpc data has both nh and Nh): never guess between them
            close = [c for c in table.columns if c.lower() == col.lower()]
            if len(close) > 1:
                raise DesignError(
                    f"{role} column {col!r} is not in the data, and the name is ambiguous: the data have "
                    f"{' and '.join(map(repr, close))}, which differ only in case; give one of them exactly."
                )
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            shown = ", ".join(list(table.columns)[:20])
            raise DesignError(f"{role} column {col!r} is not in the data{hint}; columns are: {shown}.")


def bad_rows(d: Design, predicate: ir.BooleanValue, limit: int = 5) -> tuple[int, list[int]]:
    """Return how many rows meet ``predicate`` and the 1-based numbers of the first few (for error messages)."""
    table = d.table
    numbered = table.mutate(__dg_row=ibis.row_number() + 1)
    rebound = predicate.op().replace({table.op(): numbered.op()}).to_expr()
    rows = d.execute(numbered.filter(rebound).order_by("__dg_row").select("__dg_row").limit(limit))
    return d.execute(table.filter(predicate).count()), [int(r) for r in rows.column(0).to_pylist()]


def unit_keys(table: ir.Table, strata: str | None, ids: Sequence[str], stages: int, row_psu: bool) -> dict:
    """Return the group-by expressions of a design's units: stratum and the cluster id of each stage."""
    keys: dict[str, ir.Value] = {STRATUM_KEY: table[strata] if strata else ibis.literal(1)}
    if not row_psu:
        for s in range(stages):
            keys[UNIT_KEY.format(s + 1)] = table[ids[s]]
    return keys


def design(
    data: Any,
    *,
    weights: str | None = None,
    strata: str | None = None,
    ids: str | Sequence[str] | None = None,
    fpc: str | Sequence[str] | None = None,
    lonely_psu: str = "fail",
    con: Any = None,
    validate: bool = True,
    engine: str = "duckdb",
    repweights: str | Sequence[str] | None = None,
    rep_type: str | None = None,
    scale: float | None = None,
    rscales: Sequence[float] | float | None = None,
    mse: bool = False,
    na_values: str | Sequence[Any] | None = None,
) -> Design:
    """Build and validate a survey design.

    Parameters
    ----------
    data : path, DataFrame, pyarrow Table, DuckDB relation or ibis Table
        The sample, one row per responding unit; see :func:`digifit.stats.backends.to_source`.
    weights : str, optional
        Sampling (or calibrated) weight column. Without it, weights are implied by ``fpc`` when ``fpc`` gives a
        population size or sampling fraction for every stage, else every weight is 1.
    strata : str, optional
        Stratum column (first stage).
    ids : str or list of str, optional
        Cluster id column per stage (``"dnum,snum"`` or ``["dnum", "snum"]``); ids are nested within strata and
        within the previous stage's cluster. Without it each row is its own PSU.
    fpc : str or list of str, optional
        Per stage, the population size (all values ≥ 1) or the sampling fraction (all values ≤ 1) of the
        stratum (stage 1) or of the parent cluster (later stages). Without it, the with-replacement
        (ultimate cluster) approximation is used. Later stages enter the variance only when they have an fpc.
    lonely_psu : {'fail', 'remove', 'certainty', 'adjust', 'average'}, default 'fail'
        What to do with a stratum that has a single PSU (R's ``survey.lonely.psu``).
    con : duckdb connection or pyspark.sql.SparkSession, optional
        Connection used to read files and in-memory frames (a new in-process one by default).
    repweights : str or list of str, optional
        Replicate-weight columns supplied with the data (full analysis weights, as R's ``svrepdesign`` with
        ``combined.weights=TRUE``): a list of names, or a regular expression matched against the column names
        (sorted as they appear in the data). Variances then come from these replicates.
    rep_type : str, optional
        Their type (R's ``svrepdesign`` types: ``brr``, ``fay``, ``jk1``, ``jkn``, ``bootstrap``, ``acs``,
        ``successive-difference``, ``jk2``, ``other``); required with ``repweights``.
    scale, rscales, mse : optional
        R's ``svrepdesign`` variance scaling (defaults per type, as R).
    na_values : str or list, optional
        Values read as missing besides ``NA`` and the empty field (e.g. ``"-99"`` or ``["."]``); see
        :func:`digifit.stats.backends.to_source`. A missing value is missing for every statistic, never a
        category.
    validate : bool, default True
        Check the values now (one aggregation). With ``False`` they are checked by the first estimator, in its
        own aggregation, which saves a pass over the data (what the CLI does); errors are the same.
    engine : {'duckdb', 'spark'}, default 'duckdb'
        The engine that reads a path or frame: in-process DuckDB, or Spark through Ibis's PySpark backend
        (:mod:`digifit.stats.spark`; the session is ``con`` or :func:`~digifit.stats.spark.spark_session`).
        An Ibis table runs on the backend it is bound to.

    Returns
    -------
    Design

    Raises
    ------
    DesignError
        An unknown column, non-numeric or negative or missing weights, missing stratum or id values,
        inconsistent fpc, or a lonely PSU under ``lonely_psu='fail'`` (:class:`LonelyPSUError`).

    Examples
    --------
    >>> import pyarrow as pa
    >>> data = pa.table({"s": [1, 1, 2, 2], "w": [2.0, 2.0, 3.0, 3.0], "y": [1.0, 3.0, 2.0, 4.0]})
    >>> d = design(data, weights="w", strata="s")
    >>> d.degf
    2
    """
    if lonely_psu not in LONELY_PSU_POLICIES:
        raise DesignError(f"lonely_psu {lonely_psu!r} is not known; expected one of {', '.join(LONELY_PSU_POLICIES)}.")
    source = to_source(data, con=con, engine=engine, na_values=na_values)
    table = source.table
    ids_t = _as_tuple(ids, "ids")
    fpc_t = _as_tuple(fpc, "fpc")
    if weights is not None and not isinstance(weights, str):
        raise DesignError(f"weights must be one column name; got {weights!r}.")
    if strata is not None and not isinstance(strata, str):
        raise DesignError(f"strata must be one column name; got {strata!r}.")
    check_columns(table, [weights] if weights else [], "weights")
    check_columns(table, [strata] if strata else [], "strata")
    check_columns(table, ids_t, "ids")
    check_columns(table, fpc_t, "fpc")
    if fpc_t and ids_t and len(fpc_t) > len(ids_t):
        raise DesignError(f"fpc has {len(fpc_t)} columns but ids only {len(ids_t)}; give one fpc per stage.")
    if fpc_t and not ids_t and len(fpc_t) > 1:
        raise DesignError(f"fpc has {len(fpc_t)} columns but the design has one stage (no ids).")
    schema = table.schema()
    if weights and not schema[weights].is_numeric():
        raise DesignError(f"weights column {weights!r} has type {schema[weights]}; expected numbers.")
    for col in fpc_t:
        if not schema[col].is_numeric():
            raise DesignError(f"fpc column {col!r} has type {schema[col]}; expected numbers.")

    d = Design(source, weights, strata, ids_t, fpc_t, lonely_psu, na_values=na_markers(na_values))
    if repweights is not None:
        d = _with_repweights(d, repweights, rep_type, scale, rscales, mse)
    if validate:
        d.structure  # noqa: B018 - one aggregation: validate the values now
    return d


def _with_repweights(d: Design, repweights, rep_type, scale, rscales, mse) -> Design:
    import dataclasses
    import re

    from digifit.stats.replicates import supplied_replicates

    if isinstance(repweights, str):
        try:
            pattern = re.compile(repweights)
        except re.error as exc:
            raise DesignError(f"repweights {repweights!r} is not a valid regular expression ({exc}).") from None
        columns = tuple(c for c in d.table.columns if pattern.search(c) and c != d.weights)
        if not columns:
            raise DesignError(f"repweights {repweights!r} matches no column of the data.")
    else:
        columns = tuple(repweights)
        check_columns(d.table, columns, "repweights")
    if rep_type is None:
        raise DesignError("repweights need rep_type (R's svrepdesign type, e.g. 'JK1', 'BRR', 'bootstrap').")
    if d.weights is None:
        raise DesignError("repweights need the full-sample weights column too (weights=...).")
    schema = d.table.schema()
    for col in columns:
        if not schema[col].is_numeric():
            raise DesignError(f"replicate-weight column {col!r} has type {schema[col]}; expected numbers.")
    factors = supplied_replicates(rep_type, len(columns), scale=scale, rscales=rscales, mse=mse)
    return dataclasses.replace(d, replicate=factors, repweights=columns)


def _structure(d: Design, agg, weights, strata, ids, fpc, stages, row_psu, lonely_psu) -> Structure:
    n_rows = int(numbers(agg.column("__dg_n")).sum()) if agg.num_rows else 0
    if n_rows == 0:
        raise DesignError("the data have no rows.")
    key_cols = [STRATUM_KEY] + ([] if row_psu else [UNIT_KEY.format(s + 1) for s in range(stages)])
    key_names = [strata or "(stratum)"] + ([] if row_psu else list(ids[:stages]))
    key_values = [agg.column(c) for c in key_cols]
    # missing design values
    for name, values, col in zip(key_names, key_values, key_cols):
        if col == STRATUM_KEY and not strata:
            continue
        if values.null_count:
            count, rows = bad_rows(d, d.table[name].isnull())
            role = "strata" if col == STRATUM_KEY else "ids"
            raise DesignError(
                f"{role} column {name!r} has {count} missing value(s) (rows {', '.join(map(str, rows))}); "
                "expected a value on every row."
            )
    if weights:
        wnull = int(numbers(agg.column("__dg_wnull")).sum())
        if wnull:
            _, rows = bad_rows(d, d.table[weights].isnull())
            raise DesignError(
                f"weights column {weights!r} has {wnull} missing value(s) (rows {', '.join(map(str, rows))}); "
                "expected a number >= 0 on every row."
            )
        wmin = pc.min(agg.column("__dg_wmin")).as_py()
        if wmin is not None and wmin < 0:
            pred = d.table[weights] < 0
            count, rows = bad_rows(d, pred)
            values = d.execute(d.table.filter(pred).select(weights).limit(1)).column(0)[0].as_py()
            raise DesignError(
                f"weights column {weights!r} has {count} negative value(s) (rows {', '.join(map(str, rows))}; "
                f"first {values!r}); expected weights >= 0."
            )
    for s in range(min(stages, len(fpc))):
        if int(numbers(agg.column(f"__dg_fnull{s}")).sum()):
            _, rows = bad_rows(d, d.table[fpc[s]].isnull())
            raise DesignError(
                f"fpc column {fpc[s]!r} has missing values (rows {', '.join(map(str, rows))}); "
                "expected a population size or sampling fraction on every row."
            )

    # encode keys: units are rows of agg; strata and stage-s clusters are ranks of their key prefixes
    n_units = agg.num_rows
    units = KeyCodes(key_values)
    if units.size != n_units:
        raise DesignError("internal error: the design's aggregation has more than one row per unit.")
    unit_of_rank = np.empty(n_units, dtype=np.int64)
    unit_of_rank[units.codes] = np.arange(n_units)
    prefix = units.prefix_codes
    stratum = prefix[0]
    strat_labels = units.labels[0].to_pylist()
    parents = []
    sampsize = []
    for s in range(stages if not row_psu else 1):
        if row_psu:
            parents.append(np.arange(n_units))
            sampsize.append(numbers(agg.column("__dg_n")))
            continue
        unit_code = prefix[s + 1]  # stage-s cluster = (stratum, id1..id_{s+1})
        parent_code = prefix[s]  # its stratum at this stage
        parents.append(unit_code)
        # number of distinct stage-s clusters in each parent (a cluster's key extends its parent's)
        parent_of = np.empty(units.prefix_sizes[s + 1], dtype=np.int64)
        parent_of[unit_code] = parent_code
        counts = np.bincount(parent_of, minlength=units.prefix_sizes[s])
        sampsize.append(counts[parent_code].astype(float))

    popsize = None
    if fpc:
        popsize = []
        fmins = [numbers(agg.column(f"__dg_fmin{s}")) for s in range(min(stages, len(fpc)))]
        fmaxs = [numbers(agg.column(f"__dg_fmax{s}")) for s in range(min(stages, len(fpc)))]
        allv = np.concatenate(fmins + fmaxs)
        is_popsize = bool(np.any(allv > 1))
        if is_popsize and np.any(allv < 1):
            raise DesignError(
                f"fpc columns {', '.join(map(repr, fpc))} mix population sizes (> 1) and sampling fractions "
                "(< 1); expected all values >= 1 (population sizes) or all <= 1 (fractions)."
            )
        for s in range(len(fmins)):
            parent = prefix[s]
            lo = np.full(parent.max() + 1, np.inf)
            hi = np.full(parent.max() + 1, -np.inf)
            np.minimum.at(lo, parent, fmins[s])
            np.maximum.at(hi, parent, fmaxs[s])
            varying = np.nonzero(lo != hi)[0]
            if varying.size:
                j = int(np.nonzero(parent == varying[0])[0][0])
                where = _describe_key(key_names[: s + 1], [kv[j].as_py() for kv in key_values[: s + 1]])
                raise DesignError(
                    f"fpc column {fpc[s]!r} varies within {where} (from {lo[varying[0]]!r} to "
                    f"{hi[varying[0]]!r}); expected one value per stratum at stage {s + 1}."
                )
            f = fmins[s]
            n = sampsize[s]
            if is_popsize:
                pop = f
            else:
                with np.errstate(divide="ignore"):
                    pop = np.where(f > 0, n / np.where(f > 0, f, 1), np.inf)
            if np.any(pop < n - 1e-9):
                j = int(np.nonzero(pop < n - 1e-9)[0][0])
                where = _describe_key(key_names[: s + 1], [kv[j].as_py() for kv in key_values[: s + 1]])
                raise DesignError(
                    f"fpc column {fpc[s]!r} implies more than 100% sampling in {where}: population size "
                    f"{pop[j]:g} but {int(n[j])} sampled units at stage {s + 1}."
                )
            popsize.append(pop)
        popsize = tuple(popsize)

    implied = None
    if weights is None and fpc and popsize is not None and (row_psu or len(fpc) >= len(ids)):
        implied = np.ones(n_units)
        for s in range(len(popsize)):
            implied = implied * popsize[s] / sampsize[s]

    structure = Structure(
        row_psu=row_psu,
        stages=stages,
        units=units,
        unit_of_rank=unit_of_rank,
        stratum=stratum,
        parents=tuple(parents),
        sampsize=tuple(sampsize),
        popsize=popsize,
        implied_weight=implied,
        n_strata=len(strat_labels),
        n_rows=n_rows,
        stratum_labels=tuple(strat_labels),
    )
    if lonely_psu == "fail":
        _check_lonely(structure, key_names, key_values)
    return structure


def _check_lonely(s: Structure, key_names, key_values) -> None:
    for stage in range(len(s.sampsize)):
        n = s.sampsize[stage]
        f = np.ones_like(n) if s.popsize is None or stage >= len(s.popsize) else _fpc_factor(s.popsize[stage], n)
        lonely = (n == 1) & (f >= 1e-7)
        if np.any(lonely):
            j = int(np.nonzero(lonely)[0][0])
            if stage == 0:
                label = key_values[0][j].as_py()
                where = f"Stratum ({label})" if key_names[0] != "(stratum)" else "The design"
            else:
                where = _describe_key(key_names[: stage + 1], [kv[j].as_py() for kv in key_values[: stage + 1]])
            raise LonelyPSUError(
                f"{where} has only one PSU at stage {stage + 1}; choose lonely_psu='remove', 'certainty', "
                "'adjust' or 'average' (R's survey.lonely.psu), or fix the strata."
            )


def _fpc_factor(popsize: np.ndarray, sampsize: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isinf(popsize), 1.0, (popsize - sampsize) / popsize)


def _describe_key(names, values) -> str:
    return ", ".join(f"{n}={v!r}" for n, v in zip(names, values) if n != "(stratum)") or "the design"
