"""Taylor-linearisation variance from unit totals of influence values, as R's ``svyrecvar``.

The estimators reduce every statistic to influence values ``z`` (Lumley 2010, §1.4; Wolter 2007, ch. 6) and
the engine sums them per final-stage unit; this module only sees those small unit tables. It follows
``survey:::multistage`` / ``onestage`` / ``onestrat`` exactly:

- In each stratum ``h`` of each stage, ``v_h = f_h · n_h / (n_h − 1) · Σ_i (z_hi − z̄_h)²`` with
  ``f_h = (N_h − n_h) / N_h`` (1 without fpc); a stratum with ``f_h ≈ 0`` (all units taken) contributes 0.
- A later stage contributes, within each sampled cluster, its own variance times the previous stage's sampling
  fraction ``n / N`` (only stages that have an fpc are variance stages).
- A stratum with one unit (lonely PSU): ``remove`` and ``certainty`` contribute 0; ``adjust`` contributes
  ``f · z²`` (centred at the population mean, 0, instead of the stratum mean); ``average`` drops the stratum and
  scales the stage's sum by ``strata / strata with more than one unit``; ``fail`` was rejected at design time.
- In a domain, R keeps the full design's unit counts ``n_h`` (units without domain rows have ``z = 0``), but
  ``average`` counts only strata with domain rows (R's ``nstrat``), so presence is tracked per estimand.
"""

from __future__ import annotations

import numpy as np

from digifit.stats.design import Structure

__all__ = ["taylor_variance_rows", "taylor_variance_units"]


def _group_sum(values: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((size, values.shape[1]))
    np.add.at(out, codes, values)
    return out


def _fpc_factor(popsize: np.ndarray | None, sampsize: np.ndarray) -> np.ndarray:
    if popsize is None:
        return np.ones_like(sampsize)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isinf(popsize), 1.0, (popsize - sampsize) / popsize)


def _stage(
    z: np.ndarray,
    present: np.ndarray,
    stratum: np.ndarray,
    n: np.ndarray,
    f: np.ndarray,
    group: np.ndarray,
    lonely_psu: str,
) -> np.ndarray:
    """Variance of one stage per onestage() group for every column of ``z`` (returns groups × estimands).

    ``stratum`` codes each cluster's stratum at this stage; ``group`` codes the onestage() call it belongs to
    (the parent cluster for later stages, a single group at stage 1) for the ``average`` rescaling.
    """
    n_strata = stratum.max() + 1
    count = np.bincount(stratum, minlength=n_strata).astype(float)
    sums = _group_sum(z, stratum, n_strata)
    n_h = np.zeros(n_strata)
    n_h[stratum] = n  # design's sampled-unit count per stratum (constant within stratum)
    f_h = np.ones(n_strata)
    f_h[stratum] = f
    # mean over the design's n_h units (units absent from the data in this call count as zeros, as R pads)
    mean = sums / np.maximum(n_h, 1)[:, None]
    lonely = n_h == 1
    centred = z - np.where(lonely_psu == "adjust", ~lonely[stratum], True)[:, None] * mean[stratum]
    ss = _group_sum(centred * centred, stratum, n_strata)
    # padding units (n_h > units seen) contribute mean² each, as R's rbind(0...) then sweep
    missing = n_h - count
    ss += np.where(lonely_psu == "adjust", ~lonely, True)[:, None] * (missing[:, None] * mean * mean)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(n_h > 1, f_h * n_h / (n_h - 1), f_h)
    v_h = scale[:, None] * ss
    v_h[f_h < 1e-7] = 0.0
    if lonely_psu in ("remove", "certainty"):
        v_h[lonely] = 0.0
    # presence of each stratum per estimand (R only sees strata with domain rows)
    pres_h = _group_sum(present.astype(float), stratum, n_strata) > 0
    group_h = np.zeros(n_strata, dtype=np.int64)
    group_h[stratum] = group
    n_groups = group_h.max() + 1
    if lonely_psu == "average":
        ok = pres_h & ~(lonely & (f_h >= 1e-7))[:, None]
        nstrat = _group_sum(pres_h.astype(float), group_h, n_groups)
        nok = _group_sum(ok.astype(float), group_h, n_groups)
        v_g = _group_sum(np.where(ok, v_h, 0.0), group_h, n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(nstrat > 0, v_g * nstrat / nok, 0.0)
    return _group_sum(np.where(pres_h, v_h, 0.0), group_h, n_groups)


def taylor_variance_units(structure: Structure, z: np.ndarray, present: np.ndarray, lonely_psu: str) -> np.ndarray:
    """Variance of each column of ``z``, the influence totals per final-stage unit (units × estimands).

    ``present`` (units × estimands) marks units with rows used by the estimand (its domain, non-missing).
    """
    s = structure
    total = np.zeros(z.shape[1])
    cluster_mult = np.ones(1)  # per group of the current stage: product of earlier sampling fractions
    for stage in range(len(s.parents)):
        cluster = s.parents[stage]
        n_clusters = cluster.max() + 1
        zc = _group_sum(z, cluster, n_clusters)
        pc = _group_sum(present.astype(float), cluster, n_clusters) > 0
        first = np.zeros(n_clusters, dtype=np.int64)
        first[cluster[::-1]] = np.arange(len(cluster))[::-1]
        if stage == 0:
            strat = s.stratum[first]
            group = np.zeros(n_clusters, dtype=np.int64)
        else:
            strat = s.parents[stage - 1][first]
            group = strat
        n = s.sampsize[stage][first]
        pop = s.popsize[stage][first] if s.popsize is not None and stage < len(s.popsize) else None
        f = _fpc_factor(pop, n)
        v_g = _stage(zc, pc, strat, n, f, group, lonely_psu)
        total += (v_g * cluster_mult[: v_g.shape[0], None]).sum(axis=0)
        if stage + 1 < len(s.parents):
            frac = n / pop if pop is not None else np.ones_like(n)
            cluster_mult = cluster_mult[group] * frac
    return total


def taylor_variance_rows(
    structure: Structure,
    sum_z: np.ndarray,
    sum_z2: np.ndarray,
    present: np.ndarray,
    lonely_psu: str,
) -> np.ndarray:
    """Variance when each row is its own PSU, from per-stratum sums of ``z`` and ``z²`` (strata × estimands)."""
    s = structure
    n_h = s.sampsize[0]
    f_h = _fpc_factor(s.popsize[0] if s.popsize is not None else None, n_h)
    lonely = n_h == 1
    ss = sum_z2 - sum_z * sum_z / n_h[:, None]
    if lonely_psu == "adjust":
        ss = np.where(lonely[:, None], sum_z2, ss)
    ss = np.maximum(ss, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(n_h > 1, f_h * n_h / (n_h - 1), f_h)
    v_h = scale[:, None] * ss
    v_h[f_h < 1e-7] = 0.0
    if lonely_psu in ("remove", "certainty"):
        v_h[lonely] = 0.0
    if lonely_psu == "average":
        ok = present & ~(lonely & (f_h >= 1e-7))[:, None]
        nstrat = present.sum(axis=0)
        nok = ok.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(nstrat > 0, np.where(ok, v_h, 0.0).sum(axis=0) * nstrat / nok, 0.0)
    return np.where(present, v_h, 0.0).sum(axis=0)
