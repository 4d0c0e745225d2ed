"""`digifit estimate`: the JSON contract, the human table, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from digifit import stats
from digifit.cli import main

CONTRACT = ["statistic", "variable", "level", "domain", "estimate", "se", "ci_low", "ci_high", "df", "n", "deff"]


@pytest.fixture
def wave(strat_table, tmp_path) -> Path:
    path = tmp_path / "wave.parquet"
    pq.write_table(strat_table, path)
    return path


def run(*args: str):
    return CliRunner().invoke(main, ["estimate", *map(str, args)])


def test_json_contract(wave):
    result = run(
        wave,
        "--weights",
        "w",
        "--strata",
        "stratum",
        "--ids",
        "psu",
        "--mean",
        "y",
        "--total",
        "y",
        "--proportion",
        "online",
        "--ratio",
        "y:x",
        "--quantile",
        "y:0.5",
        "--by",
        "region",
        "--json",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["estimates"]
    assert all(list(r) == CONTRACT for r in rows)
    assert [r["statistic"] for r in rows] == ["mean"] * 2 + ["total"] * 2 + ["proportion"] * 4 + ["ratio"] * 2 + [
        "quantile"
    ] * 2
    d = stats.design(wave, weights="w", strata="stratum", ids="psu")
    expected = stats.mean(d, "y", by="region")
    for row, e in zip(rows[:2], expected, strict=True):
        assert row["domain"] == e.domain and row["level"] is None
        assert row["estimate"] == pytest.approx(e.estimate, rel=1e-12)
        assert row["se"] == pytest.approx(e.se, rel=1e-12)
        assert row["df"] == e.df
    assert rows[4]["level"] == 0 and rows[11]["level"] == 0.5
    assert rows[8]["variable"] == "y/x"


def test_overall_domain_is_empty_object(wave):
    result = run(wave, "--weights", "w", "--mean", "y", "--json")
    row = json.loads(result.output)["estimates"][0]
    assert row["domain"] == {} and row["n"] == 60


def test_readable_table(wave):
    result = run(wave, "--weights", "w", "--proportion", "region", "--ci-method", "logit")
    assert result.exit_code == 0
    header, _rule, *lines = result.output.splitlines()
    assert header.split()[:4] == ["statistic", "variable", "level", "domain"]
    assert len(lines) == 2 and lines[0].split()[:3] == ["proportion", "region", "north"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--weights", "nope", "--mean", "y"], "weights column 'nope' is not in the data"),
        (["--weights", "region", "--mean", "y"], "weights column 'region' has type string; expected numbers"),
        (["--strata", "stratum", "--ids", "psu", "--mean", "nope"], "analysis column 'nope' is not in the data"),
        (["--mean", "y", "--by", "region,"], "malformed column list 'region,'"),
        (["--ratio", "y", "--mean", "y"], "--ratio 'y' is malformed; expected NUM:DEN"),
        (["--quantile", "y:half"], "'half' is not a probability"),
        (["--mean", "y", "--level", "95"], "--level must be between 0 and 1"),
        (["--weights", "w"], "nothing to estimate"),
        (["--total", "y", "--ci-method", "beta"], "--ci-method beta is for proportions"),
    ],
)
def test_bad_input_exits_2_with_one_line(wave, args, message):
    result = CliRunner().invoke(main, ["estimate", str(wave), *args])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
    assert "Traceback" not in result.output


def test_lonely_psu_and_unreadable_file_through_a_real_process(wave, tmp_path):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"not parquet at all")
    exe = Path(sys.executable).with_name("digifit")
    proc = subprocess.run([exe, "estimate", bad, "--mean", "y"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("digifit: error: the data could not be read") and proc.stderr.count("\n") == 1
    lonely = tmp_path / "lonely.csv"
    lonely.write_text("h,psu,y\n1,1,2.0\n1,2,3.0\n2,3,4.0\n")
    proc = subprocess.run(
        [exe, "estimate", lonely, "--strata", "h", "--ids", "psu", "--mean", "y"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "digifit: error: Stratum (2) has only one PSU at stage 1; choose lonely_psu='remove', 'certainty', "
        "'adjust' or 'average' (R's survey.lonely.psu), or fix the strata.\n"
    )
    ok = subprocess.run(
        [exe, "estimate", wave, "--weights", "w", "--mean", "y", "--json"], capture_output=True, text=True, check=True
    )
    assert json.loads(ok.stdout)["estimates"][0]["statistic"] == "mean"
