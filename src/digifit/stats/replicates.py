"""Replicate-weight factors built from the PSU structure alone: JK1, JKn, BRR, Fay, bootstrap, subbootstrap.

A replicate design multiplies every row's weight by a factor that depends only on the row's PSU and the
replicate. This module builds that replicates × PSUs factor matrix ``F`` and the variance scaling (``scale``,
``rscales``, ``mse``) exactly as R's ``survey::as.svrepdesign()`` does, without looking at a single row: the
estimators compute the replicate estimates as ``F @ S`` from the PSU totals ``S`` of their weighted sums, and
:meth:`ReplicateFactors.variance` turns them into a variance as R's ``svrVar`` does.

PSUs are columns ``0 .. n_psu - 1`` in the caller's order; ``psu_stratum[j]`` is the stratum code of column
``j``. Where R's construction depends on an order (which half-sample a BRR PSU is in, the order of the
replicates), strata are taken in increasing code and PSUs within a stratum in increasing column. That is R's
order when strata codes follow R's sort of the stratum labels and PSUs within a stratum follow their first
appearance in the data; see ``docs/replicates.md``.

Only numpy and the standard library are used. References: Wolter (2007), *Introduction to Variance
Estimation*; Rust & Rao (1996), *Stat. Methods Med. Res.* 5:283-310; Canty & Davison (1999), *Survey
Methodology* 25:3-13; Fay (1989), *Proc. Survey Research Methods Section*, ASA; Lumley (2010), *Complex
Surveys*.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from digifit.errors import DesignError, EstimationError, LonelyPSUError

__all__ = [
    "REPLICATE_TYPES",
    "SUPPLIED_TYPES",
    "ReplicateFactors",
    "ReplicateSpec",
    "as_replicate",
    "factor_rank",
    "hadamard",
    "replicate_factors",
    "supplied_replicates",
]

REPLICATE_TYPES = ("jk1", "jkn", "brr", "fay", "bootstrap", "subbootstrap")
# R's svrepdesign() types, for replicate-weight columns supplied with the data
SUPPLIED_TYPES = ("brr", "fay", "jk1", "jkn", "bootstrap", "acs", "successive-difference", "jk2", "other")
_LONELY_POLICIES = ("fail", "remove", "certainty", "adjust", "average")
_DEFAULT_BOOTSTRAP_REPLICATES = 50  # R's bootweights() / subbootweights() default
# A factor matrix larger than this (2 GB of float64) is refused with a clear error instead of a MemoryError.
_MAX_FACTOR_CELLS = 250_000_000


@dataclass(frozen=True)
class ReplicateSpec:
    """What replicate variance the user asks for (parameters only; checked by :func:`replicate_factors`).

    Parameters
    ----------
    type : {'jk1', 'jkn', 'brr', 'fay', 'bootstrap', 'subbootstrap'}
        R's ``as.svrepdesign`` types (any case: ``'JKn'``, ``'Fay'`` are accepted).
    replicates : int, optional
        Number of replicates for ``bootstrap``/``subbootstrap`` (default 50, as R). For ``brr``/``fay``,
        None uses the Hadamard matrix R chooses; a number must equal its order. The jackknives have one
        replicate per PSU; a number, if given, must equal that count.
    fay_rho : float, default 0.0
        Fay's ρ in [0, 1); BRR with ρ > 0 is Fay's method and ``fay`` with ρ = 0 is BRR, as in R.
    seed : int, optional
        Seed of ``numpy.random.default_rng`` for the bootstraps (None: fresh entropy each time).
    mse : bool, default False
        Centre the replicates on the full-sample estimate (R's ``mse=TRUE``) instead of their mean.
    """

    type: str
    replicates: int | None = None
    fay_rho: float = 0.0
    seed: int | None = None
    mse: bool = False


@dataclass(frozen=True, eq=False)
class ReplicateFactors:
    """Replicate factors and the variance scaling of a replicate design (R's ``svyrep.design`` minus the rows).

    Attributes
    ----------
    factors : ndarray of shape (R, n_psu)
        Multiplier of each PSU's weights in each replicate (R's ``repweights`` with ``combined.weights=FALSE``).
    scale : float
        R's ``scale``: overall multiplier of the sum of squares.
    rscales : ndarray of shape (R,)
        R's ``rscales``: per-replicate multipliers.
    mse : bool
        Centre on the full-sample estimate (True) or on the mean of the replicates (False).
    type : str
        The type actually built (``'brr'`` or ``'fay'`` depending on ρ, as R).
    fay_rho : float
        Fay's ρ (0 except for ``'fay'``).
    """

    factors: np.ndarray
    scale: float
    rscales: np.ndarray
    mse: bool
    type: str
    fay_rho: float = field(default=0.0)

    @property
    def n_replicates(self) -> int:
        """Number of replicates R (rows of :attr:`factors`)."""
        return int(self.factors.shape[0])

    @property
    def n_psu(self) -> int:
        """Number of PSUs (columns of :attr:`factors`)."""
        return int(self.factors.shape[1])

    def variance(self, replicate_estimates: np.ndarray, estimate: np.ndarray | float) -> np.ndarray:
        """Return the replicate variance of each statistic (R's ``svrVar``, diagonal).

        Parameters
        ----------
        replicate_estimates : array of shape (R,) or (R, k)
            The statistic(s) computed with each replicate's weights, e.g. ``factors @ psu_totals``.
        estimate : float or array of shape (k,)
            The full-sample estimate(s); used as the centre when :attr:`mse` is True.

        Returns
        -------
        ndarray
            Shape () for a 1-d input, (k,) for an (R, k) input:
            ``scale * Σ_r rscales[r] * (θ_r - c)²`` with ``c = estimate`` if :attr:`mse` else the mean of the
            replicates whose ``rscales > 0``. Replicates giving NaN are dropped with a warning, as R does.

        Examples
        --------
        >>> rf = replicate_factors(ReplicateSpec("jk1"), np.zeros(3, dtype=int))
        >>> psu_totals = np.array([10.0, 12.0, 17.0])
        >>> theta = rf.factors @ psu_totals
        >>> float(rf.variance(theta, psu_totals.sum()))
        39.0
        """
        thetas, centre, rscales = self._centred(replicate_estimates, estimate)
        if thetas.shape[0] == 0:
            return np.zeros(thetas.shape[1:])
        dev = thetas - centre
        rs = rscales.reshape((-1,) + (1,) * (thetas.ndim - 1))
        return np.asarray(self.scale * np.sum(rs * dev * dev, axis=0))

    def covariance(self, replicate_estimates: np.ndarray, estimate: np.ndarray | float) -> np.ndarray:
        """Return the replicate covariance matrix of k statistics (R's ``svrVar``, full matrix).

        Parameters
        ----------
        replicate_estimates : array of shape (R, k)
        estimate : array of shape (k,)
            Used as the centre when :attr:`mse` is True.

        Returns
        -------
        ndarray of shape (k, k)
            ``scale * Σ_r rscales[r] (θ_r - c)(θ_r - c)ᵀ``; its diagonal is :meth:`variance`.
        """
        thetas, centre, rscales = self._centred(np.atleast_2d(np.asarray(replicate_estimates, float).T).T, estimate)
        k = thetas.shape[1]
        if thetas.shape[0] == 0:
            return np.zeros((k, k))
        dev = (thetas - centre) * np.sqrt(rscales)[:, None]
        return self.scale * (dev.T @ dev)

    def degf(self) -> int:
        """Return the design degrees of freedom R gives a replicate design: rank of the factors minus 1.

        R computes ``qr(weights(design, "analysis"))$rank - 1``; the analysis weights are the factors expanded
        to rows and multiplied by the row weights, which has the rank of :attr:`factors` as long as every PSU
        has a row of non-zero weight.
        """
        if self.n_replicates == 0:
            return 0
        if self.n_psu == 0:
            raise DesignError(
                "degf of supplied replicate weights is the rank of the weight columns minus 1 (R's degf); "
                "these factors do not hold them."
            )
        return factor_rank(self.factors) - 1

    def _centred(self, replicate_estimates, estimate):
        thetas = np.asarray(replicate_estimates, dtype=float)
        if thetas.ndim not in (1, 2) or thetas.shape[0] != self.n_replicates:
            raise EstimationError(
                f"replicate_estimates has shape {thetas.shape}; expected ({self.n_replicates},) or "
                f"({self.n_replicates}, k): one row per replicate."
            )
        rscales = self.rscales
        bad = np.isnan(thetas) if thetas.ndim == 1 else np.isnan(thetas).any(axis=1)
        if bad.any():
            if bad.all():
                raise EstimationError("all replicates gave NaN estimates; the replicate variance is undefined.")
            warnings.warn(f"{int(bad.sum())} replicates gave NA results and were discarded.", stacklevel=3)
            thetas = thetas[~bad]
            rscales = rscales[~bad]
        if self.mse:
            centre = np.asarray(estimate, dtype=float)
            if centre.shape not in ((), thetas.shape[1:]):
                raise EstimationError(f"estimate has shape {centre.shape}; expected {thetas.shape[1:]}.")
        elif thetas.shape[0]:
            centre = thetas[rscales > 0].mean(axis=0)
        else:
            centre = np.zeros(thetas.shape[1:])
        return thetas, centre, rscales


# ----------------------------------------------------------------------------------------------------------
# The builder


def replicate_factors(
    spec: ReplicateSpec,
    psu_stratum: np.ndarray,
    *,
    psu_popsize: np.ndarray | None = None,
    lonely_psu: str = "fail",
    stratum_labels: Sequence[Any] | None = None,
) -> ReplicateFactors:
    """Build the replicate factor matrix and variance scaling of a design from its PSUs, as R does.

    Parameters
    ----------
    spec : ReplicateSpec
        The replicate method.
    psu_stratum : array of int, shape (n_psu,)
        Stratum code (0 .. H-1) of each PSU; column ``j`` of the factors is PSU ``j``. An unstratified design
        has every code 0.
    psu_popsize : array of float, shape (n_psu,), optional
        Population number of PSUs N_h of each PSU's stratum (the stage-1 ``popsize``; ``inf`` or None: no fpc).
        Used by ``jk1``, ``jkn`` and ``bootstrap`` as R's ``as.svrepdesign`` does; ignored with a warning by
        ``brr``/``fay`` and silently by ``subbootstrap`` (as R).
    lonely_psu : {'fail', 'remove', 'certainty', 'adjust', 'average'}, default 'fail'
        R's ``survey.lonely.psu`` for strata with a single PSU (used by ``jkn``; ``bootstrap`` only fails
        under ``'fail'``; ``jk1``, ``brr``, ``fay`` and ``subbootstrap`` always fail on a lonely PSU).
    stratum_labels : sequence, optional
        Label of each stratum code, used in error messages.

    Returns
    -------
    ReplicateFactors

    Raises
    ------
    DesignError
        Unknown type, ``replicates`` < 2 or inconsistent with the type, ``fay_rho`` outside [0, 1), JK1 on more
        than one stratum, BRR on strata without an even number of PSUs, too few PSUs.
    LonelyPSUError
        A stratum with one PSU under ``lonely_psu='fail'`` (``jkn``, ``bootstrap``).

    Notes
    -----
    With n_h PSUs in stratum h, correction f_h = (N_h - n_h)/N_h (1 without fpc) and R replicates:

    - ``jk1``: replicate j drops PSU j, others × n/(n-1); scale f·(n-1)/n, rscales 1.
    - ``jkn``: replicate j drops PSU j of stratum h, other PSUs of h × n_h/(n_h-1), other strata × 1;
      scale 1, rscales f_h·(n_h-1)/n_h.
    - ``brr``/``fay``: row k+1 of R's Hadamard matrix picks a half-sample in pseudo-stratum k; factors
      2-ρ and ρ; scale 1/(R(1-ρ)²), rscales 1.
    - ``bootstrap`` (R's, Canty & Davison 1999): factors are counts of n_h draws with replacement (without
      replacement from a pseudo-population of N_h units when an fpc is given); scale n̄/((n̄-1)(R-1)) with n̄
      the harmonic mean of n_h; rscales 1.
    - ``subbootstrap`` (Rao & Wu 1988): counts of n_h-1 draws × n_h/(n_h-1); scale 1/(R-1); rscales 1.

    Examples
    --------
    Two strata of two PSUs, JKn:

    >>> rf = replicate_factors(ReplicateSpec("jkn"), np.array([0, 0, 1, 1]))
    >>> rf.factors
    array([[0., 2., 1., 1.],
           [2., 0., 1., 1.],
           [1., 1., 0., 2.],
           [1., 1., 2., 0.]])
    >>> rf.scale, rf.rscales
    (1.0, array([0.5, 0.5, 0.5, 0.5]))

    BRR on the same strata uses R's 4 × 4 Hadamard matrix:

    >>> replicate_factors(ReplicateSpec("brr"), np.array([0, 0, 1, 1])).factors
    array([[2., 0., 2., 0.],
           [0., 2., 2., 0.],
           [2., 0., 0., 2.],
           [0., 2., 0., 2.]])
    """
    kind = _check_type(spec)
    rho = _check_rho(spec, kind)
    if spec.replicates is not None and (
        isinstance(spec.replicates, bool) or not isinstance(spec.replicates, (int, np.integer)) or spec.replicates < 2
    ):
        raise DesignError(f"replicates must be an integer >= 2 (or None); got {spec.replicates!r}.")
    if lonely_psu not in _LONELY_POLICIES:
        raise DesignError(f"lonely_psu {lonely_psu!r} is not known; expected one of {', '.join(_LONELY_POLICIES)}.")
    strata = _check_strata(psu_stratum)
    popsize = _check_popsize(psu_popsize, strata, stratum_labels)
    name = _namer(stratum_labels)

    if kind == "jk1":
        out = _jk1(strata, popsize, name)
    elif kind == "jkn":
        out = _jkn(strata, popsize, lonely_psu, name)
    elif kind in ("brr", "fay"):
        if popsize is not None and np.isfinite(popsize).any():
            warnings.warn("Finite population correction dropped in conversion to BRR/Fay replicates.", stacklevel=2)
        out = _brr(strata, rho, spec.replicates, name)
        kind = "fay" if rho > 0 else "brr"
    elif kind == "bootstrap":
        replicates = spec.replicates or _DEFAULT_BOOTSTRAP_REPLICATES
        _check_size(replicates, strata.size, kind)
        out = _bootstrap(strata, popsize, replicates, np.random.default_rng(spec.seed), lonely_psu, name)
    else:
        replicates = spec.replicates or _DEFAULT_BOOTSTRAP_REPLICATES
        _check_size(replicates, strata.size, kind)
        out = _subbootstrap(strata, replicates, np.random.default_rng(spec.seed), name)
    factors, scale, rscales = out
    if kind in ("jk1", "jkn") and spec.replicates is not None and spec.replicates != factors.shape[0]:
        raise DesignError(
            f"replicates={spec.replicates!r} does not fit type {kind!r}: this design gives {factors.shape[0]} "
            "jackknife replicates (one per PSU); leave replicates unset."
        )
    factors.setflags(write=False)
    rscales.setflags(write=False)
    return ReplicateFactors(
        factors=factors, scale=float(scale), rscales=rscales, mse=bool(spec.mse), type=kind, fay_rho=rho
    )


def supplied_replicates(
    type: str,
    n_replicates: int,
    *,
    scale: float | None = None,
    rscales: Sequence[float] | np.ndarray | float | None = None,
    fay_rho: float | None = None,
    mse: bool = False,
) -> ReplicateFactors:
    """Return the variance scaling of replicate-weight columns supplied with the data, as R's ``svrepdesign``.

    The columns hold full analysis weights (R's default ``combined.weights=TRUE``); the replicate estimates are
    computed from them by the caller, so the returned :attr:`ReplicateFactors.factors` is empty, of shape
    ``(n_replicates, 0)``, and only :meth:`~ReplicateFactors.variance` / :meth:`~ReplicateFactors.covariance`
    are meaningful (R's ``degf`` for such a design is the rank of the weight columns minus 1).

    Parameters
    ----------
    type : {'brr', 'fay', 'jk1', 'jkn', 'bootstrap', 'acs', 'successive-difference', 'jk2', 'other'}
        R's ``svrepdesign`` type (any case).
    n_replicates : int
        Number of replicate-weight columns.
    scale : float, optional
        R's ``scale``. Defaults as R: ``brr`` 1/R (a given scale is ignored with a warning), ``fay``
        1/(R(1-ρ)²) (always), ``bootstrap`` 1/(R-1), ``jk1`` (R-1)/R (with R's warning that it guesses
        n = R), ``acs``/``successive-difference`` 4/R, ``jk2`` 1, ``other`` 1 (with a warning).
    rscales : float or sequence of float, optional
        R's ``rscales`` (one value, recycled, or one per replicate); default 1. Required for ``jkn``.
    fay_rho : float, optional
        Fay's ρ; required for ``fay``.
    mse : bool, default False
        Centre on the full-sample estimate.

    Examples
    --------
    >>> sr = supplied_replicates("jkn", 4, rscales=[0.5, 0.5, 0.5, 0.5])
    >>> sr.scale, sr.rscales.tolist()
    (1.0, [0.5, 0.5, 0.5, 0.5])
    >>> supplied_replicates("fay", 8, fay_rho=0.5).scale
    0.5
    """
    kind = type.lower() if isinstance(type, str) else type
    if kind not in SUPPLIED_TYPES:
        raise DesignError(f"replicate type {type!r} is not known; expected one of {', '.join(SUPPLIED_TYPES)}.")
    if isinstance(n_replicates, bool) or not isinstance(n_replicates, (int, np.integer)) or n_replicates < 2:
        raise DesignError(f"n_replicates must be an integer >= 2; got {n_replicates!r}.")
    r = int(n_replicates)
    if scale is not None:
        try:
            scale = float(scale)
        except (TypeError, ValueError):
            raise DesignError(f"scale must be a positive number; got {scale!r}.") from None
        if not scale > 0 or not math.isfinite(scale):
            raise DesignError(f"scale must be a positive number; got {scale!r}.")
    rs = None
    if rscales is not None:
        rs = np.atleast_1d(np.asarray(rscales, dtype=float))
        if rs.ndim != 1 or rs.size not in (1, r):
            raise DesignError(f"rscales has length {rs.size}; expected 1 or n_replicates ({r}).")
        if np.isnan(rs).any() or (rs < 0).any():
            raise DesignError("rscales must be numbers >= 0.")
        rs = np.broadcast_to(rs, (r,)).copy()
    rho = 0.0
    if kind == "fay":
        if fay_rho is None:
            raise DesignError("type 'fay' needs fay_rho (R: \"With type='Fay' you must supply the correct rho\").")
        rho = _check_rho(ReplicateSpec("fay", fay_rho=fay_rho), "fay")
    elif fay_rho is not None:
        warnings.warn(f"fay_rho is not used by type {kind!r}: ignored (as R).", stacklevel=2)

    if kind == "brr":
        if scale is not None:
            warnings.warn("type 'brr' does not use scale: it is 1/R (as R).", stacklevel=2)
        scale = 1.0 / r
    elif kind == "fay":
        scale = 1.0 / (r * (1.0 - rho) ** 2)
    elif kind == "bootstrap" and scale is None:
        scale = 1.0 / (r - 1)
    elif kind == "jk1" and scale is None:
        warnings.warn("scale (n-1)/n not provided: guessing n = number of replicates (as R).", stacklevel=2)
        scale = (r - 1) / r
    elif kind == "jkn" and rs is None:
        raise DesignError("type 'jkn' needs rscales, one (n_h - 1)/n_h per replicate (R: \"Must provide rscales\").")
    elif kind in ("acs", "successive-difference", "jk2"):
        if scale is not None or rs is not None:
            warnings.warn(f"type {kind!r} sets scale and rscales itself: the given ones are ignored.", stacklevel=2)
        scale = 4.0 / r if kind != "jk2" else 1.0
        rs = None
    elif kind == "other" and (scale is None or rs is None):
        warnings.warn("scale or rscales not specified for type 'other': set to 1 (as R).", stacklevel=2)
    if rs is None:
        rs = np.ones(r)
    factors = np.empty((r, 0))
    factors.setflags(write=False)
    rs.setflags(write=False)
    return ReplicateFactors(
        factors=factors,
        scale=1.0 if scale is None else float(scale),
        rscales=rs,
        mse=bool(mse),
        type=kind,
        fay_rho=rho,
    )


# ----------------------------------------------------------------------------------------------------------
# Checks


def _check_type(spec: ReplicateSpec) -> str:
    if not isinstance(spec, ReplicateSpec):
        raise DesignError(f"spec must be a ReplicateSpec; got {type(spec).__name__}.")
    kind = spec.type.lower() if isinstance(spec.type, str) else spec.type
    if kind not in REPLICATE_TYPES:
        raise DesignError(f"replicate type {spec.type!r} is not known; expected one of {', '.join(REPLICATE_TYPES)}.")
    return kind


def _check_rho(spec: ReplicateSpec, kind: str) -> float:
    rho = spec.fay_rho
    try:
        rho = float(rho)
    except (TypeError, ValueError):
        raise DesignError(f"fay_rho must be a number in [0, 1); got {spec.fay_rho!r}.") from None
    if not 0.0 <= rho < 1.0:
        raise DesignError(f"fay_rho must be in [0, 1); got {spec.fay_rho!r}.")
    if rho and kind not in ("brr", "fay"):
        raise DesignError(f"fay_rho={spec.fay_rho!r} is only used by types 'brr' and 'fay', not {kind!r}.")
    return rho


def _check_strata(psu_stratum) -> np.ndarray:
    strata = np.asarray(psu_stratum)
    if strata.ndim != 1 or strata.size == 0:
        raise DesignError(f"psu_stratum must be a non-empty 1-d array of stratum codes; got shape {strata.shape}.")
    if not np.issubdtype(strata.dtype, np.integer):
        if np.issubdtype(strata.dtype, np.floating) and np.all(strata == np.round(strata)):
            strata = strata.astype(np.int64)
        else:
            raise DesignError(f"psu_stratum must hold integer stratum codes; got dtype {strata.dtype}.")
    if strata.min() < 0:
        raise DesignError(f"psu_stratum must hold codes >= 0; got {int(strata.min())}.")
    return strata.astype(np.int64, copy=False)


def _check_popsize(psu_popsize, strata: np.ndarray, labels) -> np.ndarray | None:
    if psu_popsize is None:
        return None
    pop = np.asarray(psu_popsize, dtype=float)
    if pop.shape != strata.shape:
        raise DesignError(f"psu_popsize has shape {pop.shape}; expected {strata.shape} (one value per PSU).")
    if np.isnan(pop).any() or (pop <= 0).any():
        raise DesignError("psu_popsize must be positive population sizes (inf for no fpc); got NaN or <= 0.")
    name = _namer(labels)
    for h, members in _strata_members(strata):
        values = pop[members]
        if values.min() != values.max():
            raise DesignError(
                f"psu_popsize varies within {name(h)} ({float(values.min())!r} to {float(values.max())!r}); "
                "expected one population size per stratum."
            )
        if values[0] < members.size:
            raise DesignError(
                f"psu_popsize in {name(h)} is {float(values[0])!r}, smaller than its {members.size} sampled PSUs."
            )
    return pop


def _check_size(replicates: int, n_psu: int, kind: str) -> None:
    if replicates * n_psu > _MAX_FACTOR_CELLS:
        raise DesignError(
            f"type {kind!r} would need a {replicates} × {n_psu} factor matrix ({replicates * n_psu * 8 / 1e9:.1f} GB); "
            f"the limit is {_MAX_FACTOR_CELLS:,} cells: use fewer replicates or a bootstrap."
        )


def _namer(labels):
    def name(h: int) -> str:
        if labels is not None and 0 <= h < len(labels):
            return f"stratum {labels[h]!r}"
        return f"stratum code {h}"

    return name


def _strata_members(strata: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Return (code, PSU columns in increasing order) for each stratum, in increasing code."""
    order = np.argsort(strata, kind="stable")
    codes, starts = np.unique(strata[order], return_index=True)
    bounds = [*starts[1:], order.size]
    return [(int(h), order[s:e]) for h, s, e in zip(codes, starts, bounds)]


def _correction(popsize: np.ndarray | None, members: np.ndarray) -> float:
    """R's fpc correction (N - n)/N for a stratum (1 without an fpc)."""
    if popsize is None or not np.isfinite(popsize[members[0]]):
        return 1.0
    big_n = float(popsize[members[0]])
    return (big_n - members.size) / big_n


# ----------------------------------------------------------------------------------------------------------
# Jackknives (R's jk1weights / jknweights)


def _jk1(strata: np.ndarray, popsize, name) -> tuple[np.ndarray, float, np.ndarray]:
    groups = _strata_members(strata)
    if len(groups) > 1:
        raise DesignError(
            f"type 'jk1' is for unstratified designs but the PSUs are in {len(groups)} strata (R: \"Can't use "
            "JK1 for a stratified design\"); use type 'jkn'."
        )
    n = strata.size
    if n < 2:
        raise DesignError(f"type 'jk1' needs at least 2 PSUs; {name(groups[0][0])} has {n}.")
    _check_size(n, n, "jk1")
    corr = _correction(popsize, groups[0][1])
    if corr == 0:  # census: R drops every replicate (survey.drop.replicates=TRUE)
        return np.zeros((0, n)), 0.0, np.zeros(0)
    factors = np.full((n, n), n / (n - 1))
    np.fill_diagonal(factors, 0.0)
    return factors, corr * (n - 1) / n, np.ones(n)


def _jkn(strata: np.ndarray, popsize, lonely_psu: str, name) -> tuple[np.ndarray, float, np.ndarray]:
    groups = _strata_members(strata)
    n_psu = strata.size
    n_strata = len(groups)
    rows: list[tuple[str, np.ndarray, int]] = []  # (kind, members, dropped column)
    rscales: list[float] = []
    for h, members in groups:
        n_h = members.size
        corr = _correction(popsize, members)
        if corr == 0:  # census stratum: no replicates (R's survey.drop.replicates=TRUE)
            continue
        if n_h == 1:
            if lonely_psu == "fail":
                raise LonelyPSUError(
                    f"{name(h)} has only one PSU; type 'jkn' cannot drop it. Choose lonely_psu='remove', "
                    "'certainty', 'adjust' or 'average' (R's survey.lonely.psu), or fix the strata."
                )
            if lonely_psu == "adjust":
                if n_strata < 2:
                    raise DesignError(f"type 'jkn' needs at least 2 PSUs; the design has {name(h)} only, with 1.")
                rows.append(("adjust", members, int(members[0])))
                rscales.append((n_strata - 1) / n_strata)
            continue  # remove, certainty, average: the stratum gets no replicate
        for j in members:
            rows.append(("drop", members, int(j)))
            rscales.append(corr * (n_h - 1) / n_h)
    if not rows:
        raise DesignError(
            "type 'jkn' has no replicates: every stratum was sampled exhaustively (fpc equal to the number of "
            "PSUs), so the replicate variance is zero."
        )
    _check_size(len(rows), n_psu, "jkn")
    dropped = np.array([j for _, _, j in rows])
    row_stratum = strata[dropped]
    ratio = np.array([m.size / (m.size - 1) if what == "drop" else 1.0 for what, m, _ in rows])
    factors = np.where(row_stratum[:, None] == strata[None, :], ratio[:, None], 1.0)
    adjust = np.array([what == "adjust" for what, _, _ in rows])
    if adjust.any():  # R's jknweights(lonely.psu="adjust"): all other PSUs × H/(H-1)
        factors[adjust, :] = n_strata / (n_strata - 1)
    factors[np.arange(len(rows)), dropped] = 0.0
    scale = 1.0
    if len(rows) < n_psu and lonely_psu == "average":
        scale = n_psu / len(rows)
    return factors, scale, np.asarray(rscales, dtype=float)


# ----------------------------------------------------------------------------------------------------------
# BRR and Fay (R's brrweights with small="fail", large="split")


def _brr(strata: np.ndarray, rho: float, replicates: int | None, name) -> tuple[np.ndarray, float, np.ndarray]:
    groups = _strata_members(strata)
    for h, members in groups:
        if members.size < 2:
            raise DesignError(
                f"type 'brr' needs 2 PSUs per stratum; {name(h)} has {members.size} (R: \"Some strata have fewer "
                "than 2 PSUs\"). Merge it with another stratum or use 'jkn' or 'bootstrap'."
            )
    for h, members in groups:
        if members.size % 2:
            raise DesignError(
                f"type 'brr' needs 2 PSUs per stratum (or an even number, split into pairs as R does); {name(h)} "
                f'has {members.size} (R: "Can\'t split with odd numbers of PSUs in a stratum").'
            )
    pseudo = np.empty(strata.size, dtype=np.int64)  # 0-based half-sample pseudo-stratum of each PSU
    first = np.empty(strata.size, dtype=bool)  # True: the PSU R gives weights (0, 1)
    upto = 0
    # R numbers the pseudo-strata of strata with more than 2 PSUs first (pairs of consecutive PSUs), then the
    # strata with exactly 2 PSUs, each group in stratum order.
    for large in (True, False):
        for _, members in groups:
            if (members.size > 2) != large:
                continue
            pseudo[members] = upto + np.arange(members.size) // 2
            first[members] = np.arange(members.size) % 2 == 0
            upto += members.size // 2
    hmat = hadamard(upto)
    if replicates is not None and replicates != hmat.shape[1]:
        raise DesignError(
            f"replicates={replicates!r} does not fit type 'brr': R uses a Hadamard matrix of order "
            f"{hmat.shape[1]} for {upto} half-sample strata; leave replicates unset."
        )
    _check_size(hmat.shape[1], strata.size, "brr")
    signs = hmat[1 + pseudo, :].astype(bool)  # (n_psu, R): row k+1 of H for pseudo-stratum k
    in_half = signs == first[:, None]
    factors = np.where(in_half, 2.0 - rho, rho).T.copy()
    n_rep = factors.shape[0]
    return factors, 1.0 / (n_rep * (1.0 - rho) ** 2), np.ones(n_rep)


# ----------------------------------------------------------------------------------------------------------
# Bootstraps (R's bootweights / subbootweights)


def _bootstrap(strata, popsize, replicates, rng, lonely_psu, name) -> tuple[np.ndarray, float, np.ndarray]:
    groups = _strata_members(strata)
    factors = np.empty((replicates, strata.size))
    sizes = []
    for h, members in groups:
        n_h = members.size
        sizes.append(n_h)
        if n_h == 1 and lonely_psu == "fail":
            raise LonelyPSUError(
                f"{name(h)} has only one PSU; its bootstrap replicates would all be equal. Choose another "
                "lonely_psu policy (R's bootstrap keeps the PSU in every replicate) or fix the strata."
            )
        big_n = None if popsize is None else float(popsize[members[0]])
        if big_n is None or not np.isfinite(big_n):
            counts = rng.multinomial(n_h, np.full(n_h, 1.0 / n_h), size=replicates)
        else:
            # R: sample(rep(sample(psus), length = N), n) — without replacement from a pseudo-population in
            # which each PSU appears floor(N/n) times and the first N mod n of a random order once more.
            total = math.floor(big_n)
            colors = np.full(n_h, total // n_h, dtype=np.int64)
            colors[rng.permutation(n_h)[: total % n_h]] += 1
            counts = rng.multivariate_hypergeometric(colors, n_h, size=replicates)
        factors[:, members] = counts
    harmonic = 1.0 / np.mean(1.0 / np.asarray(sizes, dtype=float))
    if harmonic <= 1:
        raise DesignError("type 'bootstrap' needs a stratum with at least 2 PSUs; every stratum has one.")
    return factors, harmonic / ((harmonic - 1) * (replicates - 1)), np.ones(replicates)


def _subbootstrap(strata, replicates, rng, name) -> tuple[np.ndarray, float, np.ndarray]:
    factors = np.empty((replicates, strata.size))
    for h, members in _strata_members(strata):
        n_h = members.size
        if n_h < 2:
            raise DesignError(
                f"type 'subbootstrap' needs at least 2 PSUs per stratum (it draws n_h - 1); {name(h)} has 1."
            )
        counts = rng.multinomial(n_h - 1, np.full(n_h, 1.0 / n_h), size=replicates)
        factors[:, members] = counts * (n_h / (n_h - 1))
    return factors, 1.0 / (replicates - 1), np.ones(replicates)


# ----------------------------------------------------------------------------------------------------------
# Hadamard matrices exactly as R's survey::hadamard() chooses them


def hadamard(n: int) -> np.ndarray:
    """Return the 0/1 Hadamard matrix R's ``survey::hadamard(n)`` returns (order > n; 1 stands for +1).

    BRR uses rows 2 .. n+1 (one per half-sample stratum) and every column (one per replicate), so the order of
    this matrix is the number of BRR replicates.

    Parameters
    ----------
    n : int
        Number of half-sample strata (>= 1).

    Returns
    -------
    ndarray of int8, shape (m, m)
        m is the order R picks: a stored matrix of order 4, 16, 28 or 36, Sylvester doublings of one of these,
        or Paley's construction, whichever R's rule selects.

    Examples
    --------
    >>> hadamard(3)
    array([[1, 1, 1, 1],
           [1, 0, 1, 0],
           [1, 1, 0, 0],
           [1, 0, 0, 1]], dtype=int8)
    >>> [hadamard(n).shape[0] for n in (4, 7, 8, 20, 40)]
    [8, 8, 12, 24, 44]
    """
    n = int(n)
    if n < 1:
        raise DesignError(f"hadamard needs n >= 1 half-sample strata; got {n}.")
    m = n - n % 4
    for size, mat in zip(_PRECOOKED_SIZES, _precooked()):
        if m < size <= m + 4:
            return mat.astype(np.int8)
    grown = [size * 2 ** max(0, math.ceil(math.log2((n + 1) / size))) for size in _PRECOOKED_SIZES]
    best = int(np.argmin([g - n for g in grown]))
    result = None
    if grown[best] - n > 4:
        result = _paley(n, grown[best])
    if result is None:
        result = _precooked()[best]
        for _ in range(math.ceil(math.log2(grown[best] / _PRECOOKED_SIZES[best]))):
            result = _double(result)
    return result.astype(np.int8)


def _double(h: np.ndarray) -> np.ndarray:
    """R's hadamard.doubler: [[H, H], [H, 1 - H]]."""
    return np.block([[h, h], [h, 1 - h]])


def _paley(n: int, nmax: int | None = None, prime: int | None = None) -> np.ndarray | None:
    """R's survey:::paley(): Paley's construction, or None when R's rule declines."""
    if nmax is None:
        nmax = 2 * n
    if prime is None:
        nceil = nn = n + 4 - n % 4
        if n % 4 + 4 == n % 8:
            while nn % 8 == 0:
                nn //= 2
            if nn - 1 in _SMALL_PRIMES_SET:
                mat = _paley(nn - 1, prime=nn - 1)
                while nn < nceil:
                    mat = _double(mat)
                    nn *= 2
                return mat
        if n > _SMALL_PRIMES[-1]:
            return None
        p = min(q for q in _SMALL_PRIMES if q >= n)
        if p + 1 > nceil + 4 and nceil + 4 < nmax:
            return _paley(nceil + 3)
        if p > nmax:
            return None
    else:
        p = prime
    residues = {0} | {(i * i) % p for i in range(1, (p - 1) // 2 + 1)}
    idx = np.add.outer(np.arange(p), np.arange(p)) % p
    core = np.where(np.isin(idx, list(residues)), 0, 1)
    out = np.ones((p + 1, p + 1), dtype=np.int64)
    out[1:, 1:] = core
    return out


def _primes_3_mod_4(limit: int) -> tuple[int, ...]:
    sieve = np.ones(limit + 1, dtype=bool)
    sieve[:2] = False
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = False
    return tuple(int(p) for p in np.nonzero(sieve)[0] if p % 4 == 3)


# R's paley() has a table of the primes p ≡ 3 (mod 4) up to 7919 (checked equal in the peer tests).
_SMALL_PRIMES = _primes_3_mod_4(7919)
_SMALL_PRIMES_SET = frozenset(_SMALL_PRIMES)

_PRECOOKED_SIZES = (4, 16, 28, 36)

# The orders 28 and 36 of survey:::hadamard.list (R survey 4.1.1), row by row; 4 and 16 are Sylvester's.
_H28 = """
1111111111111111111111111111 1001110001110001110001111000 1000001111001101001101111000 1000001110110010111001100110
1001101000001111100011010110 1001010100101100010110101110 1000110011010010001110011110 0101100010101010011111110000
0100010110110101100111010100 0100011011001011110010101100 0101011000010111011101001010 0100101101100100111010011010
0101100101011001101100100110 0010110100011110101011101000 0011011001100110101100110100 0010101100111011010100011100
0011000111010111010010110010 0011001011111000100111001010 0010110011101101011001000110 1110101001010100010111100100
1111000101100011001011001100 1111000010011100111000011100 1110010101001010110101010010 1110011000111001001010110010
1110100010100111100100101010 1101111111111110000000000000 1011111110000001111110000000 0111111110000000000001111110
"""
# Order 36: an all-ones first row, then the 35 left shifts of one ±1 sequence with a 0 appended.
_H36_SEQUENCE = "01011100011111011100100001010110010"


def _bits(rows: str) -> np.ndarray:
    return np.array([[int(c) for c in row] for row in rows.split()], dtype=np.int64)


_PRECOOKED_CACHE: list[np.ndarray] = []


def _precooked() -> list[np.ndarray]:
    if not _PRECOOKED_CACHE:
        h4 = np.array([[1, 1], [1, 0]])
        h4 = _double(h4)
        h16 = _double(_double(h4))
        seq = _H36_SEQUENCE
        h36 = _bits(" ".join(["1" * 36] + [seq[k:] + seq[:k] + "0" for k in range(35)]))
        _PRECOOKED_CACHE.extend([h4, h16, _bits(_H28), h36])
    return _PRECOOKED_CACHE


# ----------------------------------------------------------------------------------------------------------------
# designs


def as_replicate(
    design: Any,
    type: str = "jk1",
    *,
    replicates: int | None = None,
    seed: int | None = None,
    fay_rho: float = 0.0,
    mse: bool = False,
) -> Any:
    """Return the design with replicate variance instead of Taylor linearisation (R's ``as.svrepdesign``).

    Parameters
    ----------
    design : Design
        A design with cluster ids (PSUs). Without ids each row is its own PSU, as R's ``ids=~0``: that is built
        for ``jk1`` and ``jkn`` (one replicate per row, JKn within strata) up to :data:`MAX_ROW_REPLICATES`
        rows and for the bootstraps (rows resampled within strata) up to :data:`MAX_ROW_BOOTSTRAP` rows, with
        the same results as a row-id column given as ``ids``; ``brr`` and ``fay`` need ids.
    type : {'jk1', 'jkn', 'brr', 'fay', 'bootstrap', 'subbootstrap', 'canty-davison'}
        ``bootstrap`` is the Rao–Wu rescaling bootstrap (``n_h − 1`` draws per stratum; R's ``subbootstrap``);
        ``canty-davison`` is R's ``type="bootstrap"``.
    replicates : int, optional
        Bootstrap replicates (default 50, as R); BRR/Fay: the Hadamard order (default: R's choice).
    seed : int, optional
        Seed of the bootstrap draws (reproducible SEs).
    fay_rho : float, default 0
        Fay's ρ for ``fay``.
    mse : bool, default False
        Centre the replicates on the full-sample estimate.

    Returns
    -------
    Design
        Every estimate is recomputed from each replicate's totals (``F @`` PSU totals: no replicate weight is
        built per row); a calibrated design is calibrated again in every replicate.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from digifit import stats
    >>> t = pa.table({"psu": [1, 1, 2, 2, 3, 3], "y": [1.0, 2.0, 3.0, 4.0, 5.0, 9.0]})
    >>> jk = stats.as_replicate(stats.design(t, ids="psu"), "jk1")
    >>> round(stats.total(jk, "y")[0].se, 6) == round(stats.total(stats.design(t, ids="psu"), "y")[0].se, 6)
    True
    """
    import dataclasses

    if design.repweights:
        raise DesignError("the design already has replicate-weight columns (repweights=...).")
    cal = design.calibration
    if cal is not None and cal.kind == "calibrate" and (cal.calfun != "linear" or np.isfinite(cal.bounds).any()):
        raise DesignError(
            "replicate variance re-calibrates every replicate, which is supported for post-stratification, raking "
            "and unbounded linear calibration; this design was calibrated with calfun="
            f"{cal.calfun!r} and bounds {cal.bounds!r}."
        )
    kind = {"bootstrap": "subbootstrap", "canty-davison": "bootstrap"}.get(str(type).lower(), str(type).lower())
    validated = design._structure is not None  # else build the factors on first use (validate=False)
    if design.row_psu:
        design = _rows_as_psus(design, kind, str(type))
        validated = True  # it validated the design (and its new row-number PSUs are cheap to aggregate)
    spec = ReplicateSpec(kind, replicates=replicates, fay_rho=fay_rho, seed=seed, mse=mse)
    if not validated:
        deferred = _DeferredFactors(spec)
        replicated = dataclasses.replace(design, replicate=deferred)
        deferred.design = replicated
        return replicated
    return dataclasses.replace(design, replicate=_factors_of(design, spec))


def _factors_of(design: Any, spec: ReplicateSpec) -> ReplicateFactors:
    """The replicate factors of ``design``'s PSUs (its structure: one aggregation unless already known)."""
    s = design.structure
    n_psu = int(s.parents[0].max()) + 1
    psu_stratum = np.empty(n_psu, dtype=np.int64)
    psu_stratum[s.parents[0]] = s.stratum
    psu_popsize = None
    if s.popsize is not None:
        psu_popsize = np.empty(n_psu)
        psu_popsize[s.parents[0]] = s.popsize[0]
    return replicate_factors(
        spec, psu_stratum, psu_popsize=psu_popsize, lonely_psu=design.lonely_psu, stratum_labels=s.stratum_labels
    )


class _DeferredFactors:
    """The :class:`ReplicateFactors` of a design not validated yet, built when first used.

    The factors need the PSU structure. A design made with ``validate=False`` (the CLI's, the benchmarks')
    learns it from the first estimator's own aggregation; building the factors in :func:`as_replicate` would
    cost a pass over the data of its own (a third of the bootstrap's time at 10 M rows). So the factors are
    built from ``design.structure`` on the first access of any attribute — after the estimator's aggregation
    has cached the structure — and the errors they raise (lonely PSUs, too few PSUs for the type) come from
    that estimator, as every other check of a ``validate=False`` design does. Same factors, same estimates.
    """

    def __init__(self, spec: ReplicateSpec):
        self.spec = spec
        self.design: Any = None
        self._built: ReplicateFactors | None = None

    def resolve(self) -> ReplicateFactors:
        if self._built is None:
            self._built = _factors_of(self.design, self.spec)
        return self._built

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("spec", "design", "_built"):
            raise AttributeError(name)
        return getattr(self.resolve(), name)


_blas = None  # a threadpoolctl controller of the BLAS libraries numpy loaded, made on the first rank


def factor_rank(factors: np.ndarray) -> int:
    """Rank of a replicates × PSUs factor matrix (R's ``degf`` is this minus 1), on one BLAS thread.

    A wide matrix (far more PSUs than replicates: a bootstrap of rows) is ranked through its R × R Gram matrix,
    which costs O(n·R²) instead of an SVD of the whole matrix; the factors are counts (times a constant per
    stratum), so their rank is never a question of the last digits. The SVD runs on one BLAS thread: a 200 × 400
    SVD for 200 bootstrap replicates takes about 10 ms on one thread, while OpenBLAS's default of one thread per
    core took 0.1 to 3 s on a busy 2-core machine (threads waiting for each other); see docs/benchmarks.md.

    Examples
    --------
    >>> factor_rank(np.array([[1.0, 2.0, 0.0, 1.0], [2.0, 4.0, 0.0, 2.0]]))
    1
    """
    global _blas
    f = np.asarray(factors, dtype=float)
    if f.size == 0:
        return 0
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        _blas = ThreadpoolController()
    with _blas.limit(limits=1, user_api="blas"):
        if f.shape[1] > 4 * f.shape[0]:
            return int(np.linalg.matrix_rank(f @ f.T, hermitian=True))
        return int(np.linalg.matrix_rank(f))


#: Most replicates a jackknife without cluster ids may make (one per row): above it the n × n factor matrix
#: (8·n² bytes) and its rank (R's ``degf``, O(n³)) are too large to compute on a laptop; see docs/replicates.md.
MAX_ROW_REPLICATES = 5_000

#: Most rows a bootstrap without cluster ids resamples (each row its own PSU): its factor matrix is replicates ×
#: rows (50 × 50,000 = 20 MB of float64) and the estimators fetch one total per row; see docs/replicates.md.
MAX_ROW_BOOTSTRAP = 50_000

# The synthetic PSU id of a design without cluster ids turned into a jackknife: each row is its own PSU.
_ROW_PSU = "__dg_row_psu"


def _rows_as_psus(design: Any, kind: str, asked: str) -> Any:
    """Return ``design`` with a row-number column as its PSU ids (R's ``ids=~0`` under ``as.svrepdesign``).

    The jackknives (one replicate per row, at most :data:`MAX_ROW_REPLICATES` rows) and the bootstraps (rows
    resampled within strata, at most :data:`MAX_ROW_BOOTSTRAP` rows) are built this way: the data are read once
    into memory with the row number, and every later aggregation groups by it exactly as if the user had given
    a row-id column as ``ids``.
    """
    import dataclasses

    import ibis

    from digifit.stats.backends import DuckDBSource, to_source

    if kind not in ("jk1", "jkn", "subbootstrap", "bootstrap"):
        raise DesignError(
            f"replicate type {asked!r} needs cluster ids (ids=...): without them each row is its own PSU, which "
            "digifit builds for the jackknives ('jk1', 'jkn') and the bootstraps only; give the PSU column, or "
            "use 'jk1', 'jkn', 'bootstrap' or Taylor variance."
        )
    n_rows = design.structure.n_rows  # validates the design (lonely PSUs: strata with one row)
    if kind in ("subbootstrap", "bootstrap"):
        if n_rows > MAX_ROW_BOOTSTRAP:
            raise DesignError(
                f"type {asked!r} without cluster ids resamples the rows: the data have {n_rows:,} rows, more than "
                f"the limit of {MAX_ROW_BOOTSTRAP:,}. Give cluster ids (ids=...) to resample PSUs, or use Taylor "
                "variance."
            )
    elif n_rows > MAX_ROW_REPLICATES:
        raise DesignError(
            f"type {kind!r} without cluster ids makes one replicate per row: the data have {n_rows:,} rows, "
            f"more than the limit of {MAX_ROW_REPLICATES:,} replicates. Give cluster ids (ids=...) to build "
            "replicates from the PSUs (also 'bootstrap', 50 replicates by default), or use Taylor variance."
        )
    source = design.source
    if _ROW_PSU in design.columns:
        raise DesignError(f"the data have a column named {_ROW_PSU!r}, which digifit uses internally; rename it.")
    rows = source.execute(design.table.mutate(**{_ROW_PSU: ibis.row_number()}))
    if isinstance(source, DuckDBSource):
        numbered = to_source(rows, con=source.con, na_values=design.na_values)
    else:
        numbered = to_source(source.register(rows))
    return dataclasses.replace(design, source=numbered, ids=(_ROW_PSU,), _structure=None)
