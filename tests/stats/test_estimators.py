"""Estimators: textbook formulas, invariances, domains, missing values, inputs of every kind."""

from __future__ import annotations

import math

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digifit import stats
from digifit.stats import EstimationError


def _srs(seed: int, n: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({"y": rng.normal(50, 10, n), "N": np.full(n, 10 * n), "c": rng.integers(0, 3, n)})


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 40))
def test_srs_gives_textbook_formulas(seed, n):
    t = _srs(seed, n)
    y = t.column("y").to_numpy()
    s2 = y.var(ddof=1)
    # with replacement (no fpc), equal weights: se = s / sqrt(n)
    est = stats.mean(stats.design(t), "y")[0]
    assert est.estimate == pytest.approx(y.mean(), rel=1e-12)
    assert est.se == pytest.approx(math.sqrt(s2 / n), rel=1e-9)
    assert est.df == n - 1
    # with fpc N = 10 n: weights implied N / n, se = sqrt((1 - n/N) s² / n); total = N ȳ
    d = stats.design(t, fpc="N")
    est = stats.mean(d, "y")[0]
    assert est.se == pytest.approx(math.sqrt((1 - 0.1) * s2 / n), rel=1e-9)
    tot = stats.total(d, "y")[0]
    assert tot.estimate == pytest.approx(10 * n * y.mean(), rel=1e-12)
    assert tot.se == pytest.approx(10 * n * math.sqrt((1 - 0.1) * s2 / n), rel=1e-9)
    # design effect of an SRS without replacement is 1
    assert est.deff == pytest.approx(1.0, rel=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), sizes=st.lists(st.integers(2, 12), min_size=1, max_size=4))
def test_stratified_srs_formula(seed, sizes):
    rng = np.random.default_rng(seed)
    strata = np.repeat(np.arange(len(sizes)), sizes)
    pops = np.array([rng.integers(s, 5 * s + 1) for s in sizes])
    y = rng.gamma(2.0, 3.0, len(strata))
    t = pa.table({"h": strata, "N": pops[strata], "y": y})
    est = stats.mean(stats.design(t, strata="h", fpc="N"), "y")[0]
    N = pops.sum()
    mean = sum(pops[h] / N * y[strata == h].mean() for h in range(len(sizes)))
    var = sum(
        (pops[h] / N) ** 2 * (1 - sizes[h] / pops[h]) * y[strata == h].var(ddof=1) / sizes[h] for h in range(len(sizes))
    )
    assert est.estimate == pytest.approx(mean, rel=1e-12)
    assert est.se == pytest.approx(math.sqrt(var), rel=1e-9, abs=1e-12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_row_order_does_not_matter(strat_table, seed):
    perm = np.random.default_rng(seed).permutation(strat_table.num_rows)
    shuffled = strat_table.take(pa.array(perm))
    for table_a, table_b in [(strat_table, shuffled)]:
        a = stats.design(table_a, weights="w", strata="stratum", ids="psu")
        b = stats.design(table_b, weights="w", strata="stratum", ids="psu")
        for fn in (
            lambda d: stats.mean(d, "y", by="region"),
            lambda d: stats.proportion(d, "online"),
            lambda d: stats.ratio(d, "y", "x"),
            lambda d: stats.quantile(d, "y", [0.25, 0.5]),
        ):
            for ea, eb in zip(fn(a), fn(b), strict=True):
                assert ea.estimate == pytest.approx(eb.estimate, rel=1e-12)
                assert ea.se == pytest.approx(eb.se, rel=1e-9)


def test_domain_totals_add_up(strat_table):
    d = stats.design(strat_table, weights="w", strata="stratum", ids="psu")
    overall = stats.total(d, "y")[0].estimate
    by = stats.total(d, "y", by="region")
    assert [e.domain for e in by] == [{"region": "north"}, {"region": "south"}]
    assert sum(e.estimate for e in by) == pytest.approx(overall, rel=1e-12)
    # and by two variables
    by2 = stats.total(d, "y", by=["region", "online"])
    assert len(by2) == 4
    assert sum(e.estimate for e in by2) == pytest.approx(overall, rel=1e-12)


def test_proportions_sum_to_one_and_equal_means_of_indicators(strat_table):
    d = stats.design(strat_table, weights="w", strata="stratum", ids="psu")
    props = stats.proportion(d, "region", by="online")
    for dom in ({"online": 0}, {"online": 1}):
        rows = [e for e in props if e.domain == dom]
        assert [e.level for e in rows] == ["north", "south"]
        assert sum(e.estimate for e in rows) == pytest.approx(1.0)
        assert rows[0].se == pytest.approx(rows[1].se, rel=1e-9)
    indicator = strat_table.append_column(
        "north", pa.array([1.0 if r == "north" else 0.0 for r in strat_table.column("region").to_pylist()])
    )
    m = stats.mean(stats.design(indicator, weights="w", strata="stratum", ids="psu"), "north", by="online")
    north = [e for e in props if e.level == "north"]
    for a, b in zip(north, m, strict=True):
        assert a.estimate == pytest.approx(b.estimate, rel=1e-12)
        assert a.se == pytest.approx(b.se, rel=1e-9)
        assert a.deff == pytest.approx(b.deff, rel=1e-9)


def test_domain_se_is_not_the_subset_as_a_new_design(strat_table):
    """A domain keeps the full design: its SE differs from treating the subset as its own sample."""
    d = stats.design(strat_table, weights="w", strata="stratum", ids="psu")
    dom = stats.mean(d, "y", by="region")[0]
    north = strat_table.filter(pa.compute.equal(strat_table["region"], "north"))
    alone = stats.mean(stats.design(north, weights="w", strata="stratum", ids="psu", lonely_psu="adjust"), "y")[0]
    assert dom.estimate == pytest.approx(alone.estimate, rel=1e-12)
    # same ultimate-cluster totals, but the full design counts every PSU, including those without the domain
    assert dom.n == north.num_rows


def test_missing_values_are_an_error_unless_na_rm(strat_table):
    y = strat_table.column("y").to_pylist()
    y[3] = None
    y[8] = None
    t = strat_table.set_column(3, "y", pa.array(y))
    d = stats.design(t, weights="w", strata="stratum", ids="psu")
    with pytest.raises(EstimationError, match=r"column 'y' has 2 missing value\(s\); pass na_rm=True"):
        stats.mean(d, "y")
    est = stats.mean(d, "y", na_rm=True)[0]
    assert est.n == t.num_rows - 2
    keep = [i for i in range(t.num_rows) if i not in (3, 8)]
    w = t.column("w").to_numpy()[keep]
    yy = np.array(y, dtype=float)[keep]
    assert est.estimate == pytest.approx((w * yy).sum() / w.sum(), rel=1e-12)
    with pytest.raises(EstimationError, match="column 'y' has 2 missing"):
        stats.quantile(d, "y", 0.5)


def test_empty_domain_is_an_error(strat_table):
    y = [
        None if r == "north" else v
        for r, v in zip(strat_table.column("region").to_pylist(), strat_table.column("y").to_pylist())
    ]
    d = stats.design(strat_table.set_column(3, "y", pa.array(y)), weights="w", strata="stratum", ids="psu")
    with pytest.raises(
        EstimationError, match=r"mean of y in domain region='north': no rows with a value \(empty domain\)"
    ):
        stats.mean(d, "y", by="region", na_rm=True)


def test_bad_options(strat_table):
    d = stats.design(strat_table, weights="w")
    with pytest.raises(EstimationError, match="ci_method 'exact' is not known"):
        stats.mean(d, "y", ci_method="exact")
    with pytest.raises(EstimationError, match="level must be between 0 and 1"):
        stats.mean(d, "y", level=95)
    with pytest.raises(EstimationError, match="analysis column 'region' has type string; expected numbers"):
        stats.mean(d, "region")
    with pytest.raises(EstimationError, match=r"quantile probability must be between 0 and 1; got 50\.0"):
        stats.quantile(d, "y", 50)
    with pytest.raises(Exception, match="by column 'country' is not in the data"):
        stats.mean(d, "y", by="country")


def test_every_input_kind_gives_the_same_answer(strat_table, tmp_path):
    pq.write_table(strat_table, tmp_path / "wave.parquet")
    import pyarrow.csv as pacsv

    pacsv.write_csv(strat_table, tmp_path / "wave.csv")
    con = ibis.duckdb.connect()
    inputs = [
        strat_table,
        strat_table.to_pandas(),
        __import__("polars").from_arrow(strat_table),
        tmp_path / "wave.parquet",
        str(tmp_path / "wave.csv"),
        con.read_parquet(tmp_path / "wave.parquet"),
    ]
    results = [stats.mean(stats.design(x, weights="w", strata="stratum", ids="psu"), "y", by="region") for x in inputs]
    for r in results[1:]:
        for a, b in zip(results[0], r, strict=True):
            assert a.estimate == pytest.approx(b.estimate, rel=1e-12)
            assert a.se == pytest.approx(b.se, rel=1e-9)


def test_intervals(strat_table):
    d = stats.design(strat_table, weights="w", strata="stratum", ids="psu")
    wald = stats.mean(d, "y")[0]
    t = stats.mean(d, "y", ci_method="t")[0]
    assert wald.ci_low == pytest.approx(wald.estimate - 1.959963984540054 * wald.se)
    assert t.df == 9 and t.ci_high - t.ci_low > wald.ci_high - wald.ci_low
    for method in stats.PROPORTION_METHODS:
        e = next(x for x in stats.proportion(d, "online", ci_method=method) if x.level == 1)
        assert 0 <= e.ci_low < e.estimate < e.ci_high <= 1, method
    with pytest.raises(EstimationError, match="is for proportions"):
        stats.total(d, "y", ci_method="logit")


def test_estimates_export(strat_table):
    d = stats.design(strat_table, weights="w", strata="stratum", ids="psu")
    res = stats.proportion(d, "online", by="region")
    rows = res.to_dicts()
    assert set(rows[0]) >= {
        "statistic",
        "variable",
        "level",
        "domain",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "df",
        "n",
        "deff",
    }
    arrow = res.to_arrow()
    assert arrow.num_rows == 4 and "domain.region" in arrow.column_names
    assert "proportion" in repr(res)
