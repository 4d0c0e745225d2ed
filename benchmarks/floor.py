"""The floor: the one DuckDB aggregation a by-country proportion needs, and nothing else.

    python benchmarks/floor.py FILE.parquet              # what the benchmark times as a whole process
    python benchmarks/floor.py FILE.parquet --repeat 5   # time the query alone, in process; prints JSON

Per (country, stratum, psu): Σw, Σw·online, count, read from the Parquet file and fetched as numpy arrays.
This is the least work any engine-pushed estimator must do.
"""

from __future__ import annotations

import json
import sys
import time

import duckdb

QUERY = """
SELECT country, stratum, psu, sum(weight) AS sw, sum(weight * online) AS swy, count(*) AS n
FROM read_parquet(?)
GROUP BY country, stratum, psu
"""


def cells(path: str) -> dict:
    """Run the floor query on ``path``; return its columns as numpy arrays."""
    return duckdb.connect().execute(QUERY, [path]).fetchnumpy()


def main() -> None:
    path = sys.argv[1]
    if "--repeat" not in sys.argv:
        print(len(cells(path)["psu"]), "cells")
        return
    times = []
    for _ in range(int(sys.argv[sys.argv.index("--repeat") + 1])):
        start = time.perf_counter()
        cells(path)
        times.append(time.perf_counter() - start)
    print(json.dumps({"tool": "floor", "seconds": times}))


if __name__ == "__main__":
    main()
