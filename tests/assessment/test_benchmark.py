"""The peer benchmark without Django: weighting of a snapshot, the peer table equal to ``digifit.stats``, and the
fallback chain (n < 30, CV > 30 %, not finite, absent columns)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from digifit import stats
from digifit.assessment import benchmark
from digifit.assessment.benchmark import GROUPS, peer_benchmark, peer_table, weighted_design
from digifit.demo.waves import MARGINS_DIR, margins

PROFILE = {"country": "DE", "sector": "retail", "size": "micro"}


def snapshot(cells: dict[tuple[str, str, str], tuple[int, float]], seed: int = 3) -> pa.Table:
    """Rows per (country, sector, size): (n, share of digital25 = 1); every presence column equal to it."""
    rng = np.random.default_rng(seed)
    cols: dict[str, list] = {"country": [], "sector": [], "size": [], "digital25": []}
    for (country, sector, size), (n, p) in cells.items():
        ones = round(n * p)
        values = [1] * ones + [0] * (n - ones)
        rng.shuffle(values)
        cols["country"] += [country] * n
        cols["sector"] += [sector] * n
        cols["size"] += [size] * n
        cols["digital25"] += values
    t = pa.table(cols)
    for m in benchmark.MEASURES[1:]:
        t = t.append_column(m.survey_column, t.column("digital25"))
    return t


def result(**profile):
    return {"profile": {**PROFILE, **profile}, "digital25": 1, "channels": {"website": 0}}


def test_peer_table_equals_the_stats_core():
    t = snapshot(
        {("DE", "retail", "micro"): (60, 0.4), ("DE", "ict", "micro"): (50, 0.6), ("FR", "retail", "small"): (40, 0.5)}
    )
    d = stats.design(t)
    table = peer_table(d)
    for group in GROUPS:
        want = stats.mean(d, "digital25", by=list(group) or None, na_rm=True, ci_method="logit")
        for e in want:
            key = "|".join(str(e.domain[c]) for c in group)
            assert table["groups"]["|".join(group)][key]["digital25"] == e.to_dict()


def test_the_narrowest_usable_group_is_used():
    t = snapshot({("DE", "retail", "micro"): (60, 0.4), ("DE", "retail", "small"): (60, 0.5)})
    rows = peer_benchmark(peer_table(stats.design(t)), result())
    row = rows[0]
    assert (row.measure, row.group, row.n, row.fallback, row.reasons) == ("digital25", GROUPS[0], 60, False, ())
    assert row.estimate == pytest.approx(0.4) and row.ci_low < 0.4 < row.ci_high
    assert row.own == 1 and rows[1].own == 0


def test_fallback_chain_small_cells():
    cells = {
        ("DE", "retail", "micro"): (10, 0.5),  # n < 30
        ("DE", "retail", "small"): (10, 0.5),  # country × sector: 20 < 30
        ("DE", "ict", "small"): (15, 0.5),  # country: 35
        ("FR", "ict", "small"): (40, 0.5),
    }
    table = peer_table(stats.design(snapshot(cells)))
    row = peer_benchmark(table, result())[0]
    assert row.group == ("country",) and row.n == 35 and row.fallback
    assert row.reasons == ("country × sector × size: n = 10 < 30", "country × sector: n = 20 < 30")
    # a country without enough respondents falls back to all
    row = peer_benchmark(table, result(country="UK"))[0]
    assert row.group == () and row.n == 75
    assert row.reasons[-1] == "country: no respondents"


def test_fallback_on_large_cv_and_on_a_share_of_zero():
    cells = {
        ("DE", "retail", "micro"): (40, 0.05),  # 2 of 40: CV well above 30 %
        ("DE", "retail", "small"): (200, 0.4),
    }
    table = peer_table(stats.design(snapshot(cells)))
    cell = table["groups"]["country|sector|size"]["DE|retail|micro"]["digital25"]
    assert cell["cv"] > 0.3
    row = peer_benchmark(table, result())[0]
    assert row.group == ("country", "sector") and row.reasons[0].startswith("country × sector × size: CV ")
    zero = peer_table(
        stats.design(snapshot({("DE", "retail", "micro"): (40, 0.0), ("DE", "retail", "small"): (40, 0.5)}))
    )
    row = peer_benchmark(zero, result())[0]
    assert row.group == ("country", "sector") and row.reasons == ("country × sector × size: CV not finite",)


def test_thresholds_are_parameters():
    table = peer_table(
        stats.design(snapshot({("DE", "retail", "micro"): (40, 0.5), ("DE", "ict", "micro"): (40, 0.5)}))
    )
    assert peer_benchmark(table, result())[0].group == GROUPS[0]
    assert peer_benchmark(table, result(), min_n=50)[0].group == ("country",)


def test_absent_survey_columns_are_said():
    t = snapshot({("DE", "retail", "micro"): (40, 0.5)}).drop_columns(["presence_before__messaging"])
    table = peer_table(stats.design(t))
    assert table["absent"] == ["messaging"]
    row = next(r for r in peer_benchmark(table, result()) if r.measure == "messaging")
    assert row.estimate is None and row.reasons == ("not in the survey snapshot",)


def test_weighting_notes():
    t = snapshot({("DE", "retail", "micro"): (40, 0.5), ("FR", "ict", "small"): (40, 0.5)})
    weighted = t.append_column("weight", pa.array([2.0] * t.num_rows))
    assert weighted_design(weighted, margins=MARGINS_DIR)[1] == "weights"
    d, note = weighted_design(t, margins=MARGINS_DIR)  # the sample lacks most levels: post-stratified on its cells
    assert note == "poststratified"
    population = stats.total(d, "digital25")[0].estimate / stats.mean(d, "digital25")[0].estimate
    assert population == pytest.approx(2_135_000 + 160_000, rel=1e-9)  # the margins' DE micro + FR small
    stored, _note = weighted_design(t, margins=margins())  # the margins as stored per wave: the same weights
    assert stats.total(stored, "digital25")[0].estimate == pytest.approx(stats.total(d, "digital25")[0].estimate)
    assert weighted_design(t.drop_columns(["size"]), margins=MARGINS_DIR)[1] == "unweighted"
    assert weighted_design(t)[1] == "unweighted"  # no margins given: never someone else's


def test_demo_waves_are_raked():
    from digifit.demo.waves import waves_table

    t = waves_table(n=3000, seed=1)
    d, note = weighted_design(t, margins=margins())
    assert note == "raked"
    table = peer_table(d)
    row = peer_benchmark(table, result())[0]
    assert row.group == GROUPS[0] and math.isfinite(row.estimate)
