"""Weighting and replicate variance against R's survey: postStratify, rake, calibrate (linear, bounded, raking,
logit), trimWeights, and JK1/JKn/BRR/Fay replicate designs calibrated again in every replicate, plus R's own
bootstrap replicate weights supplied as columns. Estimates to 1e-9 (relative), SEs to 1e-6.

The references come from ``make_weighting_reference.R``, run once per session.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from digifit import stats

HERE = Path(__file__).parent
TOTALS = {"stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069}


@pytest.fixture(scope="session")
def weighting_reference(tmp_path_factory):
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed (make test installs r-base-core and r-cran-survey)")
    out = tmp_path_factory.mktemp("weighting")
    subprocess.run(["Rscript", str(HERE / "make_weighting_reference.R"), str(out)], check=True, capture_output=True)
    return out, json.loads((out / "weighting.json").read_text())


def _design(ref: Path, name: str, weighting: str, variance: str):
    if name == "clus1":
        d = stats.design(ref / "apiclus1.csv", ids="dnum", weights="pw", fpc="fpc")
    elif name == "strat":
        d = stats.design(ref / "apistrat.csv", strata="stype", weights="pw", fpc="fpc")
    elif name == "pairs":
        d = stats.design(ref / "apipairs.csv", ids="dnum", strata="pair", weights="pw")
    else:
        d = stats.design(ref / "apiclus1_boot.csv", weights="pw", repweights="^boot_", rep_type="bootstrap")
    if variance in ("jk1", "jkn", "brr", "fay"):
        d = stats.as_replicate(d, variance, fay_rho=0.3 if variance == "fay" else 0.0)
    types, schwide = ref / "pop_types.csv", ref / "pop_schwide.csv"
    if weighting == "ps":
        d = stats.poststratify(d, "stype", types)
    elif weighting == "rake":  # R's rake without control: maxit 10, epsilon 1
        d = stats.rake(d, [("stype", types), ("sch.wide", schwide)], epsilon=1, max_iter=10)
    elif weighting == "rake_tight":  # R's control=list(epsilon=1e-10, maxit=100); digifit's default
        d = stats.rake(d, [("stype", types), ("sch.wide", schwide)])
    elif weighting == "linear":
        d = stats.calibrate(d, ["stype", "api99"], TOTALS)
    elif weighting == "linear_bounded":
        d = stats.calibrate(d, ["stype", "api99"], TOTALS, bounds=(0.7, 1.7))
    elif weighting == "raking":
        d = stats.calibrate(d, ["stype", "api99"], TOTALS, calfun="raking")
    elif weighting == "logit":
        d = stats.calibrate(d, ["stype", "api99"], TOTALS, calfun="logit", bounds=(0.7, 1.7))
    elif weighting == "trim":
        d = stats.trim_weights(d, lower=10, upper=40)
    return d


def _digifit(d, case):
    stat, variable, by = case["statistic"], case["variable"], case["by"]
    if stat == "mean":
        rows = stats.mean(d, variable, by=by.split("=")[0] if by else None)
        if by:
            rows = [e for e in rows if str(e.domain[by.split("=")[0]]) == by.split("=")[1]]
    elif stat == "total":
        rows = stats.total(d, variable)
    elif stat == "ratio":
        rows = stats.ratio(d, *variable.split("/"))
    else:
        col, level = variable.split("=")
        rows = [e for e in stats.proportion(d, col) if str(e.level) == level]
    assert len(rows) == 1, case
    return rows[0]


@pytest.mark.peers
def test_weighting_and_replicates_match_r(weighting_reference):
    ref, data = weighting_reference
    failures = []
    designs: dict = {}
    for case in data["cases"]:
        key = (case["design"], case["weighting"], case["variance"])
        if key not in designs:
            designs[key] = _design(ref, *key)
        e = _digifit(designs[key], case)
        label = f"{key} {case['statistic']} {case['variable']} {case['by']}"
        if e.estimate != pytest.approx(case["estimate"], rel=1e-9):
            failures.append(f"{label}: estimate {e.estimate!r} vs R {case['estimate']!r}")
        if case["se"] is None:  # R gives NA (e.g. a share of 1 in every replicate); digifit NaN or 0
            if not (e.se != e.se or e.se == 0):
                failures.append(f"{label}: SE {e.se!r} vs R NA")
        elif e.se != pytest.approx(case["se"], rel=1e-6, abs=1e-9):
            failures.append(f"{label}: SE {e.se!r} vs R {case['se']!r}")
    assert not failures, "\n".join(failures[:20]) + f"\n({len(failures)} differences)"
    assert len(data["cases"]) > 150  # every design × weighting × statistic made it into the reference


@pytest.mark.peers
@pytest.mark.parametrize(
    ("weighting", "control"), [("rake", ["--rake-epsilon", "1", "--rake-maxit", "10"]), ("rake_tight", [])]
)
def test_cli_rake_with_jackknife_matches_r(weighting_reference, weighting, control):
    """R's default control reproduced with --rake-epsilon/--rake-maxit; digifit's default is R's tight control."""
    ref, data = weighting_reference
    case = next(
        c
        for c in data["cases"]
        if (c["design"], c["weighting"], c["variance"], c["statistic"], c["by"])
        == ("clus1", weighting, "jk1", "mean", None)
    )
    exe = Path(sys.executable).with_name("digifit")
    proc = subprocess.run(
        [
            exe,
            "estimate",
            ref / "apiclus1.csv",
            "--ids",
            "dnum",
            "--weights",
            "pw",
            "--fpc",
            "fpc",
            "--rake",
            f"stype={ref / 'pop_types.csv'}",
            "--rake",
            f"sch.wide={ref / 'pop_schwide.csv'}",
            *control,
            "--variance",
            "jk1",
            "--mean",
            "api00",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    row = json.loads(proc.stdout)["estimates"][0]
    assert row["estimate"] == pytest.approx(case["estimate"], rel=1e-9)
    assert row["se"] == pytest.approx(case["se"], rel=1e-6)


@pytest.mark.peers
def test_tight_raking_differs_from_r_default(weighting_reference):
    """The two controls really give different numbers (else the tight cases would prove nothing)."""
    _, data = weighting_reference
    by_key = {
        (c["design"], c["weighting"], c["variance"], c["statistic"], c["variable"], c["by"]): c for c in data["cases"]
    }
    loose = by_key[("strat", "rake", "taylor", "total", "enroll", None)]["estimate"]
    tight = by_key[("strat", "rake_tight", "taylor", "total", "enroll", None)]["estimate"]
    assert abs(loose - tight) > 1e-8 * abs(tight)


@pytest.mark.peers
def test_bootstrap_without_clusters_variance_equals_r(weighting_reference, tmp_path):
    """apistrat (ids=~1, strata stype): digifit's Rao–Wu and Canty–Davison replicates of the rows, exported as
    replicate weights and given to R's svrepdesign(type="bootstrap", scale=, rscales=1): the same SEs to 1e-12
    (R's bootstrap draws its own random numbers, so R is fed digifit's draws). R's own as.svrepdesign on the
    same design has the same scale and the same number of draws per stratum."""
    import pyarrow.csv as pacsv

    from digifit.stats.export import weighted_table

    ref, _ = weighting_reference
    base = stats.design(ref / "apistrat.csv", strata="stype", weights="pw", fpc="fpc")
    designs, args = {}, []
    for kind in ("bootstrap", "canty-davison"):
        d = stats.as_replicate(base, kind, replicates=20, seed=16)
        designs[f"{kind}.csv"] = d
        table = base.execute(weighted_table(d, replicate_weights=True).drop("weight"))
        pacsv.write_csv(table, tmp_path / f"{kind}.csv")
        args += [str(tmp_path / f"{kind}.csv"), repr(d.replicate.scale)]
    proc = subprocess.run(
        ["Rscript", str(HERE / "check_bootstrap_noclus.R"), *args], check=True, capture_output=True, text=True
    )
    lines = [line.split() for line in proc.stdout.splitlines()]
    compared = 0
    for name, stat, domain, estimate, se in (x for x in lines if x[0] != "R"):
        d = designs[name]
        if stat == "total":
            (e,) = stats.total(d, "enroll", na_rm=True)
        elif domain == "-":
            (e,) = stats.mean(d, "api00")
        else:
            (e,) = [x for x in stats.mean(d, "api00", by="sch.wide") if x.domain["sch.wide"] == domain]
        assert e.estimate == pytest.approx(float(estimate), rel=1e-12), (name, stat, domain)
        assert e.se == pytest.approx(float(se), rel=1e-12), (name, stat, domain)
        compared += 1
    assert compared == 2 * 4
    own = {x[1]: x for x in lines if x[0] == "R"}
    rao_wu, canty = designs["bootstrap.csv"].replicate, designs["canty-davison.csv"].replicate
    assert float(own["subbootstrap"][3]) == pytest.approx(rao_wu.scale, rel=1e-15)
    assert float(own["bootstrap"][3]) == pytest.approx(canty.scale, rel=1e-15)
    assert own["subbootstrap"][7] == own["bootstrap"][7] == "TRUE"
