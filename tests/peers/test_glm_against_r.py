"""digifit.stats.glm against R's ``survey::svyglm``, one test per (design, model).

``make_glm_reference.R`` (run once per module) exports the ``api`` data with three added columns and writes
R's coefficient tables (``summary(svyglm)``, ``confint``), iteration counts and covariance matrices. The designs
and models below are the same as in the script.

Tolerances: coefficients relative 1e-8; standard errors, t, p and confidence limits relative 1e-6; the
covariance matrix 1e-6 relative to ``sqrt(v_ii · v_jj)``; the residual df, n, the term names and (quasi-binomial)
the number of IRLS iterations exact. R drops rows with missing values (``na.omit``), so every fit uses
``na_rm=True``.
"""

from __future__ import annotations

import csv
import functools
import math
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.peers

SCRIPT = Path(__file__).with_name("make_glm_reference.R")

REL_COEF = 1e-8
REL_SE = 1e-6

# name -> (data file, digifit design arguments); the R calls are in make_glm_reference.R
DESIGNS = {
    "srs": ("glm_apisrs.csv", {"fpc": "fpc"}),  # weights implied by the fpc
    "srs_w": ("glm_apisrs.csv", {"weights": "pw"}),
    "strat": ("glm_apistrat.csv", {"strata": "stype", "weights": "pw", "fpc": "fpc"}),
    "clus1": ("glm_apiclus1.csv", {"ids": "dnum", "weights": "pw", "fpc": "fpc"}),
    "clus2": ("glm_apiclus2.csv", {"ids": ["dnum", "snum"], "fpc": ["fpc1", "fpc2"]}),  # weights from fpc
    "lonely_adjust": ("glm_apilonely.csv", {"ids": "dnum", "strata": "stype", "weights": "pw", "lonely_psu": "adjust"}),
    "lonely_average": (
        "glm_apilonely.csv",
        {"ids": "dnum", "strata": "stype", "weights": "pw", "lonely_psu": "average"},
    ),
    # replicate designs (R's svyglm.svyrep.design refits every replicate): as_replicate(...) arguments in REPLICATE
    "jk1": ("glm_apiclus1.csv", {"ids": "dnum", "weights": "pw"}),
    "jkn": ("glm_apistrat.csv", {"ids": "dnum", "strata": "stype", "weights": "pw"}),
    "jk1_mse": ("glm_apiclus1.csv", {"ids": "dnum", "weights": "pw"}),
    "supplied_jk1": ("glm_apiclus1_rw.csv", {"weights": "pw", "repweights": r"rw\d+", "rep_type": "jk1"}),
}
REPLICATE = {"jk1": ("jk1", {}), "jkn": ("jkn", {}), "jk1_mse": ("jk1", {"mse": True})}
REPLICATE_DESIGNS = {*REPLICATE, "supplied_jk1"}

# calibrated designs: name -> (data, design arguments, calibration); population counts of apipop, as in the R script
POP_STYPE = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE = {"FALSE": 1072, "TRUE": 5122}
CALIBRATED = {
    "clus1_ps": ("glm_apiclus1.csv", {"ids": "dnum", "weights": "pw"}, ("poststratify", "stype", POP_STYPE)),
    "clus1_rake": ("glm_apiclus1.csv", {"ids": "dnum", "weights": "pw"}, ("rake", POP_STYPE, POP_SCHWIDE)),
    "clus1_greg": (
        "glm_apiclus1.csv",
        {"ids": "dnum", "weights": "pw"},
        ("calibrate", ["stype", "api99"], {"stype": POP_STYPE, "api99": 3914069}),
    ),
    "srs_ps": ("glm_apisrs.csv", {"weights": "pw"}, ("poststratify", "stype", POP_STYPE)),
    "srs_rake": ("glm_apisrs.csv", {"weights": "pw"}, ("rake", POP_STYPE, POP_SCHWIDE)),
    "strat_greg": (
        "glm_apistrat.csv",
        {"strata": "stype", "weights": "pw"},
        ("calibrate", ["api99", "meals"], {"api99": 3914069, "meals": 297533, "(Intercept)": 6194}),
    ),
    "clus1_cal_raking": (
        "glm_apiclus1.csv",
        {"ids": "dnum", "weights": "pw"},
        ("calibrate", ["stype", "api99"], {"stype": POP_STYPE, "api99": 3914069}, {"calfun": "raking"}),
    ),
    "clus1_cal_logit": (
        "glm_apiclus1.csv",
        {"ids": "dnum", "weights": "pw"},
        (
            "calibrate",
            ["stype", "api99"],
            {"stype": POP_STYPE, "api99": 3914069},
            {"calfun": "logit", "bounds": (0.7, 1.7)},
        ),
    ),
    "strat_trim": ("glm_apistrat.csv", {"strata": "stype", "weights": "pw"}, ("trim", 10, 40)),
    "strat_trim_ps": (
        "glm_apistrat.csv",
        {"strata": "stype", "weights": "pw"},
        ("trim_poststratify", 10, 40, "sch.wide", POP_SCHWIDE),
    ),
    # replicate designs calibrated again in every replicate (as_replicate first, as in R)
    "jk1_ps": ("glm_apiclus1.csv", {"ids": "dnum", "weights": "pw"}, ("poststratify", "stype", POP_STYPE)),
    "jk1_rake": ("glm_apiclus1.csv", {"ids": "dnum", "weights": "pw"}, ("rake", POP_STYPE, POP_SCHWIDE)),
    "jk1_greg": (
        "glm_apiclus1.csv",
        {"ids": "dnum", "weights": "pw"},
        ("calibrate", ["stype", "api99"], {"stype": POP_STYPE, "api99": 3914069}),
    ),
}
REPLICATE |= {"jk1_ps": ("jk1", {}), "jk1_rake": ("jk1", {}), "jk1_greg": ("jk1", {})}
DESIGNS |= {name: (data, kwargs) for name, (data, kwargs, _) in CALIBRATED.items()}

# name -> (formula, family)
MODELS = {
    "linear": ("api00 ~ ell + meals + mobility", "gaussian"),
    "factor": ("api00 ~ stype + enroll", "gaussian"),
    "interaction": ("api00 ~ ell + meals + ell:meals", "gaussian"),
    "factor_interaction": ("api00 ~ stype * ell", "gaussian"),
    "logical_term": ("api00 ~ sch.wide + ell", "gaussian"),
    "no_intercept": ("api00 ~ stype + ell - 1", "gaussian"),
    "with_na": ("api00 ~ acs.k3 + ell", "gaussian"),
    "nested": ("api00 ~ stype + stype:ell", "gaussian"),
    "two_factors": ("api00 ~ sch.wide * stype - 1", "gaussian"),
    "slopes_only": ("api00 ~ ell:stype", "gaussian"),
    "logit": ("sch.wide ~ ell + meals", "quasibinomial"),
    "logit_factor": ("hi700 ~ stype", "quasibinomial"),
    "logit_numeric": ("hi700 ~ ell + meals + mobility", "quasibinomial"),
    "logit_string": ("level ~ api00 + ell", "quasibinomial"),
    "logit_na": ("hi700 ~ acs.k3 + meals", "quasibinomial"),
}

# In apilonely the three H schools all have api00 <= 700: hi700 ~ stype is quasi-separated. R "converges" after 14
# iterations at stypeH = -15.0 with a meaningless SE; digifit refuses (test_quasi_separation_is_an_error).
SEPARATED = {("lonely_adjust", "logit_factor"), ("lonely_average", "logit_factor")}
# ... and stype + stype:ell fits those three schools' line within the lonely stratum, whose variance is then 0 up
# to rounding (R's SE of stypeH:ell is 2.5e-13): nothing to compare.
DEGENERATE = {("lonely_adjust", "nested"), ("lonely_average", "nested")}
# ... and all three have sch.wide TRUE, so sch.wideTRUE:stypeH is aliased with stypeH: R reports NA for it (and
# leaves it out of the coefficient table); digifit refuses and names it (test_aliased_term_is_an_error).
ALIASED = {("lonely_adjust", "two_factors"), ("lonely_average", "two_factors")}
# the models fitted on the replicate and calibrated designs (as in make_glm_reference.R)
REPLICATE_MODELS = ("linear", "factor", "with_na", "logit", "logit_string", "logit_na")
CASES = [
    (d, m)
    for d in DESIGNS
    for m in MODELS
    if (d, m) not in SEPARATED | DEGENERATE | ALIASED
    and (d not in REPLICATE_DESIGNS | set(CALIBRATED) or m in REPLICATE_MODELS)
]


@functools.cache
def _run_r() -> Path | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    import atexit
    import tempfile

    directory = Path(tempfile.mkdtemp(prefix="digifit-r-svyglm-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    proc = subprocess.run(
        [rscript, "--vanilla", str(SCRIPT), str(directory)], capture_output=True, text=True, timeout=600, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{SCRIPT.name} failed ({proc.returncode}); is r-cran-survey installed?\n{proc.stderr[-4000:]}"
        )
    return directory


@pytest.fixture(scope="module")
def glm_reference():
    """The directory with the exported data, R's coefficient rows and covariances per (design, model)."""
    directory = _run_r()
    if directory is None:
        pytest.skip("Rscript not found on PATH: install R and r-cran-survey to compare with svyglm")
    coefs: dict[tuple[str, str], list[dict]] = {}
    with open(directory / "glm_coef.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            coefs.setdefault((row["design"], row["model"]), []).append(row)
    vcov: dict[tuple[str, str], dict[tuple[str, str], float]] = {}
    with open(directory / "glm_vcov.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            vcov.setdefault((row["design"], row["model"]), {})[(row["term"], row["term2"])] = float(row["value"])
    return directory, coefs, vcov


@pytest.fixture(scope="module")
def glm_design(glm_reference):
    from digifit import stats

    directory = glm_reference[0]

    @functools.cache
    def build(name: str):
        data, kwargs = DESIGNS[name]
        d = stats.design(str(directory / data), **kwargs)
        if name in REPLICATE:
            kind, options = REPLICATE[name]
            d = stats.as_replicate(d, kind, **options)
        if name in CALIBRATED:
            how, *args = CALIBRATED[name][2]
            if how == "poststratify":
                d = stats.poststratify(d, args[0], args[1])
            elif how == "rake":
                d = stats.rake(d, [("stype", args[0]), ("sch.wide", args[1])], epsilon=1, max_iter=10)  # R's default
            elif how == "trim":
                d = stats.trim_weights(d, lower=args[0], upper=args[1])
            elif how == "trim_poststratify":
                d = stats.poststratify(stats.trim_weights(d, lower=args[0], upper=args[1]), args[2], args[3])
            else:
                d = stats.calibrate(d, args[0], args[1], **(args[2] if len(args) > 2 else {}))
        return d

    return build


def _num(text: str) -> float:
    return math.nan if text == "" else float(text)


def _close(actual: float, expected: float, rel: float, abs_: float = 0.0) -> bool:
    if math.isnan(expected):
        return actual is None or math.isnan(actual)
    return abs(actual - expected) <= rel * abs(expected) + abs_


@pytest.mark.parametrize(("design_name", "model_name"), CASES, ids=[f"{d}-{m}" for d, m in CASES])
def test_svyglm(glm_reference, glm_design, design_name, model_name):
    from digifit import stats

    _, coefs, vcov = glm_reference
    formula, family = MODELS[model_name]
    fit = stats.glm(glm_design(design_name), formula, family=family, na_rm=True)
    expected = coefs[(design_name, model_name)]

    assert list(fit.terms) == [r["term"] for r in expected]
    assert fit.n == int(expected[0]["n"])
    assert fit.df_residual == int(expected[0]["df"])
    if family == "quasibinomial":
        assert fit.iterations == int(expected[0]["iter"])
    problems = []
    for c, r in zip(fit.coefficients, expected, strict=True):
        se_r = _num(r["se"])
        checks = {
            "estimate": (c.estimate, _num(r["estimate"]), REL_COEF, 1e-12 * se_r),
            "se": (c.se, se_r, REL_SE, 0.0),
            "t": (c.t, _num(r["t"]), REL_SE, 1e-12),
            "p": (c.p, _num(r["p"]), REL_SE, 1e-300),
            "ci_low": (c.ci_low, _num(r["ci_low"]), REL_SE, 1e-9 * se_r),
            "ci_high": (c.ci_high, _num(r["ci_high"]), REL_SE, 1e-9 * se_r),
        }
        for key, (got, want, rel, abs_) in checks.items():
            if not _close(got, want, rel, abs_):
                problems.append(f"{c.term} {key}: digifit {got!r}, R {want!r}")
        assert c.df == int(r["df"])
    v = vcov[(design_name, model_name)]
    for i, a in enumerate(fit.terms):
        for j, b in enumerate(fit.terms):
            scale = math.sqrt(v[(a, a)] * v[(b, b)])
            if abs(fit.vcov[i, j] - v[(a, b)]) > REL_SE * scale:
                problems.append(f"vcov[{a}, {b}]: digifit {fit.vcov[i, j]!r}, R {v[(a, b)]!r}")
    assert not problems, "\n".join(problems)


def test_cli_json_matches_r(glm_reference, tmp_path):
    """``digifit glm --json`` gives R's table (term names, estimates, SEs, df, t, p) for a two-stage design."""
    from click.testing import CliRunner

    from digifit.cli import main

    directory, coefs, _ = glm_reference
    result = CliRunner().invoke(
        main,
        [
            "glm",
            str(directory / "glm_apiclus2.csv"),
            "level ~ api00 + ell",
            "--family",
            "quasibinomial",
            "--ids",
            "dnum,snum",
            "--fpc",
            "fpc1,fpc2",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    import json

    rows = json.loads(result.output)["coefficients"]
    expected = coefs[("clus2", "logit_string")]
    assert [r["term"] for r in rows] == [r["term"] for r in expected]
    for got, want in zip(rows, expected, strict=True):
        assert list(got)[:6] == ["term", "estimate", "se", "df", "t", "p"]
        assert got["estimate"] == pytest.approx(float(want["estimate"]), rel=REL_COEF)
        assert got["se"] == pytest.approx(float(want["se"]), rel=REL_SE)
        assert got["df"] == int(want["df"])
        assert got["t"] == pytest.approx(float(want["t"]), rel=REL_SE)
        assert got["p"] == pytest.approx(float(want["p"]), rel=REL_SE)


@pytest.mark.parametrize(("design_name", "model_name"), sorted(SEPARATED))
def test_quasi_separation_is_an_error(glm_reference, glm_design, design_name, model_name):
    from digifit import stats

    _, coefs, _ = glm_reference
    r_rows = {r["term"]: r for r in coefs[(design_name, model_name)]}
    assert float(r_rows["stypeH"]["estimate"]) < -10  # R's "estimate" of minus infinity
    formula, family = MODELS[model_name]
    with pytest.raises(stats.EstimationError, match=r"separated by 'stypeH'.*after 14 IRLS iterations"):
        stats.glm(glm_design(design_name), formula, family=family, na_rm=True)


@pytest.mark.parametrize(("design_name", "model_name"), sorted(ALIASED))
def test_aliased_term_is_an_error(glm_reference, glm_design, design_name, model_name):
    from digifit import stats

    _, coefs, _ = glm_reference
    assert "sch.wideTRUE:stypeH" not in {r["term"] for r in coefs[(design_name, model_name)]}  # NA in R
    formula, family = MODELS[model_name]
    with pytest.raises(stats.EstimationError, match=r"'sch.wideTRUE:stypeH' is a linear combination of 'stypeH'"):
        stats.glm(glm_design(design_name), formula, family=family, na_rm=True)
