"""digifit's Python API in one process: the same estimate as ``digifit estimate``, timed per repeat.

    python benchmarks/digifit_api.py FILE.parquet REPEATS

Each repeat times ``stats.design(FILE, ...)`` + ``stats.proportion(d, "online", by="country")``: the file is
scanned by the engine every time (rows never come back to Python), so there is no separate load step. The first
call (cold: engine connection, expression compilation) is reported apart as ``first_seconds``, like the
untimed warm-up run of the process timings.
Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time

start = time.perf_counter()
from digifit import stats  # noqa: E402  (the import is timed)

IMPORT_SECONDS = time.perf_counter() - start


def main() -> None:
    path, repeats = sys.argv[1], int(sys.argv[2])
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        d = stats.design(path, weights="weight", strata="stratum", ids="psu")
        est = stats.proportion(d, "online", by="country")
        times.append(time.perf_counter() - start)
    out = {"tool": "digifit", "import_seconds": IMPORT_SECONDS, "first_seconds": times[0], "seconds": times[1:]}
    print(json.dumps({**out, "rows": est.to_dicts()}))


if __name__ == "__main__":
    main()
