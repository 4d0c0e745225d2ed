"""digifit's replicate factors (``digifit.stats.replicates``) against R's ``as.svrepdesign(compress=FALSE)``.

``make_replicates_reference.R`` builds, for each case, R's replicate design from a clustered design on the
``api`` data and writes R's factor matrix (one row per data row: with ``combined.weights=FALSE`` the analysis
weights are these factors times the sampling weights), ``scale``, ``rscales``, ``degf`` and the replicate SEs of
``svytotal(~api00)`` and ``svymean(~api00)``, plus R's ``hadamard(n)`` for many n.

The Python side reads the exported CSV with the standard library, numbers the PSUs as digifit's ``Structure``
does (sorted by stratum label, then PSU id within the stratum), builds the factors with
:func:`digifit.stats.replicates.replicate_factors`, expands them to rows and compares with R to 1e-12. The
deterministic types (JK1, JKn, BRR, Fay) must match exactly, replicate for replicate; the bootstraps draw their
own random numbers, so only their scale is compared, and the variance formula is checked on R's own draws.

The replicate SEs are computed as the lead's estimators will: ``T_r = F @ S`` from the PSU totals ``S`` of
w·y (and of w for the mean), then :meth:`ReplicateFactors.variance`.

The exported CSVs (``apibrr.csv`` … ) can be reused by end-to-end tests: run
``Rscript tests/peers/make_replicates_reference.R OUTDIR`` or call :func:`load_replicates_reference`.
"""

from __future__ import annotations

import atexit
import csv
import functools
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from digifit.errors import DesignError, LonelyPSUError
from digifit.stats.replicates import (
    ReplicateFactors,
    ReplicateSpec,
    hadamard,
    replicate_factors,
    supplied_replicates,
)

pytestmark = pytest.mark.peers

SCRIPT = Path(__file__).with_name("make_replicates_reference.R")
NO_R = "Rscript not found on PATH: install R and its survey package (make sysdeps) to compare with R"
EXACT = 1e-12
REL_SE = 1e-10


@dataclass(frozen=True)
class ReplicatesReference:
    """What make_replicates_reference.R produced: its output directory and the parsed replicates.json."""

    directory: Path
    meta: dict[str, Any]
    designs: dict[str, dict[str, Any]]
    hadamard: list[dict[str, Any]]
    taylor: dict[str, dict[str, float]]
    supplied: dict[str, dict[str, Any]]
    cases: dict[str, dict[str, Any]]


@functools.cache
def load_replicates_reference() -> ReplicatesReference | None:
    """Run make_replicates_reference.R into a fresh temporary directory (once per process); None without R."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    directory = Path(tempfile.mkdtemp(prefix="digifit-r-replicates-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    proc = subprocess.run(
        [rscript, "--vanilla", str(SCRIPT), str(directory)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{SCRIPT.name} failed with exit code {proc.returncode}; is r-cran-survey installed?\n"
            f"--- stderr ---\n{proc.stderr[-4000:]}"
        )
    raw = json.loads((directory / "replicates.json").read_text(encoding="utf-8"))
    return ReplicatesReference(
        directory=directory,
        meta=raw["meta"],
        designs=raw["designs"],
        hadamard=raw["hadamard"],
        taylor=raw["taylor"],
        supplied={c["id"]: c for c in raw["supplied"]},
        cases={c["id"]: c for c in raw["cases"]},
    )


@pytest.fixture(scope="module")
def r_replicates() -> ReplicatesReference:
    """The parsed replicates.json and the directory holding the exported CSVs."""
    ref = load_replicates_reference()
    if ref is None:
        pytest.skip(NO_R)
    return ref


@dataclass(frozen=True)
class PSUs:
    """A design's PSUs numbered as digifit's Structure numbers them, and the PSU totals of the api00 sums."""

    row_psu: np.ndarray  # data row -> PSU column
    psu_stratum: np.ndarray  # PSU column -> stratum code
    psu_popsize: np.ndarray | None
    labels: tuple
    s_wy: np.ndarray  # PSU totals of w * api00
    s_w: np.ndarray  # PSU totals of w


@functools.cache
def _psus(directory: str, design_json: str) -> PSUs:
    spec = json.loads(design_json)
    with open(Path(directory) / spec["data"], newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    strata = [r[spec["strata"]] if spec["strata"] else "" for r in rows]
    ids = [int(r[spec["ids"][0]]) for r in rows]
    keys = sorted(set(zip(strata, ids)))
    index = {k: j for j, k in enumerate(keys)}
    labels = tuple(sorted(set(strata)))
    row_psu = np.array([index[k] for k in zip(strata, ids)])
    psu_stratum = np.array([labels.index(s) for s, _ in keys])
    w = np.array([float(r[spec["weights"]]) for r in rows])
    y = np.array([float(r["api00"]) for r in rows])
    popsize = None
    if spec["fpc"]:
        fpc = np.array([float(r[spec["fpc"]]) for r in rows])
        popsize = np.zeros(len(keys))
        popsize[row_psu] = fpc
    n = len(keys)
    return PSUs(
        row_psu=row_psu,
        psu_stratum=psu_stratum,
        psu_popsize=popsize,
        labels=labels,
        s_wy=np.bincount(row_psu, weights=w * y, minlength=n),
        s_w=np.bincount(row_psu, weights=w, minlength=n),
    )


def psus_for(ref: ReplicatesReference, design: str) -> PSUs:
    return _psus(str(ref.directory), json.dumps(ref.designs[design], sort_keys=True))


def build(ref: ReplicatesReference, case: dict[str, Any], *, mse: bool = False, seed: int | None = 1):
    p = psus_for(ref, case["design"])
    spec = ReplicateSpec(
        type=case["type"],
        replicates=None if case["replicates"] is None else int(case["replicates"]),
        fay_rho=case["fay_rho"],
        seed=seed,
        mse=mse,
    )
    rf = replicate_factors(
        spec, p.psu_stratum, psu_popsize=p.psu_popsize, lonely_psu=case["lonely_psu"], stratum_labels=p.labels
    )
    return p, rf


DETERMINISTIC = [
    "jk1",
    "jk1_fpc",
    "jkn",
    "jkn_fpc",
    "jkn_lonely_remove",
    "jkn_lonely_certainty",
    "jkn_lonely_adjust",
    "jkn_lonely_average",
    "brr",
    "fay",
    "brr20",
    "fay20",
    "brrsplit",
]
RANDOM = ["bootstrap", "bootstrap_fpc", "bootstrap_clus1", "subbootstrap"]


def r_psu_factors(case: dict[str, Any], p: PSUs) -> np.ndarray:
    """R's row × replicate factor matrix collapsed to replicates × PSUs (checking rows of a PSU agree)."""
    rows = np.asarray(case["factors"], dtype=float)  # (n_rows, R)
    out = np.empty((rows.shape[1], p.psu_stratum.size))
    out[:, p.row_psu] = rows.T
    assert np.allclose(out[:, p.row_psu], rows.T, rtol=0, atol=0), "R gives rows of one PSU different factors"
    return out


# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case_id", DETERMINISTIC)
def test_factors_scale_rscales_equal_r(r_replicates, case_id):
    case = r_replicates.cases[case_id]
    p, rf = build(r_replicates, case)
    expected = r_psu_factors(case, p)
    assert rf.factors.shape == expected.shape
    np.testing.assert_allclose(rf.factors, expected, rtol=0, atol=EXACT)
    # and row by row, as R would apply them
    np.testing.assert_allclose(rf.factors[:, p.row_psu].T, np.asarray(case["factors"]), rtol=0, atol=EXACT)
    assert rf.scale == pytest.approx(case["scale"], rel=EXACT)
    np.testing.assert_allclose(rf.rscales, case["rscales"], rtol=EXACT, atol=0)
    assert rf.type == case["r_type"].lower()


@pytest.mark.parametrize("case_id", DETERMINISTIC)
@pytest.mark.parametrize("mse", [False, True], ids=["mean-centred", "mse"])
def test_total_and_mean_se_equal_r(r_replicates, case_id, mse):
    case = r_replicates.cases[case_id]
    p, rf = build(r_replicates, case, mse=mse)
    total = p.s_wy.sum()
    assert total == pytest.approx(case["total"], rel=1e-12)
    t_r = rf.factors @ p.s_wy
    se_total = float(np.sqrt(rf.variance(t_r, total)))
    assert se_total == pytest.approx(case["total_se_mse" if mse else "total_se"], rel=REL_SE)
    mean = total / p.s_w.sum()
    m_r = t_r / (rf.factors @ p.s_w)
    se_mean = float(np.sqrt(rf.variance(m_r, mean)))
    assert se_mean == pytest.approx(case["mean_se_mse" if mse else "mean_se"], rel=REL_SE)
    # both at once, as an (R, 2) array, and the covariance diagonal
    both = rf.variance(np.column_stack([t_r, m_r]), np.array([total, mean]))
    np.testing.assert_allclose(np.sqrt(both), [se_total, se_mean], rtol=1e-12)
    cov = rf.covariance(np.column_stack([t_r, m_r]), np.array([total, mean]))
    np.testing.assert_allclose(np.diag(cov), both, rtol=1e-12)


@pytest.mark.parametrize("case_id", DETERMINISTIC + RANDOM)
def test_degf_equals_r(r_replicates, case_id):
    case = r_replicates.cases[case_id]
    p = psus_for(r_replicates, case["design"])
    if case["random"]:  # R's draws: check the rank rule on R's own factors
        rf = ReplicateFactors(r_psu_factors(case, p), case["scale"], np.asarray(case["rscales"]), False, case["type"])
    else:
        _, rf = build(r_replicates, case)
    assert rf.degf() == case["degf"]


@pytest.mark.parametrize("case_id", RANDOM)
def test_bootstrap_scale_equals_r(r_replicates, case_id):
    case = r_replicates.cases[case_id]
    _, rf = build(r_replicates, case)
    assert rf.n_replicates == case["n_replicates"]
    assert rf.scale == pytest.approx(case["scale"], rel=EXACT)
    np.testing.assert_allclose(rf.rscales, case["rscales"], rtol=0, atol=0)


@pytest.mark.parametrize("case_id", RANDOM)
@pytest.mark.parametrize("mse", [False, True], ids=["mean-centred", "mse"])
def test_variance_on_r_own_bootstrap_factors_equals_r(r_replicates, case_id, mse):
    case = r_replicates.cases[case_id]
    p = psus_for(r_replicates, case["design"])
    rf = ReplicateFactors(r_psu_factors(case, p), case["scale"], np.asarray(case["rscales"]), mse, case["type"])
    total = p.s_wy.sum()
    t_r = rf.factors @ p.s_wy
    assert float(np.sqrt(rf.variance(t_r, total))) == pytest.approx(
        case["total_se_mse" if mse else "total_se"], rel=REL_SE
    )
    m_r = t_r / (rf.factors @ p.s_w)
    assert float(np.sqrt(rf.variance(m_r, total / p.s_w.sum()))) == pytest.approx(
        case["mean_se_mse" if mse else "mean_se"], rel=REL_SE
    )


@pytest.mark.parametrize("case_id", RANDOM)
def test_bootstrap_draws_have_r_structure(r_replicates, case_id):
    """Our draws and R's have the same per-stratum sums (n_h, or n_h with fpc; n_h for subbootstrap too)."""
    case = r_replicates.cases[case_id]
    p, rf = build(r_replicates, case)
    ours = rf.factors
    theirs = r_psu_factors(case, p)
    for h in np.unique(p.psu_stratum):
        cols = p.psu_stratum == h
        np.testing.assert_allclose(ours[:, cols].sum(axis=1), theirs[:, cols].sum(axis=1)[0], rtol=1e-12)
        np.testing.assert_allclose(theirs[:, cols].sum(axis=1), theirs[0, cols].sum(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["bootstrap", "subbootstrap"])
@pytest.mark.parametrize("design", ["clus1", "strat_dnum"])
def test_bootstrap_se_within_10_percent_of_taylor_at_1000_replicates(r_replicates, kind, design):
    """Issue 5: the bootstrap SE is within 10 % of R's with-replacement Taylor SE at 1,000 replicates."""
    p = psus_for(r_replicates, design)
    rf = replicate_factors(ReplicateSpec(kind, replicates=1000, seed=20261126), p.psu_stratum)
    total = p.s_wy.sum()
    t_r = rf.factors @ p.s_wy
    se_total = float(np.sqrt(rf.variance(t_r, total)))
    se_mean = float(np.sqrt(rf.variance(t_r / (rf.factors @ p.s_w), total / p.s_w.sum())))
    taylor = r_replicates.taylor[design]
    assert se_total == pytest.approx(taylor["total_se"], rel=0.10)
    assert se_mean == pytest.approx(taylor["mean_se"], rel=0.10)


SUPPLIED = ["brr", "fay", "jk1", "jk1_scale", "jkn", "bootstrap", "bootstrap_scale", "acs", "sdr", "jk2", "other"]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case_id", SUPPLIED)
@pytest.mark.parametrize("mse", [False, True], ids=["mean-centred", "mse"])
def test_supplied_replicate_weights_scale_like_svrepdesign(r_replicates, case_id, mse):
    """svrepdesign(repweights = JK1 analysis weights, combined.weights=TRUE, type=...): R's scale, rscales, SE."""
    case = r_replicates.supplied[case_id]

    def given(key):
        value = case[key]
        return None if value is None or value == [None] else value

    sr = supplied_replicates(
        case["type"], 15, scale=given("given_scale"), rscales=given("given_rscales"), fay_rho=given("rho"), mse=mse
    )
    assert sr.scale == pytest.approx(case["scale"], rel=EXACT)
    np.testing.assert_allclose(sr.rscales, np.broadcast_to(case["rscales"], (15,)), rtol=EXACT)
    # the replicate totals of the supplied columns are those of the JK1 factors of apiclus1
    jk1 = r_replicates.cases["jk1"]
    p = psus_for(r_replicates, jk1["design"])
    t_r = r_psu_factors(jk1, p) @ p.s_wy
    se = float(np.sqrt(sr.variance(t_r, p.s_wy.sum())))
    assert se == pytest.approx(case["total_se_mse" if mse else "total_se"], rel=REL_SE)


def test_hadamard_equals_r(r_replicates):
    for entry in r_replicates.hadamard:
        expected = np.array([[int(c) for c in row] for row in entry["rows"]])
        got = hadamard(int(entry["n"]))
        assert got.shape == expected.shape, f"hadamard({entry['n']})"
        assert np.array_equal(got, expected), f"hadamard({entry['n']})"


def test_lonely_psu_fail_like_r(r_replicates):
    assert "only one PSU" in r_replicates.meta["lonely_error"]
    p = psus_for(r_replicates, "lonely")
    with pytest.raises(LonelyPSUError, match="stratum 'H' has only one PSU"):
        replicate_factors(ReplicateSpec("jkn"), p.psu_stratum, stratum_labels=p.labels)


def test_brr_lonely_stratum_fails_like_r(r_replicates):
    assert r_replicates.meta["brr_error"] == "Some strata have fewer than 2 PSUs"
    p = psus_for(r_replicates, "lonely")
    with pytest.raises(DesignError, match="stratum 'H' has 1"):
        replicate_factors(ReplicateSpec("brr"), p.psu_stratum, stratum_labels=p.labels)
