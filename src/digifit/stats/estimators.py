"""Design-based estimators: mean, total, proportion, ratio and quantile, overall and by domain.

Each call runs **one** aggregation on the engine (quantiles: three), grouped by domain × stratum × cluster
(× later-stage clusters): weighted sums of the analysis variables and, when each row is its own PSU, of their
cross-products. Everything after that is numpy on those unit totals (:mod:`digifit.stats.variance`). Domains
are estimated as R's ``svyby`` does — the full design is kept and rows outside the domain contribute zero — so
domain standard errors equal R's.

References: Lumley (2010) *Complex Surveys*, ch. 2–3; Wolter (2007) *Introduction to Variance Estimation*, ch. 6;
Woodruff (1952) for quantile intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np

from digifit.errors import EstimationError
from digifit.stats.codes import KeyCodes, count_distinct, numbers, positions
from digifit.stats.design import Design, bad_rows, check_columns
from digifit.stats.intervals import (
    PROPORTION_METHODS,
    check_method,
    confint,
    glm_naive_variance,
    profile_likelihood_ci,
    qt,
)
from digifit.stats.replicates import factor_rank
from digifit.stats.result import Estimate, Estimates
from digifit.stats.variance import taylor_variance_rows, taylor_variance_units

__all__ = ["mean", "proportion", "quantile", "ratio", "total"]

_DOMAIN = "__dg_dom{}"


class _Aggregation:
    """Collects the sums the estimands need and runs them as one grouped aggregation.

    A *basis* item is a row value ``u`` (zero where its condition fails) whose weighted sum ``Σ W·u`` enters an
    influence function; it gets the companion sums that the variance needs: ``Σ W²·u·u'`` for pairs of basis
    items when rows are PSUs, and the sums a calibrated design's residuals need (see :meth:`run`).
    """

    def __init__(self, d: Design, by: tuple[str, ...], extra_keys: dict[str, ir.Value] | None = None):
        self.design = d
        self.by = by
        self.extra_keys = extra_keys or {}
        self.t = d.table
        self.w = d.weight_expr()
        self.metrics: dict[tuple, tuple[str, ir.Value, ir.Value | None]] = {}  # key -> (name, sum expr, u)
        self.basis: dict[str, ir.Value] = {}  # metric name -> u, for basis items
        self.pairs: set[tuple[str, str]] = set()

    def _cond(self, cond: tuple[str, ...]) -> ir.BooleanValue | None:
        if not cond:
            return None
        return ibis.and_(*[self.t[c].notnull() for c in cond])

    def weighted(self, key: tuple, u: ir.Value | None, cond: tuple[str, ...], *, basis: bool = False) -> str:
        """Register Σ W·u over rows meeting ``cond`` (u = None means 1); return its metric name."""
        if key not in self.metrics:
            c = self._cond(cond)
            value = u if u is not None else ibis.literal(1.0)
            if c is not None:
                value = c.ifelse(value, ibis.literal(0.0))
            name = f"__dg_m{len(self.metrics)}"
            self.metrics[key] = (name, self._sum(self.w * value), value)
        name, _, value = self.metrics[key]
        if basis:
            self.basis[name] = value
        return name

    def pair(self, names: Sequence[str]) -> None:
        """Declare that these basis items enter one influence function together (for Σ W²·u·u')."""
        for a in names:
            for b in names:
                self.pairs.add((a, b) if a <= b else (b, a))

    def _sum(self, expr: ir.Value) -> ir.Value:
        # a constant (no weights column, no condition) sums to the row count
        return expr.sum() if isinstance(expr, ir.Column) else self.t.count().cast("float64") * expr

    def count(self, key: tuple, cond: tuple[str, ...], positive: bool) -> str:
        if key in self.metrics:
            return self.metrics[key][0]
        c = self._cond(cond)
        if positive and self.design.weights is not None:
            c = (self.w > 0) if c is None else c & (self.w > 0)
        name = f"__dg_m{len(self.metrics)}"
        self.metrics[key] = (name, self.t.count() if c is None else c.cast("int64").sum(), None)
        return name

    def run(self):
        """Execute; the result has one row per domain × unit (× calibration cell × extra keys).

        Companion columns: ``__dg_x{a}|{b}`` = Σ W²·u_a·u_b (rows are PSUs); for calibrated designs (W the
        calibrated weight, B the weight before calibration) ``__dg_all_n``/``_W``/``_B`` over all rows and, per
        basis item ``u``: post-stratification ``__dg_P|u`` = Σ B·u (and ``__dg_Q|u`` = Σ W²·u, ``__dg_all_W2``),
        raking ``__dg_U|u`` = Σ u (and ``__dg_R|u`` = Σ W·B·u, ``__dg_all_B2``), GREG ``__dg_M{j}|u`` = Σ B·x_j·u,
        ``__dg_C{j}`` = Σ W·x_j (and ``__dg_G{j}|u`` = Σ W²·x_j·u, ``__dg_H{j}_{l}`` = Σ W²·x_j·x_l).
        """
        d = self.design
        keys = dict(d.key_exprs())
        for i, col in enumerate(self.by):
            keys[_DOMAIN.format(i)] = self.t[col]
        keys.update(self.extra_keys)
        aggs = {name: expr for name, expr, _ in self.metrics.values()}
        W = self.w
        row_psu = d.row_psu
        if row_psu:
            for a, b in sorted(self.pairs):
                aggs[f"__dg_x{a}|{b}"] = self._sum(W * W * self.basis[a] * self.basis[b])
        cal = d.calibration
        if cal is not None:
            B = d.base_weight_expr()
            t = self.t
            aggs["__dg_all_n"] = t.count()
            aggs["__dg_all_W"] = d.sum_expr(W)
            aggs["__dg_all_B"] = d.sum_expr(B)
            if cal.kind in ("poststratify", "rake"):
                for i, col in enumerate(cal.columns):
                    keys[f"__dg_cal{i}"] = t[col]
            if cal.kind == "poststratify":
                for name, u in self.basis.items():
                    aggs[f"__dg_P|{name}"] = d.sum_expr(B * u)
                    if row_psu:
                        aggs[f"__dg_Q|{name}"] = d.sum_expr(W * W * u)
                if row_psu:
                    aggs["__dg_all_W2"] = d.sum_expr(W * W)
            elif cal.kind == "rake":
                for name, u in self.basis.items():
                    aggs[f"__dg_U|{name}"] = self._sum(u)
                    if row_psu:
                        aggs[f"__dg_R|{name}"] = d.sum_expr(W * B * u)
                if row_psu:
                    aggs["__dg_all_B2"] = d.sum_expr(B * B)
            else:
                mm = cal.mm_exprs(t)
                for j, x in enumerate(mm):
                    aggs[f"__dg_C{j}"] = self._sum(W * x)
                    for name, u in self.basis.items():
                        aggs[f"__dg_M{j}|{name}"] = self._sum(B * x * u)
                        if row_psu:
                            aggs[f"__dg_G{j}|{name}"] = self._sum(W * W * x * u)
                    if row_psu:
                        for k in range(j, len(mm)):
                            aggs[f"__dg_H{j}_{k}"] = self._sum(W * W * x * mm[k])
        t = self.t
        for r, col in enumerate(d.repweights):  # supplied replicate weights: each replicate's basis sums
            rw = t[col].cast("float64")
            for name, u in self.basis.items():
                aggs[f"__dg_rw{r}|{name}"] = (rw * u).sum()
        if d.replicate is not None and not d.repweights and cal is not None:  # re-calibrated replicates
            B = d.base_weight_expr()
            for name, u in self.basis.items():
                aggs.setdefault(f"__dg_P|{name}", d.sum_expr(B * u))
            if cal.kind == "calibrate":
                mm = cal.mm_exprs(t)
                for j, x in enumerate(mm):
                    aggs[f"__dg_BM{j}"] = self._sum(B * x)
                    for k in range(j, len(mm)):
                        aggs[f"__dg_BMM{j}_{k}"] = self._sum(B * x * mm[k])
        if d._structure is None:  # validate the design in this same pass
            aggs.update(d.design_metrics())
        # groups with a missing domain value are dropped in numpy (as svyby drops NA domains)
        return d.execute(self.t.group_by(**keys).aggregate(**aggs))


def _as_list(value: str | Sequence[str] | None, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    out = tuple(value)
    if not all(isinstance(v, str) for v in out):
        raise EstimationError(f"{name} must be column names; got {value!r}.")
    return out


def _check_numeric(d: Design, columns: Sequence[str], role: str) -> None:
    schema = d.table.schema()
    for col in columns:
        dtype = schema[col]
        if dtype.is_string():
            _refuse_text(d, col, role)
        if not (dtype.is_numeric() or dtype.is_boolean()):
            raise EstimationError(
                f"{role} column {col!r} has type {dtype}; expected numbers (use proportion() for categories)."
            )


def _refuse_marker_levels(d: Design, col: str, levels: Sequence[Any]) -> None:
    """A missing-value marker is never a category: refuse text levels such as ``NA`` that a reader left as text.

    Readers of files and frames turn the markers into NULL; this catches tables from other engines.
    """
    markers = [v for v in levels if isinstance(v, str) and v.strip() in d.na_values]
    if not markers:
        return
    count, rows = bad_rows(d, d.table[col].isin(markers))
    raise EstimationError(
        f"column {col!r} has the text {', '.join(map(repr, markers))}, a missing-value marker, on {count} row(s) "
        f"(rows {', '.join(map(str, rows))}); it is never a category: turn it into a missing value (NULL) in "
        "the data, then pass na_rm=True (CLI --na-rm) to leave those rows out."
    )


def _refuse_text(d: Design, col: str, role: str) -> None:
    """A text column offered as numbers: when most of it is numbers, name the values that are not, and rows."""
    t = d.table
    text = t[col]
    base = f"{role} column {col!r} has type {d.table.schema()[col]}; expected numbers"
    pred = text.notnull() & text.strip().try_cast("float64").isnull()
    count, rows = bad_rows(d, pred)
    if count == 0:
        raise EstimationError(f"{base}: the numbers are stored as text; convert the column in the data.")
    if count == d.execute(t.filter(text.notnull()).count()):
        raise EstimationError(f"{base} (use proportion() for categories).")
    values = d.execute(t.filter(pred).select(text).distinct().order_by(col).limit(5)).column(0).to_pylist()
    raise EstimationError(
        f"{base}, but {count} value(s) are not numbers ({', '.join(map(repr, values))}; rows "
        f"{', '.join(map(str, rows))}); if they mark missing values, pass them as na_values (CLI --na-values), "
        "else correct them in the data."
    )


def _num(t: ir.Table, col: str) -> ir.FloatingValue:
    return t[col].cast("float64")


class _Run:
    """The numpy side: unit totals per domain, estimates, influence totals, variance."""

    def __init__(self, d: Design, by: tuple[str, ...], agg, level: float, ci_method: str):
        self.d = d
        self.s = d.structure_from(agg)
        self.by = by
        self.level = level
        self.ci_method = ci_method
        self.agg = agg
        s = self.s
        self.unit = s.unit_of(agg)
        if s.implied_weight is not None:
            self.g = s.implied_weight[self.unit]
        else:
            self.g = np.ones(len(self.unit))
        # domains: the sorted distinct by-values (rows with a missing one are in none: dom -1)
        if by:
            domains = KeyCodes([agg.column(_DOMAIN.format(i)) for i in range(len(by))])
            self.domains = domains.tuples()
            self.dom = domains.codes
        else:
            self.domains = [()] if agg.num_rows else []
            self.dom = np.zeros(agg.num_rows, dtype=np.int64)
        self._rows_by_dom = np.argsort(self.dom, kind="stable")
        self._dom_bounds = np.searchsorted(self.dom[self._rows_by_dom], np.arange(len(self.domains) + 1))
        self.n_units = len(s.stratum)
        self._cols: dict[str, np.ndarray] = {}
        cal = d.calibration
        if cal is not None and cal.kind in ("poststratify", "rake"):
            self.cell = positions(cal.cells, [agg.column(f"__dg_cal{i}") for i in range(len(cal.columns))])
            self.margin_level = []
            for margin in cal.margins:
                codes: dict[tuple, int] = {}
                lev = np.fromiter(
                    (codes.setdefault(tuple(k[i] for i in margin), len(codes)) for k in cal.cells), dtype=np.int64
                )
                self.margin_level.append((lev, len(codes)))

    def col(self, name: str, power: int = 1) -> np.ndarray:
        if name not in self._cols:
            self._cols[name] = numbers(self.agg.column(name))
        return self._cols[name] * (self.g**power if power else 1)

    def rows_of(self, dom: int) -> np.ndarray:
        return self._rows_by_dom[self._dom_bounds[dom] : self._dom_bounds[dom + 1]]

    def domain_dict(self, dom: int) -> dict[str, Any]:
        return dict(zip(self.by, self.domains[dom]))

    def df(self, rows: np.ndarray, used: np.ndarray) -> int:
        """Design df in the domain: PSUs with used rows minus strata with used rows (R's degf of the subset).

        ``used`` counts the rows of each aggregated row that the design passed to R's estimator has: every row
        of the domain for means, totals, ratios and proportions (R's ``svyciprop`` takes ``degf(design)``
        before ``na.rm`` drops rows), the non-missing ones for quantiles (``svyquantile`` subsets first).

        Replicate designs: the rank of the replicate factors of the domain's PSUs minus 1 (R's ``degf``).
        """
        s = self.s
        if self.d.is_replicate:
            if self.d.repweights:
                return self.d.replicate_degf()
            psus = np.unique(s.parents[0][self.unit[rows[used[rows] > 0]]])
            return factor_rank(self.d.replicate.factors[:, psus]) - 1 if len(psus) else 0
        units = self.unit[rows[used[rows] > 0]]
        if s.row_psu:
            return int(used[rows].sum() - count_distinct(units, self.n_units))
        return count_distinct(s.parents[0][units], s.n_psu) - count_distinct(s.stratum[units], s.n_strata)

    def variance(
        self,
        rows: np.ndarray,
        coefs: list[dict[str, float]],
        used_name: str,
        ratios: list[tuple[dict[str, float], dict[str, float] | None]] | None = None,
    ) -> np.ndarray:
        """Variance of each estimand (one dict of influence coefficients ``Σ_k c_k · S_k`` per estimand).

        ``ratios`` gives each estimand as a ratio of linear combinations of basis totals (denominator None: a
        total); replicate designs recompute it from every replicate's totals instead of linearising.
        """
        names = sorted({n for c in coefs for n in c} | {n for r in ratios or () for part in r if part for n in part})
        coef = np.zeros((len(rows), len(coefs), len(names)))
        for j, c in enumerate(coefs):
            for name, value in c.items():
                coef[:, j, names.index(name)] = value
        used = self.col(used_name, power=0)[rows] > 0
        num = den = None
        if ratios is not None and self.d.is_replicate:
            num = np.zeros_like(coef)
            den = np.zeros_like(coef)
            for j, (nu, de) in enumerate(ratios):
                for name, value in nu.items():
                    num[:, j, names.index(name)] = value
                for name, value in (de or {}).items():
                    den[:, j, names.index(name)] = value
            if all(de is None for _, de in ratios):
                den = None
        return self.variance_basis(rows, names, coef, used, num=num, den=den)

    def variance_basis(
        self,
        rows: np.ndarray,
        names: list[str],
        coef: np.ndarray,
        used: np.ndarray,
        *,
        num: np.ndarray | None = None,
        den: np.ndarray | None = None,
    ) -> np.ndarray:
        """Variance of estimands whose influence on aggregated row ``r`` is ``Σ_k coef[r, e, k] · S_k[r]``.

        ``names`` are basis items (weighted sums registered with ``basis=True``); ``rows`` the domain's rows.
        Replicate designs need the estimand itself: ``Σ num·S / Σ den·S`` (``den`` None: a total).
        """
        if self.d.is_replicate:
            if num is None:
                raise EstimationError("this statistic has no replicate variance; use a Taylor design.")
            return self._replicate_variance(rows, names, num, den)
        s = self.s
        n_est = coef.shape[1]
        sums = np.stack([self.col(n)[rows] for n in names], axis=1)
        z = np.einsum("rek,rk->re", coef, sums)
        z2 = None
        if s.row_psu:
            z2 = np.zeros((len(rows), n_est))
            for i, a in enumerate(names):
                for j, b in enumerate(names):
                    both = coef[:, :, i] * coef[:, :, j]
                    if not both.any():  # items of different estimands: no cross-product was declared
                        continue
                    key = f"__dg_x{a}|{b}" if a <= b else f"__dg_x{b}|{a}"
                    z2 += both * self.col(key, power=2)[rows][:, None]
        cal = self.d.calibration
        if cal is None:
            return self.variance_of(rows, z, z2, np.repeat(used[:, None], n_est, axis=1))
        return self._calibrated_variance(rows, names, coef, z, z2)

    def _companion(self, prefix: str, rows: np.ndarray, names: list[str], coef: np.ndarray) -> np.ndarray:
        """``Σ_k coef[r, e, k] · companion_k[r]`` on every aggregated row (zero outside ``rows``)."""
        out = np.zeros((self.agg.num_rows, coef.shape[1]))
        comp = np.stack([self.col(f"{prefix}|{n}", power=0)[rows] for n in names], axis=1)
        out[rows] = np.einsum("rek,rk->re", coef, comp)
        return out

    def _calibrated_variance(self, rows, names, coef, z, z2) -> np.ndarray:
        """Residuals of the influence values after calibration (R's svyrecvar), then the Taylor variance.

        R keeps every row of a calibrated design in a domain (``prob = Inf`` outside), so all rows take part.
        """
        cal = self.d.calibration
        n_all = self.agg.num_rows
        n_est = coef.shape[1]
        zz = np.zeros((n_all, n_est))
        zz[rows] = z
        zz2 = None
        if z2 is not None:
            zz2 = np.zeros((n_all, n_est))
            zz2[rows] = z2
        col = lambda name: self.col(name, power=0)  # noqa: E731 - calibrated designs have no implied weights
        if cal.kind == "poststratify":
            cell, n_cells = self.cell, len(cal.cells)
            num = np.zeros((n_cells, n_est))
            np.add.at(num, cell, self._companion("__dg_P", rows, names, coef))
            den = np.bincount(cell, weights=col("__dg_all_B"), minlength=n_cells)
            m = (num / den[:, None])[cell]
            zz -= col("__dg_all_W")[:, None] * m
            if zz2 is not None:
                q = self._companion("__dg_Q", rows, names, coef)
                zz2 = zz2 - 2 * m * q + m * m * col("__dg_all_W2")[:, None]
        elif cal.kind == "rake":
            cell, n_cells = self.cell, len(cal.cells)
            v = np.zeros((n_cells, n_est))
            np.add.at(v, cell, self._companion("__dg_U", rows, names, coef))
            n_c = np.bincount(cell, weights=col("__dg_all_n"), minlength=n_cells)
            a = cal.factor[:, None]
            b = np.zeros((n_cells, n_est))
            for _ in range(10):  # R: ten rounds over the margins, with each margin's weights of the last iteration
                for m, h in enumerate(cal.margin_factor):
                    lev, n_lev = self.margin_level[m]
                    tot = np.zeros((n_lev, n_est))
                    np.add.at(tot, lev, (a * v - b * n_c[:, None]) / h[:, None])
                    ave = tot / np.bincount(lev, weights=n_c, minlength=n_lev)[:, None]
                    b = b + h[:, None] * ave[lev]
            bc = b[cell]
            zz -= col("__dg_all_B")[:, None] * bc
            if zz2 is not None:
                r = self._companion("__dg_R", rows, names, coef)
                zz2 = zz2 - 2 * bc * r + bc * bc * col("__dg_all_B2")[:, None]
        else:
            p = len(cal.terms)
            mv = np.stack([self._companion(f"__dg_M{j}", rows, names, coef).sum(axis=0) for j in range(p)])
            beta = cal.tmat_inv @ mv  # (p, estimands)
            cw = np.stack([col(f"__dg_C{j}") for j in range(p)], axis=1)
            zz -= cw @ beta
            if zz2 is not None:
                g = [self._companion(f"__dg_G{j}", rows, names, coef) for j in range(p)]
                for j in range(p):
                    zz2 = zz2 - 2 * beta[j][None, :] * g[j]
                    for k in range(p):
                        h = col(f"__dg_H{min(j, k)}_{max(j, k)}")
                        zz2 = zz2 + (beta[j] * beta[k])[None, :] * h[:, None]
        all_rows = np.arange(n_all)
        return self.variance_of(all_rows, zz, zz2, np.ones((n_all, n_est), dtype=bool))

    def _replicate_variance(self, rows, names, num, den) -> np.ndarray:
        """Replicate variance (R's ``svrVar``) of ``θ = Σ num·S / Σ den·S`` from every replicate's totals."""
        d = self.d
        t_num = self.replicate_totals(rows, names, num)
        full_num = np.einsum("rek,rk->e", num, np.stack([self.col(n)[rows] for n in names], axis=1))
        if den is None:
            theta_r, theta = t_num, full_num
        else:
            t_den = self.replicate_totals(rows, names, den)
            full_den = np.einsum("rek,rk->e", den, np.stack([self.col(n)[rows] for n in names], axis=1))
            with np.errstate(divide="ignore", invalid="ignore"):
                theta_r, theta = t_num / t_den, full_num / full_den
        return np.atleast_1d(d.replicate.variance(theta_r, theta))

    def replicate_totals(self, rows: np.ndarray, names: list[str], a: np.ndarray) -> np.ndarray:
        """Every replicate's ``Σ_rows Σ_k a[r, e, k] · S_k`` (replicates × estimands), without per-row weights.

        Replicate factors: ``F @`` PSU totals (calibrated designs are re-calibrated in every replicate);
        replicate-weight columns: their weighted sums from the aggregation.
        """
        d, s = self.d, self.s
        if d.repweights:
            out = np.zeros((len(d.repweights), a.shape[1]))
            for r in range(len(d.repweights)):
                sums = np.stack([self.col(f"__dg_rw{r}|{n}", power=0)[rows] for n in names], axis=1)
                out[r] = np.einsum("rek,rk->e", a, sums)
            return out
        factors = d.replicate.factors
        psu_of_row = s.parents[0][self.unit]
        cal = d.calibration
        if cal is None:
            sums = np.stack([self.col(n)[rows] for n in names], axis=1)
            values = np.einsum("rek,rk->re", a, sums)
            psu_tot = np.zeros((factors.shape[1], a.shape[1]))
            np.add.at(psu_tot, psu_of_row[rows], values)
            return factors @ psu_tot
        # calibrated: calibrate every replicate's weights again, then total with the base-weighted sums
        base = np.stack([self.col(f"__dg_P|{n}", power=0)[rows] for n in names], axis=1)
        values = np.einsum("rek,rk->re", a, base)  # Σ B·v per aggregated row
        f_rows = factors[:, psu_of_row]  # (R, all aggregated rows)
        col = lambda name: self.col(name, power=0)  # noqa: E731
        if cal.kind in ("poststratify", "rake"):
            n_cells = len(cal.cells)
            b_all = col("__dg_all_B")
            base_cells = np.zeros((factors.shape[0], n_cells))
            for c in range(n_cells):
                base_cells[:, c] = f_rows[:, self.cell == c] @ b_all[self.cell == c]
            h = cal.replicate_factors(base_cells)  # (R, cells): new weight / base weight in each replicate
            return (f_rows[:, rows] * h[:, self.cell[rows]]) @ values
        # linear calibration: g_r = 1 + xᵀ λ_r with λ_r solving the replicate's own calibration equations
        p = len(cal.terms)
        tm = np.zeros((factors.shape[0], p, p))
        st = np.zeros((factors.shape[0], p))
        for j in range(p):
            st[:, j] = f_rows @ col(f"__dg_BM{j}")
            for k in range(j, p):
                tm[:, j, k] = tm[:, k, j] = f_rows @ col(f"__dg_BMM{j}_{k}")
        lam = np.linalg.solve(tm, (cal.population - st)[:, :, None])[:, :, 0]  # (R, p)
        extra = np.zeros((len(rows), a.shape[1], p))
        for j in range(p):
            mj = np.stack([self.col(f"__dg_M{j}|{n}", power=0)[rows] for n in names], axis=1)
            extra[:, :, j] = np.einsum("rek,rk->re", a, mj)
        out = f_rows[:, rows] @ values
        out += np.einsum("rq,qej,rj->re", f_rows[:, rows], extra, lam)
        return out

    def variance_of(self, rows: np.ndarray, z: np.ndarray, z2: np.ndarray | None, used: np.ndarray) -> np.ndarray:
        """Variance from influence totals ``z`` per aggregated row (rows × estimands).

        When rows are PSUs, ``z2`` holds each aggregated row's sum of squared row influences.
        """
        s = self.s
        k = z.shape[1]
        units = self.unit[rows]
        if not s.row_psu:
            zu = np.zeros((self.n_units, k))
            present = np.zeros((self.n_units, k), dtype=bool)
            np.add.at(zu, units, z)
            np.logical_or.at(present, units, used)
            return taylor_variance_units(s, zu, present, self.d.lonely_psu)
        sum_z = np.zeros((self.n_units, k))
        sum_z2 = np.zeros((self.n_units, k))
        present = np.zeros((self.n_units, k), dtype=bool)
        np.add.at(sum_z, units, z)
        np.add.at(sum_z2, units, z2)
        np.logical_or.at(present, units, used)
        return taylor_variance_rows(s, sum_z, sum_z2, present, self.d.lonely_psu)

    def interval(self, est: float, se: float, df: int, n: int) -> tuple[float, float]:
        lo, hi = confint(float(est), float(se), df=df, level=self.level, method=self.ci_method, n=n)
        return float(lo), float(hi)


def _prepare(d: Design, variables: Sequence[str], by, ci_method: str, level: float, numeric: bool):
    by_t = _as_list(by, "by")
    check_columns(d.table, variables, "analysis")
    check_columns(d.table, by_t, "by")
    check_method(ci_method, level)
    if numeric:
        _check_numeric(d, variables, "analysis")
    return by_t


def _missing_check(run: _Run, columns: Sequence[str], na_rm: bool, n_all: str, n_used: dict) -> None:
    if na_rm:
        return
    total_rows = run.col(n_all, power=0).sum()
    for col in columns:
        used = run.col(n_used[col], power=0).sum()
        if used < total_rows:
            missing = int(total_rows - used)
            raise EstimationError(
                f"column {col!r} has {missing} missing value(s); pass na_rm=True (CLI --na-rm) to leave those "
                "rows out of the estimate, or impute them."
            )


def _estimate_linear(
    d: Design,
    statistic: str,
    specs: list[tuple[str, ...]],
    by,
    na_rm: bool,
    ci_method: str,
    level: float,
) -> Estimates:
    """Shared engine for mean / total / ratio (specs: (y,) or (num, den))."""
    variables = sorted({v for spec in specs for v in spec})
    by_t = _prepare(d, variables, by, ci_method, level, numeric=True)
    if ci_method in PROPORTION_METHODS and statistic != "mean":
        raise EstimationError(f"ci_method {ci_method!r} is for proportions and means of 0/1 variables.")
    t = d.table
    agg = _Aggregation(d, by_t)
    n_all = agg.count(("n", ()), (), positive=False)
    plans = []
    n_used = {}
    for spec in specs:
        cond = tuple(dict.fromkeys(spec))
        names = {}
        names["w"] = agg.weighted(("w", cond), None, cond, basis=True)
        names["n"] = agg.count(("n", cond), cond, positive=False)
        names["n+"] = agg.count(("n+", cond), cond, positive=True)
        for v in spec:
            n_used[v] = agg.count(("n", (v,)), (v,), positive=False)
        y = spec[0]
        names["y"] = agg.weighted(("wy", y, cond), _num(t, y), cond, basis=True)
        names["yy"] = agg.weighted(("wyy", y, cond), _num(t, y) * _num(t, y), cond)
        if len(spec) == 2:
            x = spec[1]
            names["x"] = agg.weighted(("wy", x, cond), _num(t, x), cond, basis=True)
            names["xx"] = agg.weighted(("wyy", x, cond), _num(t, x) * _num(t, x), cond)
            names["xy"] = agg.weighted(("wxy", y, x, cond), _num(t, y) * _num(t, x), cond)
        plans.append((spec, names))
    for _spec, names in plans:
        agg.pair([names[r] for r in ("w", "y", "x") if r in names])
    run = _Run(d, by_t, agg.run(), level, ci_method)
    _missing_check(run, variables, na_rm, n_all, n_used)
    rows_out = []
    for dom in range(len(run.domains)):
        rows = run.rows_of(dom)
        for spec, names in plans:
            W = run.col(names["w"])[rows].sum()
            Y = run.col(names["y"])[rows].sum()
            n = int(run.col(names["n"], power=0)[rows].sum())
            npos = int(run.col(names["n+"], power=0)[rows].sum())
            domain = run.domain_dict(dom)
            if n == 0 or W == 0:
                raise EstimationError(_empty_message(statistic, spec, domain, n))
            if statistic == "mean":
                est = Y / W
                coef = {names["y"]: 1 / W, names["w"]: -est / W}
                as_ratio = ({names["y"]: 1.0}, {names["w"]: 1.0})
            elif statistic == "total":
                est = Y
                coef = {names["y"]: 1.0}
                as_ratio = ({names["y"]: 1.0}, None)
            else:
                X = run.col(names["x"])[rows].sum()
                if X == 0:
                    raise EstimationError(f"ratio {spec[0]}/{spec[1]}{_in(domain)}: the denominator's total is 0.")
                est = Y / X
                coef = {names["y"]: 1 / X, names["x"]: -est / X}
                as_ratio = ({names["y"]: 1.0}, {names["x"]: 1.0})
            var = float(run.variance(rows, [coef], names["n"], ratios=[as_ratio])[0])
            se = math.sqrt(max(var, 0.0))
            # design effect as R's deff=TRUE (against SRS without replacement of the same size)
            yy = run.col(names["yy"])[rows].sum()
            if statistic == "ratio":
                X = run.col(names["x"])[rows].sum()
                xx = run.col(names["xx"])[rows].sum()
                xy = run.col(names["xy"])[rows].sum()
                ss = (yy - 2 * est * xy + est * est * xx) / (X * X)
                s2 = ss / W * npos / (npos - 1) if npos > 1 else math.nan
                vsrs = s2 * W * W * (W - npos) / (W * npos)
            else:
                s2 = (yy - W * (Y / W) ** 2) / W * npos / (npos - 1) if npos > 1 else math.nan
                if statistic == "mean":
                    vsrs = s2 * (W - npos) / (W * npos) if npos <= W else math.nan
                else:
                    vsrs = s2 * W * W * (W - npos) / (W * npos)
            deff = var / vsrs if vsrs and math.isfinite(vsrs) and vsrs > 0 else math.nan
            df = run.df(rows, run.col(n_all, power=0))  # the domain's degf(), before na.rm drops rows
            lo, hi = run.interval(est, se, df, int(run.col(n_all, power=0)[rows].sum()))  # beta: nrow(design)
            rows_out.append(
                Estimate(
                    statistic=statistic,
                    variable="/".join(spec),
                    level=None,
                    domain=domain,
                    estimate=float(est),
                    se=se,
                    ci_low=lo,
                    ci_high=hi,
                    df=df,
                    n=n,
                    deff=float(deff),
                    cv=float(se / abs(est)) if est else math.nan,
                    ci_method=ci_method,
                )
            )
    return Estimates(tuple(_order(rows_out, specs)))


def _order(rows: list[Estimate], specs) -> list[Estimate]:
    order = {"/".join(spec): i for i, spec in enumerate(specs)}
    return sorted(rows, key=lambda e: order[e.variable]) if len(specs) > 1 else rows


def _in(domain: dict) -> str:
    return f" in domain {', '.join(f'{k}={v!r}' for k, v in domain.items())}" if domain else ""


def _empty_message(statistic: str, spec, domain: dict, n: int) -> str:
    what = "/".join(spec)
    if n == 0:
        return f"{statistic} of {what}{_in(domain)}: no rows with a value (empty domain)."
    return f"{statistic} of {what}{_in(domain)}: the weights sum to 0 (empty domain)."


def mean(
    design: Design,
    variables: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
    na_rm: bool = False,
    ci_method: str = "wald",
    level: float = 0.95,
) -> Estimates:
    """Estimate population means (R's ``svymean``; by domain as ``svyby``).

    Parameters
    ----------
    design : Design
    variables : str or list of str
        Numeric columns.
    by : str or list of str, optional
        Domain columns; one estimate per combination present in the data (rows with a missing domain value
        are left out, as ``svyby`` does).
    na_rm : bool, default False
        Leave out rows where the variable is missing; without it, missing values are an error.
    ci_method : str, default 'wald'
        See :func:`digifit.stats.intervals.confint`; the proportion methods apply to 0/1 variables.
    level : float, default 0.95

    Returns
    -------
    Estimates

    Notes
    -----
    ``ȳ = Σ w y / Σ w`` with influence ``z = w (y − ȳ) / Σ w`` (Lumley 2010, §2.2).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from digifit import stats
    >>> d = stats.design(pa.table({"s": [1, 1, 2, 2], "w": [1.0, 1.0, 2.0, 2.0], "y": [1.0, 3.0, 2.0, 4.0]}),
    ...                  weights="w", strata="s")
    >>> e = stats.mean(d, "y")[0]
    >>> round(e.estimate, 4), round(e.se, 4)
    (2.6667, 0.7454)
    """
    specs = [(v,) for v in _as_list(variables, "variables")]
    return _estimate_linear(design, "mean", specs, by, na_rm, ci_method, level)


def total(
    design: Design,
    variables: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
    na_rm: bool = False,
    ci_method: str = "wald",
    level: float = 0.95,
    categorical: bool | Sequence[str] | None = None,
) -> Estimates:
    """Estimate population totals (R's ``svytotal``; by domain as ``svyby``).

    Parameters
    ----------
    categorical : bool or list of str, optional
        Which variables are categories, whose every level gets its estimated count (R's
        ``svytotal(~factor(x))``; rows with ``level`` set, as :func:`proportion`): by default the text
        columns; ``True`` every variable, ``False`` none (a text column is then an error), or a list of names
        that are categories besides the text columns (number codes such as ``race``).

    Notes
    -----
    ``Ŷ = Σ w y`` with influence ``z = w y`` (Horvitz–Thompson); a level's total is that of its indicator.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from digifit import stats
    >>> d = stats.design(pa.table({"w": [10.0, 10.0, 20.0], "y": [1.0, 2.0, 3.0], "c": ["a", "b", "b"]}),
    ...                  weights="w")
    >>> stats.total(d, "y")[0].estimate
    90.0
    >>> [(e.level, e.estimate) for e in stats.total(d, "c")]
    [('a', 10.0), ('b', 30.0)]
    """
    names = _as_list(variables, "variables")
    check_columns(design.table, names, "analysis")
    schema = design.table.schema()
    if categorical is None:
        cats = {v for v in names if schema[v].is_string()}
    elif isinstance(categorical, bool):
        cats = set(names) if categorical else set()
    else:
        listed = _as_list(categorical, "categorical")
        check_columns(design.table, listed, "categorical")
        cats = set(listed) | {v for v in names if schema[v].is_string()}
    numbers = [(v,) for v in names if v not in cats]
    out = Estimates(())
    if numbers:
        out += _estimate_linear(design, "total", numbers, by, na_rm, ci_method, level)
    for v in names:
        if v in cats:
            out += _categorical(design, "total", v, by, na_rm, ci_method, level)
    if len(names) > 1 and cats and numbers:  # in the order asked for
        order = {v: i for i, v in enumerate(names)}
        out = Estimates(tuple(sorted(out, key=lambda e: order[e.variable])))
    return out


def ratio(
    design: Design,
    numerator: str,
    denominator: str,
    *,
    by: str | Sequence[str] | None = None,
    na_rm: bool = False,
    ci_method: str = "wald",
    level: float = 0.95,
) -> Estimates:
    """Estimate the ratio of two population totals (R's ``svyratio``).

    Notes
    -----
    ``R̂ = Σ w y / Σ w x`` with influence ``z = w (y − R̂ x) / Σ w x``. With ``na_rm`` a row missing either
    variable is left out of both totals.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from digifit import stats
    >>> d = stats.design(pa.table({"y": [1.0, 2.0, 3.0], "x": [2.0, 2.0, 2.0]}))
    >>> stats.ratio(d, "y", "x")[0].estimate
    1.0
    """
    return _estimate_linear(design, "ratio", [(numerator, denominator)], by, na_rm, ci_method, level)


def proportion(
    design: Design,
    variable: str,
    *,
    by: str | Sequence[str] | None = None,
    na_rm: bool = False,
    ci_method: str = "wald",
    level: float = 0.95,
) -> Estimates:
    """Estimate the population share of every level of a categorical variable (R's ``svymean`` of a factor).

    Parameters
    ----------
    ci_method : str, default 'wald'
        Any of ``wald``, ``t`` and the ``svyciprop`` methods ``logit``, ``likelihood``, ``asin``, ``beta``,
        ``mean``, ``xlogit``, plus ``wilson``; the interval of each level is that of the 0/1 indicator.

    Notes
    -----
    The aggregation groups by the variable too, so any number of levels costs one pass: per unit and level it
    returns Σw (and Σw² when rows are PSUs). The share of level ``k`` is ``p_k = W_k / W`` with influence
    ``z = w (1[y = k] − p_k) / W``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from digifit import stats
    >>> d = stats.design(pa.table({"c": ["a", "b", "b", "b"]}))
    >>> [(e.level, e.estimate) for e in stats.proportion(d, "c")]
    [('a', 0.25), ('b', 0.75)]
    """
    if not isinstance(variable, str):
        raise EstimationError(f"proportion() takes one variable name; got {variable!r}.")
    return _categorical(design, "proportion", variable, by, na_rm, ci_method, level)


def _categorical(
    design: Design, statistic: str, variable: str, by, na_rm: bool, ci_method: str, level: float
) -> Estimates:
    """Every level of a categorical variable: its share (``proportion``) or its total (``total``)."""
    by_t = _prepare(design, [variable], by, ci_method, level, numeric=False)
    if statistic == "total" and ci_method in PROPORTION_METHODS:
        raise EstimationError(f"ci_method {ci_method!r} is for proportions and means of 0/1 variables.")
    t = design.table
    agg = _Aggregation(design, by_t, extra_keys={"__dg_level": t[variable]})
    sw = agg.weighted(("w", ()), None, (), basis=True)
    agg.pair([sw])
    n_rows = agg.count(("n", ()), (), positive=False)
    n_pos = agg.count(("n+", ()), (), positive=True)
    result = agg.run()
    run = _Run(design, by_t, result, level, ci_method)
    lev_values = result.column("__dg_level").to_pylist()
    levels = sorted({v for v in lev_values if v is not None}, key=_sort_key)
    lev_index = {v: i for i, v in enumerate(levels)}
    lev = np.fromiter((lev_index.get(v, -1) for v in lev_values), dtype=np.int64, count=len(lev_values))
    counts = run.col(n_rows, power=0)
    if not na_rm and (missing := int(counts[lev < 0].sum())):
        raise EstimationError(
            f"column {variable!r} has {missing} missing value(s); pass na_rm=True (CLI --na-rm) to leave those "
            "rows out of the estimate, or impute them."
        )
    _refuse_marker_levels(design, variable, levels)
    if not levels:
        raise EstimationError(f"{statistic} of {variable!r}: the column has no non-missing values.")
    weights = run.col(sw)
    positive = run.col(n_pos, power=0)
    out = []
    k = len(levels)
    glm_start = _glm_start_sums(run, variable, levels, lev, weights, counts) if ci_method == "likelihood" else {}
    for dom in range(len(run.domains)):
        dom_rows = run.rows_of(dom)
        rows = dom_rows[lev[dom_rows] >= 0]
        domain = run.domain_dict(dom)
        W = weights[rows].sum()
        n = int(counts[rows].sum())
        npos = int(positive[rows].sum())
        if n == 0 or W == 0:
            raise EstimationError(_empty_message(statistic, (variable,), domain, n))
        onehot = lev[rows][:, None] == np.arange(k)[None, :]
        p = (onehot * weights[rows][:, None]).sum(axis=0) / W
        if statistic == "total":  # influence: W_r 1[level] on the one basis item (Horvitz-Thompson)
            coef = (onehot * 1.0)[:, :, None]
            var = run.variance_basis(rows, [sw], coef, counts[rows] > 0, num=coef, den=None)
        else:  # influence: W_r (1[level] - p) / W on the one basis item
            coef = ((onehot - p[None, :]) / W)[:, :, None]
            var = run.variance_basis(
                rows, [sw], coef, counts[rows] > 0, num=onehot[:, :, None] * 1.0, den=np.ones((len(rows), k, 1))
            )
        df = run.df(dom_rows, counts)  # svyciprop: degf() of the design passed, before na.rm drops rows
        for j, lv in enumerate(levels):
            pj = float(p[j])
            se = math.sqrt(max(float(var[j]), 0.0))
            s2 = pj * (1 - pj) * npos / (npos - 1) if npos > 1 else math.nan
            vsrs = s2 * (W - npos) / (W * npos) if npos <= W else math.nan
            if statistic == "total":  # R's svytotal: the variance of SRS of the estimated population total
                vsrs = vsrs * W * W
            deff = float(var[j] / vsrs) if vsrs and math.isfinite(vsrs) and vsrs > 0 else math.nan
            if statistic == "total":
                est = pj * W
                lo, hi = run.interval(est, se, df, n)
                out.append(
                    Estimate(
                        statistic="total",
                        variable=variable,
                        level=lv,
                        domain=domain,
                        estimate=float(est),
                        se=se,
                        ci_low=lo,
                        ci_high=hi,
                        df=df,
                        n=n,
                        deff=deff,
                        cv=se / abs(est) if est else math.nan,
                        ci_method=ci_method,
                    )
                )
                continue
            if ci_method == "likelihood":
                # svyglm's weights have mean 1 over every row of the domain, so Σ w̃ over the fitted rows is
                # W / (mean weight of the domain), not n, when na.rm dropped rows
                s_w = W * counts[dom_rows].sum() / weights[dom_rows].sum()
                naive = glm_naive_variance(pj, s_w, glm_start[(dom, j)]) if 0 < pj < 1 else None
                lo, hi = profile_likelihood_ci(pj, se, df=df, level=level, n=npos, naive=naive)
            else:  # svyciprop's beta takes nrow(design): the rows before na.rm drops any
                lo, hi = run.interval(pj, se, df, int(counts[dom_rows].sum()))
            out.append(
                Estimate(
                    statistic="proportion",
                    variable=variable,
                    level=lv,
                    domain=domain,
                    estimate=pj,
                    se=se,
                    ci_low=lo,
                    ci_high=hi,
                    df=df,
                    n=n,
                    deff=deff,
                    cv=se / abs(pj) if pj else math.nan,
                    ci_method=ci_method,
                )
            )
    return Estimates(tuple(out))


def _sort_key(value: Any) -> tuple:
    return (0, value) if isinstance(value, int | float | bool) else (1, str(value))


def _glm_start_sums(run: _Run, variable: str, levels: list, lev: np.ndarray, weights: np.ndarray, counts: np.ndarray):
    """Per (domain, level): the per-row sums at R's glm starting values (see ``glm_naive_variance``).

    One more aggregation: the weights are rescaled to mean 1 within each domain (``w̃ = w / c_d``), so the
    domain's ``c_d`` must be known first; the rows are grouped by domain and level.
    """
    d = run.d
    scale = {}
    for dom in range(len(run.domains)):
        rows = run.rows_of(dom)  # R's svyglm scales by the mean weight of every row, missing ones too
        scale[run.domains[dom]] = weights[rows].sum() / counts[rows].sum()
    import pyarrow as pa

    cols = {f"__dg_k{i}": [key[i] for key in scale] for i in range(len(run.by))}
    lookup = d.source.register(pa.table({**cols, "__dg_c": list(scale.values())}))
    base = _with_implied_weights(d) if d.implied_weights else d.table
    base = base.filter(base[variable].notnull())
    if run.by:
        joined = base.join(lookup, [base[c] == lookup[f"__dg_k{i}"] for i, c in enumerate(run.by)])
        c = joined["__dg_c"]
    else:
        joined, c = base, ibis.literal(next(iter(scale.values())))
    if d.implied_weights:
        w = joined["__dg_w"] / c
    else:
        w = (joined[d.weights].cast("float64") if d.weights else ibis.literal(1.0)) / c
    metrics = {}
    for y in (0, 1):
        mu = (w * y + 0.5) / (w + 1)
        work = w * mu * (1 - mu)
        metrics[f"sw{y}"] = work.sum()
        metrics[f"swz{y}"] = (work * (mu / (1 - mu)).ln() + w * (y - mu)).sum()
        metrics[f"ll{y}"] = (w * (mu if y else 1 - mu).ln()).sum()
    keys = {f"__dg_b{i}": joined[c_] for i, c_ in enumerate(run.by)}
    keys["__dg_level"] = joined[variable]
    res = d.execute(joined.group_by(**keys).aggregate(**metrics)).to_pylist()
    sums: dict[tuple, dict] = {}
    for r in res:
        dom_key = tuple(r[f"__dg_b{i}"] for i in range(len(run.by)))
        sums.setdefault(dom_key, {})[r["__dg_level"]] = r
    out = {}
    for dom, dom_key in enumerate(run.domains):
        groups = sums.get(dom_key, {})
        for j, lv in enumerate(levels):
            total = [0.0, 0.0, 0.0]
            for glv, r in groups.items():
                y = 1 if glv == lv else 0
                total[0] += r[f"sw{y}"]
                total[1] += r[f"swz{y}"]
                total[2] += r[f"ll{y}"]
            out[(dom, j)] = tuple(total)
    return out


def quantile(
    design: Design,
    variable: str,
    probs: float | Sequence[float],
    *,
    by: str | Sequence[str] | None = None,
    na_rm: bool = False,
    level: float = 0.95,
) -> Estimates:
    """Estimate population quantiles with Woodruff confidence intervals (R's ``svyquantile`` defaults).

    Notes
    -----
    The quantile is R's ``qrule="math"``: the smallest value ``x`` whose weighted CDF ``F̂(x) ≥ p``. The
    interval is Woodruff's (R's ``interval.type="mean"``): a t interval (design df) for the proportion
    ``F̂(q̂)`` of rows with ``y ≤ q̂``, mapped back through the quantile function; ``se`` is the interval's
    width divided by ``2 · t(1 − α/2, df)``, as R reports it. Three aggregations: the weighted CDF per domain
    (a window sum over distinct values, reduced in the engine), the PSU totals of ``w · 1[y ≤ q̂]``, and the
    quantiles at the interval's probabilities. A CDF within 1e-12 (relative) of ``p`` counts as equal, which
    makes the result independent of floating-point summation order (R compares exactly).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from digifit import stats
    >>> d = stats.design(pa.table({"y": [1.0, 2.0, 3.0, 4.0, 5.0]}))
    >>> stats.quantile(d, "y", 0.5)[0].estimate
    3.0
    """
    ps = [float(probs)] if isinstance(probs, int | float) else [float(p) for p in probs]
    for p in ps:
        if not 0 <= p <= 1:
            raise EstimationError(f"quantile probability must be between 0 and 1; got {p!r}.")
    by_t = _prepare(design, [variable], by, "wald", level, numeric=True)
    t = design.table
    # pass 1: quantiles per domain
    qs = _weighted_quantiles(design, variable, by_t, {(): ps})
    out = []
    alpha = 1 - level
    # pass 2: PSU totals of the CDF at each quantile (one indicator per (domain, p))
    agg = _Aggregation(design, by_t)
    cond = (variable,)
    n_all = agg.count(("n", ()), (), positive=False)
    names = {
        "w": agg.weighted(("w", cond), None, cond, basis=True),
        "n": agg.count(("n", cond), cond, positive=False),
    }
    ind_names = {}
    for dom_key, qvals in qs.items():
        # only the domain's own rows are read back for its indicator, so no domain filter is needed here
        for j, q in enumerate(qvals):
            if q is None or (isinstance(q, float) and math.isnan(q)):
                continue
            ind = (_num(t, variable) <= q).cast("float64")
            ind_names[(dom_key, j)] = agg.weighted(("cdf", dom_key, j), ind, cond, basis=True)
            agg.pair([names["w"], ind_names[(dom_key, j)]])
    run = _Run(design, by_t, agg.run(), level, "t")
    _missing_check(run, [variable], na_rm, n_all, {variable: names["n"]})
    bounds: dict[tuple, list[float]] = {}
    pending = []
    for dom in range(len(run.domains)):
        rows = run.rows_of(dom)
        dom_key = run.domains[dom]
        W = run.col(names["w"])[rows].sum()
        n = int(run.col(names["n"], power=0)[rows].sum())
        domain = run.domain_dict(dom)
        if n == 0 or W == 0:
            raise EstimationError(_empty_message("quantile", (variable,), domain, n))
        df = run.df(rows, run.col(names["n"], power=0))
        tcrit = qt(1 - alpha / 2, df)
        coefs, pmeds = [], []
        for j in range(len(ps)):
            nm = ind_names[(dom_key, j)]
            pm = run.col(nm)[rows].sum() / W
            pmeds.append(pm)
            coefs.append({nm: 1 / W, names["w"]: -pm / W})
        ratios = [({ind_names[(dom_key, j)]: 1.0}, {names["w"]: 1.0}) for j in range(len(ps))]
        var = run.variance(rows, coefs, names["n"], ratios=ratios)
        plist = []
        for pm, v in zip(pmeds, var):
            se_p = math.sqrt(max(float(v), 0.0))
            plist.append((pm - tcrit * se_p, pm + tcrit * se_p))
        bounds[dom_key] = [b for pair in plist for b in pair]
        pending.append((dom_key, domain, n, df, tcrit, plist))
    # pass 3: quantiles at the interval's probability bounds
    qb = _weighted_quantiles(design, variable, by_t, bounds)
    for dom_key, domain, n, df, tcrit, plist in pending:
        for j, p in enumerate(ps):
            lo_p, hi_p = plist[j]
            lo = math.nan if (math.isnan(lo_p) or lo_p < 0) else qb[dom_key][2 * j]
            hi = math.nan if (math.isnan(hi_p) or hi_p > 1) else qb[dom_key][2 * j + 1]
            est = qs[dom_key if dom_key in qs else ()][j]
            se = (hi - lo) / (2 * tcrit) if math.isfinite(lo) and math.isfinite(hi) else math.nan
            out.append(
                Estimate(
                    statistic="quantile",
                    variable=variable,
                    level=p,
                    domain=domain,
                    estimate=float(est),
                    se=float(se),
                    ci_low=float(lo),
                    ci_high=float(hi),
                    df=df,
                    n=n,
                    deff=None,
                    cv=float(se / abs(est)) if est else math.nan,
                    ci_method="woodruff",
                )
            )
    return Estimates(tuple(out))


def _with_implied_weights(d: Design) -> ir.Table:
    """Return the table with a ``__dg_w`` column holding the weights implied by the fpc (a join on units)."""
    import pyarrow as pa

    s = d.structure
    keys = d.key_exprs()
    names = list(keys)
    lookup = pa.table({f"{n}_k": col for n, col in zip(names, s.unit_keys)} | {"__dg_w": s.implied_weight})
    t = d.table.mutate(**keys)
    lk = d.source.register(lookup)
    joined = t.join(lk, [t[n] == lk[f"{n}_k"] for n in names])
    return joined.drop(*[f"{n}_k" for n in names], *names)


def _weighted_quantiles(
    d: Design, variable: str, by: tuple[str, ...], probs: dict[tuple, list[float]]
) -> dict[tuple, list[float]]:
    """Return, per domain key, the ``qrule="math"`` quantile at each probability (one engine query).

    ``probs`` maps a domain key to its probabilities; the key ``()`` applies to every domain.
    """
    t = d.table
    if d.structure.implied_weight is not None:
        t = _with_implied_weights(d)
        w = t["__dg_w"]
    else:
        w = d.weight_expr(t)
    keys = {f"__dg_d{i}": t[c] for i, c in enumerate(by)}
    base = t.filter(t[variable].notnull() & (w > 0))
    if by:
        base = base.filter(ibis.and_(*[t[c].notnull() for c in by]))
    w_sum = base.count().cast("float64") if d.weights is None and d.structure.implied_weight is None else w.sum()
    grouped = base.group_by(**keys, __dg_y=_num(t, variable)).aggregate(__dg_sw=w_sum, __dg_n=base.count())
    dom_cols = list(keys)
    win = ibis.window(group_by=dom_cols, order_by="__dg_y", preceding=None, following=0)
    tot = ibis.window(group_by=dom_cols)
    cum = grouped.mutate(
        __dg_cw=grouped.__dg_sw.sum().over(win),
        __dg_W=grouped.__dg_sw.sum().over(tot),
        __dg_rank=ibis.row_number().over(ibis.window(group_by=dom_cols, order_by="__dg_y")),
    )
    all_ps = sorted({p for ps in probs.values() for p in ps if not math.isnan(p)})
    metrics = {
        "__dg_W": cum.__dg_W.max(),
        "__dg_first_cw": cum.__dg_cw.min(),
        "__dg_first_n": cum.__dg_n.min(where=cum.__dg_rank == 0),
        "__dg_second": cum.__dg_y.min(where=cum.__dg_rank == 1),
    }
    for i, p in enumerate(all_ps):
        target = cum.__dg_W * p * (1 - 1e-12)
        metrics[f"__dg_q{i}"] = cum.__dg_y.min(where=cum.__dg_cw >= target)
    res = d.execute((cum.group_by(dom_cols) if dom_cols else cum).aggregate(**metrics))
    out: dict[tuple, list[float]] = {}
    index = {p: i for i, p in enumerate(all_ps)}
    for r in res.to_pylist():
        key = tuple(r[c] for c in dom_cols)
        ps = probs.get(key, probs.get(()))
        if ps is None:
            continue
        values = []
        for p in ps:
            if math.isnan(p):
                values.append(math.nan)
                continue
            q = r[f"__dg_q{index[p]}"]
            # R's qs(): when p·W is below the first row's weight, last() falls back to row 1 and the rule
            # returns the next row's value; reproduced so results equal svyquantile's.
            if (
                r["__dg_first_n"] == 1
                and r["__dg_second"] is not None
                and r["__dg_first_cw"] > p * r["__dg_W"] * (1 + 1e-12)
            ):
                q = r["__dg_second"]
            values.append(math.nan if q is None else q)
        out[key] = values
    return out
