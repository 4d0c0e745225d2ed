"""digifit.stats on the data sets R's `survey` ships, exported with R's own ``write.csv``, against R.

``make_rdata_reference.R`` runs once per module: it writes ``nhanes``, ``yrbs``, ``fpc``, ``mu284``,
``hospital`` and ``crowd`` as CSV (missing values as R writes them: ``NA``; nhanes also with ``""`` and ``"."``)
and R's numbers as ``reference.csv``. The nhanes file is also converted to Parquet here, with real nulls.

What these cases pin down (issue 17): a missing value is missing for every statistic and never a category,
whatever the marker and the file format; totals of a categorical column are per level; df is ``degf()`` of the
design the estimate is made on (the domain before na.rm drops rows; svyquantile: after); column names keep
their case (``fpc`` has ``nh`` and ``Nh``).

Tolerances as the other peer tests: estimates relative 1e-9; SE and confidence limits 1e-6; df exact.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.peers

SCRIPT = Path(__file__).with_name("make_rdata_reference.R")
REL_ESTIMATE = 1e-9
REL_SE = 1e-6

DESIGNS = {
    "nhanes": {"ids": "SDMVPSU", "strata": "SDMVSTRA", "weights": "WTMEC2YR"},
    "yrbs": {"ids": "psu", "strata": "stratum", "weights": "weight"},
    "fpc_Nh": {"ids": "psuid", "strata": "stratid", "fpc": "Nh"},
    "fpc_w": {"ids": "psuid", "strata": "stratid", "weights": "weight"},
    "mu284": {"ids": ["id1", "id2"], "fpc": ["n1", "n2"]},
    "hospital": {"ids": "hospno", "strata": "oblevel", "fpc": "tothosp", "weights": "weighta"},
    "crowd_clus": {"ids": "cluster"},
    "crowd_strat": {"ids": "cluster", "strata": "stratum"},
}

#: nhanes as R writes it: the file and the na_values digifit needs to read its missing values
NHANES_FILES = {
    "NA": ("nhanes.csv", None),
    "empty": ("nhanes_empty.csv", None),
    "dot": ("nhanes_dot.csv", ["."]),
    "parquet": ("nhanes.parquet", None),
}


@pytest.fixture(scope="module")
def rdata(tmp_path_factory):
    """Run the R script once; return (directory, {case: [rows]})."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("Rscript not found on PATH: install R and its survey package (make sysdeps)")
    out = tmp_path_factory.mktemp("r-survey-data")
    proc = subprocess.run(
        [rscript, "--vanilla", str(SCRIPT), str(out)], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"{SCRIPT.name} failed:\n{proc.stderr[-4000:]}"
    import duckdb

    from digifit.stats.backends import csv_sql

    con = duckdb.connect()
    con.execute(f"COPY ({csv_sql(str(out / 'nhanes.csv'))}) TO '{out / 'nhanes.parquet'}' (FORMAT parquet)")
    assert con.sql(f"SELECT count(*) FROM '{out / 'nhanes.parquet'}' WHERE HI_CHOL IS NULL").fetchall()[0][0] > 0
    ref: dict[str, list[dict]] = {}
    with open(out / "reference.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            ref.setdefault(row["case"], []).append(row)
    return out, ref


def _num(text: str) -> float | None:
    return None if text in ("NA", "NaN", "") else float(text)


def _label(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _design(stats, directory: Path, name: str, data: str | None = None, na_values=None):
    spec = DESIGNS[name]
    data = data or name.split("_")[0] + ".csv"
    return stats.design(str(directory / data), na_values=na_values, **spec)


def _compare(rows, expected: list[dict], case: str, *, check_ci: bool = True) -> None:
    got = {}
    for e in rows:
        dom = "" if not e.domain else _label(next(iter(e.domain.values())))
        lev = _label(e.level) if e.statistic != "glm" else e.level
        got[(lev, dom)] = e
    problems = []
    for r in expected:
        key = (r["level"], r["domain"])
        if key not in got:
            problems.append(f"{key}: no digifit row (digifit has {sorted(got)})")
            continue
        e = got[key]

        def close(name, mine, theirs, rel, key=key):
            if theirs is None:
                return
            if mine is None or not math.isclose(mine, theirs, rel_tol=rel, abs_tol=1e-12 * max(1, abs(theirs))):
                problems.append(f"{key} {name}: digifit {mine!r}, R {theirs!r}")

        close("estimate", e.estimate, _num(r["estimate"]), REL_ESTIMATE)
        close("se", e.se, _num(r["se"]), REL_SE)
        if check_ci:
            close("ci_low", e.ci_low, _num(r["ci_low"]), REL_SE)
            close("ci_high", e.ci_high, _num(r["ci_high"]), REL_SE)
        if int(float(r["df"])) != e.df:
            problems.append(f"{key} df: digifit {e.df}, R {r['df']}")
    assert len(expected) > 0, f"R gave no rows for {case}"
    assert not problems, f"{case} differs from R:\n  " + "\n  ".join(problems)


def _only(rows, level) -> list:
    return [e for e in rows if _label(e.level) == level]


# ----------------------------------------------------------------------------------------------------
# Every estimator × missing-value marker × file format, on nhanes (HI_CHOL has 706 NA) and its text twin chol

ESTIMATOR_CASES = {
    "nhanes/mean/HI_CHOL/t": lambda s, d: s.mean(d, "HI_CHOL", na_rm=True, ci_method="t"),
    "nhanes/mean/HI_CHOL/by_RIAGENDR/wald": lambda s, d: s.mean(d, "HI_CHOL", by="RIAGENDR", na_rm=True),
    "nhanes/total/HI_CHOL/t": lambda s, d: s.total(d, "HI_CHOL", na_rm=True, ci_method="t"),
    "nhanes/total/factor_HI_CHOL/t": lambda s, d: s.total(d, "HI_CHOL", categorical=True, na_rm=True, ci_method="t"),
    "nhanes/total/chol/by_RIAGENDR/t": lambda s, d: s.total(d, "chol", by="RIAGENDR", na_rm=True, ci_method="t"),
    "nhanes/proportion/HI_CHOL/wald": lambda s, d: s.proportion(d, "HI_CHOL", na_rm=True),
    "nhanes/proportion/chol/by_agecat/t": lambda s, d: s.proportion(d, "chol", by="agecat", na_rm=True, ci_method="t"),
    "nhanes/ratio/HI_CHOL/RIAGENDR/t": lambda s, d: s.ratio(d, "HI_CHOL", "RIAGENDR", na_rm=True, ci_method="t"),
    "nhanes/quantile/HI_CHOL": lambda s, d: s.quantile(d, "HI_CHOL", [0.5, 0.9], na_rm=True),
}


@pytest.mark.parametrize("marker", list(NHANES_FILES))
@pytest.mark.parametrize("case", list(ESTIMATOR_CASES))
def test_missing_values_are_missing(case, marker, rdata):
    from digifit import stats

    directory, ref = rdata
    data, na_values = NHANES_FILES[marker]
    d = _design(stats, directory, "nhanes", data, na_values)
    rows = list(ESTIMATOR_CASES[case](stats, d))
    assert all(e.level is None or _label(e.level) not in ("NA", "", ".") for e in rows), "a marker became a level"
    _compare(rows, ref[case], f"{case} [{marker}]")


@pytest.mark.parametrize("marker", list(NHANES_FILES))
def test_without_na_rm_missing_values_are_an_error(marker, rdata):
    from digifit import stats

    directory, _ = rdata
    data, na_values = NHANES_FILES[marker]
    d = _design(stats, directory, "nhanes", data, na_values)
    for call in (
        lambda: stats.proportion(d, "HI_CHOL"),
        lambda: stats.proportion(d, "chol"),
        lambda: stats.total(d, "chol"),
        lambda: stats.mean(d, "HI_CHOL"),
    ):
        with pytest.raises(stats.EstimationError, match="745 missing value"):
            call()


# ----------------------------------------------------------------------------------------------------
# Totals of categories, proportions in domains, svyciprop's methods (df = degf of the design passed)

OTHER_CASES = {
    "nhanes/total/agecat/wald": ("nhanes", lambda s, d: s.total(d, "agecat")),
    "nhanes/total/agecat/by_RIAGENDR/t": ("nhanes", lambda s, d: s.total(d, "agecat", by="RIAGENDR", ci_method="t")),
    "nhanes/total/race/by_agecat/wald": ("nhanes", lambda s, d: s.total(d, "race", by="agecat", categorical=["race"])),
    "yrbs/proportion/qn8/by_stratum/t": (
        "yrbs",
        lambda s, d: s.proportion(d, "qn8", by="stratum", na_rm=True, ci_method="t"),
    ),
    "yrbs/mean/qn8/t": ("yrbs", lambda s, d: s.mean(d, "qn8", na_rm=True, ci_method="t")),
    "fpc/mean/x/Nh": ("fpc_Nh", lambda s, d: s.mean(d, "x")),
    "fpc/total/nh/weight": ("fpc_w", lambda s, d: s.total(d, "nh")),
    "mu284/mean/y1": ("mu284", lambda s, d: s.mean(d, "y1", ci_method="t")),
    "mu284/total/y1": ("mu284", lambda s, d: s.total(d, "y1", ci_method="t")),
    "mu284/quantile/y1": ("mu284", lambda s, d: s.quantile(d, "y1", 0.5)),
    "hospital/total/births": ("hospital", lambda s, d: s.total(d, "births", ci_method="t")),
}
for _m in ("logit", "likelihood", "asin", "beta", "mean", "xlogit"):
    for _by in (None, "RIAGENDR", "agecat"):
        _id = f"nhanes/ciprop/HI_CHOL/{'' if _by is None else f'by_{_by}/'}{_m}"
        OTHER_CASES[_id] = (
            "nhanes",
            lambda s, d, m=_m, by=_by: s.proportion(d, "HI_CHOL", by=by, na_rm=True, ci_method=m),
        )
for _m in ("logit", "beta"):
    OTHER_CASES[f"yrbs/ciprop/qn8/{_m}"] = (
        "yrbs",
        lambda s, d, m=_m: s.proportion(d, "qn8", na_rm=True, ci_method=m),
    )


@pytest.mark.parametrize("case", list(OTHER_CASES))
def test_r_data_sets(case, rdata):
    from digifit import stats

    directory, ref = rdata
    design_name, call = OTHER_CASES[case]
    rows = list(call(stats, _design(stats, directory, design_name)))
    if "/ciprop/" in case:  # svyciprop gives the share of level 1
        rows = _only(rows, "1")
    _compare(rows, ref[case], case)


def test_degrees_of_freedom_keep_psus_without_values(rdata):
    """yrbs: two PSUs have no non-missing qn8; svyciprop's df is still degf(design) = 41, not 39."""
    from digifit import stats

    directory, _ = rdata
    d = _design(stats, directory, "yrbs")
    assert d.degf == 41
    assert {e.df for e in stats.proportion(d, "qn8", na_rm=True, ci_method="logit")} == {41}
    nonmissing = stats.design(
        str(directory / "yrbs.csv"), ids="psu", strata="stratum", weights="weight"
    )  # svyquantile subsets first: its df counts the PSUs with a value
    assert stats.quantile(nonmissing, "qn8", 0.5, na_rm=True)[0].df == 39


# ----------------------------------------------------------------------------------------------------
# Replicates, raking, svyglm


@pytest.mark.parametrize(
    ("case", "design_name", "kind"),
    [
        ("crowd/jk1/mean/rooms", "crowd_clus", "jk1"),
        ("crowd/jkn/mean/rooms", "crowd_strat", "jkn"),
    ],
)
def test_replicates_on_crowd(case, design_name, kind, rdata):
    from digifit import stats

    directory, ref = rdata
    d = stats.as_replicate(_design(stats, directory, design_name), kind)
    _compare(list(stats.mean(d, "rooms")), ref[case], case)


#: replicates without clusters (R: as.svrepdesign(svydesign(ids = ~0, ...)): each row its own PSU)
NOCLUS_CASES = {
    "crowd/jk1_noclus": ("crowd.csv", "jk1", "rooms", {"weights": "weight"}),
    "crowd/jkn_noclus": ("crowd.csv", "jkn", "rooms", {"weights": "weight", "strata": "stratum"}),
    "apisrs/jk1_noclus": ("apisrs.csv", "jk1", "api00", {"weights": "pw", "fpc": "fpc"}),
    "apistrat/jkn_noclus": ("apistrat.csv", "jkn", "api00", {"weights": "pw", "strata": "stype", "fpc": "fpc"}),
}


@pytest.mark.parametrize("stat", ["mean", "total"])
@pytest.mark.parametrize("case", list(NOCLUS_CASES))
def test_jackknife_without_clusters(case, stat, rdata):
    from digifit import stats

    directory, ref = rdata
    data, kind, var, spec = NOCLUS_CASES[case]
    d = stats.as_replicate(stats.design(str(directory / data), **spec), kind)
    name = f"{case}/{stat}/{var}"
    _compare(list(getattr(stats, stat)(d, var)), ref[name], name)


@pytest.mark.parametrize("case", list(NOCLUS_CASES))
def test_cli_jackknife_without_clusters(case, rdata):
    directory, ref = rdata
    data, kind, var, spec = NOCLUS_CASES[case]
    options = [a for k, v in spec.items() for a in (f"--{k}", v)]
    proc = _cli(directory, data, *options, "--variance", kind, "--mean", var, "--total", var, "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["estimates"]
    from types import SimpleNamespace

    for stat in ("mean", "total"):
        name = f"{case}/{stat}/{var}"
        _compare([SimpleNamespace(**r) for r in rows if r["statistic"] == stat], ref[name], name)


@pytest.mark.parametrize(
    ("control", "options"), [("default", {"max_iter": 10, "epsilon": 1}), ("tight", {"max_iter": 100, "epsilon": 1e-6})]
)
def test_raking_nhanes(control, options, rdata):
    from digifit import stats

    directory, ref = rdata
    d = _design(stats, directory, "nhanes")
    margins = {"agecat": str(directory / "pop_agecat.csv"), "RIAGENDR": str(directory / "pop_RIAGENDR.csv")}
    raked = stats.rake(d, margins, **options)
    case = f"nhanes/rake_{control}/mean/HI_CHOL"
    _compare(list(stats.mean(raked, "HI_CHOL", na_rm=True)), ref[case], case)


def test_svyglm_nhanes(rdata):
    from digifit import stats

    directory, ref = rdata
    fit = stats.glm(
        _design(stats, directory, "nhanes"), "HI_CHOL ~ agecat + RIAGENDR", family="quasibinomial", na_rm=True
    )
    expected = {r["level"]: r for r in ref["nhanes/glm/HI_CHOL"]}
    got = {c.term: c for c in fit.coefficients}
    assert set(got) == set(expected)
    for term, r in expected.items():
        assert math.isclose(got[term].estimate, float(r["estimate"]), rel_tol=1e-7), term
        assert math.isclose(got[term].se, float(r["se"]), rel_tol=1e-6), term
    assert fit.df_residual == int(float(expected["(Intercept)"]["df"]))


# ----------------------------------------------------------------------------------------------------
# Column names keep their case; the CLI on R's files


def test_names_differing_only_in_case(rdata):
    from digifit import stats

    directory, _ = rdata
    d = stats.design(str(directory / "fpc.csv"), ids="psuid", strata="stratid", fpc="Nh")
    assert "nh" in d.columns and "Nh" in d.columns
    assert stats.total(d, "Nh")[0].estimate != stats.total(d, "nh")[0].estimate
    with pytest.raises(stats.DesignError, match="'nh' and 'Nh'"):
        stats.design(str(directory / "fpc.csv"), ids="psuid", strata="stratid", fpc="NH")


def _cli(directory: Path, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("digifit")
    cmd = [str(exe) if exe.exists() else shutil.which("digifit"), "estimate", *args]
    return subprocess.run(cmd, cwd=directory, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("marker", ["NA", "empty", "dot", "parquet"])
def test_cli_proportion_with_na_rm(marker, rdata):
    """The issue's command: R gives 0.1121 for level 1 (the text NA used to be a third level)."""
    directory, ref = rdata
    data, na_values = NHANES_FILES[marker]
    extra = ["--na-values", ",".join(na_values)] if na_values else []
    proc = _cli(
        directory, data, "--ids", "SDMVPSU", "--strata", "SDMVSTRA", "--weights", "WTMEC2YR", "--nest",
        "--proportion", "HI_CHOL", "--na-rm", "--json", *extra,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["estimates"]
    assert [r["level"] for r in rows] == [0, 1]
    expected = {r["level"]: float(r["estimate"]) for r in ref["nhanes/proportion/HI_CHOL/wald"]}
    assert math.isclose(rows[1]["estimate"], expected["1"], rel_tol=1e-9)
    assert round(rows[1]["estimate"], 4) == 0.1121


def test_cli_total_of_categories_by_domain(rdata):
    directory, ref = rdata
    proc = _cli(
        directory, "nhanes.csv", "--ids", "SDMVPSU", "--strata", "SDMVSTRA", "--weights", "WTMEC2YR",
        "--total", "agecat", "--by", "RIAGENDR", "--ci-method", "t", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["estimates"]
    assert {r["statistic"] for r in rows} == {"total"} and all(r["level"] for r in rows)
    from types import SimpleNamespace

    _compare([SimpleNamespace(**r) for r in rows], ref["nhanes/total/agecat/by_RIAGENDR/t"], "cli total agecat")


def test_cli_fpc_column_by_exact_case(rdata):
    directory, ref = rdata
    proc = _cli(directory, "fpc.csv", "--ids", "psuid", "--strata", "stratid", "--fpc", "Nh", "--mean", "x", "--json")
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["estimates"]
    assert math.isclose(row["se"], float(ref["fpc/mean/x/Nh"][0]["se"]), rel_tol=1e-6)
    proc = _cli(directory, "fpc.csv", "--ids", "psuid", "--strata", "stratid", "--fpc", "NH", "--mean", "x")
    assert proc.returncode == 2 and "'nh' and 'Nh'" in proc.stderr
