"""Replicate factors (``digifit.stats.replicates``): properties, identities with the Taylor variance, errors.

The exact comparison with R's ``as.svrepdesign`` is in ``tests/peers/test_replicates_against_r.py``; these tests
need no R.
"""

from __future__ import annotations

import numpy as np
import pytest

from digifit.errors import DesignError, DigifitError, EstimationError, LonelyPSUError
from digifit.stats import replicates as rep_module
from digifit.stats.replicates import (
    REPLICATE_TYPES,
    SUPPLIED_TYPES,
    ReplicateFactors,
    ReplicateSpec,
    hadamard,
    replicate_factors,
    supplied_replicates,
)

# 4 strata with 2, 3, 5 and 4 PSUs; the columns are deliberately not grouped by stratum
STRATA = np.array([2, 0, 1, 3, 1, 2, 0, 2, 2, 1, 3, 3, 3, 2])
PAIRS = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])


def psu_totals(strata: np.ndarray, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.lognormal(5, 1, strata.size)


def taylor_wr(strata: np.ndarray, totals: np.ndarray, popsize: np.ndarray | None = None) -> float:
    """With-replacement Taylor variance of the total of the PSU totals (R's onestrat), optional fpc."""
    v = 0.0
    for h in np.unique(strata):
        s = totals[strata == h]
        n = s.size
        f = 1.0 if popsize is None else (popsize[strata == h][0] - n) / popsize[strata == h][0]
        v += f * n / (n - 1) * np.sum((s - s.mean()) ** 2)
    return v


def var_total(rf: ReplicateFactors, totals: np.ndarray) -> float:
    return float(rf.variance(rf.factors @ totals, totals.sum()))


# ----------------------------------------------------------------------------------------------------------
# Jackknives


def test_jk1_factors_scale():
    rf = replicate_factors(ReplicateSpec("jk1"), np.zeros(4, dtype=int))
    assert rf.type == "jk1"
    assert rf.factors.shape == (4, 4)
    np.testing.assert_allclose(np.diag(rf.factors), 0)
    np.testing.assert_allclose(rf.factors[~np.eye(4, dtype=bool)], 4 / 3)
    assert rf.scale == pytest.approx(3 / 4)
    np.testing.assert_array_equal(rf.rscales, 1)


@pytest.mark.parametrize("mse", [False, True])
def test_jk1_total_equals_taylor(mse):
    strata = np.zeros(9, dtype=int)
    s = psu_totals(strata)
    rf = replicate_factors(ReplicateSpec("jk1", mse=mse), strata)
    # for a total the replicates' mean is the full-sample total, so mse gives the same value
    assert var_total(rf, s) == pytest.approx(taylor_wr(strata, s), rel=1e-12)


def test_jk1_fpc_scales_by_correction():
    strata = np.zeros(5, dtype=int)
    s = psu_totals(strata)
    pop = np.full(5, 20.0)
    rf = replicate_factors(ReplicateSpec("jk1"), strata, psu_popsize=pop)
    assert rf.scale == pytest.approx((20 - 5) / 20 * 4 / 5)
    assert var_total(rf, s) == pytest.approx(taylor_wr(strata, s, pop), rel=1e-12)


def test_jk1_census_has_no_replicates_and_zero_variance():
    strata = np.zeros(3, dtype=int)
    rf = replicate_factors(ReplicateSpec("jk1"), strata, psu_popsize=np.full(3, 3.0))
    assert rf.factors.shape == (0, 3)
    assert rf.scale == 0
    assert float(rf.variance(np.zeros(0), 1.0)) == 0.0


def test_jkn_factors_rscales():
    rf = replicate_factors(ReplicateSpec("JKn"), STRATA)
    assert rf.type == "jkn"
    assert rf.factors.shape == (STRATA.size, STRATA.size)
    assert rf.scale == 1.0
    r = 0
    for h in range(4):
        members = np.nonzero(h == STRATA)[0]
        n = members.size
        for j in members:  # replicates in stratum order, PSUs in column order
            row = rf.factors[r]
            assert row[j] == 0
            np.testing.assert_allclose(row[np.setdiff1d(members, [j])], n / (n - 1))
            np.testing.assert_allclose(row[h != STRATA], 1.0)
            assert rf.rscales[r] == pytest.approx((n - 1) / n)
            r += 1


@pytest.mark.parametrize("fpc", [False, True])
def test_jkn_total_equals_taylor(fpc):
    s = psu_totals(STRATA)
    pop = np.array([10.0, 7.0, 30.0, 4.0])[STRATA] if fpc else None
    rf = replicate_factors(ReplicateSpec("jkn"), STRATA, psu_popsize=pop)
    assert var_total(rf, s) == pytest.approx(taylor_wr(STRATA, s, pop), rel=1e-12)


def test_jkn_census_stratum_gets_no_replicates():
    pop = np.array([2.0, 3.0, np.inf, 4.0])[STRATA]  # strata 0, 1 and 3 are census strata
    rf = replicate_factors(ReplicateSpec("jkn"), STRATA, psu_popsize=pop)
    assert rf.n_replicates == 5  # only stratum 2
    s = psu_totals(STRATA)
    assert var_total(rf, s) == pytest.approx(taylor_wr(STRATA[STRATA == 2], s[STRATA == 2]), rel=1e-12)


def test_jkn_all_census_is_an_error():
    with pytest.raises(DesignError, match="sampled exhaustively"):
        replicate_factors(ReplicateSpec("jkn"), PAIRS, psu_popsize=np.full(PAIRS.size, 2.0))


LONELY = np.array([0, 0, 0, 1, 2, 2])


def test_jkn_lonely_fail_names_the_stratum():
    with pytest.raises(LonelyPSUError, match="stratum 'north' has only one PSU"):
        replicate_factors(ReplicateSpec("jkn"), LONELY, stratum_labels=["east", "north", "west"])
    with pytest.raises(LonelyPSUError, match="stratum code 1 has only one PSU"):
        replicate_factors(ReplicateSpec("jkn"), LONELY)


@pytest.mark.parametrize("policy", ["remove", "certainty"])
def test_jkn_lonely_remove_certainty_skip_the_stratum(policy):
    rf = replicate_factors(ReplicateSpec("jkn"), LONELY, lonely_psu=policy)
    assert rf.n_replicates == 5
    np.testing.assert_allclose(rf.factors[:, 3], 1.0)
    assert rf.scale == 1.0


def test_jkn_lonely_average_rescales():
    rf = replicate_factors(ReplicateSpec("jkn"), LONELY, lonely_psu="average")
    assert rf.n_replicates == 5
    assert rf.scale == pytest.approx(6 / 5)


def test_jkn_lonely_adjust_adds_a_replicate():
    rf = replicate_factors(ReplicateSpec("jkn"), LONELY, lonely_psu="adjust")
    assert rf.n_replicates == 6
    row = rf.factors[3]  # strata in order: 3 replicates of stratum 0, then the lonely one
    assert row[3] == 0
    np.testing.assert_allclose(row[LONELY != 1], 3 / 2)
    assert rf.rscales[3] == pytest.approx(2 / 3)


# ----------------------------------------------------------------------------------------------------------
# BRR and Fay


def test_brr_half_samples():
    rf = replicate_factors(ReplicateSpec("brr"), PAIRS)
    assert rf.type == "brr"
    assert rf.n_replicates == 8  # hadamard(5) has order 8
    assert rf.scale == pytest.approx(1 / 8)
    for h in range(5):
        pair = rf.factors[:, h == PAIRS]
        assert set(np.unique(pair)) == {0.0, 2.0}
        np.testing.assert_allclose(pair.sum(axis=1), 2.0)
    # full orthogonal balance: each PSU is in exactly half of the replicates
    np.testing.assert_allclose(rf.factors.mean(axis=0), 1.0)


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.5])
def test_brr_and_fay_total_equal_taylor(rho):
    s = psu_totals(PAIRS)
    rf = replicate_factors(ReplicateSpec("fay" if rho else "brr", fay_rho=rho), PAIRS)
    assert var_total(rf, s) == pytest.approx(taylor_wr(PAIRS, s), rel=1e-12)


def test_fay_factors_and_type_follow_rho():
    rf = replicate_factors(ReplicateSpec("brr", fay_rho=0.3), PAIRS)
    assert rf.type == "fay"
    assert rf.fay_rho == 0.3
    np.testing.assert_allclose(np.unique(rf.factors), [0.3, 1.7])
    assert rf.scale == pytest.approx(1 / (8 * 0.7**2))
    assert replicate_factors(ReplicateSpec("Fay"), PAIRS).type == "brr"  # rho 0: R calls it BRR


def test_brr_splits_even_strata_into_pairs_as_r():
    strata = np.array([0, 0, 0, 0, 1, 1])
    rf = replicate_factors(ReplicateSpec("brr"), strata)
    assert rf.n_replicates == 4  # 3 half-sample strata
    s = psu_totals(strata)
    pairs = np.array([0, 0, 1, 1, 2, 2])
    assert var_total(rf, s) == pytest.approx(taylor_wr(pairs, s), rel=1e-12)


def test_brr_errors_name_the_stratum():
    with pytest.raises(DesignError, match="stratum 'b' has 1"):
        replicate_factors(ReplicateSpec("brr"), np.array([0, 0, 1]), stratum_labels=["a", "b"])
    with pytest.raises(DesignError, match="stratum code 1 has 3"):
        replicate_factors(ReplicateSpec("brr"), np.array([0, 0, 1, 1, 1]))


def test_brr_replicates_must_be_rs_order():
    assert replicate_factors(ReplicateSpec("brr", replicates=8), PAIRS).n_replicates == 8
    with pytest.raises(DesignError, match=r"replicates=16 .* order 8"):
        replicate_factors(ReplicateSpec("brr", replicates=16), PAIRS)


def test_brr_drops_fpc_with_a_warning():
    with pytest.warns(UserWarning, match="Finite population correction dropped"):
        replicate_factors(ReplicateSpec("brr"), PAIRS, psu_popsize=np.full(PAIRS.size, 10.0))


# ----------------------------------------------------------------------------------------------------------
# Bootstraps


def test_bootstrap_counts_sum_to_n_h_and_scale():
    rf = replicate_factors(ReplicateSpec("bootstrap", seed=1), STRATA)
    assert rf.n_replicates == 50
    assert np.array_equal(rf.factors, np.round(rf.factors))
    for h in range(4):
        n = int((h == STRATA).sum())
        np.testing.assert_array_equal(rf.factors[:, h == STRATA].sum(axis=1), n)
    nbar = 1 / np.mean(1 / np.array([2, 3, 5, 4]))
    assert rf.scale == pytest.approx(nbar / ((nbar - 1) * 49))
    np.testing.assert_array_equal(rf.rscales, 1)


def test_subbootstrap_is_rao_wu_rescaled():
    rf = replicate_factors(ReplicateSpec("subbootstrap", replicates=30, seed=2), STRATA)
    assert rf.scale == pytest.approx(1 / 29)
    for h in range(4):
        n = int((h == STRATA).sum())
        counts = rf.factors[:, h == STRATA] * (n - 1) / n
        np.testing.assert_allclose(counts, np.round(counts), atol=1e-12)
        np.testing.assert_allclose(counts.sum(axis=1), n - 1)


@pytest.mark.parametrize("kind", ["bootstrap", "subbootstrap"])
def test_bootstrap_seeded_is_reproducible(kind):
    a = replicate_factors(ReplicateSpec(kind, seed=7), STRATA).factors
    b = replicate_factors(ReplicateSpec(kind, seed=7), STRATA).factors
    c = replicate_factors(ReplicateSpec(kind, seed=8), STRATA).factors
    d = replicate_factors(ReplicateSpec(kind), STRATA).factors
    e = replicate_factors(ReplicateSpec(kind), STRATA).factors
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(d, e)


@pytest.mark.parametrize("kind", ["bootstrap", "subbootstrap"])
def test_bootstrap_mean_factor_is_one_per_stratum(kind):
    rf = replicate_factors(ReplicateSpec(kind, replicates=4000, seed=11), STRATA)
    np.testing.assert_allclose(rf.factors.mean(axis=0), 1.0, atol=0.05)


def test_bootstrap_variance_close_to_taylor_at_1000_replicates():
    # equal stratum sizes: R's harmonic-mean rescaling is then exact in expectation
    strata = np.repeat(np.arange(6), 12)
    s = psu_totals(strata, seed=5)
    for kind in ("bootstrap", "subbootstrap"):
        rf = replicate_factors(ReplicateSpec(kind, replicates=1000, seed=20261126), strata)
        assert var_total(rf, s) == pytest.approx(taylor_wr(strata, s), rel=0.10)


def test_subbootstrap_unbiased_with_unequal_strata():
    s = psu_totals(STRATA, seed=9)
    rf = replicate_factors(ReplicateSpec("subbootstrap", replicates=20000, seed=4), STRATA)
    assert var_total(rf, s) == pytest.approx(taylor_wr(STRATA, s), rel=0.05)


def test_bootstrap_with_fpc_samples_a_pseudo_population():
    strata = np.array([0, 0, 0, 1, 1, 1, 1])
    pop = np.array([3.0, 3.0, 3.0, 6.0, 6.0, 6.0, 6.0])  # stratum 0 is a census
    rf = replicate_factors(ReplicateSpec("bootstrap", replicates=500, seed=3), strata, psu_popsize=pop)
    np.testing.assert_array_equal(rf.factors[:, :3], 1.0)
    np.testing.assert_array_equal(rf.factors[:, 3:].sum(axis=1), 4)
    # N = 6, n = 4: two PSUs appear twice in the pseudo-population, two once
    assert rf.factors[:, 3:].max() <= 2
    maxima = rf.factors[:, 3:].max(axis=0)
    assert sorted(maxima.tolist()) == [1.0, 1.0, 2.0, 2.0]


def test_bootstrap_lonely():
    with pytest.raises(LonelyPSUError, match="stratum code 1 has only one PSU"):
        replicate_factors(ReplicateSpec("bootstrap", seed=1), LONELY)
    rf = replicate_factors(ReplicateSpec("bootstrap", seed=1), LONELY, lonely_psu="remove")
    np.testing.assert_array_equal(rf.factors[:, 3], 1.0)  # R: the lonely PSU is drawn in every replicate
    with pytest.raises(DesignError, match=r"subbootstrap.*stratum code 1 has 1"):
        replicate_factors(ReplicateSpec("subbootstrap", seed=1), LONELY, lonely_psu="remove")


# ----------------------------------------------------------------------------------------------------------
# variance()


def test_variance_centres_and_shapes():
    rf = ReplicateFactors(np.ones((4, 2)), 0.5, np.array([1.0, 1.0, 2.0, 0.0]), False, "jkn")
    theta = np.array([1.0, 2.0, 3.0, 10.0])
    # centre: mean of replicates with rscales > 0 -> 2
    assert float(rf.variance(theta, 100.0)) == pytest.approx(0.5 * (1 + 0 + 2 * 1 + 0))
    assert rf.variance(theta, 100.0).shape == ()
    two = np.column_stack([theta, 2 * theta])
    np.testing.assert_allclose(rf.variance(two, [0, 0]), [1.5, 6.0])
    cov = rf.covariance(two, [0, 0])
    np.testing.assert_allclose(cov, [[1.5, 3.0], [3.0, 6.0]])
    mse = ReplicateFactors(np.ones((4, 2)), 0.5, np.array([1.0, 1.0, 2.0, 0.0]), True, "jkn")
    assert float(mse.variance(theta, 0.0)) == pytest.approx(0.5 * (1 + 4 + 18))
    np.testing.assert_allclose(mse.variance(two, [0.0, 1.0]), [11.5, 0.5 * (1 + 9 + 2 * 25)])


def test_variance_drops_nan_replicates_with_a_warning():
    rf = ReplicateFactors(np.ones((3, 1)), 1.0, np.ones(3), False, "jk1")
    with pytest.warns(UserWarning, match="1 replicates gave NA"):
        v = rf.variance(np.array([1.0, np.nan, 3.0]), 2.0)
    assert float(v) == pytest.approx(2.0)
    with pytest.raises(EstimationError, match="all replicates"):
        rf.variance(np.full(3, np.nan), 2.0)
    with pytest.raises(EstimationError, match=r"expected \(3,\)"):
        rf.variance(np.ones(4), 1.0)


def test_factors_are_read_only():
    rf = replicate_factors(ReplicateSpec("jkn"), PAIRS)
    with pytest.raises(ValueError):
        rf.factors[0, 0] = 5
    with pytest.raises(AttributeError):
        rf.scale = 2  # type: ignore[misc]


def test_degf_is_rank_minus_one():
    # JKn: PSUs minus strata, as the Taylor degrees of freedom
    assert replicate_factors(ReplicateSpec("jkn"), STRATA).degf() == STRATA.size - 4
    assert replicate_factors(ReplicateSpec("jkn"), PAIRS).degf() == 5
    assert replicate_factors(ReplicateSpec("brr"), PAIRS).degf() == 5
    assert replicate_factors(ReplicateSpec("jk1"), np.zeros(5, dtype=int)).degf() == 4


# ----------------------------------------------------------------------------------------------------------
# Hadamard


@pytest.mark.parametrize("n", [*range(1, 70), 99, 127, 150, 200, 333])
def test_hadamard_is_hadamard_of_order_above_n(n):
    h = hadamard(n).astype(float) * 2 - 1
    m = h.shape[0]
    assert m > n and m % 4 == 0
    np.testing.assert_array_equal(h @ h.T, m * np.eye(m))
    np.testing.assert_array_equal(h[0], 1)  # BRR skips the first row: the others are balanced


def test_hadamard_rejects_zero():
    with pytest.raises(DesignError, match="n >= 1"):
        hadamard(0)


# ----------------------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ReplicateSpec("jackknife"), "replicate type 'jackknife' is not known; expected one of jk1, jkn"),
        (ReplicateSpec("bootstrap", replicates=1), "replicates must be an integer >= 2 .*got 1"),
        (ReplicateSpec("bootstrap", replicates=0), "got 0"),
        (ReplicateSpec("bootstrap", replicates=2.5), "got 2.5"),  # type: ignore[arg-type]
        (ReplicateSpec("bootstrap", replicates=True), "got True"),  # type: ignore[arg-type]
        (ReplicateSpec("fay", fay_rho=1.0), r"fay_rho must be in \[0, 1\); got 1.0"),
        (ReplicateSpec("fay", fay_rho=-0.1), "got -0.1"),
        (ReplicateSpec("fay", fay_rho="x"), "fay_rho must be a number"),  # type: ignore[arg-type]
        (ReplicateSpec("jkn", fay_rho=0.5), "only used by types 'brr' and 'fay', not 'jkn'"),
        (ReplicateSpec("jk1"), "'jk1' is for unstratified designs but the PSUs are in 4 strata"),
        (ReplicateSpec("jkn", replicates=3), r"replicates=3 does not fit type 'jkn'.*14 jackknife replicates"),
    ],
)
def test_spec_errors(spec, message):
    with pytest.raises(DesignError, match=message):
        replicate_factors(spec, STRATA)


def test_errors_are_value_errors_and_digifit_errors():
    with pytest.raises(ValueError):
        replicate_factors(ReplicateSpec("nope"), STRATA)
    with pytest.raises(DigifitError):
        replicate_factors(ReplicateSpec("nope"), STRATA)


@pytest.mark.parametrize(
    ("strata", "message"),
    [
        (np.zeros((2, 2), dtype=int), "1-d array"),
        (np.array([], dtype=int), "non-empty"),
        (np.array([0, -1]), "codes >= 0; got -1"),
        (np.array([0.5, 1.0]), "integer stratum codes"),
        (np.array(["a", "b"]), "integer stratum codes"),
    ],
)
def test_bad_psu_stratum(strata, message):
    with pytest.raises(DesignError, match=message):
        replicate_factors(ReplicateSpec("jkn"), strata)


def test_float_codes_are_accepted():
    rf = replicate_factors(ReplicateSpec("jkn"), PAIRS.astype(float))
    assert rf.n_replicates == PAIRS.size


def test_bad_popsize():
    with pytest.raises(DesignError, match="varies within stratum code 0"):
        replicate_factors(ReplicateSpec("jkn"), PAIRS, psu_popsize=np.arange(1.0, PAIRS.size + 1) + 10)
    with pytest.raises(DesignError, match=r"stratum code 0 is 1\.0, smaller than its 2 sampled PSUs"):
        replicate_factors(ReplicateSpec("jkn"), PAIRS, psu_popsize=np.ones(PAIRS.size))
    with pytest.raises(DesignError, match=r"shape \(3,\); expected \(10,\)"):
        replicate_factors(ReplicateSpec("jkn"), PAIRS, psu_popsize=np.ones(3))
    with pytest.raises(DesignError, match="NaN or <= 0"):
        replicate_factors(ReplicateSpec("jkn"), PAIRS, psu_popsize=np.full(PAIRS.size, np.nan))


def test_unknown_lonely_policy():
    with pytest.raises(DesignError, match="lonely_psu 'drop' is not known"):
        replicate_factors(ReplicateSpec("jkn"), PAIRS, lonely_psu="drop")


def test_jk1_needs_two_psus():
    with pytest.raises(DesignError, match="'jk1' needs at least 2 PSUs"):
        replicate_factors(ReplicateSpec("jk1"), np.zeros(1, dtype=int))


def test_oversized_factor_matrix_is_refused(monkeypatch):
    monkeypatch.setattr(rep_module, "_MAX_FACTOR_CELLS", 100)
    with pytest.raises(DesignError, match=r"would need a 14 × 14 factor matrix"):
        replicate_factors(ReplicateSpec("jkn"), STRATA)
    with pytest.raises(DesignError, match=r"50 × 14"):
        replicate_factors(ReplicateSpec("bootstrap"), STRATA)


def test_types_listed():
    assert REPLICATE_TYPES == ("jk1", "jkn", "brr", "fay", "bootstrap", "subbootstrap")


# ----------------------------------------------------------------------------------------------------------
# Supplied replicate-weight columns (R's svrepdesign)


@pytest.mark.parametrize(
    ("kind", "kwargs", "scale", "rscale"),
    [
        ("BRR", {}, 1 / 10, 1.0),
        ("Fay", {"fay_rho": 0.5}, 1 / (10 * 0.25), 1.0),
        ("bootstrap", {}, 1 / 9, 1.0),
        ("bootstrap", {"scale": 0.2}, 0.2, 1.0),
        ("JK1", {"scale": 0.7}, 0.7, 1.0),
        ("JKn", {"rscales": 0.9}, 1.0, 0.9),
        ("ACS", {}, 0.4, 1.0),
        ("successive-difference", {}, 0.4, 1.0),
        ("JK2", {}, 1.0, 1.0),
        ("other", {"scale": 0.3, "rscales": np.full(10, 2.0)}, 0.3, 2.0),
    ],
)
def test_supplied_defaults(kind, kwargs, scale, rscale):
    sr = supplied_replicates(kind, 10, **kwargs)
    assert sr.type == kind.lower()
    assert sr.scale == pytest.approx(scale)
    np.testing.assert_allclose(sr.rscales, rscale)
    assert sr.factors.shape == (10, 0)
    theta = np.arange(10.0)
    assert float(sr.variance(theta, 0.0)) == pytest.approx(scale * rscale * np.sum((theta - 4.5) ** 2))


def test_supplied_warnings_as_r():
    with pytest.warns(UserWarning, match="guessing n = number of replicates"):
        assert supplied_replicates("jk1", 4).scale == pytest.approx(3 / 4)
    with pytest.warns(UserWarning, match="'brr' does not use scale"):
        assert supplied_replicates("brr", 4, scale=3.0).scale == pytest.approx(1 / 4)
    with pytest.warns(UserWarning, match="set to 1"):
        assert supplied_replicates("other", 4).scale == 1.0
    with pytest.warns(UserWarning, match="fay_rho is not used by type 'jkn'"):
        supplied_replicates("jkn", 4, rscales=1.0, fay_rho=0.3)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("jackknife", 4), {}, "replicate type 'jackknife' is not known"),
        (("brr", 1), {}, "n_replicates must be an integer >= 2; got 1"),
        (("fay", 4), {}, "type 'fay' needs fay_rho"),
        (("fay", 4), {"fay_rho": 1.5}, r"fay_rho must be in \[0, 1\); got 1.5"),
        (("jkn", 4), {}, "type 'jkn' needs rscales"),
        (("jkn", 4), {"rscales": [0.5, 0.5]}, "rscales has length 2; expected 1 or n_replicates"),
        (("jkn", 4), {"rscales": -1.0}, "rscales must be numbers >= 0"),
        (("bootstrap", 4), {"scale": 0.0}, "scale must be a positive number; got 0.0"),
        (("bootstrap", 4), {"scale": "x"}, "scale must be a positive number; got 'x'"),
    ],
)
def test_supplied_errors(args, kwargs, message):
    with pytest.raises(DesignError, match=message):
        supplied_replicates(*args, **kwargs)


def test_supplied_degf_is_not_known():
    with pytest.raises(DesignError, match="rank of the weight columns"):
        supplied_replicates("bootstrap", 4).degf()


def test_supplied_types_listed():
    assert "successive-difference" in SUPPLIED_TYPES


def test_an_unvalidated_design_builds_its_factors_from_the_first_estimate():
    """validate=False: the bootstrap factors come after the estimator's own aggregation, equal to the eager ones
    (to the last bits: DuckDB's parallel sums may add in another order, as with the jackknife's row ids)."""
    import pyarrow as pa

    from digifit import stats

    rng = np.random.default_rng(11)
    n = 240
    table = pa.table(
        {
            "stratum": np.repeat(np.arange(4), n // 4),
            "psu": np.repeat(np.arange(24), n // 24),
            "w": rng.uniform(1, 3, n),
            "y": rng.normal(size=n),
            "g": np.tile(["a", "b"], n // 2),
        }
    )
    results = []
    for validate in (True, False):
        d = stats.design(table, weights="w", strata="stratum", ids="psu", validate=validate)
        b = stats.as_replicate(d, "bootstrap", replicates=30, seed=4)
        results.append([(e.estimate, e.se, e.df) for e in stats.mean(b, "y", by="g")])
    for eager, deferred_row in zip(results[0], results[1], strict=True):
        assert deferred_row[0] == pytest.approx(eager[0], rel=1e-13)
        assert deferred_row[1] == pytest.approx(eager[1], rel=1e-12)
        assert deferred_row[2] == eager[2]  # the df (a rank) is exact
    lonely = pa.table({"stratum": [1, 1, 2], "psu": [1, 2, 3], "y": [1.0, 2.0, 3.0]})
    deferred = stats.as_replicate(stats.design(lonely, strata="stratum", ids="psu", validate=False), "bootstrap")
    with pytest.raises(DesignError, match="has only one PSU"):  # the lonely PSU is found by the estimate, not before
        stats.mean(deferred, "y")
