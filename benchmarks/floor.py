"""The floor: the one DuckDB aggregation a by-country proportion needs, and nothing else.

    python benchmarks/floor.py FILE.parquet              # what the benchmark times as a whole process
    python benchmarks/floor.py FILE.parquet --repeat 5   # time the query alone, in process; prints JSON
    python benchmarks/floor.py FILE.parquet --taylor     # the query + numpy's Taylor mean of online by country

Per (country, stratum, psu): Σw, Σw·online, count, read from the Parquet file and fetched as numpy arrays.
This is the least work any engine-pushed estimator must do.
"""

from __future__ import annotations

import json
import sys
import time

import duckdb
import numpy as np

QUERY = """
SELECT country, stratum, psu, sum(weight) AS sw, sum(weight * online) AS swy, count(*) AS n
FROM read_parquet(?)
GROUP BY country, stratum, psu
"""


def cells(path: str) -> dict:
    """Run the floor query on ``path``; return its columns as numpy arrays."""
    return duckdb.connect().execute(QUERY, [path]).fetchnumpy()


def taylor(path: str) -> list[dict]:
    """The floor of a whole estimate: the query, then the Taylor mean of ``online`` by country in numpy.

    Strata ``stratum``, PSUs ``psu`` nested in strata, with replacement (no fpc), as ``digifit estimate
    --mean online --by country``: per country the ratio Σw·y / Σw, its influence totals per PSU, and
    Σ_h n_h/(n_h−1) Σ_i (z_hi − z̄_h)². Country codes come from Arrow's dictionary encoding (a hash, no sort).
    """
    import pyarrow.compute as pc

    res = duckdb.connect().sql(QUERY, params=[path]).to_arrow_table()
    country = pc.dictionary_encode(res.column("country")).combine_chunks()
    dom = np.asarray(country.indices, dtype=np.int64)
    sw, swy = (np.asarray(res.column(c), dtype=float) for c in ("sw", "swy"))
    stratum = np.asarray(res.column("stratum"), dtype=np.int64)
    psu_key = stratum * 2**32 + np.asarray(res.column("psu"), dtype=np.int64)
    psus, psu = np.unique(psu_key, return_inverse=True)
    _, psu_stratum = np.unique(psus >> 32, return_inverse=True)
    n_h = np.bincount(psu_stratum).astype(float)
    out = []
    for d, label in enumerate(country.dictionary.to_pylist()):
        inside = dom == d
        total_w = sw[inside].sum()
        est = swy[inside].sum() / total_w
        z = np.where(inside, (swy - est * sw) / total_w, 0.0)
        zp = np.bincount(psu, weights=z, minlength=len(psus))
        mean_h = np.bincount(psu_stratum, weights=zp) / n_h
        ss = np.bincount(psu_stratum, weights=(zp - mean_h[psu_stratum]) ** 2)
        out.append({"country": label, "estimate": est, "se": float(np.sqrt((n_h / (n_h - 1) * ss).sum()))})
    return sorted(out, key=lambda r: r["country"])


def main() -> None:
    path = sys.argv[1]
    if "--taylor" in sys.argv:
        print(json.dumps(taylor(path)))
        return
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
