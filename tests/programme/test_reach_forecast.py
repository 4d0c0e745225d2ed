"""The reach forecast on synthetic histories whose generating process is known.

Each coverage test draws a full path (history + future) from a known process, forecasts from the first
weeks only, and checks how often the interval holds the date the *realised* path crosses the target.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from digifit.programme.reach import MIN_WEEKS, forecast, weekly_counts_from_csv
from digifit.programme.recurrence import ProgrammeError

MONDAY = date(2026, 1, 5)


def history(counts) -> list[tuple[date, int]]:
    return [(MONDAY + timedelta(weeks=k), int(v)) for k, v in enumerate(counts)]


def draw(rng: np.random.Generator, mu: np.ndarray, alpha: float) -> np.ndarray:
    """Negative-binomial (gamma–Poisson) counts with mean mu and variance mu + alpha mu²."""
    lam = rng.gamma(1.0 / alpha, alpha * mu) if alpha > 0 else mu
    return rng.poisson(lam)


def crossing(counts: np.ndarray, target: int) -> date:
    k = int(np.argmax(np.cumsum(counts) >= target))
    assert np.cumsum(counts)[k] >= target
    return MONDAY + timedelta(weeks=k, days=6)


def coverage(mu: np.ndarray, alpha: float, weeks: int, target: int, reps: int) -> float:
    rng = np.random.default_rng(7)
    inside = 0
    for rep in range(reps):
        path = draw(rng, mu, alpha)
        truth = crossing(path, target)
        f = forecast(history(path[:weeks]), target=target, deadline=date(2026, 12, 31), nsim=1000, seed=rep)
        assert f.low is not None
        inside += f.low <= truth <= (f.high or date.max)
    return inside / reps


def test_constant_rate_reach_date_within_the_interval():
    rng = np.random.default_rng(1)
    counts = rng.poisson(40, size=20)
    f = forecast(history(counts), target=2000, deadline=date(2026, 12, 31))
    # the generating process reaches 2000 after 50 weeks: the week of 14 December 2026, ending on the 20th
    assert MONDAY + timedelta(weeks=49, days=6) == date(2026, 12, 20)
    assert f.low <= date(2026, 12, 20) <= f.high
    assert f.low < f.expected < f.high
    assert abs(f.rate - 40) < 8 and abs(f.weekly_growth) < 0.02
    assert f.reached == counts.sum() and f.weeks == 20 and f.last_week == date(2026, 5, 18)
    assert 0.2 < f.p_by_deadline < 0.9  # 2026-12-20 is right before the deadline: uncertain either way


@pytest.mark.parametrize(("alpha", "label"), [(0.0, "Poisson"), (0.1, "overdispersed")])
def test_constant_rate_interval_coverage(alpha, label):
    rate = coverage(np.full(400, 40.0), alpha, weeks=20, target=2000, reps=120)
    assert 0.8 <= rate <= 0.98, label


def test_steep_growth_detected_and_covered():
    mu = 10.0 * np.exp(0.08 * np.arange(400))  # +8.3 % a week
    truth = crossing(mu, 10_000)  # the expected path
    rng = np.random.default_rng(3)
    counts = draw(rng, mu[:20], 0.05)
    f = forecast(history(counts), target=10_000)
    assert f.model.endswith("log-linear trend")
    assert 0.04 < f.weekly_growth < 0.14
    assert f.low <= truth <= f.high
    # a constant-rate extrapolation of the last 4 weeks would need far longer
    constant_weeks = (10_000 - counts.sum()) / counts[-4:].mean()
    assert f.expected < f.last_week + timedelta(weeks=constant_weeks)
    assert 0.8 <= coverage(mu, 0.05, weeks=20, target=10_000, reps=120) <= 0.98


def test_zero_rate_is_not_reached_by_the_deadline():
    f = forecast(history([0] * 10), target=10_000, deadline=date(2026, 12, 31))
    assert f.expected is None and f.high is None
    assert f.p_by_deadline == 0.0 and not f.on_track
    assert f.model.startswith("no fit business yet")
    assert "not reached by deadline 2026-12-31" in f.summary()


def test_growth_too_slow_for_the_deadline_says_so():
    f = forecast(history([5] * 12), target=10_000, deadline=date(2026, 12, 31))
    assert not f.on_track and f.p_by_deadline < 0.01
    assert "not reached by deadline" in f.summary()


def test_short_history_is_refused():
    assert MIN_WEEKS == 4
    with pytest.raises(ProgrammeError, match=r"got 3 week\(s\) \(2026-01-05 to 2026-01-19\); expected at least 4"):
        forecast(history([10, 12, 15]))
    f = forecast(history([10, 12, 15, 14]), target=500, deadline=date(2026, 12, 31))  # four weeks: wide
    assert f.high is None or (f.high - f.low).days > 28


def test_all_counts_in_the_last_week_falls_back_to_a_constant_rate():
    f = forecast(history([0, 0, 0, 0, 7]), target=100, deadline=date(2026, 12, 31))
    assert "constant rate" in f.model and f.expected is not None


def test_target_already_reached():
    f = forecast(history([400, 500, 600, 700]), target=1000, deadline=date(2026, 12, 31))
    assert f.expected == f.low == f.high == date(2026, 1, 25)  # crossed in the third week
    assert f.p_by_deadline == 1.0 and f.on_track and "reached" in f.summary()


def test_same_history_same_forecast():
    counts = np.random.default_rng(5).poisson(30, size=15)
    assert forecast(history(counts), target=3000) == forecast(history(counts), target=3000)
    d = forecast(history(counts), target=3000).to_dict()
    assert d["deadline"] == "2026-12-31" and isinstance(d["summary"], str) and "on_track" in d


@pytest.mark.parametrize(
    ("rows", "kw", "match"),
    [
        (history([1, 2, 3, 4])[:2] + history([1, 2, 3, 4])[3:] + [(date(2026, 2, 2), 1)], {}, "follows"),
        ([*history([1, 2, 3]), (date(2026, 1, 19), 5)], {}, "follows 2026-01-19"),
        (history([1, 2, -3, 4]), {}, r"row 3 \(2026-01-19\), count: got -3"),
        (history([1, 2, 3, 4]), {"target": 0}, "target"),
        (history([1, 2, 3, 4]), {"level": 1.0}, "level"),
        (history([1, 2, 3, 4]), {"deadline": date(2025, 12, 31)}, "before the last week"),
    ],
)
def test_history_errors(rows, kw, match):
    with pytest.raises(ProgrammeError, match=match):
        forecast(rows, **kw)


def test_weekly_counts_from_csv(tmp_path):
    good = tmp_path / "history.csv"
    good.write_text("week_start,new_fit\n2026-01-05,3\n2026-01-12,0\n")
    assert weekly_counts_from_csv(good) == [(date(2026, 1, 5), 3), (date(2026, 1, 12), 0)]
    bad = tmp_path / "bad.csv"
    bad.write_text("week_start,new_fit\n2026-01-05,3\n2026-01-12,drei\n")
    with pytest.raises(ProgrammeError, match=r"bad\.csv row 3, column 'new_fit': got 'drei'"):
        weekly_counts_from_csv(bad)
    cols = tmp_path / "cols.csv"
    cols.write_text("week,fit\n2026-01-05,3\n")
    with pytest.raises(ProgrammeError, match="expected 'week_start' and 'new_fit'"):
        weekly_counts_from_csv(cols)
    with pytest.raises(ProgrammeError, match="cannot read"):
        weekly_counts_from_csv(tmp_path / "missing.csv")
