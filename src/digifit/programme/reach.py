"""Reach toward the programme's target: who counts as "digitally fit", the funnel, and a forecast.

Plain records in, plain values out; no Django. The programme's models turn registrations, attendance and
Digital-Check results into :class:`Business` records and call these functions.

The rule
--------
A business is *digitally fit* (default :data:`DEFAULT_RULE`) once it has attended at least one training or
live-coaching session **and** completed the Digital-Check. :class:`FitRule` makes the three parts
configurable: how many sessions (``min_sessions``), of which kinds (``kinds``), and whether the Digital-Check
is required (``require_check``). The date a business became fit (:func:`fit_date`) is the later of the day
of its ``min_sessions``-th qualifying session and the day it completed the check.

The forecast
------------
:func:`forecast` models the weekly numbers of newly fit businesses ``y_t`` as negative-binomial counts
(NB2: variance ``mu + alpha * mu**2``, ``alpha`` by maximum likelihood; Poisson when ``alpha`` goes to 0)
with a log-linear trend ``log mu_t = a + b t``, fitted by maximum likelihood. The trend is always in the
model (no test decides whether to keep it), so its uncertainty always widens the interval instead of
being dropped after a pre-test. The prediction interval for the date the cumulative count reaches the
target comes from parametric simulation with a fixed seed: each simulated future draws ``(a, b)`` from the
asymptotic normal distribution of the estimate (parameter uncertainty) and then weekly counts from the
fitted negative-binomial law (week-to-week noise); the interval is the pair of (1 ± level)/2 quantiles of
the simulated reach dates, the point forecast their median. See ``docs/coach.md`` for why and the limits.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from digifit.exports.cells import safe_cell
from digifit.programme.recurrence import ProgrammeError

__all__ = [
    "DEFAULT_RULE",
    "FUNNEL_DIMENSIONS",
    "MIN_WEEKS",
    "Attendance",
    "BandPoint",
    "Business",
    "FitRule",
    "Forecast",
    "FunnelRow",
    "cumulative_fit",
    "fit_date",
    "forecast",
    "forecast_band",
    "funnel",
    "funnel_to_csv",
    "is_digitally_fit",
    "week_start",
    "weekly_counts_from_csv",
    "weekly_fit_counts",
]

#: Kinds of attendance: a training (recorded participation), a live-coaching session, a course completed in
#: digifit (:mod:`digifit.learning`, counted on the day of its completion).
SESSION_KINDS = ("training", "coaching", "course")
#: Dimensions :func:`funnel` can group by.
FUNNEL_DIMENSIONS = ("sector", "region", "week")
#: The shortest history :func:`forecast` accepts, in weeks.
MIN_WEEKS = 4


@dataclass(frozen=True)
class Attendance:
    """One session a business attended: its day and kind (``'training'``, ``'coaching'`` or ``'course'``)."""

    on: date
    kind: str = "training"


@dataclass(frozen=True)
class Business:
    """What reach needs to know about one registered business."""

    id: str
    registered_on: date
    sector: str = ""
    region: str = ""
    attended: tuple[Attendance, ...] = ()
    check_completed_on: date | None = None


@dataclass(frozen=True)
class FitRule:
    """When a business counts as digitally fit.

    Parameters
    ----------
    min_sessions : int, default 1
        Sessions of the counted kinds a business must have attended (0: attendance not required).
    kinds : frozenset of str, default {'training', 'coaching', 'course'}
        Which sessions count.
    require_check : bool, default True
        Whether the Digital-Check must be completed.
    """

    min_sessions: int = 1
    kinds: frozenset[str] = field(default_factory=lambda: frozenset(SESSION_KINDS))
    require_check: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.min_sessions, bool) or not isinstance(self.min_sessions, int) or self.min_sessions < 0:
            raise ProgrammeError(f"FitRule min_sessions: got {self.min_sessions!r}; expected an integer >= 0")
        kinds = frozenset(self.kinds)
        unknown = sorted(kinds - set(SESSION_KINDS))
        if unknown or (self.min_sessions and not kinds):
            raise ProgrammeError(
                f"FitRule kinds: got {sorted(kinds)!r}; expected a non-empty subset of {SESSION_KINDS}"
            )
        object.__setattr__(self, "kinds", kinds)
        if not self.min_sessions and not self.require_check:
            raise ProgrammeError("FitRule: got min_sessions=0 and require_check=False; expected at least one condition")


#: Attended >= 1 training or coaching session and completed the Digital-Check.
DEFAULT_RULE = FitRule()


def fit_date(business: Business, rule: FitRule = DEFAULT_RULE) -> date | None:
    """Return the day ``business`` became digitally fit under ``rule``, or None if it is not (yet).

    Examples
    --------
    >>> from datetime import date
    >>> b = Business("b1", date(2026, 3, 2), attended=(Attendance(date(2026, 3, 10), "coaching"),),
    ...              check_completed_on=date(2026, 3, 4))
    >>> fit_date(b)
    datetime.date(2026, 3, 10)
    >>> fit_date(b, FitRule(min_sessions=2)) is None
    True
    """
    days: list[date] = []
    if rule.min_sessions:
        sessions = sorted(a.on for a in business.attended if a.kind in rule.kinds)
        if len(sessions) < rule.min_sessions:
            return None
        days.append(sessions[rule.min_sessions - 1])
    if rule.require_check:
        if business.check_completed_on is None:
            return None
        days.append(business.check_completed_on)
    return max(days)


def is_digitally_fit(business: Business, rule: FitRule = DEFAULT_RULE, *, as_of: date | None = None) -> bool:
    """Tell whether ``business`` is digitally fit under ``rule`` (on ``as_of``, default: ever)."""
    day = fit_date(business, rule)
    return day is not None and (as_of is None or day <= as_of)


def week_start(day: date) -> date:
    """Return the Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


# -- the funnel -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelRow:
    """Counts of one group: registered → attended (≥ 1 session of a counted kind) → digitally fit.

    ``group`` holds (dimension, value) pairs, e.g. ``(("sector", "retail"), ("week", "2026-03-02"))``.
    """

    group: tuple[tuple[str, str], ...]
    registered: int
    attended: int
    fit: int

    def to_dict(self) -> dict[str, Any]:
        """One flat row (the CLI ``--json`` and CSV export shape)."""
        return {**dict(self.group), "registered": self.registered, "attended": self.attended, "fit": self.fit}


def funnel(
    businesses: Iterable[Business],
    *,
    by: str | Sequence[str] | None = None,
    rule: FitRule = DEFAULT_RULE,
    as_of: date | None = None,
) -> list[FunnelRow]:
    """Count registered, attended and digitally fit businesses, overall or by sector, region and week.

    Parameters
    ----------
    businesses : iterable of Business
    by : {'sector', 'region', 'week'} or a sequence of them, optional
        Grouping. Without ``'week'`` the counts are stocks: how many businesses of the group had reached
        each stage by ``as_of``. With ``'week'`` they are flows: a business counts in the week (Monday) it
        registered, in the week of its first counted session, and in the week it became fit; every week
        between the first and the last is listed, quiet ones with zeros.
    rule : FitRule, default DEFAULT_RULE
    as_of : date, optional
        Ignore everything after this day.

    Returns
    -------
    list of FunnelRow
        Sorted by group.

    Examples
    --------
    >>> from datetime import date
    >>> bs = [Business("a", date(2026, 3, 2), "retail", attended=(Attendance(date(2026, 3, 3)),),
    ...                check_completed_on=date(2026, 3, 5)),
    ...       Business("b", date(2026, 3, 2), "travel")]
    >>> [r.to_dict() for r in funnel(bs)]
    [{'registered': 2, 'attended': 1, 'fit': 1}]
    """
    dims = [by] if isinstance(by, str) else list(by or [])
    for dim in dims:
        if dim not in FUNNEL_DIMENSIONS:
            raise ProgrammeError(f"funnel by: got {dim!r}; expected some of {FUNNEL_DIMENSIONS}")
    if len(set(dims)) != len(dims):
        raise ProgrammeError(f"funnel by: got {dims!r}; expected each dimension at most once")

    def within(day: date | None) -> bool:
        return day is not None and (as_of is None or day <= as_of)

    counts: dict[tuple[tuple[str, str], ...], list[int]] = {}
    weeks: set[date] = set()
    for b in businesses:
        first_session = min((a.on for a in b.attended if a.kind in rule.kinds), default=None)
        stages = (b.registered_on, first_session, fit_date(b, rule))
        for stage, day in enumerate(stages):
            if not within(day):
                continue
            assert day is not None
            key: list[tuple[str, str]] = []
            for dim in dims:
                if dim == "week":
                    weeks.add(week_start(day))
                    key.append(("week", week_start(day).isoformat()))
                else:
                    key.append((dim, getattr(b, dim)))
            counts.setdefault(tuple(key), [0, 0, 0])[stage] += 1
    if "week" in dims and weeks:
        # list quiet weeks too, for every combination of the other dimensions seen
        others = {tuple(p for p in key if p[0] != "week") for key in counts}
        monday, last = min(weeks), max(weeks)
        while monday <= last:
            for other in others:
                key = list(other)
                key.insert(dims.index("week"), ("week", monday.isoformat()))
                counts.setdefault(tuple(key), [0, 0, 0])
            monday += timedelta(weeks=1)
    if not dims and not counts:
        counts[()] = [0, 0, 0]
    return [FunnelRow(key, *values) for key, values in sorted(counts.items())]


def funnel_to_csv(rows: Sequence[FunnelRow], *, labels: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """Write funnel rows as CSV text (the dashboard's export): group columns, then the three counts.

    With ``labels`` (dimension → code → label), each labelled dimension gets a ``<dimension>_label`` column
    right after its code column (a code without a label keeps the code).

    Examples
    --------
    >>> print(funnel_to_csv([FunnelRow((("sector", "retail"),), 2, 2, 1)]), end="")
    sector,registered,attended,fit
    retail,2,2,1
    >>> print(funnel_to_csv([FunnelRow((("sector", "retail"),), 2, 2, 1)], labels={"sector": {"retail": "Handel"}}),
    ...       end="")
    sector,sector_label,registered,attended,fit
    retail,Handel,2,2,1
    """
    import io

    labels = labels or {}
    columns = [name for name, _ in rows[0].group] if rows else []
    header: list[str] = []
    for name in columns:
        header += [name, f"{name}_label"] if name in labels else [name]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*header, "registered", "attended", "fit"])
    for row in rows:
        cells: list[Any] = []
        for name, value in row.group:
            cells.append(safe_cell(value))
            if name in labels:
                cells.append(safe_cell(str(labels[name].get(value, value))))
        writer.writerow([*cells, row.registered, row.attended, row.fit])
    return out.getvalue()


def weekly_fit_counts(
    businesses: Iterable[Business],
    *,
    rule: FitRule = DEFAULT_RULE,
    start: date | None = None,
    end: date | None = None,
) -> list[tuple[date, int]]:
    """Return the weekly numbers of newly fit businesses, quiet weeks included: the forecast's history.

    Weeks start on Monday and run from ``start``'s week (default: the first fit business's) to ``end``'s
    (default: the last one's).
    """
    per_week = Counter(week_start(d) for b in businesses if (d := fit_date(b, rule)) is not None)
    first = week_start(start) if start else min(per_week, default=None)
    last = week_start(end) if end else max(per_week, default=None)
    if first is None or last is None:
        return []
    result = []
    monday = first
    while monday <= last:
        result.append((monday, per_week.get(monday, 0)))
        monday += timedelta(weeks=1)
    return result


# -- the forecast ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """When the cumulative number of digitally fit businesses reaches the target.

    Dates are the last day (Sunday) of the week in which the target is reached. ``expected`` is the median
    of the simulated reach dates, ``low``/``high`` the prediction interval at ``level``; ``None`` means
    "not within the horizon" (for ``high``: at least ``(1 - level) / 2`` of the simulations never get there
    before ``horizon``).
    """

    target: int
    deadline: date
    level: float
    model: str
    weeks: int
    reached: int
    last_week: date
    rate: float
    weekly_growth: float
    expected: date | None
    low: date | None
    high: date | None
    p_by_deadline: float
    horizon: date

    @property
    def on_track(self) -> bool:
        """Whether the point forecast reaches the target by the deadline."""
        return self.expected is not None and self.expected <= self.deadline

    def summary(self) -> str:
        """Say the result in one sentence."""
        if self.reached >= self.target:
            return f"Target {self.target:,} reached in the week ending {self.expected}."
        tail = f"probability by the deadline {self.p_by_deadline:.0%}"
        if self.low is not None:
            high = self.high.isoformat() if self.high else f"after {self.horizon}"
            tail = f"{self.level:.0%} interval {self.low} to {high}; {tail}"
        if self.on_track:
            return f"Target {self.target:,} expected in the week ending {self.expected} ({tail})."
        when = f"expected in the week ending {self.expected}" if self.expected else f"not before {self.horizon}"
        return f"Target {self.target:,} not reached by deadline {self.deadline}: {when} ({tail})."

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (dates as ISO strings)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, date) else value
        out["on_track"] = self.on_track
        out["summary"] = self.summary()
        return out


def forecast(
    weekly_counts: Sequence[tuple[date, int]],
    target: int = 10_000,
    deadline: date | None = None,
    level: float = 0.9,
    *,
    nsim: int = 4000,
    seed: int = 20261231,
    horizon_years: int = 3,
) -> Forecast:
    """Forecast when the cumulative count of digitally fit businesses reaches ``target``.

    Parameters
    ----------
    weekly_counts : sequence of (date, int)
        Consecutive weeks since the programme's start (first day of each week, 7 days apart; quiet weeks
        as 0) and the number of businesses newly fit that week. At least :data:`MIN_WEEKS` (4) weeks:
        fewer cannot separate a trend from noise, and the function refuses rather than print a number.
    target : int, default 10000
    deadline : date, optional
        Default 31 December of the last week's year.
    level : float, default 0.9
        Coverage of the prediction interval.
    nsim : int, default 4000
        Simulated futures.
    seed : int
        Fixed, so the same history gives the same forecast.
    horizon_years : int, default 3
        Simulate up to this many years past the deadline; later is reported as "not within the horizon".

    Returns
    -------
    Forecast

    Raises
    ------
    ProgrammeError
        On fewer than 4 weeks, gaps, duplicates, negative counts, or bad options.

    Notes
    -----
    Model: ``y_t ~ NB2(mu_t, alpha)`` with ``log mu_t = a + b (t - t_mean)``, maximum likelihood (Fisher
    scoring for ``(a, b)``, the profile likelihood for ``alpha``). When the slope has no finite estimate
    (every count in the last weeks, the rest 0) the constant-rate model ``log mu_t = a`` is used and named
    in ``Forecast.model``. The covariance of ``(a, b)`` is the inverse Fisher information ``(X' W X)^-1``
    with ``W = mu / (1 + alpha mu)``. A history without a single fit business has no finite estimate; then
    the weekly rate is drawn from its Jeffreys posterior ``Gamma(1/2, n)``. Prediction: parametric
    simulation of ``nsim`` futures (coefficients from their normal approximation, counts from the fitted
    NB2 law via its gamma–Poisson mixture). ``alpha`` is treated as known, which makes the interval
    slightly narrow: on synthetic histories the 90 % interval held the realised date in 86–93 % of
    120 replicates per process (``tests/programme/test_reach_forecast.py``).

    Examples
    --------
    >>> from datetime import date, timedelta
    >>> history = [(date(2026, 1, 5) + timedelta(weeks=k), 50) for k in range(20)]
    >>> f = forecast(history, target=3000, deadline=date(2027, 6, 30))
    >>> f.model
    'Poisson, log-linear trend'
    >>> f.expected, f.low, f.high, round(f.p_by_deadline, 2)
    (datetime.date(2027, 2, 28), datetime.date(2027, 1, 3), datetime.date(2027, 6, 20), 0.96)
    """
    weeks, counts = _check_history(weekly_counts)
    if isinstance(target, bool) or not isinstance(target, int) or target < 1:
        raise ProgrammeError(f"forecast target: got {target!r}; expected a positive integer")
    if not 0 < level < 1:
        raise ProgrammeError(f"forecast level: got {level!r}; expected a number between 0 and 1")
    if isinstance(nsim, bool) or not isinstance(nsim, int) or nsim < 100:
        raise ProgrammeError(f"forecast nsim: got {nsim!r}; expected an integer >= 100")
    last_week = weeks[-1]
    if deadline is None:
        deadline = date(last_week.year, 12, 31)
    if deadline < last_week:
        raise ProgrammeError(
            f"forecast deadline: got {deadline}; it is before the last week of the history ({last_week})"
        )
    n = len(counts)
    reached = int(counts.sum())
    h_weeks, horizon = _horizon(deadline, last_week, horizon_years)

    def week_end(index: int) -> date:  # index 1 = the week after the last history week
        return last_week + timedelta(weeks=index, days=6)

    if reached >= target:
        crossed = int(np.argmax(np.cumsum(counts) >= target))
        day = weeks[crossed] + timedelta(days=6)
        return Forecast(
            target,
            deadline,
            level,
            "target already reached",
            n,
            reached,
            last_week,
            float(counts[-4:].mean()),
            0.0,
            day,
            day,
            day,
            float(day <= deadline),
            horizon,
        )

    model, draws, rate, growth = _simulate(counts, target=target, h_weeks=h_weeks, nsim=nsim, seed=seed)
    cumulative = reached + np.cumsum(draws, axis=1)
    hit = cumulative >= target
    index = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, np.iinfo(np.int64).max)
    deadline_index = ((deadline - last_week).days - 6) // 7  # the last week that ends by the deadline
    p_by_deadline = float(np.mean(index <= deadline_index))

    def quantile(q: float) -> date | None:
        k = int(np.quantile(index, q, method="inverted_cdf"))
        return week_end(k) if k <= h_weeks else None

    tail = (1.0 - level) / 2.0
    return Forecast(
        target=target,
        deadline=deadline,
        level=level,
        model=model,
        weeks=n,
        reached=reached,
        last_week=last_week,
        rate=rate,
        weekly_growth=growth,
        expected=quantile(0.5),
        low=quantile(tail),
        high=quantile(1.0 - tail),
        p_by_deadline=p_by_deadline,
        horizon=horizon,
    )


def _horizon(deadline: date, last_week: date, horizon_years: int) -> tuple[int, date]:
    """The simulated weeks after the history, and the last day of the last one."""
    horizon = date(deadline.year + horizon_years, deadline.month, min(deadline.day, 28))
    h_weeks = max(52, (horizon - last_week).days // 7)
    return h_weeks, last_week + timedelta(weeks=h_weeks, days=6)


def _simulate(counts: np.ndarray, *, target: int, h_weeks: int, nsim: int, seed: int):
    """``nsim`` simulated futures of ``h_weeks`` weekly counts (the model of :func:`forecast`, fixed seed).

    Returns the model's name, the draws (``nsim`` × ``h_weeks``), the fitted rate of the next week and the
    weekly growth.
    """
    n = len(counts)
    rng = np.random.default_rng(seed)
    future = np.arange(1, h_weeks + 1)
    cap = math.log(10.0 * target)  # no simulated week needs more than this to cross the target
    if int(counts.sum()) == 0:
        model = "no fit business yet: Poisson, Jeffreys posterior for the rate"
        lam = rng.gamma(0.5, 1.0 / n, size=(nsim, 1)) * np.ones((1, h_weeks))
        return model, rng.poisson(lam), 0.0, 0.0
    fit = _select_model(counts)
    model, alpha = fit.name, fit.alpha
    x_future = (n - 1 + future) - (n - 1) / 2.0
    coef = rng.multivariate_normal(fit.coef, fit.cov, size=nsim, method="svd")
    slope = coef[:, [1]] if fit.coef.size == 2 else np.zeros((nsim, 1))
    eta = coef[:, [0]] + slope * x_future[None, :]
    mu = np.exp(np.minimum(eta, cap))
    lam = rng.gamma(1.0 / alpha, alpha * mu) if alpha > 0 else mu
    draws = rng.poisson(lam)
    b = float(fit.coef[1]) if fit.coef.size == 2 else 0.0
    rate = float(math.exp(min(fit.coef[0] + b * ((n - 1) / 2.0 + 1), cap)))
    return model, draws, rate, math.expm1(b)


@dataclass(frozen=True)
class BandPoint:
    """One week of the forecast band: the cumulative count of fit businesses by the week's last day (Sunday),
    its median and the prediction interval at the forecast's level."""

    week_end: date
    median: int
    low: int
    high: int

    def to_dict(self) -> dict[str, Any]:
        return {"week_end": self.week_end.isoformat(), "median": self.median, "low": self.low, "high": self.high}


def cumulative_fit(weekly_counts: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """The cumulative count of fit businesses at the end (Sunday) of each week of the history.

    Examples
    --------
    >>> from datetime import date
    >>> cumulative_fit([(date(2026, 3, 2), 2), (date(2026, 3, 9), 0), (date(2026, 3, 16), 3)])
    [(datetime.date(2026, 3, 8), 2), (datetime.date(2026, 3, 15), 2), (datetime.date(2026, 3, 22), 5)]
    """
    out, total = [], 0
    for monday, count in weekly_counts:
        total += int(count)
        out.append((monday + timedelta(days=6), total))
    return out


def forecast_band(
    weekly_counts: Sequence[tuple[date, int]],
    target: int = 10_000,
    deadline: date | None = None,
    level: float = 0.9,
    *,
    until: date | None = None,
    nsim: int = 4000,
    seed: int = 20261231,
    horizon_years: int = 3,
) -> list[BandPoint]:
    """The weekly band of the cumulative count under the model of :func:`forecast` (same history, options and
    seed: the same simulated futures), from the week after the history to ``until`` (default the deadline).

    ``median``, ``low`` and ``high`` are the 50 % and (1 ± level)/2 quantiles of the simulated cumulative
    counts each week. Empty when the target is already reached.

    Raises
    ------
    ProgrammeError
        As :func:`forecast`.
    """
    result = forecast(
        weekly_counts, target=target, deadline=deadline, level=level, nsim=nsim, seed=seed, horizon_years=horizon_years
    )
    if result.reached >= target:
        return []
    _weeks, counts = _check_history(weekly_counts)
    h_weeks, _horizon_day = _horizon(result.deadline, result.last_week, horizon_years)
    _model, draws, _rate, _growth = _simulate(counts, target=target, h_weeks=h_weeks, nsim=nsim, seed=seed)
    last = until or result.deadline
    n_weeks = max(0, min(h_weeks, ((last - result.last_week).days - 6) // 7))  # weeks that end by ``until``
    if n_weeks == 0:
        return []
    cumulative = result.reached + np.cumsum(draws[:, :n_weeks], axis=1)
    tail = (1.0 - level) / 2.0
    low, median, high = (np.quantile(cumulative, q, axis=0, method="inverted_cdf") for q in (tail, 0.5, 1 - tail))
    return [
        BandPoint(result.last_week + timedelta(weeks=k + 1, days=6), int(median[k]), int(low[k]), int(high[k]))
        for k in range(n_weeks)
    ]


def _check_history(weekly_counts: Sequence[tuple[date, int]]) -> tuple[list[date], np.ndarray]:
    rows = list(weekly_counts)
    if len(rows) < MIN_WEEKS:
        span = f" ({rows[0][0]} to {rows[-1][0]})" if rows else ""
        raise ProgrammeError(
            f"forecast history: got {len(rows)} week(s){span}; expected at least {MIN_WEEKS} consecutive "
            "weeks (a shorter history cannot tell a trend from noise)"
        )
    weeks: list[date] = []
    counts: list[int] = []
    for i, row in enumerate(rows):
        try:
            day, count = row
        except (TypeError, ValueError):
            raise ProgrammeError(f"forecast history row {i + 1}: got {row!r}; expected (week_start, count)") from None
        if not isinstance(day, date):
            raise ProgrammeError(f"forecast history row {i + 1}, week_start: got {day!r}; expected a date")
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise ProgrammeError(
                f"forecast history row {i + 1} ({day}), count: got {count!r}; expected an integer >= 0"
            )
        if weeks and (day - weeks[-1]).days != 7:
            raise ProgrammeError(
                f"forecast history row {i + 1}: week {day} follows {weeks[-1]}; expected consecutive weeks "
                f"7 days apart, in order ({weeks[-1] + timedelta(weeks=1)} next; list quiet weeks with 0)"
            )
        weeks.append(day)
        counts.append(int(count))
    return weeks, np.asarray(counts, dtype=float)


@dataclass(frozen=True)
class _Fit:
    name: str
    coef: np.ndarray
    cov: np.ndarray
    alpha: float


def _nb_loglik(y: np.ndarray, mu: np.ndarray, alpha: float) -> float:
    from scipy.special import gammaln

    if alpha < 1e-8:
        return float(np.sum(y * np.log(mu) - mu - gammaln(y + 1)))
    r = 1.0 / alpha
    return float(
        np.sum(gammaln(y + r) - gammaln(r) - gammaln(y + 1) + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu)))
    )


def _irls(y: np.ndarray, design: np.ndarray, alpha: float) -> np.ndarray | None:
    """Maximise the NB2 (Poisson for alpha = 0) likelihood in the coefficients by Fisher scoring.

    Returns None when the slope runs off (no finite estimate, e.g. every count in the last week).
    """
    beta = np.zeros(design.shape[1])
    beta[0] = math.log(y.mean())
    for _ in range(100):
        eta = np.clip(design @ beta, -30.0, 30.0)
        mu = np.exp(eta)
        weight = mu / (1.0 + alpha * mu)
        z = eta + (y - mu) / mu
        step = np.linalg.solve(design.T @ (weight[:, None] * design), design.T @ (weight * z))
        done = float(np.max(np.abs(step - beta))) < 1e-10
        beta = step
        if design.shape[1] > 1 and abs(beta[1]) > 2.0:
            return None
        if done:
            break
    return beta


def _fit_nb(y: np.ndarray, trend: bool) -> _Fit | None:
    """Fit NB2 by maximum likelihood (Poisson when NB2 does not improve on it: alpha at 0).

    The coefficients by Fisher scoring (IRLS) for a given alpha; alpha by maximising the profile likelihood.
    """
    from scipy.optimize import minimize_scalar

    n = y.size
    x = np.arange(n) - (n - 1) / 2.0
    design = np.column_stack([np.ones(n), x]) if trend else np.ones((n, 1))

    def profile(log_alpha: float) -> float:
        alpha = math.exp(log_alpha)
        beta = _irls(y, design, alpha)
        return math.inf if beta is None else -_nb_loglik(y, np.exp(design @ beta), alpha)

    poisson = _irls(y, design, 0.0)
    if poisson is None:
        return None
    best = minimize_scalar(profile, bounds=(-18.0, 5.0), method="bounded", options={"xatol": 1e-4})
    alpha = math.exp(float(best.x))
    coef = _irls(y, design, alpha) if math.isfinite(best.fun) else None
    poisson_nll = -_nb_loglik(y, np.exp(design @ poisson), 0.0)
    if coef is None or best.fun >= poisson_nll - 1e-9 or alpha * float(y.mean()) < 1e-3:
        coef, alpha = poisson, 0.0  # no extra-Poisson variance
    mu = np.exp(design @ coef)
    weight = mu / (1.0 + alpha * mu)
    cov = np.linalg.inv(design.T @ (weight[:, None] * design))
    family = "negative binomial" if alpha > 0 else "Poisson"
    shape = "log-linear trend" if trend else "constant rate (the trend has no finite estimate)"
    return _Fit(f"{family}, {shape}", coef, cov, alpha)


def _select_model(y: np.ndarray) -> _Fit:
    fit = _fit_nb(y, trend=True) or _fit_nb(y, trend=False)
    assert fit is not None
    return fit


# -- reading a history -----------------------------------------------------------------------------------


def weekly_counts_from_csv(path: str | Path) -> list[tuple[date, int]]:
    """Read a forecast history: a CSV with the columns ``week_start`` (YYYY-MM-DD) and ``new_fit``.

    Raises
    ------
    ProgrammeError
        Naming the file, row and column of the first bad value.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = {"week_start", "new_fit"} - set(reader.fieldnames or [])
            if missing:
                raise ProgrammeError(
                    f"{path.name}: got columns {reader.fieldnames!r}; expected 'week_start' and 'new_fit'"
                )
            rows: list[tuple[date, int]] = []
            for line, row in enumerate(reader, start=2):
                try:
                    day = date.fromisoformat((row["week_start"] or "").strip())
                except ValueError:
                    raise ProgrammeError(
                        f"{path.name} row {line}, column 'week_start': got {row['week_start']!r}; "
                        "expected a date YYYY-MM-DD"
                    ) from None
                text = (row["new_fit"] or "").strip()
                if not text.isdigit():
                    raise ProgrammeError(
                        f"{path.name} row {line}, column 'new_fit': got {row['new_fit']!r}; expected an integer >= 0"
                    )
                rows.append((day, int(text)))
    except OSError as exc:
        raise ProgrammeError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return rows
