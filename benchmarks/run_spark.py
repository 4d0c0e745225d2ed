"""Benchmark the by-country proportion on Spark (local mode) against the same estimate on DuckDB.

    python benchmarks/run_spark.py                        # 10M rows, local[2], 3 timed runs
    python benchmarks/run_spark.py --size 1M --repeats 5 --master "local[*]" --process

The estimate is the one of ``benchmarks/run_estimate.py``: the Taylor proportion of ``online`` by ``country``
on the stratified cluster design (``--weights weight --strata stratum --ids psu``), on the seeded sample
``benchmarks/data/sample_<size>.parquet`` (written by ``benchmarks/generate.py`` if missing).

Timings, each the median of ``--repeats`` runs after one untimed warm-up run (the first, cold call is reported
apart), in one process whose Spark session is already started:

spark
    ``stats.design(FILE, engine="spark", validate=False)`` + ``stats.proportion(...)``: Spark reads the Parquet
    file every time (nothing cached) and returns one row per country × stratum × PSU × level to the driver —
    what ``digifit estimate FILE --engine spark`` does.
duckdb
    The same calls with the default engine, in the same process, for the ratio.

``--process`` also times whole ``digifit estimate ... --engine spark --json`` processes (JVM start included).
The estimates of both engines are compared (largest relative difference of estimate and SE). Prints one JSON
object; keep the run sequential and alone on the machine (Spark uses every thread the master gives it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from generate import ensure  # noqa: E402

DESIGN = {"weights": "weight", "strata": "stratum", "ids": "psu"}
CLI_ARGS = ["--weights", "weight", "--strata", "stratum", "--ids", "psu", "--proportion", "online"]
CLI_ARGS += ["--by", "country", "--json"]
# this machine sets these and they slow numpy down (as in run_estimate.py)
ENV = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def timed(func, repeats: int) -> tuple[float, list[float], object]:
    """Run ``func`` once cold and ``repeats`` times timed; return (cold seconds, timed seconds, last result)."""
    times = []
    result = None
    for _ in range(repeats + 1):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return times[0], times[1:], result


def max_rel_diff(a, b) -> float:
    worst = 0.0
    for x, y in zip(a, b):
        assert (x.domain, x.level) == (y.domain, y.level), (x, y)
        for name in ("estimate", "se"):
            u, v = getattr(x, name), getattr(y, name)
            worst = max(worst, abs(u - v) / abs(v) if v else abs(u - v))
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="10M", help="1M or 10M (default 10M)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per engine (default 3)")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--driver-memory", default="2g", help="spark.driver.memory (default 2g)")
    parser.add_argument("--process", action="store_true", help="also time whole `digifit estimate` processes")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1; got {args.repeats}")

    import pyspark

    from digifit import stats
    from digifit.stats.spark import spark_session, stop_session

    path = ensure(args.size)
    load_before = os.getloadavg()
    log(f"{args.size}: {path.relative_to(ROOT)}, master {args.master}, pyspark {pyspark.__version__}")

    start = time.perf_counter()
    session = spark_session(args.master, driver_memory=args.driver_memory)
    session_seconds = time.perf_counter() - start
    try:

        def on_spark():
            d = stats.design(path, engine="spark", con=session, validate=False, **DESIGN)
            return stats.proportion(d, "online", by="country")

        spark_first, spark_times, spark_est = timed(on_spark, args.repeats)
        log(f"  spark   cold {spark_first:.2f} s, median {statistics.median(spark_times):.2f} s")
    finally:
        stop_session(session)

    def on_duckdb():
        return stats.proportion(stats.design(path, validate=False, **DESIGN), "online", by="country")

    duck_first, duck_times, duck_est = timed(on_duckdb, args.repeats)
    log(f"  duckdb  cold {duck_first:.2f} s, median {statistics.median(duck_times):.2f} s")

    process_times = None
    if args.process:
        exe = ROOT / ".venv" / "bin" / "digifit"
        cmd = [str(exe if exe.exists() else "digifit"), "estimate", str(path), *CLI_ARGS, "--engine", "spark"]
        env = {**ENV, "DIGIFIT_SPARK_MASTER": args.master}
        process_times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=1800)
            process_times.append(time.perf_counter() - start)
        log(f"  process median {statistics.median(process_times):.2f} s")

    spark_median = statistics.median(spark_times)
    duck_median = statistics.median(duck_times)
    print(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "estimate": "Taylor proportion of online by country (strata, PSUs)",
                "size": args.size,
                "master": args.master,
                "pyspark": pyspark.__version__,
                "cpus": os.cpu_count(),
                "load_before": [round(x, 2) for x in load_before],
                "load_after": [round(x, 2) for x in os.getloadavg()],
                "spark": {
                    "session_seconds": session_seconds,
                    "first_seconds": spark_first,
                    "seconds": spark_times,
                    "median": spark_median,
                },
                "duckdb": {"first_seconds": duck_first, "seconds": duck_times, "median": duck_median},
                "spark_over_duckdb": spark_median / duck_median,
                "process_seconds": process_times,
                "process_median": statistics.median(process_times) if process_times else None,
                "max_rel_diff": max_rel_diff(spark_est, duck_est),
                "rows": [r for r in spark_est.to_dicts() if r["level"] == 1],
            }
        )
    )


if __name__ == "__main__":
    main()
