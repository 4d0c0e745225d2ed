"""Confidence intervals: Wald (normal or t on design df) and every ``svyciprop`` method, plus Wilson.

The proportion methods follow R's ``survey::svyciprop`` (Lumley 2010, section 2.4.1; Korn & Graubard 1998):

- ``mean``: ``p ± t(df) · se``.
- ``logit`` / ``xlogit``: a t interval for ``logit(p)`` with ``se / (p (1 - p))`` (delta method), back-transformed.
  R computes ``logit`` from an intercept-only quasi-binomial ``svyglm``, whose sandwich variance of the
  intercept is exactly this delta-method variance, so both methods give the same interval.
- ``asin``: a t interval for ``asin(sqrt(p))`` with ``se / (2 sqrt(p (1 - p)))``, back-transformed by ``sin²``.
- ``beta`` (Korn–Graubard): Clopper–Pearson with the effective sample size
  ``n_eff = p (1 - p) / var · (t(n - 1) / t(df))²``.
- ``likelihood``: the Rao–Scott-scaled profile likelihood of the intercept-only binomial model, computed as R
  does it (MASS-style profile on a grid of at most 9 steps each way, FMM spline, linear inverse interpolation),
  so the end points equal R's rather than the exact roots.
- ``wilson`` (not in R): the Wilson score interval with Kish's effective sample size ``p (1 - p) / var`` and the
  normal quantile.
"""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

from digifit.errors import EstimationError

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


def glm_naive_variance(p: float, n: float, start: tuple[float, float, float]) -> float:
    """Return the model-based variance of the intercept that R's ``glm.fit`` reports for a 0/1 response.

    R's ``naive.cov`` is ``1 / Σ W`` with the working weights of the *last* IRLS iteration, evaluated at the
    previous iteration's fitted values, so it depends on glm's starting values and stopping rule. This replays
    ``glm.fit`` for the intercept-only binomial model: ``start`` holds the per-row sums at the starting values
    ``μ_i = (w̃_i y_i + 0.5) / (w̃_i + 1)`` — ``Σ W_i``, ``Σ W_i z_i`` and ``Σ w̃_i (y_i log μ_i + (1 − y_i)
    log(1 − μ_i))`` — after which every iteration is scalar (``n = Σ w̃``, weights scaled to mean 1).
    """
    sw, swz, loglik0 = start
    devold = -2.0 * loglik0
    naive = 1.0 / sw
    for _ in range(25):  # glm.control(maxit = 25, epsilon = 1e-8)
        beta = swz / sw
        naive = 1.0 / sw
        mu = _expit(beta)
        dev = -2.0 * n * (p * math.log(mu) + (1 - p) * math.log(1 - mu))
        if abs(dev - devold) / (abs(dev) + 0.1) < 1e-8:
            break
        devold = dev
        sw = n * mu * (1 - mu)
        swz = sw * beta + n * (p - mu)
    return naive


def profile_likelihood_ci(
    p: float, se: float, *, df: float, level: float, n: int, naive: float | None = None
) -> tuple[float, float]:
    """Return ``svyciprop(method="likelihood")``'s interval for a proportion ``p`` with design SE ``se``.

    R fits ``svyglm(y ~ 1, family=quasibinomial)`` with weights scaled to mean 1 over the ``n`` rows, then
    ``confint(method="likelihood")``: the signed root deviance ``z(β) = ±sqrt((D(β) − D̂) / φ)`` (Pearson
    dispersion ``φ = n / (n − 1)`` for a 0/1 response) is profiled on a grid of steps of ``zmax / 5`` design
    SEs, and the interval is where the FMM spline through the profile crosses ``± t(α/2, df) · sqrt(λ)``,
    ``λ`` being the design variance of ``logit(p)`` over its model variance (a Rao–Scott scaling): ``naive``
    from :func:`glm_naive_variance` as R has it, or ``1 / (n p (1 − p))`` (its limit) when not given.
    """
    if not 0 < p < 1 or not se > 0 or n < 2 or df <= 0:
        return (math.nan, math.nan)
    from scipy.special import fdtri, ndtr

    b0 = math.log(p / (1 - p))
    std_err = se / (p * (1 - p))
    lam = std_err**2 / naive if naive is not None else std_err**2 * (n * p * (1 - p))
    t_half = qt((1 - level) / 2, df)
    alpha = ndtr(t_half * math.sqrt(lam)) / 2
    zmax = math.sqrt(float(fdtri(1, n - 1, 1 - alpha)))
    delta = zmax / 5
    dispersion = n / (n - 1)

    def z_of(beta: float, sign: int) -> float:
        q = _expit(beta)
        dev = 2 * n * (p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q)))
        return sign * math.sqrt(max(dev / dispersion, 0.0))

    points = [(b0, 0.0)]
    for sign in (-1, 1):
        step, z = 0, 0.0
        while (step := step + 1) < 10 and abs(z) < zmax:
            beta = b0 + sign * step * delta * std_err
            z = z_of(beta, sign)
            points.append((beta, z))
    points.sort(key=lambda bz: bz[1])
    xs = [b for b, _ in points]
    ys = [z for _, z in points]
    grid_x, grid_y = _spline_fmm(xs, ys, 3 * len(xs))
    cutoff = t_half * math.sqrt(lam)  # negative: the lower end point
    lo = _approx(grid_y, grid_x, cutoff)
    hi = _approx(grid_y, grid_x, -cutoff)
    return (_expit(lo), _expit(hi))


def _spline_fmm(x: list[float], y: list[float], n_out: int) -> tuple[list[float], list[float]]:
    """Interpolate ``y(x)`` with a cubic spline using Forsythe–Malcolm–Moler end conditions (R's ``spline``).

    Returns ``n_out`` equally spaced points from ``min(x)`` to ``max(x)``. The end conditions match the third
    derivative at each end to that of the cubic through the four end points.
    """
    order = sorted(range(len(x)), key=lambda i: x[i])
    x = [x[i] for i in order]
    y = [y[i] for i in order]
    n = len(x)
    b = [0.0] * n
    c = [0.0] * n
    d = [0.0] * n
    if n < 3:
        slope = (y[1] - y[0]) / (x[1] - x[0])
        b = [slope] * n
    else:
        d[0] = x[1] - x[0]
        c[1] = (y[1] - y[0]) / d[0]
        for i in range(1, n - 1):
            d[i] = x[i + 1] - x[i]
            b[i] = 2.0 * (d[i - 1] + d[i])
            c[i + 1] = (y[i + 1] - y[i]) / d[i]
            c[i] = c[i + 1] - c[i]
        b[0] = -d[0]
        b[n - 1] = -d[n - 2]
        c[0] = c[n - 1] = 0.0
        if n > 3:
            c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
            c[n - 1] = c[n - 2] / (x[n - 1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
            c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
            c[n - 1] = -c[n - 1] * d[n - 2] * d[n - 2] / (x[n - 1] - x[n - 4])
        for i in range(1, n):
            t = d[i - 1] / b[i - 1]
            b[i] = b[i] - t * d[i - 1]
            c[i] = c[i] - t * c[i - 1]
        c[n - 1] = c[n - 1] / b[n - 1]
        for i in range(n - 2, -1, -1):
            c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
        b[n - 1] = (y[n - 1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[n - 1])
        for i in range(n - 1):
            b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
            d[i] = (c[i + 1] - c[i]) / d[i]
            c[i] = 3.0 * c[i]
        c[n - 1] = 3.0 * c[n - 1]
        d[n - 1] = d[n - 2]
    lo, hi = x[0], x[-1]
    out_x = [lo + (hi - lo) * k / (n_out - 1) for k in range(n_out)]
    out_y = []
    i = 0
    for u in out_x:
        while i < n - 1 and u >= x[i + 1]:
            i += 1
        dx = u - x[i]
        out_y.append(y[i] + dx * (b[i] + dx * (c[i] + dx * d[i])))
    return out_x, out_y


def _approx(x: list[float], y: list[float], xout: float) -> float:
    """Linear interpolation of ``y`` at ``xout`` (R's ``approx``: sorted by ``x``, NaN outside the range)."""
    pairs = sorted(zip(x, y))
    if not pairs or xout < pairs[0][0] or xout > pairs[-1][0]:
        return math.nan
    for (x0, y0), (x1, y1) in itertools.pairwise(pairs):
        if x0 <= xout <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (xout - x0) / (x1 - x0)
    return pairs[-1][1]
