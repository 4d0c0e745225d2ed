"""Calibration and replicate designs: the guarantees that do not need R (R agreement is in tests/peers)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

from digifit import stats
from digifit.cli import main
from digifit.stats import CalibrationError, DesignError
from digifit.stats.replicates import MAX_ROW_REPLICATES, factor_rank


@pytest.fixture
def sample() -> pa.Table:
    rng = np.random.default_rng(11)
    n = 600
    stratum = np.repeat(np.arange(6), 100)
    psu = stratum * 10 + rng.integers(0, 10, n)
    country = np.array(["DE", "FR", "UK"])[stratum // 2]
    size = np.array(["micro", "small", "medium"])[rng.integers(0, 3, n)]
    online = (rng.uniform(size=n) < np.where(size == "micro", 0.3, 0.6)).astype(np.int64)
    return pa.table(
        {
            "stratum": stratum,
            "psu": psu,
            "country": country,
            "size": size,
            "online": online,
            "w": rng.lognormal(3, 0.3, n),
            "revenue": rng.gamma(2, 50, n),
        }
    )


MARGINS = {"country": {"DE": 3000, "FR": 2500, "UK": 2000}, "size": {"micro": 6000, "small": 1200, "medium": 300}}


def test_raked_weights_hit_every_margin(sample):
    d = stats.rake(stats.design(sample, weights="w", strata="stratum", ids="psu"), MARGINS, max_iter=100, epsilon=1e-9)
    for col, pop in MARGINS.items():
        for e in stats.proportion(d, col):
            assert e.estimate == pytest.approx(pop[e.level] / 7500, rel=1e-8)
    assert stats.total(d, "online")[0].estimate < 7500


def test_margins_that_disagree(sample):
    bad = {"country": MARGINS["country"], "size": {"micro": 6000, "small": 1200, "medium": 301}}
    with pytest.raises(CalibrationError, match=r"margins disagree on the population size \(country sums to 7,500"):
        stats.rake(stats.design(sample, weights="w"), bad)


def test_levels_missing_on_either_side(sample):
    d = stats.design(sample, weights="w")
    with pytest.raises(
        CalibrationError, match=r"level\(s\) 'UK' of country are in the sample but not in the population"
    ):
        stats.poststratify(d, "country", {"DE": 3000, "FR": 2500})
    with pytest.raises(CalibrationError, match=r"level\(s\) 'PL' of country have population counts but no sample rows"):
        stats.poststratify(d, "country", {**MARGINS["country"], "PL": 100})


def test_non_convergence_names_the_margin(sample):
    d = stats.design(sample, weights="w")
    with pytest.raises(CalibrationError, match=r"rake did not converge in 1 iterations: margin \w+ is still off by"):
        stats.rake(d, MARGINS, max_iter=1, epsilon=1e-9)


def test_default_raking_meets_every_margin_to_1e_10(sample):
    """By default rake iterates until each level's raked total is its count (R's default stops earlier)."""
    d = stats.design(sample, weights="w", strata="stratum", ids="psu")
    tight = stats.rake(d, MARGINS)
    loose = stats.rake(d, MARGINS, epsilon=1, max_iter=10)  # R's rake() without control
    gaps = {"tight": 0.0, "loose": 0.0}
    for name, raked in (("tight", tight), ("loose", loose)):
        for col, pop in MARGINS.items():
            for e in stats.proportion(raked, col):
                got = e.estimate * 7500
                gaps[name] = max(gaps[name], abs(got - pop[e.level]) / pop[e.level])
    assert gaps["tight"] < 1e-10 * 10  # the proportion's division adds a few ulps
    assert gaps["loose"] > 1e-9  # R's rule stopped before the margins met
    assert tight.calibration.iterations > loose.calibration.iterations


def test_rake_rules_and_their_errors(sample):
    d = stats.design(sample, weights="w")
    with pytest.raises(
        CalibrationError,
        match=r"did not converge in 2 iterations: margin country is still off by -?[\d.,e+-]+ at level '\w+' "
        r"\(raked [\d.,]+, population [\d,]+: [\d.e+-]+ relative; tolerance 1e-10 relative\)",
    ):
        stats.rake(d, MARGINS, max_iter=2)
    with pytest.raises(CalibrationError, match=r"give either epsilon .* or tolerance"):
        stats.rake(d, MARGINS, epsilon=1, tolerance=1e-8)
    with pytest.raises(CalibrationError, match="tolerance must be a positive number; got 0"):
        stats.rake(d, MARGINS, tolerance=0)
    with pytest.raises(CalibrationError, match=r"max_iter must be an integer of at least 1; got 2\.5"):
        stats.rake(d, MARGINS, max_iter=2.5)
    loose = stats.rake(d, MARGINS, tolerance=1e-3)
    assert loose.calibration.iterations < stats.rake(d, MARGINS).calibration.iterations


def test_bad_counts_and_files(sample, tmp_path):
    d = stats.design(sample, weights="w")
    with pytest.raises(
        CalibrationError, match=r"poststratify on country: the count of 'DE' is -5; expected a number >= 0"
    ):
        stats.poststratify(d, "country", {"DE": -5, "FR": 1, "UK": 1})
    csv = tmp_path / "margin.csv"
    csv.write_text("country,N\nDE,1\n")
    with pytest.raises(CalibrationError, match=r"lacks column\(s\) 'Freq'"):
        stats.poststratify(d, "country", csv)
    with pytest.raises(CalibrationError, match="does not exist"):
        stats.poststratify(d, "country", tmp_path / "nope.csv")


def test_calibration_errors(sample):
    d = stats.design(sample, weights="w")
    with pytest.raises(CalibrationError, match="calfun 'exp' is not known"):
        stats.calibrate(d, ["country"], {"country": MARGINS["country"]}, calfun="exp")
    with pytest.raises(CalibrationError, match="calfun 'logit' needs finite bounds"):
        stats.calibrate(d, ["country"], {"country": MARGINS["country"]}, calfun="logit")
    with pytest.raises(CalibrationError, match="no population total for term 'size'"):
        stats.calibrate(d, ["country", "size"], {"country": MARGINS["country"]})
    with pytest.raises(CalibrationError, match=r"counts of 'size' sum to 7,501 but the population size is 7,500"):
        stats.calibrate(
            d,
            ["country", "size"],
            {"country": MARGINS["country"], "size": {"micro": 6001, "small": 1200, "medium": 300}},
        )
    with pytest.raises(CalibrationError, match="did not converge"):
        stats.calibrate(d, ["country"], {"country": MARGINS["country"]}, calfun="logit", bounds=(0.99, 1.01))
    ps = stats.poststratify(d, "country", MARGINS["country"])
    with pytest.raises(CalibrationError, match="already calibrated"):
        stats.rake(ps, MARGINS)
    with pytest.raises(CalibrationError, match="trim the design weights before calibrating"):
        stats.trim_weights(ps, upper=10)


def test_linear_calibration_reproduces_totals(sample):
    totals = {"country": MARGINS["country"], "revenue": 800_000.0}
    for calfun, bounds in (("linear", (-np.inf, np.inf)), ("raking", (-np.inf, np.inf)), ("logit", (0.2, 5.0))):
        d = stats.calibrate(
            stats.design(sample, weights="w"), ["country", "revenue"], totals, calfun=calfun, bounds=bounds
        )
        assert stats.total(d, "revenue")[0].estimate == pytest.approx(800_000.0, rel=1e-6)
        shares = {e.level: e.estimate for e in stats.proportion(d, "country")}
        assert shares["DE"] == pytest.approx(0.4, rel=1e-6)


def test_trimming_keeps_the_total_weight(sample):
    d = stats.design(sample, weights="w")
    upper = float(np.quantile(sample.column("w").to_numpy(), 0.9))
    trimmed = stats.trim_weights(d, upper=upper, strict=True)
    assert stats.total(trimmed, "online")[0].n == sample.num_rows
    w_before = stats.total(d, "w")[0]  # Σ w·w: only to touch the column
    assert w_before.estimate > 0
    tw = stats.weighted_table(trimmed, name="tw") if hasattr(stats, "weighted_table") else None
    from digifit.stats.export import weighted_table

    tw = trimmed.execute(weighted_table(trimmed, name="tw").select("tw")).column("tw").to_numpy()
    assert tw.max() <= upper + 1e-9
    assert tw.sum() == pytest.approx(sample.column("w").to_numpy().sum(), rel=1e-12)


def test_bootstrap_se_near_taylor_and_reproducible(sample):
    d = stats.design(sample, weights="w", strata="stratum", ids="psu")
    taylor = stats.mean(d, "revenue")[0]
    boot = stats.mean(stats.as_replicate(d, "bootstrap", replicates=1000, seed=7), "revenue")[0]
    assert boot.estimate == pytest.approx(taylor.estimate, rel=1e-12)
    assert boot.se == pytest.approx(taylor.se, rel=0.10)
    again = stats.mean(stats.as_replicate(d, "bootstrap", replicates=1000, seed=7), "revenue")[0]
    assert again.se == boot.se


def test_replicate_factors_stay_with_their_psus_under_any_row_order(sample):
    """Factors belong to PSUs (sorted by stratum and id), not to row positions: shuffling rows changes nothing."""
    perm = np.random.default_rng(3).permutation(sample.num_rows)
    results = []
    for table in (sample, sample.take(pa.array(perm))):
        d = stats.as_replicate(
            stats.design(table, weights="w", strata="stratum", ids="psu"), "bootstrap", replicates=200, seed=5
        )
        results.append(stats.proportion(d, "online", by="country"))
    for a, b in zip(*results, strict=True):
        assert a.se == pytest.approx(b.se, rel=1e-12)
        assert a.se > 0


def _with_row_id(table: pa.Table) -> pa.Table:
    return table.append_column("row_id", pa.array(np.arange(table.num_rows)))


@pytest.mark.parametrize(("kind", "strata"), [("jk1", None), ("jkn", "stratum")])
def test_jackknife_without_clusters_equals_a_row_id_as_ids(sample, kind, strata):
    """R's ids=~0 under as.svrepdesign: each row its own PSU, exactly as a row-id column given as ids."""
    table = _with_row_id(sample)
    plain = stats.as_replicate(stats.design(table, weights="w", strata=strata), kind)
    by_id = stats.as_replicate(stats.design(table, weights="w", strata=strata, ids="row_id"), kind)
    assert plain.replicate.n_replicates == table.num_rows
    for call in (
        lambda d: stats.mean(d, "revenue"),
        lambda d: stats.total(d, "revenue", by="country"),
        lambda d: stats.proportion(d, "size", by="country"),
        lambda d: stats.ratio(d, "revenue", "w"),
    ):
        for a, b in zip(call(plain), call(by_id), strict=True):
            # the same sums in another order (DuckDB's parallel aggregation): equal to the last bits
            assert (a.df, a.level, a.domain) == (b.df, b.level, b.domain)
            assert a.estimate == pytest.approx(b.estimate, rel=1e-13)
            assert a.se == pytest.approx(b.se, rel=1e-12) and a.se > 0
    taylor = stats.mean(stats.design(table, weights="w", strata=strata), "revenue")[0]
    assert stats.mean(plain, "revenue")[0].se == pytest.approx(taylor.se, rel=0.05)


def test_jackknife_without_clusters_on_a_calibrated_design(sample):
    table = _with_row_id(sample)
    plain = stats.as_replicate(stats.rake(stats.design(table, weights="w", strata="stratum"), MARGINS), "jkn")
    by_id = stats.as_replicate(
        stats.rake(stats.design(table, weights="w", strata="stratum", ids="row_id"), MARGINS), "jkn"
    )
    a, b = stats.mean(plain, "revenue")[0], stats.mean(by_id, "revenue")[0]
    assert a.estimate == pytest.approx(b.estimate, rel=1e-13) and a.se == pytest.approx(b.se, rel=1e-12)


@pytest.mark.parametrize("kind", ["bootstrap", "canty-davison"])
def test_bootstrap_without_clusters_equals_a_row_id_as_ids(sample, kind):
    """Rao–Wu (and Canty–Davison) resampling of rows within strata: the same draws as a row-id column as ids."""
    table = _with_row_id(sample)
    plain = stats.as_replicate(stats.design(table, weights="w", strata="stratum"), kind, seed=7, replicates=20)
    by_id = stats.as_replicate(
        stats.design(table, weights="w", strata="stratum", ids="row_id"), kind, seed=7, replicates=20
    )
    assert plain.replicate.factors.shape == (20, table.num_rows)
    assert np.array_equal(plain.replicate.factors, by_id.replicate.factors)
    # Rao–Wu: n_h - 1 draws per stratum of n_h rows, rescaled by n_h/(n_h - 1); Canty–Davison: n_h draws
    per_stratum = plain.replicate.factors.reshape(20, 6, 100).sum(axis=2)
    assert np.allclose(per_stratum, 100.0)
    # the rank of a wide factor matrix (through its Gram matrix) is the SVD's
    assert factor_rank(plain.replicate.factors) == np.linalg.matrix_rank(plain.replicate.factors) == 20
    for call in (lambda d: stats.mean(d, "revenue"), lambda d: stats.proportion(d, "size", by="country")):
        for a, b in zip(call(plain), call(by_id), strict=True):
            assert (a.df, a.level, a.domain) == (b.df, b.level, b.domain)
            assert a.se == pytest.approx(b.se, rel=1e-12) and a.se > 0


def test_bootstrap_without_clusters_agrees_with_taylor_on_many_replicates(sample):
    """The Rao–Wu variance of a total is unbiased for the with-replacement Taylor variance, stratum by stratum;
    with 2,000 replicates its relative error is about sqrt(2/2000) = 3%."""
    d = stats.design(sample, weights="w", strata="stratum")
    boot = stats.as_replicate(d, "bootstrap", seed=20261203, replicates=2000)
    for call in (lambda x: stats.total(x, "revenue"), lambda x: stats.mean(x, "revenue")):
        (b,), (t,) = call(boot), call(d)
        assert b.estimate == pytest.approx(t.estimate, rel=1e-12)
        assert b.se**2 == pytest.approx(t.se**2, rel=0.12)
    # R's degf: rank of the factors minus 1; each stratum's factors sum to n_h, so the rank is n - H + 1
    assert stats.mean(boot, "revenue")[0].df == 600 - 6


def test_bootstrap_without_clusters_refuses_what_r_cannot_resample(sample):
    one = sample.filter(pa.compute.equal(sample["stratum"], 0)).slice(0, 1)
    lonely = pa.concat_tables([one, sample.filter(pa.compute.equal(sample["stratum"], 1))])
    with pytest.raises(DesignError, match="type 'subbootstrap' needs at least 2 PSUs per stratum"):
        stats.as_replicate(stats.design(lonely, weights="w", strata="stratum", lonely_psu="adjust"), "bootstrap")


def test_replicates_without_clusters_other_types_and_limit(sample):
    with pytest.raises(DesignError, match="replicate type 'brr' needs cluster ids"):
        stats.as_replicate(stats.design(sample, weights="w", strata="stratum"), "brr")
    with pytest.raises(DesignError, match="type 'jk1' is for unstratified designs but the PSUs are in 6 strata"):
        stats.as_replicate(stats.design(sample, weights="w", strata="stratum", ids="psu"), "jk1")
    with pytest.raises(DesignError, match="type 'jk1' is for unstratified designs"):
        stats.as_replicate(stats.design(sample, weights="w", strata="stratum"), "jk1")
    n = MAX_ROW_REPLICATES + 1
    big = pa.table({"y": np.arange(n, dtype=float)})
    with pytest.raises(DesignError, match=r"the data have 5,001 rows, more than the limit of 5,000 replicates"):
        stats.as_replicate(stats.design(big), "jk1")


def test_cli_jackknife_without_clusters_and_its_limit(sample, tmp_path):
    import pyarrow.parquet as pq

    data = tmp_path / "wave.parquet"
    pq.write_table(_with_row_id(sample), data)
    got = {}
    for extra in ([], ["--ids", "row_id"]):
        result = CliRunner().invoke(
            main,
            [
                "estimate",
                str(data),
                "--weights",
                "w",
                "--strata",
                "stratum",
                "--variance",
                "jkn",
                *extra,
                "--json",
                "--mean",
                "revenue",
            ],
        )
        assert result.exit_code == 0, result.output
        (got[bool(extra)],) = json.loads(result.output)["estimates"]
    assert got[False]["se"] == pytest.approx(got[True]["se"], rel=1e-12) and got[False]["se"] > 0
    big = tmp_path / "big.parquet"
    pq.write_table(pa.table({"y": np.arange(MAX_ROW_REPLICATES + 1, dtype=float)}), big)
    result = CliRunner().invoke(main, ["estimate", str(big), "--variance", "jk1", "--mean", "y"])
    assert result.exit_code == 2
    assert "one replicate per row" in result.output and "Give cluster ids" in result.output


def test_cli_weight_and_errors(sample, tmp_path):
    import pyarrow.parquet as pq

    data = tmp_path / "wave.parquet"
    pq.write_table(sample, data)
    for col, pop in MARGINS.items():
        (tmp_path / f"{col}.csv").write_text(f"{col},Freq\n" + "".join(f"{k},{v}\n" for k, v in pop.items()))
    out = tmp_path / "weighted.parquet"
    result = CliRunner().invoke(
        main,
        [
            "weight",
            str(data),
            "--weights",
            "w",
            "--strata",
            "stratum",
            "--ids",
            "psu",
            "--rake",
            f"country={tmp_path / 'country.csv'}",
            "--rake",
            f"size={tmp_path / 'size.csv'}",
            "--max-iter",
            "100",
            "--epsilon",
            "1e-9",
            "--variance",
            "jkn",
            "--out",
            str(out),
            "--replicate-weights",
        ],
    )
    assert result.exit_code == 0, result.output
    written = pq.read_table(out)
    reps = [c for c in written.column_names if c.startswith("repw_")]
    assert len(reps) == 60 and "weight" in written.column_names
    assert written.column("weight").to_numpy().sum() == pytest.approx(7500, rel=1e-9)
    # the written replicate weights give the design's own replicate SE (JK1 scale, no fpc here)
    est = CliRunner().invoke(
        main,
        [
            "estimate",
            str(out),
            "--weights",
            "weight",
            "--repweights",
            "^repw_",
            "--rep-type",
            "JK1",
            "--mean",
            "revenue",
            "--json",
        ],
    )
    raked = stats.as_replicate(
        stats.rake(stats.design(sample, weights="w", strata="stratum", ids="psu"), MARGINS, max_iter=100, epsilon=1e-9),
        "jkn",
    )
    assert est.exit_code == 0, est.output
    assert json.loads(est.output)["estimates"][0]["estimate"] == pytest.approx(
        stats.mean(raked, "revenue")[0].estimate, rel=1e-9
    )
    for args, message in [
        (["--rake", "country"], "--rake 'country' is malformed; expected COL[,COL]=FILE.csv"),
        (["--calibrate", "country"], "--calibrate needs --totals FILE.json"),
        (
            ["--poststratify", f"country={tmp_path / 'country.csv'}", "--rake", f"size={tmp_path / 'size.csv'}"],
            "--poststratify and --rake cannot be combined",
        ),
        (["--seed", "3"], "--replicates and --seed need --variance"),
        (["--rake-maxit", "10"], "--rake-maxit needs --rake COL=FILE.csv"),
        (
            ["--rake", f"size={tmp_path / 'size.csv'}", "--epsilon", "1", "--rake-epsilon", "2"],
            "--epsilon 1.0 and --rake-epsilon 2.0 disagree",
        ),
        (
            [
                *("--rake", f"size={tmp_path / 'size.csv'}", "--rake", f"country={tmp_path / 'country.csv'}"),
                "--rake-maxit",
                "1",
            ],
            "rake did not converge in 1 iterations: margin size is still off by",
        ),
        (["--rep-type", "JK1"], "--rep-type, --scale and --rscales describe --repweights"),
    ]:
        r = CliRunner().invoke(main, ["estimate", str(data), "--weights", "w", "--mean", "revenue", *args])
        assert r.exit_code == 2 and message in r.output, (args, r.output)
