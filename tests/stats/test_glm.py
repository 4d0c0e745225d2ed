"""digifit.stats.glm: formulas, R's coding of terms, hand-checkable fits and sandwich variances, every error.

The comparison with R's ``svyglm`` itself is in ``tests/peers/test_glm_against_r.py``.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

from digifit import stats
from digifit.cli import main
from digifit.stats.glm import parse_formula


@pytest.fixture
def survey() -> pa.Table:
    """A stratified cluster sample with numeric, string, boolean and 0/1 columns."""
    rng = np.random.default_rng(11)
    n = 120
    stratum = np.repeat([1, 2, 3], 40)
    psu = np.tile(np.repeat([1, 2, 3, 4, 5], 8), 3)
    x = rng.normal(5, 2, n)
    sector = rng.choice(["retail", "crafts", "services"], n)
    eta = -1 + 0.3 * (x - 5) + np.where(sector == "crafts", 0.5, 0.0)
    online = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(np.int64)
    return pa.table(
        {
            "stratum": stratum,
            "psu": psu,
            "w": rng.uniform(1, 4, n),
            "x": x,
            "z": rng.uniform(0, 10, n),
            "sector": sector,
            "exporter": rng.uniform(size=n) < 0.3,
            "online": online,
            "answer": np.where(online == 1, "yes", "no"),
            "y": 3 + 2 * x - np.where(sector == "retail", 1.5, 0.0) + rng.normal(0, 1, n),
        }
    )


@pytest.fixture
def clustered(survey):
    return stats.design(survey, weights="w", strata="stratum", ids="psu")


# ---------------------------------------------------------------------------------------------------------
# Formulas and term names


@pytest.mark.parametrize(
    ("formula", "terms", "intercept"),
    [
        ("y ~ a + b + a:b", [("a",), ("b",), ("a", "b")], True),
        ("y ~ a*b", [("a",), ("b",), ("a", "b")], True),
        ("y ~ b:a + a - 1", [("a",), ("b", "a")], False),  # order of terms by degree, labels by first appearance
        ("y ~ (a + b):c + 0", [("a", "c"), ("b", "c")], False),
        ("y ~ a + a:b - a", [("a", "b")], True),
        ("y ~ 1", [], True),
        ("y ~ -1 + a", [("a",)], False),
        ("y ~ a + a", [("a",)], True),
        ("y ~ `odd name` + a", [("odd name",), ("a",)], True),
    ],
)
def test_parse_formula(formula, terms, intercept):
    f = parse_formula(formula)
    assert f.response == "y"
    assert list(f.terms) == terms
    assert f.intercept is intercept


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("y ~ a +", "unexpected end of formula"),
        ("~ a", "the response must be one column name"),
        ("y ~ log(a)", r"unexpected '\('"),
        ("y ~ a ^ 2", r"unexpected '\^'"),
        ("y ~ y + a", "the response 'y' is also a term"),
        ("y ~ (a + b", r"missing '\)'"),
    ],
)
def test_malformed_formulas_are_named(formula, message):
    with pytest.raises(stats.EstimationError, match=message):
        parse_formula(formula)


def test_term_names_follow_r(clustered):
    fit = stats.glm(clustered, "y ~ sector * x + exporter")
    assert fit.terms == (
        "(Intercept)",
        "sectorretail",
        "sectorservices",
        "x",
        "exporterTRUE",
        "sectorretail:x",
        "sectorservices:x",
    )
    # no intercept: the first factor gets a column per level, later ones contrasts
    assert stats.glm(clustered, "y ~ sector + exporter - 1").terms == (
        "sectorcrafts",
        "sectorretail",
        "sectorservices",
        "exporterTRUE",
    )
    # a factor whose margin is absent is coded by indicators
    assert stats.glm(clustered, "y ~ x:sector").terms == (
        "(Intercept)",
        "x:sectorcrafts",
        "x:sectorretail",
        "x:sectorservices",
    )


# ---------------------------------------------------------------------------------------------------------
# Hand-checkable numbers


def _rows(table: pa.Table, *cols):
    return [np.asarray(table.column(c).to_numpy(zero_copy_only=False), dtype=float) for c in cols]


def test_gaussian_is_weighted_least_squares_with_a_sandwich_variance(survey):
    """Rows as PSUs, no strata: V = A⁻¹ · n/(n−1) Σ (u_i − ū)(u_i − ū)ᵀ · A⁻¹ with u_i = w_i x_i e_i."""
    d = stats.design(survey, weights="w")
    fit = stats.glm(d, "y ~ x + z")
    w, x, z, y = _rows(survey, "w", "x", "z", "y")
    X = np.column_stack([np.ones_like(x), x, z])
    A = X.T @ (w[:, None] * X)
    beta = np.linalg.solve(A, X.T @ (w * y))
    u = X * (w * (y - X @ beta))[:, None]
    n = len(y)
    meat = n / (n - 1) * (u - u.mean(axis=0)).T @ (u - u.mean(axis=0))
    Ainv = np.linalg.inv(A)
    V = Ainv @ meat @ Ainv
    np.testing.assert_allclose([c.estimate for c in fit.coefficients], beta, rtol=1e-10)
    np.testing.assert_allclose(fit.vcov, V, rtol=1e-9, atol=1e-14)
    assert fit.df_residual == n - 1 + 1 - 3
    c = fit["x"]
    assert c.t == pytest.approx(c.estimate / c.se)
    from scipy import stats as sps

    assert c.p == pytest.approx(2 * sps.t.sf(abs(c.t), fit.df_residual), rel=1e-9)
    tq = sps.t.ppf(0.975, fit.df_residual)
    assert (c.ci_low, c.ci_high) == pytest.approx((c.estimate - tq * c.se, c.estimate + tq * c.se), rel=1e-12)


def test_cluster_sandwich_by_hand(survey, clustered):
    """Stratified cluster design: the meat is Σ_h n_h/(n_h−1) Σ_i (U_hi − Ū_h)(U_hi − Ū_h)ᵀ of PSU score totals."""
    fit = stats.glm(clustered, "y ~ x")
    w, x, y, h, psu = _rows(survey, "w", "x", "y", "stratum", "psu")
    X = np.column_stack([np.ones_like(x), x])
    A = X.T @ (w[:, None] * X)
    beta = np.linalg.solve(A, X.T @ (w * y))
    u = X * (w * (y - X @ beta))[:, None]
    meat = np.zeros((2, 2))
    for s in np.unique(h):
        units = np.array([u[(h == s) & (psu == p)].sum(axis=0) for p in np.unique(psu[h == s])])
        nh = len(units)
        dev = units - units.mean(axis=0)
        meat += nh / (nh - 1) * dev.T @ dev
    Ainv = np.linalg.inv(A)
    np.testing.assert_allclose(fit.vcov, Ainv @ meat @ Ainv, rtol=1e-9)
    assert fit.df_residual == (15 - 3) + 1 - 2


def test_intercept_only_models_agree_with_the_estimators(clustered):
    """Gaussian ~ 1 is the weighted mean; quasibinomial ~ 1 is logit(p̂) with SE(p̂) / (p̂(1 − p̂))."""
    mean = stats.mean(clustered, "y")[0]
    fit = stats.glm(clustered, "y ~ 1")
    assert fit["(Intercept)"].estimate == pytest.approx(mean.estimate, rel=1e-12)
    assert fit["(Intercept)"].se == pytest.approx(mean.se, rel=1e-9)
    assert fit.df_residual == mean.df

    share = next(e for e in stats.proportion(clustered, "online") if e.level == 1)
    logit = stats.glm(clustered, "online ~ 1", family="quasibinomial")
    p = share.estimate
    assert logit["(Intercept)"].estimate == pytest.approx(math.log(p / (1 - p)), rel=1e-8)
    assert logit["(Intercept)"].se == pytest.approx(share.se / (p * (1 - p)), rel=1e-6)


def test_response_codings_give_the_same_logistic_fit(clustered):
    """0/1 numbers, booleans (TRUE modelled) and two-level text (second sorted level modelled) agree."""
    numeric = stats.glm(clustered, "online ~ x + sector", family="quasibinomial")
    text = stats.glm(clustered, "answer ~ x + sector", family="quasibinomial")
    assert text.response_level == "yes"
    for a, b in zip(numeric.coefficients, text.coefficients, strict=True):
        assert (a.term, a.estimate, a.se) == (b.term, pytest.approx(b.estimate, rel=1e-12), pytest.approx(b.se))
    assert numeric.iterations >= 3


def test_boolean_response(survey):
    d = stats.design(survey.append_column("online_b", pa.array(np.asarray(survey["online"]) == 1)), weights="w")
    a = stats.glm(d, "online_b ~ x", family="quasibinomial")
    b = stats.glm(d, "online ~ x", family="quasibinomial")
    assert a["x"].estimate == pytest.approx(b["x"].estimate, rel=1e-12)


def test_row_order_does_not_matter(survey):
    order = np.random.default_rng(3).permutation(survey.num_rows)
    shuffled = survey.take(pa.array(order))
    for family, formula in (("gaussian", "y ~ x * sector"), ("quasibinomial", "online ~ x + sector + exporter")):
        fits = [
            stats.glm(stats.design(t, weights="w", strata="stratum", ids="psu"), formula, family=family)
            for t in (survey, shuffled)
        ]
        a, b = fits
        assert a.terms == b.terms
        np.testing.assert_allclose(
            [c.estimate for c in a.coefficients], [c.estimate for c in b.coefficients], rtol=1e-10
        )
        np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-8, atol=1e-15)
        assert a.iterations == b.iterations


def test_weights_scale_does_not_matter(survey):
    """svyglm rescales the weights to mean 1: multiplying them by a constant changes nothing."""
    scaled = survey.set_column(survey.schema.get_field_index("w"), "w", pa.array(np.asarray(survey["w"]) * 250.0))
    a = stats.glm(stats.design(survey, weights="w", strata="stratum"), "online ~ x", family="quasibinomial")
    b = stats.glm(stats.design(scaled, weights="w", strata="stratum"), "online ~ x", family="quasibinomial")
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-10)
    assert a.iterations == b.iterations


def test_weights_implied_by_the_fpc(survey):
    """Without a weights column, the weights implied by the fpc are used (R's svydesign does the same)."""
    n = survey.num_rows
    t = survey.append_column("N", pa.array(np.full(n, 4.0 * n)))
    implied = stats.glm(stats.design(t, fpc="N"), "y ~ x")
    t2 = t.append_column("w4", pa.array(np.full(n, 4.0)))
    explicit = stats.glm(stats.design(t2, weights="w4", fpc="N"), "y ~ x")
    np.testing.assert_allclose(implied.vcov, explicit.vcov, rtol=1e-10)


def test_result_table_and_dicts(clustered):
    fit = stats.glm(clustered, "online ~ x", family="quasibinomial")
    rows = fit.to_dicts()
    assert [list(r) for r in rows] == [["term", "estimate", "se", "df", "t", "p", "ci_low", "ci_high"]] * 2
    assert rows[1]["term"] == "x"
    text = repr(fit)
    assert "quasibinomial GLM: online ~ x" in text and "(Intercept)" in text
    with pytest.raises(KeyError, match="no coefficient 'nope'"):
        fit["nope"]


def test_missing_values(survey):
    y = survey.column("y").to_pylist()
    y[3] = y[10] = None
    t = survey.set_column(survey.schema.get_field_index("y"), "y", pa.array(y))
    d = stats.design(t, weights="w", strata="stratum", ids="psu")
    with pytest.raises(stats.EstimationError, match=r"column 'y' has 2 missing value\(s\); pass na_rm=True"):
        stats.glm(d, "y ~ x")
    fit = stats.glm(d, "y ~ x", na_rm=True)
    assert fit.n == survey.num_rows - 2


# ---------------------------------------------------------------------------------------------------------
# Errors


def test_unknown_column(clustered):
    with pytest.raises(stats.DesignError, match="formula column 'revenue' is not in the data"):
        stats.glm(clustered, "y ~ x + revenue")


def test_non_numeric_gaussian_response(clustered):
    with pytest.raises(stats.EstimationError, match="a gaussian model needs a numeric response"):
        stats.glm(clustered, "sector ~ x")


def test_quasibinomial_response_checks(clustered):
    with pytest.raises(stats.EstimationError, match=r"'sector' has 3 level\(s\).*needs two"):
        stats.glm(clustered, "sector ~ x", family="quasibinomial")
    with pytest.raises(stats.EstimationError, match=r"values from .* needs values in \[0, 1\]"):
        stats.glm(clustered, "y ~ x", family="quasibinomial")


def test_collinear_terms_are_named(survey):
    t = survey.append_column("x2", pa.array(2 * np.asarray(survey["x"]) + 1))
    d = stats.design(t, weights="w")
    with pytest.raises(
        stats.EstimationError, match=r"collinear terms: 'x2' is a linear combination of '\(Intercept\)', 'x'"
    ):
        stats.glm(d, "y ~ x + x2")
    # a constant column is the intercept again
    t = t.append_column("one", pa.array(np.ones(t.num_rows)))
    with pytest.raises(stats.EstimationError, match=r"'one' is a linear combination of '\(Intercept\)'"):
        stats.glm(stats.design(t, weights="w"), "y ~ one")


def test_single_level_factor(survey):
    d = stats.design(survey.filter(pa.compute.equal(survey["sector"], "retail")), weights="w")
    with pytest.raises(stats.EstimationError, match="column 'sector' has only one level"):
        stats.glm(d, "y ~ sector")


def test_perfect_separation(survey):
    x = np.asarray(survey["x"])
    t = survey.append_column("big", pa.array((x > 5).astype(float)))
    d = stats.design(t, weights="w")
    with pytest.raises(stats.EstimationError, match=r"did not converge in 25 IRLS iterations.*perfectly separated"):
        stats.glm(d, "big ~ x", family="quasibinomial")


def test_quasi_separation_names_the_term(survey):
    sector = np.asarray(survey["sector"].to_pylist())
    online = np.where(sector == "services", 0, np.asarray(survey["online"]))
    t = survey.set_column(survey.schema.get_field_index("online"), "online", pa.array(online))
    d = stats.design(t, weights="w", strata="stratum", ids="psu")
    with pytest.raises(stats.EstimationError, match=r"separated by 'sectorservices'.*IRLS iterations"):
        stats.glm(d, "online ~ x + sector", family="quasibinomial")


def test_non_convergence_names_iterations_and_change(clustered):
    with pytest.raises(
        stats.EstimationError, match=r"did not converge in 2 IRLS iterations \(last relative change in deviance"
    ):
        stats.glm(clustered, "online ~ x + sector", family="quasibinomial", max_iter=2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"family": "poisson"}, "family 'poisson' is not known"),
        ({"level": 1.5}, "level must be between 0 and 1"),
        ({"max_iter": 0}, "max_iter must be a positive integer"),
        ({"epsilon": 0}, "epsilon must be positive"),
    ],
)
def test_bad_options(clustered, kwargs, message):
    with pytest.raises(stats.EstimationError, match=message):
        stats.glm(clustered, "y ~ x", **kwargs)


# ---------------------------------------------------------------------------------------------------------
# CLI


@pytest.fixture
def survey_file(survey, tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "wave.parquet"
    pq.write_table(survey, path)
    return str(path)


def test_cli_json(survey_file, clustered):
    result = CliRunner().invoke(
        main,
        [
            *("glm", survey_file, "online ~ x + sector", "--family", "quasibinomial"),
            *("--weights", "w", "--strata", "stratum", "--ids", "psu", "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["coefficients"]
    fit = stats.glm(clustered, "online ~ x + sector", family="quasibinomial")
    assert [r["term"] for r in rows] == list(fit.terms)
    assert list(rows[0]) == ["term", "estimate", "se", "df", "t", "p", "ci_low", "ci_high"]
    assert rows[1]["se"] == pytest.approx(fit["x"].se, rel=1e-12)


def test_cli_table(survey_file):
    result = CliRunner().invoke(main, ["glm", survey_file, "y ~ x", "--weights", "w"])
    assert result.exit_code == 0, result.output
    assert "gaussian GLM: y ~ x" in result.output
    assert "(Intercept)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["y ~ nope", "--weights", "w"], "formula column 'nope' is not in the data"),
        (["sector ~ x", "--family", "quasibinomial"], "needs two"),
        (["y ~ x +"], "unexpected end of formula"),
        (["y ~ x", "--level", "2"], "--level must be between 0 and 1"),
    ],
)
def test_cli_errors_are_one_line(survey_file, args, message):
    result = CliRunner().invoke(main, ["glm", survey_file, *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("digifit: error:"), result.output
    assert message in lines[0]


# ---------------------------------------------------------------------------------------------------------
# Replicate and calibrated designs


def _wls(X, y, w):
    return np.linalg.solve(X.T @ (w[:, None] * X), X.T @ (w * y))


def test_jackknife_refits_every_replicate(survey):
    """JKn by hand: drop each PSU, reweight its stratum by n_h/(n_h − 1), refit; Σ (n_h − 1)/n_h (β_r − β̄)(β_r − β̄)ᵀ."""
    d = stats.as_replicate(stats.design(survey, weights="w", strata="stratum", ids="psu"), "jkn")
    fit = stats.glm(d, "y ~ x")
    w, x, y, h, psu = _rows(survey, "w", "x", "y", "stratum", "psu")
    X = np.column_stack([np.ones_like(x), x])
    beta = _wls(X, y, w)
    betas, rscales = [], []
    for s in np.unique(h):
        psus = np.unique(psu[h == s])
        nh = len(psus)
        for p in psus:
            wr = w.copy()
            wr[(h == s) & (psu == p)] = 0
            wr[(h == s) & (psu != p)] *= nh / (nh - 1)
            betas.append(_wls(X, y, wr))
            rscales.append((nh - 1) / nh)
    dev = np.array(betas) - np.mean(betas, axis=0)  # centred on the replicates' mean (R's default, mse=FALSE)
    V = (dev * np.array(rscales)[:, None]).T @ dev
    np.testing.assert_allclose([c.estimate for c in fit.coefficients], beta, rtol=1e-10)
    np.testing.assert_allclose(fit.vcov, V, rtol=1e-8)
    assert fit.df_residual == (15 - 3) + 1 - 2


def test_replicate_logistic_converges_per_replicate(survey):
    d = stats.as_replicate(stats.design(survey, weights="w", strata="stratum", ids="psu"), "jkn")
    taylor = stats.glm(
        stats.design(survey, weights="w", strata="stratum", ids="psu"), "online ~ x", family="quasibinomial"
    )
    fit = stats.glm(d, "online ~ x", family="quasibinomial")
    assert [c.estimate for c in fit.coefficients] == pytest.approx([c.estimate for c in taylor.coefficients], rel=1e-12)
    # the jackknife and the linearisation agree to first order
    assert fit["x"].se == pytest.approx(taylor["x"].se, rel=0.15)


def test_calibrated_designs(survey):
    """Post-stratified: the coefficients are those of the calibrated weights; the SEs those of the residuals."""
    d = stats.design(survey, weights="w", strata="stratum", ids="psu")
    pop = {"crafts": 300, "retail": 250, "services": 450}
    cal = stats.poststratify(d, "sector", pop)
    fit = stats.glm(cal, "y ~ x + sector")
    w, x, y = _rows(survey, "w", "x", "y")
    sector = np.asarray(survey["sector"].to_pylist())
    g = np.ones_like(w)
    for level, count in pop.items():
        g[sector == level] = count / w[sector == level].sum()
    X = np.column_stack([np.ones_like(x), (sector == "retail") * 1.0, (sector == "services") * 1.0, x])
    beta = _wls(X, y, w * g)
    order = [fit.terms.index(t) for t in ("(Intercept)", "sectorretail", "sectorservices", "x")]
    np.testing.assert_allclose(np.array([c.estimate for c in fit.coefficients])[order], beta, rtol=1e-10)
    # the variance is that of the calibration residuals (R's svyrecvar; checked against R in tests/peers)
    assert 0 < fit["x"].se != pytest.approx(stats.glm(d, "y ~ x + sector")["x"].se, rel=1e-6)
    # calibrated again in every replicate: the jackknife is close to the linearisation
    jk = stats.glm(stats.as_replicate(cal, "jkn"), "y ~ x + sector")
    assert jk["x"].se == pytest.approx(fit["x"].se, rel=0.25)
    bounded = stats.calibrate(d, ["sector"], {"sector": pop}, calfun="raking")
    with pytest.raises(stats.EstimationError, match="non-linear or bounded calibration and replicate variance"):
        stats.glm(dataclasses.replace(bounded, replicate=stats.as_replicate(d, "jkn").replicate), "y ~ x")


def test_cli_replicate_variance(survey_file, survey):
    args = ["glm", survey_file, "y ~ x", "--weights", "w", "--strata", "stratum", "--ids", "psu"]
    result = CliRunner().invoke(main, [*args, "--variance", "jkn", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["coefficients"]
    d = stats.as_replicate(stats.design(survey, weights="w", strata="stratum", ids="psu"), "jkn")
    assert rows[1]["se"] == pytest.approx(stats.glm(d, "y ~ x")["x"].se, rel=1e-12)


# ---------------------------------------------------------------------------------------------------------
# Spark


@pytest.mark.slow
def test_same_fit_on_spark(tmp_path):
    """The same expressions run on Spark (local mode) give DuckDB's fit to rounding.

    (Replicate designs work there too — the rows crossed with the replicates — but take minutes in local mode.)
    """
    pytest.importorskip("pyspark", reason="the Spark engine needs the 'spark' extra")
    import pyarrow.parquet as pq

    from digifit.demo.synthetic import stratified_cluster_sample
    from digifit.stats.spark import spark_session, stop_session

    path = tmp_path / "wave.parquet"
    pq.write_table(stratified_cluster_sample(3_000, seed=3), path)
    kw = {"weights": "weight", "strata": "stratum", "ids": "psu", "fpc": "fpc"}
    session = spark_session("local[2]", app_name="digifit-glm-tests")
    try:
        for family, formula, replicate in (
            ("gaussian", "revenue_change ~ size + sector", False),
            ("quasibinomial", "online ~ country + size", False),
        ):
            fits = []
            for engine in ("spark", "duckdb"):
                extra = {"engine": "spark", "con": session} if engine == "spark" else {}
                d = stats.design(path, **kw, **extra)
                if replicate:
                    d = stats.as_replicate(d, "jkn")
                fits.append(stats.glm(d, formula, family=family))
            a, b = fits
            assert (a.terms, a.iterations, a.df_residual, a.n) == (b.terms, b.iterations, b.df_residual, b.n)
            np.testing.assert_allclose(
                [c.estimate for c in a.coefficients], [c.estimate for c in b.coefficients], rtol=1e-9
            )
            np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-8, atol=1e-12 * np.abs(b.vcov).max())
    finally:
        stop_session(session)
