"""Python peers: samplics and svy compute the by-country proportion online with Taylor SE.

    benchmarks/.venv-peers/bin/python benchmarks/peers.py {samplics,svy} FILE.parquet REPEATS

Runs in its own virtual environment (``benchmarks/.venv-peers``), never in the project's. Reading the
Parquet file into memory (and into numpy or polars) is timed apart (``load_seconds``); each repeat times
building the design and the estimate, as for R. Prints one JSON object.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import warnings
from importlib.metadata import version

import pyarrow.parquet as pq

COLUMNS = ["country", "stratum", "psu", "weight", "online"]


def run_samplics(table, repeats: int) -> tuple[list[float], float, list[dict]]:
    from samplics import PopParam, TaylorEstimator

    start = time.perf_counter()
    cols = {c: table[c].to_numpy() for c in COLUMNS}
    convert = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        est = TaylorEstimator(PopParam.prop)
        est.estimate(
            y=cols["online"],
            samp_weight=cols["weight"],
            stratum=cols["stratum"],
            psu=cols["psu"],
            domain=cols["country"],
        )
        times.append(time.perf_counter() - start)
    rows = [
        {
            "country": str(c),
            "estimate": float(_level1(est.point_est[c])),
            "se": float(_level1(est.stderror[c])),
        }
        for c in sorted(est.point_est)
    ]
    return times, convert, rows


def _level1(by_level: dict) -> float:
    return next(v for k, v in by_level.items() if int(k) == 1)


def run_svy(table, repeats: int) -> tuple[list[float], float, list[dict]]:
    import polars as pl
    import svy

    start = time.perf_counter()
    frame = pl.from_arrow(table)
    convert = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        sample = svy.Sample(frame, svy.Design(stratum="stratum", psu="psu", wgt="weight"))
        result = sample.estimation.prop("online", by="country").to_polars()
        times.append(time.perf_counter() - start)
    ones = result.filter(pl.col("online") == 1).sort("country")
    rows = [{"country": r["country"], "estimate": r["est"], "se": r["se"]} for r in ones.iter_rows(named=True)]
    return times, convert, rows


def main() -> None:
    tool, path, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    warnings.simplefilter("ignore")  # samplics warns on import that it is archived
    start = time.perf_counter()
    table = pq.read_table(path, columns=COLUMNS)
    load = time.perf_counter() - start
    times, convert, rows = {"samplics": run_samplics, "svy": run_svy}[tool](table, repeats)
    out = {"tool": tool, "version": version(tool), "rows": table.num_rows, "load_seconds": load + convert}
    print(json.dumps({**out, "seconds": times, "estimates": rows}))


if __name__ == "__main__":
    main()
