"""digifit.stats against R's `survey` package, one test per reference case.

The reference values come from ``make_reference.R`` (run once per session by ``conftest.py``); the R calls,
designs and conventions are in ``reference.json``'s ``designs``/``meta`` and in ``docs/r-survey-notes.md``.

Tolerances: estimates relative 1e-9; SE, confidence limits and deff relative 1e-6; df and n exact. A value
R gives as NA (for example a lonely-PSU domain under ``"average"`` with no other stratum to average over)
must be None or NaN in digifit.

Categories and domain values are compared as DuckDB reads the exported CSV: ``stype`` stays a string,
``sch.wide`` (Yes/No) stays a string (digifit reads CSV without boolean inference).
"""

from __future__ import annotations

import functools
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytestmark = pytest.mark.peers

REL_ESTIMATE = 1e-9
REL_SE = 1e-6
REL_CI = 1e-6
REL_DEFF = 1e-6

JSON_KEYS = {
    *("statistic", "variable", "level", "domain"),
    *("estimate", "se", "ci_low", "ci_high", "df", "n", "deff"),
}


# ----------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def stats():
    """``digifit.stats``, imported here so that an unfinished package fails the tests, not the collection."""
    from digifit import stats as module

    return module


@pytest.fixture(scope="session")
def design_for(stats, r_reference):
    """Build (once) the digifit design that mirrors the R design of that name."""

    @functools.cache
    def build(name: str):
        spec = r_reference.designs[name]
        return stats.design(
            str(r_reference.directory / spec["data"]),
            weights=spec["weights"],
            strata=spec["strata"],
            ids=spec["ids"],
            fpc=spec["fpc"],
            lonely_psu=spec["lonely_psu"],
        )

    return build


@functools.cache
def _duckdb_types(csv_path: str) -> dict[str, str]:
    import duckdb

    from digifit.stats.backends import csv_sql

    rel = duckdb.connect().sql(csv_sql(csv_path))
    return {col: str(typ) for col, typ in zip(rel.columns, rel.types, strict=True)}


@functools.cache
def _as_duckdb_reads(csv_path: str, column: str, value: str) -> Any:
    """R's value (a string) as DuckDB types it when it reads that column of the CSV."""
    import duckdb

    typ = _duckdb_types(csv_path)[column]
    return duckdb.connect().execute(f"SELECT CAST(? AS {typ})", [value]).fetchone()[0]


# ----------------------------------------------------------------------------------------------------
# Matching digifit rows to R rows


def _variable(case: dict[str, Any]) -> str:
    if case["statistic"] == "ratio":
        return f"{case['numerator']}/{case['denominator']}"
    return case["variable"]


def _level_key(level: Any) -> Any:
    if isinstance(level, float):
        return round(level, 12)
    return level


def _key(level: Any, domain: dict[str, Any]) -> tuple[Any, tuple[tuple[str, Any], ...]]:
    return _level_key(level), tuple(sorted(domain.items()))


def _expected_key(row: dict[str, Any], case: dict[str, Any], csv_path: str) -> tuple:
    level = row["level"]
    if case["statistic"] == "proportion":
        level = _as_duckdb_reads(csv_path, case["variable"], level)
    domain = {col: _as_duckdb_reads(csv_path, col, value) for col, value in row["domain"].items()}
    return _key(level, domain)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _zero_variance_noise(mine: Any, theirs: Any, scale: float) -> bool:
    """True when R's SE is (close to) 0 and digifit's is the square root of rounding noise.

    A variance that is 0 in exact arithmetic (a stratum's share in a design stratified by it) comes out as
    ~1e-18 from sums of squares; its square root, ~1e-9, is not a relative-1e-6 disagreement.
    """
    if _is_missing(mine) or theirs is None:
        return False
    return abs(mine * mine - theirs * theirs) <= 1e-15 * scale * scale


def _compare(got: Any, row: dict[str, Any], case: dict[str, Any]) -> list[str]:
    """Every difference between one digifit row and R's, as readable lines (empty when they agree)."""
    problems: list[str] = []
    scale = max(1.0, abs(row["estimate"])) if row["estimate"] is not None else 1.0

    def close(name: str, mine: Any, theirs: Any, rel: float, abs_tol: float) -> None:
        if theirs is None:
            if not _is_missing(mine):
                problems.append(f"{name}: R gives NA, digifit {mine!r}")
            return
        if _is_missing(mine) or not math.isclose(mine, theirs, rel_tol=rel, abs_tol=abs_tol):
            rel_diff = None if _is_missing(mine) else abs(mine - theirs) / max(abs(theirs), 1e-300)
            diff = "" if rel_diff is None else f" (rel. diff {rel_diff:.2e})"
            problems.append(f"{name}: digifit {mine!r}, R {theirs!r}{diff}")

    if got.statistic != case["statistic"]:
        problems.append(f"statistic: digifit {got.statistic!r}, expected {case['statistic']!r}")
    if got.variable != _variable(case):
        problems.append(f"variable: digifit {got.variable!r}, expected {_variable(case)!r}")
    close("estimate", got.estimate, row["estimate"], REL_ESTIMATE, 1e-12 * scale)
    if not (_zero_variance_noise(got.se, row["se"], scale)):
        close("se", got.se, row["se"], REL_SE, 1e-10 * scale)
    close("ci_low", got.ci_low, row["ci_low"], REL_CI, 1e-10 * scale)
    close("ci_high", got.ci_high, row["ci_high"], REL_CI, 1e-10 * scale)
    close("deff", got.deff, row["deff"], REL_DEFF, 1e-9)
    if got.df != row["df"]:
        problems.append(f"df: digifit {got.df!r}, R {row['df']!r}")
    if got.n != row["n"]:
        problems.append(f"n: digifit {got.n!r}, R {row['n']!r}")
    return problems


def _check_against_reference(rows: list[Any], case: dict[str, Any], csv_path: str) -> None:
    got = {}
    for est in rows:
        key = _key(est.level, dict(est.domain))
        assert key not in got, f"digifit returned two rows for level/domain {key}"
        got[key] = est
    problems: list[str] = []
    expected_keys = set()
    for row in case["rows"]:
        key = _expected_key(row, case, csv_path)
        expected_keys.add(key)
        if key not in got:
            problems.append(f"{key}: no digifit row; digifit has {sorted(got, key=repr)}")
            continue
        problems += [f"{key}: {p}" for p in _compare(got[key], row, case)]
    for key, est in got.items():
        # R omits a level absent from a domain; digifit may report it with an estimate of 0.
        if key not in expected_keys and not (case["statistic"] == "proportion" and est.estimate == 0):
            problems.append(f"{key}: digifit row not in R's output")
    assert not problems, f"{case['id']} differs from R survey:\n  " + "\n  ".join(problems)


def _run_python(stats, design, case: dict[str, Any]):
    options = {
        "by": case["by"] or None,
        "na_rm": case["na_rm"],
        "ci_method": case["ci_method"],
        "level": case["level"],
    }
    statistic = case["statistic"]
    if statistic == "mean":
        return stats.mean(design, case["variable"], **options)
    if statistic == "total":
        return stats.total(design, case["variable"], **options)
    if statistic == "proportion":
        return stats.proportion(design, case["variable"], **options)
    if statistic == "ratio":
        return stats.ratio(design, case["numerator"], case["denominator"], **options)
    if statistic == "quantile":  # always Woodruff with a t interval on the design df, as R's default
        del options["ci_method"]
        return stats.quantile(design, case["variable"], case["probs"], **options)
    raise AssertionError(f"unknown statistic {statistic!r} in reference.json")


# ----------------------------------------------------------------------------------------------------
# The Python API: every case


def test_python_api_matches_r(r_case, r_reference, stats, design_for):
    design = design_for(r_case["design"])
    result = _run_python(stats, design, r_case)
    csv_path = str(r_reference.directory / r_reference.designs[r_case["design"]]["data"])
    _check_against_reference(list(result), r_case, csv_path)


# ----------------------------------------------------------------------------------------------------
# Other inputs: the same numbers from pandas and polars frames


@pytest.mark.parametrize("frame", ["pandas", "polars"])
@pytest.mark.parametrize("case_id", ["strat/mean/api00/by_stype/t", "clus2/ratio/api00/api99/t"])
def test_dataframe_input_matches_r(frame, case_id, r_reference, stats):
    lib = pytest.importorskip(frame)
    case = r_reference.case(case_id)
    spec = r_reference.designs[case["design"]]
    path = r_reference.directory / spec["data"]
    data = lib.read_csv(path)
    design = stats.design(
        data,
        weights=spec["weights"],
        strata=spec["strata"],
        ids=spec["ids"],
        fpc=spec["fpc"],
        lonely_psu=spec["lonely_psu"],
    )
    # stype is a string in every reader, so the DuckDB-typed key is also the frame's.
    _check_against_reference(list(_run_python(stats, design, case)), case, str(path))


# ----------------------------------------------------------------------------------------------------
# Lonely PSU under "fail"


def test_lonely_psu_fail_raises(r_reference, stats):
    spec = r_reference.designs["lonely_remove"]
    assert "only one PSU" in r_reference.meta["lonely_fail_error"]  # R refuses too
    with pytest.raises(stats.LonelyPSUError, match=r"\bH\b"):  # R names the stratum too; when is up to digifit
        design = stats.design(
            str(r_reference.directory / spec["data"]),
            weights=spec["weights"],
            strata=spec["strata"],
            ids=spec["ids"],
            fpc=spec["fpc"],
            lonely_psu="fail",
        )
        stats.mean(design, "api00")


# ----------------------------------------------------------------------------------------------------
# The CLI: a few cases through `digifit estimate ... --json`

CLI_CASES = [
    "srs/mean/api00/wald",
    "strat/total/enroll/by_stype/wald",
    "clus1/mean/acs.k3/wald",
    "clus1/proportion/sch.wide/by_stype/logit",
    "clus2/quantile/api00/t",
    "clus2/mean/api00/by_stype+sch.wide/wald",
    "lonely_adjust/ratio/api00/api99/t",
    "srs/proportion/sch.wide/wilson",
]


def _digifit_executable() -> str:
    local = Path(sys.executable).with_name("digifit")
    if local.exists():
        return str(local)
    found = shutil.which("digifit")
    assert found, "the digifit command is not installed (pip install -e .)"
    return found


def _cli_args(spec: dict[str, Any], case: dict[str, Any]) -> list[str]:
    args = ["estimate", spec["data"]]
    if spec["weights"]:
        args += ["--weights", spec["weights"]]
    if spec["strata"]:
        args += ["--strata", spec["strata"]]
    if spec["ids"]:
        args += ["--ids", ",".join(spec["ids"])]
    if spec["fpc"]:
        args += ["--fpc", ",".join(spec["fpc"])]
    if spec["lonely_psu"] != "fail":
        args += ["--lonely-psu", spec["lonely_psu"]]
    statistic = case["statistic"]
    if statistic == "ratio":
        args += ["--ratio", f"{case['numerator']}:{case['denominator']}"]
    elif statistic == "quantile":
        for p in case["probs"]:
            args += ["--quantile", f"{case['variable']}:{p!r}"]
    else:
        args += [f"--{statistic}", case["variable"]]
    if case["by"]:
        args += ["--by", ",".join(case["by"])]
    if statistic != "quantile":
        args += ["--ci-method", case["ci_method"]]
    args += ["--level", repr(case["level"])]
    if case["na_rm"]:
        args.append("--na-rm")
    return [*args, "--json"]


@pytest.mark.parametrize("case_id", CLI_CASES)
def test_cli_json_matches_r(case_id, r_reference):
    case = r_reference.case(case_id)
    spec = r_reference.designs[case["design"]]
    cmd = [_digifit_executable(), *_cli_args(spec, case)]
    proc = subprocess.run(cmd, cwd=r_reference.directory, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd[1:])} exited {proc.returncode}:\n{proc.stderr}"
    payload = json.loads(proc.stdout)
    assert list(payload) == ["estimates"], f"top-level keys {list(payload)}"
    rows = payload["estimates"]
    assert isinstance(rows, list) and rows, "no estimates"
    for row in rows:
        assert set(row) == JSON_KEYS, f"row keys {sorted(row)}; expected {sorted(JSON_KEYS)}"
        assert isinstance(row["domain"], dict)
        assert isinstance(row["n"], int) and not isinstance(row["n"], bool)
    _check_against_reference([SimpleNamespace(**row) for row in rows], case, str(r_reference.directory / spec["data"]))
