"""The same estimates on Spark as on DuckDB: every estimator, three kinds of design, the CLI, R's api data.

One local Spark session (``local[2]``, two shuffle partitions) serves the module; its teardown stops the session
and the JVM pyspark started. Spark sums in another order than DuckDB, so numbers agree to rounding: estimates
and standard errors within 1e-9 relative; counts and degrees of freedom exactly.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from digifit import stats
from digifit.cli import main
from digifit.demo.synthetic import stratified_cluster_sample

pytest.importorskip("pyspark", reason="the Spark engine needs the 'spark' extra (pip install -e '.[spark]')")

from digifit.stats.spark import SparkSource, read_spark, spark_session, stop_session

pytestmark = pytest.mark.slow

REL = 1e-9
FIELDS = ("estimate", "se", "ci_low", "ci_high", "deff")


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]", app_name="digifit-tests")
    jvm = session.sparkContext._gateway.proc
    yield session
    stop_session(session)
    assert jvm is None or jvm.poll() is not None, "the Spark JVM is still running after the tests"


@pytest.fixture(scope="module")
def wave(tmp_path_factory) -> Path:
    """A stratified two-stage sample (20 strata, 1,000 PSUs, fpc) with some missing revenue values."""
    table = stratified_cluster_sample(20_000, seed=11)
    n = table.num_rows
    rng = np.random.default_rng(5)
    revenue = table["revenue_change"].to_numpy()
    missing = rng.uniform(size=n) < 0.02
    table = table.set_column(
        table.schema.get_field_index("revenue_change"), "revenue_change", pa.array(revenue, mask=missing)
    )
    table = table.append_column("employees", pa.array(np.round(rng.lognormal(2.0, 1.0, n)) + 1))
    path = tmp_path_factory.mktemp("spark") / "wave.parquet"
    pq.write_table(table, path, row_group_size=5_000)
    return path


DESIGNS = {
    "stratified cluster with fpc": {"weights": "weight", "strata": "stratum", "ids": "psu", "fpc": "fpc"},
    "rows as PSUs": {"weights": "weight", "strata": "stratum"},
    "weights implied by the fpc": {"strata": "stratum", "ids": "psu", "fpc": "fpc"},
}

ESTIMATES = {
    "mean by country": lambda d: stats.mean(d, ["revenue_change", "online"], by="country", na_rm=True),
    "total by country and size": lambda d: stats.total(d, "employees", by=["country", "size"]),
    "proportion by country": lambda d: stats.proportion(d, "online", by="country", ci_method="logit"),
    "proportion, likelihood interval": lambda d: stats.proportion(d, "size", by="country", ci_method="likelihood"),
    "ratio by sector": lambda d: stats.ratio(d, "revenue_change", "employees", by="sector", na_rm=True),
    "quantiles by country": lambda d: stats.quantile(d, "revenue_change", [0.1, 0.5, 0.9], by="country", na_rm=True),
}


# every estimate on the main design; on the others, the estimates whose code differs there (cross-products when
# rows are PSUs, a join on the units when the weights are implied by the fpc)
CASES = [("stratified cluster with fpc", name) for name in ESTIMATES] + [
    ("rows as PSUs", "mean by country"),
    ("rows as PSUs", "ratio by sector"),
    ("rows as PSUs", "quantiles by country"),
    ("weights implied by the fpc", "total by country and size"),
    ("weights implied by the fpc", "proportion, likelihood interval"),
    ("weights implied by the fpc", "quantiles by country"),
]


@pytest.fixture(scope="module")
def designs(spark, wave):
    """Per design: the same design on Spark and on DuckDB (validated by the first estimate, then reused)."""
    return {
        name: (stats.design(wave, engine="spark", con=spark, validate=False, **kw), stats.design(wave, **kw))
        for name, kw in DESIGNS.items()
    }


def assert_same(spark_rows, duckdb_rows) -> None:
    assert len(spark_rows) == len(duckdb_rows) > 0
    for a, b in zip(spark_rows, duckdb_rows):
        assert (a.statistic, a.variable, a.level, a.domain) == (b.statistic, b.variable, b.level, b.domain)
        assert (a.n, a.df) == (b.n, b.df), (a, b)
        for name in FIELDS:
            x, y = getattr(a, name), getattr(b, name)
            if y is None or (isinstance(y, float) and math.isnan(y)):
                assert x is None or math.isnan(x), (name, a, b)
            else:
                assert x == pytest.approx(y, rel=REL, abs=1e-300), (name, a, b)


@pytest.mark.parametrize(("design_name", "estimate"), CASES)
def test_estimates_on_spark_equal_duckdb(designs, design_name, estimate):
    on_spark, on_duckdb = designs[design_name]
    assert isinstance(on_spark.source, SparkSource)
    assert_same(ESTIMATES[estimate](on_spark), ESTIMATES[estimate](on_duckdb))


def test_design_structure_on_spark_equals_duckdb(designs):
    on_spark, on_duckdb = designs["stratified cluster with fpc"]
    assert on_spark.degf == on_duckdb.degf == 1000 - 20
    assert on_spark.structure.n_rows == on_duckdb.structure.n_rows == 20_000


def test_cli_engine_spark_equals_duckdb(spark, wave):
    args = ["estimate", str(wave), "--weights", "weight", "--strata", "stratum", "--ids", "psu", "--fpc", "fpc"]
    args += ["--proportion", "online", "--mean", "revenue_change", "--quantile", "revenue_change:0.5"]
    args += ["--by", "country", "--na-rm", "--json"]
    runner = CliRunner()
    on_spark = runner.invoke(main, [*args, "--engine", "spark"])
    on_duckdb = runner.invoke(main, [*args, "--engine", "duckdb"])
    assert on_spark.exit_code == 0, on_spark.output
    assert on_duckdb.exit_code == 0, on_duckdb.output
    a, b = json.loads(on_spark.stdout)["estimates"], json.loads(on_duckdb.stdout)["estimates"]
    assert len(a) == len(b) == 2 * 3 + 3 + 3
    for x, y in zip(a, b):
        assert list(x) == list(y)
        for key in x:
            if isinstance(y[key], float):
                assert x[key] == pytest.approx(y[key], rel=REL, abs=1e-300), (key, x, y)
            else:
                assert x[key] == y[key], (key, x, y)


def assert_same_json(a, b, where: str = "") -> None:
    """Equal JSON values, floats within REL (NaN equals NaN)."""
    if isinstance(b, dict):
        assert list(a) == list(b), where
        for key in b:
            assert_same_json(a[key], b[key], f"{where}.{key}")
    elif isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_json(x, y, f"{where}[{i}]")
    elif isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=REL, abs=1e-300), (where, a, b)
    else:
        assert a == b, (where, a, b)


def test_cli_commands_on_spark_equal_duckdb(spark, wave, tmp_path):
    """Bootstrap replicates, raking, a design-based GLM and the written weights: the same on both engines."""
    margins = tmp_path / "country.csv"
    margins.write_text("country,Freq\nDE,500000\nFR,300000\nUK,400000\n")
    design = ["--weights", "weight", "--strata", "stratum", "--ids", "psu", "--fpc", "fpc"]
    commands = {
        "bootstrap": [
            *("estimate", str(wave), *design, "--variance", "bootstrap", "--replicates", "20", "--seed", "3"),
            *("--mean", "revenue_change", "--by", "country", "--na-rm", "--json"),
        ],
        "rake": ["estimate", str(wave), *design, "--rake", f"country={margins}", "--total", "employees", "--json"],
        "glm": ["glm", str(wave), "online ~ size + employees", "--family", "quasibinomial", *design, "--json"],
    }
    runner = CliRunner()
    for name, args in commands.items():
        out = {}
        for engine in ("spark", "duckdb"):
            result = runner.invoke(main, [*args, "--engine", engine])
            assert result.exit_code == 0, (name, engine, result.output)
            out[engine] = json.loads(result.stdout)
        assert_same_json(out["spark"], out["duckdb"], name)
    written = {}
    for engine in ("spark", "duckdb"):
        path = tmp_path / f"weights_{engine}.parquet"
        args = ["weight", str(wave), *design, "--rake", f"country={margins}", "--out", str(path), "--engine", engine]
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (engine, result.output)
        written[engine] = pq.read_table(path).sort_by([("psu", "ascending"), ("employees", "ascending")])
    assert written["spark"].num_rows == written["duckdb"].num_rows == 20_000
    spark_w, duckdb_w = written["spark"]["weight"].to_numpy(), written["duckdb"]["weight"].to_numpy()
    np.testing.assert_allclose(spark_w, duckdb_w, rtol=REL)


def test_cli_engine_spark_missing_file_is_one_line(spark, tmp_path):
    result = CliRunner().invoke(main, ["estimate", str(tmp_path / "nope.parquet"), "--engine", "spark", "--mean", "y"])
    assert result.exit_code == 2
    assert "does not exist" in result.output


@pytest.mark.skipif(not hasattr(stats, "rake"), reason="rake not yet available")
def test_raked_estimate_on_spark_equals_duckdb(designs):
    on_spark, on_duckdb = designs["stratified cluster with fpc"]
    margins = {
        "country": {"DE": 450_000.0, "FR": 300_000.0, "UK": 350_000.0},
        "size": {"micro": 700_000.0, "small": 250_000.0, "medium": 110_000.0, "large": 40_000.0},
    }
    raked_spark, raked_duckdb = stats.rake(on_spark, margins), stats.rake(on_duckdb, margins)
    assert_same(
        stats.proportion(raked_spark, "online", by="country"), stats.proportion(raked_duckdb, "online", by="country")
    )
    assert_same(stats.total(raked_spark, "employees"), stats.total(raked_duckdb, "employees"))


def test_nullable_int64_keys_keep_their_values(spark, tmp_path):
    """Ibis's PySpark to_pyarrow goes through pandas: a nullable int64 became float64 and 2**60 + 1 == 2**60."""
    n = 300
    rng = np.random.default_rng(3)
    code = pa.array([None if i % 7 == 0 else 2**60 + i % 3 for i in range(n)], pa.int64())
    table = pa.table({"w": rng.uniform(1, 5, n), "code": code, "region": pa.array([i % 4 for i in range(n)])})
    path = tmp_path / "codes.parquet"
    pq.write_table(table, path)
    on_spark = stats.proportion(stats.design(path, weights="w", engine="spark"), "code", by="region", na_rm=True)
    on_duckdb = stats.proportion(stats.design(path, weights="w"), "code", by="region", na_rm=True)
    assert {e.level for e in on_spark} == {2**60, 2**60 + 1, 2**60 + 2}
    assert_same(on_spark, on_duckdb)


def test_design_errors_on_spark_name_the_same_rows(spark, strat_table, tmp_path):
    """Validation errors count bad rows and number the first ones (row_number) as on DuckDB."""
    w = strat_table["w"].to_numpy().copy()
    w[[4, 17, 40]] = -1.0
    path = tmp_path / "negative.parquet"
    pq.write_table(strat_table.set_column(strat_table.schema.get_field_index("w"), "w", pa.array(w)), path)
    messages = []
    for engine in ("spark", "duckdb"):
        with pytest.raises(stats.DesignError, match=r"3 negative value\(s\) \(rows 5, 18, 41; first -1.0\)") as err:
            stats.design(path, weights="w", strata="stratum", ids="psu", engine=engine)
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_frames_run_on_spark(spark, strat_table):
    d = stats.design(strat_table, weights="w", strata="stratum", ids="psu", engine="spark", con=spark)
    assert isinstance(d.source, SparkSource)
    assert_same(
        stats.mean(d, "y", by="region"),
        stats.mean(stats.design(strat_table, weights="w", strata="stratum", ids="psu"), "y", by="region"),
    )


def test_session_defaults(spark):
    conf = spark.conf
    assert conf.get("spark.sql.shuffle.partitions") == "2"
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.sparkContext.getConf().get("spark.ui.enabled") == "false"
    assert spark_session() is spark  # one session per process: reused


def test_read_spark_errors(spark, tmp_path):
    with pytest.raises(stats.DesignError, match="does not exist"):
        read_spark(tmp_path / "missing.parquet", spark)
    (tmp_path / "wave.xlsx").write_bytes(b"")
    with pytest.raises(stats.DesignError, match="unknown format"):
        read_spark(tmp_path / "wave.xlsx", spark)
    with pytest.raises(stats.DesignError, match="engine 'polars' is not known"):
        stats.design(tmp_path / "wave.xlsx", engine="polars")


R_API = """
suppressMessages(library(survey))
data(api)
write.csv(apistrat, "apistrat.csv", row.names = FALSE, na = "")
write.csv(apiclus2, "apiclus2.csv", row.names = FALSE, na = "")
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Path:
    """R's api data (apistrat, apiclus2) as CSV files written by R itself."""
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not found on PATH: install R and its survey package (make sysdeps)")
    out = tmp_path_factory.mktemp("api")
    subprocess.run(["Rscript", "-e", R_API], cwd=out, check=True, capture_output=True, timeout=120)
    return out


API_DESIGNS = {
    "apistrat": {"weights": "pw", "strata": "stype", "fpc": "fpc"},
    "apiclus2": {"ids": ["dnum", "snum"], "fpc": ["fpc1", "fpc2"]},
}


@pytest.mark.parametrize("name", API_DESIGNS)
def test_api_csv_on_spark_equals_duckdb(spark, api, name):
    """CSV read by each engine (a column name with a dot, quoted names, empty fields as missing)."""
    path = api / f"{name}.csv"
    on_spark = stats.design(path, engine="spark", con=spark, **API_DESIGNS[name])
    on_duckdb = stats.design(path, **API_DESIGNS[name])
    for run in (
        lambda d: stats.mean(d, ["api00", "api99"], by="stype"),
        lambda d: stats.total(d, "enroll", na_rm=True),
        lambda d: stats.proportion(d, "sch.wide", by="stype"),
        lambda d: stats.quantile(d, "api00", 0.5),
    ):
        assert_same(run(on_spark), run(on_duckdb))
