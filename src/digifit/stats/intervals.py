"""Confidence intervals: Wald (normal or t on design df) and every ``svyciprop`` method, plus Wilson.

The proportion methods follow R's ``survey::svyciprop`` (Lumley 2010, section 2.4.1; Korn & Graubard 1998):

- ``mean``: ``p ± t(df) · se``.
- ``logit`` / ``xlogit``: a t interval for ``logit(p)`` with ``se / (p (1 - p))`` (delta method), back-transformed.
  R computes ``logit`` from an intercept-only quasi-binomial ``svyglm``, whose sandwich variance of the
  intercept is exactly this delta-method variance, so both methods give the same interval.
- ``asin``: a t interval for ``asin(sqrt(p))`` with ``se / (2 sqrt(p (1 - p)))``, back-transformed by ``sin²``.
- ``beta`` (Korn–Graubard): Clopper–Pearson with the effective sample size
  ``n_eff = p (1 - p) / var · (t(n - 1) / t(df))²``.
- ``likelihood``: the Rao–Scott-scaled profile likelihood of the intercept-only binomial model; R finds the
  end points by interpolating the profile on a grid, digifit solves for them exactly (see ``docs/stats.md``).
- ``wilson`` (not in R): the Wilson score interval with Kish's effective sample size ``p (1 - p) / var`` and the
  normal quantile.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from digifit.stats.errors import EstimationError

__all__ = ["CI_METHODS", "PROPORTION_METHODS", "confint", "qt"]

PROPORTION_METHODS = ("logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson")
CI_METHODS = ("wald", "t", *PROPORTION_METHODS)

_NORMAL = NormalDist()


def qnorm(p: float) -> float:
    """Return the standard normal quantile."""
    return _NORMAL.inv_cdf(p)


def qt(p: float, df: float) -> float:
    """Return the quantile of Student's t with ``df`` degrees of freedom (normal for ``df = inf``)."""
    if df == math.inf:
        return qnorm(p)
    if df <= 0:
        return math.nan
    from scipy.special import stdtrit  # imported lazily: scipy costs a third of a second to import

    return float(stdtrit(df, p))


def _qbeta(p: float, a: float, b: float) -> float:
    from scipy.special import betaincinv

    if a <= 0:
        return 0.0
    if b <= 0:
        return 1.0
    return float(betaincinv(a, b, p))


def check_method(method: str, level: float) -> None:
    """Raise :class:`EstimationError` unless ``method`` and ``level`` are valid."""
    if method not in CI_METHODS:
        raise EstimationError(f"ci_method {method!r} is not known; expected one of {', '.join(CI_METHODS)}.")
    if not 0 < level < 1:
        raise EstimationError(f"level must be between 0 and 1 (exclusive); got {level!r}.")


def confint(
    estimate: float,
    se: float,
    *,
    df: float,
    level: float = 0.95,
    method: str = "wald",
    n: int | None = None,
) -> tuple[float, float]:
    """Return the ``(low, high)`` confidence interval of an estimate.

    Parameters
    ----------
    estimate, se : float
        The estimate and its standard error.
    df : float
        Design degrees of freedom (used by ``t`` and every proportion method but ``wilson``).
    level : float, default 0.95
        Confidence level.
    method : {'wald', 't', 'logit', 'likelihood', 'asin', 'beta', 'mean', 'xlogit', 'wilson'}
        ``wald`` is ``estimate ± z · se``; the others are described in the module docstring. The proportion
        methods need an estimate in [0, 1].
    n : int, optional
        Rows in the domain; needed by ``beta``.

    Examples
    --------
    >>> low, high = confint(0.5, 0.1, df=10, method="wald")
    >>> round(low, 4), round(high, 4)
    (0.304, 0.696)
    >>> [round(x, 4) for x in confint(0.5, 0.1, df=10, method="mean")]
    [0.2772, 0.7228]
    """
    alpha = 1 - level
    if not math.isfinite(se) or not math.isfinite(estimate):
        return (math.nan, math.nan)
    if method == "wald":
        z = qnorm(1 - alpha / 2)
        return (estimate - z * se, estimate + z * se)
    if method in ("t", "mean"):
        t = qt(1 - alpha / 2, df)
        return (estimate - t * se, estimate + t * se)
    p = estimate
    if not -1e-12 <= p <= 1 + 1e-12:
        raise EstimationError(f"ci_method {method!r} is for proportions; the estimate {p!r} is not between 0 and 1.")
    var = se * se
    if method in ("logit", "xlogit", "likelihood") and method != "likelihood":
        if p <= 0 or p >= 1:
            return (p, p) if var == 0 else (math.nan, math.nan)
        eta = math.log(p / (1 - p))
        se_eta = se / (p * (1 - p))
        t = qt(1 - alpha / 2, df)
        return (_expit(eta - t * se_eta), _expit(eta + t * se_eta))
    if method == "asin":
        if p <= 0 or p >= 1:
            return (math.nan, math.nan)
        theta = math.asin(math.sqrt(p))
        se_theta = se / (2 * math.sqrt(p * (1 - p)))
        t = qt(1 - alpha / 2, df)
        return (math.sin(theta - t * se_theta) ** 2, math.sin(theta + t * se_theta) ** 2)
    if method == "beta":
        if n is None:
            raise EstimationError("ci_method 'beta' needs the number of rows n.")
        if var == 0:
            return (math.nan, math.nan)
        n_eff = p * (1 - p) / var
        n_eff *= (qt(alpha / 2, n - 1) / qt(alpha / 2, df)) ** 2
        return (
            _qbeta(alpha / 2, n_eff * p, n_eff * (1 - p) + 1),
            _qbeta(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)),
        )
    if method == "wilson":
        if var == 0:
            return (math.nan, math.nan)
        n_eff = p * (1 - p) / var
        z = qnorm(1 - alpha / 2)
        denom = 1 + z * z / n_eff
        centre = (p + z * z / (2 * n_eff)) / denom
        half = z / denom * math.sqrt(p * (1 - p) / n_eff + z * z / (4 * n_eff * n_eff))
        return (centre - half, centre + half)
    if method == "likelihood":
        raise EstimationError("ci_method 'likelihood' needs the design; use stats.proportion(..., ci_method=...).")
    raise EstimationError(f"ci_method {method!r} is not known; expected one of {', '.join(CI_METHODS)}.")


def _expit(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)
