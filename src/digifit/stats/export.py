"""Write a design's final weights (and, on request, its replicate weights) next to the data.

This is the one place where weights become per-row columns: estimators never need them (they work on PSU
totals), but other tools do — a public-use file, a colleague's R session. The replicate weights written here are
exactly the ones the estimators use implicitly: the pre-calibration weight times the PSU's replicate factor,
calibrated again in every replicate (R's ``weights(design, "analysis")`` of the replicate design).
"""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from digifit.errors import DesignError
from digifit.stats.codes import numbers, positions
from digifit.stats.design import Design

__all__ = ["weighted_table", "write_weights"]


def weighted_table(
    design: Design, *, name: str = "weight", replicate_weights: bool = False, prefix: str = "repw_"
) -> ir.Table:
    """Return the data with the design's final weight as column ``name`` (and ``prefix1..R`` replicates).

    Parameters
    ----------
    design : Design
    name : str, default 'weight'
        Name of the weight column (replaced if the data have one of that name).
    replicate_weights : bool, default False
        Add one column per replicate (a replicate design is needed).
    prefix : str, default 'repw_'
        Prefix of the replicate-weight columns.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from digifit import stats
    >>> d = stats.design(pa.table({"g": ["a", "b", "b"], "w": [1.0, 1.0, 1.0]}), weights="w")
    >>> t = weighted_table(stats.poststratify(d, "g", {"a": 2, "b": 4}))
    >>> d.execute(t.select("g", "weight").order_by("g")).column("weight").to_pylist()
    [2.0, 2.0, 2.0]
    """
    t = design.table
    keep = [c for c in t.columns if c != name and not (replicate_weights and c.startswith(prefix))]
    if not replicate_weights:
        return t.select(*keep, **{name: design.weight_expr(t)})
    if not design.is_replicate:
        raise DesignError("replicate weights need a replicate design (variance='jk1', 'bootstrap', ...).")
    if design.repweights:
        reps = {f"{prefix}{r + 1}": t[c].cast("float64") for r, c in enumerate(design.repweights)}
        return t.select(*keep, **{name: design.weight_expr(t)}, **reps)
    joined, reps = _factor_replicates(design, prefix)
    return joined.select(*keep, **{name: design.weight_expr(joined)}, **reps)


def _factor_replicates(design: Design, prefix: str) -> tuple[ir.Table, dict[str, ir.Value]]:
    """Per-row replicate weights: base weight × the PSU's factor × the replicate's own calibration factor."""
    s = design.structure
    f = design.replicate.factors  # (R, n_psu)
    n_rep = f.shape[0]
    t = design.table
    keys = design.key_exprs()
    names = list(keys)
    lookup = {f"{n}_k": col for n, col in zip(names, s.unit_keys)}
    unit_factor = f[:, s.parents[0]]  # (R, units)
    lk = design.source.register(pa.table(lookup | {f"__dg_f{r}": unit_factor[r] for r in range(n_rep)}))
    keyed = t.mutate(**keys)
    joined = keyed.join(lk, [keyed[n] == lk[f"{n}_k"] for n in names])
    cal = design.calibration
    base = design.base_weight_expr(joined)
    extra: list[ir.Value] = [ibis.literal(1.0)] * n_rep
    if cal is not None and cal.kind in ("poststratify", "rake"):
        cols = list(cal.columns)
        agg = design.execute(
            t.group_by(**keys, **{f"__dg_c{i}": t[c] for i, c in enumerate(cols)}).aggregate(
                __dg_b=design.base_weight_expr(t).sum()
            )
        )
        cells = positions(cal.cells, [agg.column(f"__dg_c{i}") for i in range(len(cols))])
        psus = s.parents[0][s.unit_of(agg)]
        base_cells = np.zeros((n_rep, len(cal.cells)))
        b = numbers(agg.column("__dg_b"))
        np.add.at(base_cells.T, cells, (f[:, psus] * b[None, :]).T)
        h = cal.replicate_factors(base_cells)  # (R, cells)
        cell_lookup = {f"{c}_c": pa.array([k[i] for k in cal.cells]) for i, c in enumerate(cols)}
        ck = design.source.register(pa.table(cell_lookup | {f"__dg_h{r}": h[r] for r in range(n_rep)}))
        joined = joined.join(ck, [joined[c] == ck[f"{c}_c"] for c in cols])
        base = design.base_weight_expr(joined)
        extra = [joined[f"__dg_h{r}"] for r in range(n_rep)]
    elif cal is not None:
        mm = cal.mm_exprs(t)
        p = len(mm)
        metrics = {f"s{j}": (design.base_weight_expr(t) * mm[j]).sum() for j in range(p)}
        for j in range(p):
            for k in range(j, p):
                metrics[f"t{j}_{k}"] = (design.base_weight_expr(t) * mm[j] * mm[k]).sum()
        agg = design.execute(t.group_by(**keys).aggregate(**metrics))
        psus = s.parents[0][s.unit_of(agg)]
        fr = f[:, psus]
        st = np.stack([fr @ np.asarray(agg.column(f"s{j}"), dtype=float) for j in range(p)], axis=1)
        tm = np.zeros((n_rep, p, p))
        for j in range(p):
            for k in range(j, p):
                tm[:, j, k] = tm[:, k, j] = fr @ np.asarray(agg.column(f"t{j}_{k}"), dtype=float)
        lam = np.linalg.solve(tm, (cal.population[None, :] - st)[:, :, None])[:, :, 0]
        mmj = cal.mm_exprs(joined)
        extra = []
        for r in range(n_rep):
            g = ibis.literal(1.0)
            for j in range(p):
                g = g + mmj[j] * float(lam[r, j])
            extra.append(g)
    reps = {f"{prefix}{r + 1}": base * joined[f"__dg_f{r}"] * extra[r] for r in range(n_rep)}
    return joined, reps


def write_weights(design: Design, path: str | Path, **kwargs) -> Path:
    """Write :func:`weighted_table` to a Parquet file (streamed by the engine); return the path."""
    path = Path(path)
    if path.suffix.lower() not in (".parquet", ".pq"):
        raise DesignError(f"output {str(path)!r}: expected a .parquet file.")
    table = weighted_table(design, **kwargs)
    design.source.to_parquet(table, path)
    return path
