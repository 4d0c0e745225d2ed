"""Benchmark the full headline report: all tables, three formats, from a 1M-response demo snapshot.

    python benchmarks/run_report.py                   # one wave of 1,000,000 responses, 3 runs
    python benchmarks/run_report.py --waves 4         # 1,000,000 responses pooled over 4 waves with a panel
    python benchmarks/run_report.py --rows 200000 --repeats 1

The snapshot is ``benchmarks/data/waves_<rows>_<waves>w.parquet`` written by
:func:`digifit.demo.waves.waves_write` (seeded; generated once, not timed). A wave snapshot (the default, one
wave) has one response per business, so each row is its own cluster; pooled waves with a panel make each
business a cluster, and the estimators then work on one unit total per business.

Each run, in a fresh process, is what ``digifit report`` does three times over, once per format — but sharing
the computed report: ``headline_report`` (design, raking, every table: about a dozen estimator calls, each one
aggregation in DuckDB), then HTML, PDF (WeasyPrint) and XLSX. Timed per stage; ``process_s`` (wall time of the
whole process) is the number the target (≤ 10 s) is about; ``cpu_s`` is the process's CPU time (all threads),
which does not grow when other programs compete for the cores. Prints one JSON object; the median of
``--repeats`` runs after the data file exists.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = ROOT / ".venv" / "bin" / "python"
ENV = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
MARGINS_DIR = Path(sys.argv[3])  # the demo's margins folder (not imported: the timing is the product's)
t0 = time.perf_counter()
from digifit.reports.headline import headline_report
from digifit.reports.render_html import render_html
from digifit.reports.render_pdf import render_pdf
from digifit.reports.render_xlsx import render_xlsx
t1 = time.perf_counter()
rep = headline_report(sys.argv[1], margins_dir=MARGINS_DIR)
t2 = time.perf_counter()
html = render_html(rep, "de")
t3 = time.perf_counter()
pdf = render_pdf(rep, "de", sys.argv[2] + "/r.pdf")
t4 = time.perf_counter()
xlsx = render_xlsx(rep, "de", sys.argv[2] + "/r.xlsx")
t5 = time.perf_counter()
de = rep.line("headline", "DE").estimate
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"import_s": t1 - t0, "tables_s": t2 - t1, "html_s": t3 - t2, "pdf_s": t4 - t3,
                  "xlsx_s": t5 - t4, "total_s": t5 - t0, "cpu_s": ru.ru_utime + ru.ru_stime, "rows": rep.n_rows,
                  "pdf_bytes": len(pdf), "xlsx_bytes": len(xlsx), "de_share": de.estimate,
                  "de_ci": [float(de.ci_low), float(de.ci_high)]}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--waves", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    data = BENCH / "data" / f"waves_{args.rows}_{args.waves}w.parquet"
    generated_s = None
    if not data.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        subprocess.run(
            [
                str(PY),
                "-c",
                f"from digifit.demo.waves import waves_write; waves_write({str(data)!r}, n={args.rows}, "
                f"n_waves={args.waves})",
            ],
            check=True,
            env=ENV,
        )
        generated_s = time.perf_counter() - t
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(max(args.repeats, 1)):
            t = time.perf_counter()
            margins = ROOT / "src" / "digifit" / "demo" / "margins"
            out = subprocess.run([str(PY), "-c", CHILD, str(data), tmp, str(margins)], check=True, env=ENV,
                                 capture_output=True,
                                 text=True)  # fmt: skip
            wall = time.perf_counter() - t
            run = json.loads(out.stdout.strip().splitlines()[-1])
            run["process_s"] = wall
            runs.append(run)
    keys = ("import_s", "tables_s", "html_s", "pdf_s", "xlsx_s", "total_s", "process_s", "cpu_s")
    result = {
        "benchmark": "report",
        "rows": runs[0]["rows"],
        "waves": args.waves,
        "repeats": len(runs),
        "median": {k: round(statistics.median(r[k] for r in runs), 3) for k in keys},
        "runs": [{k: round(r[k], 3) for k in keys} for r in runs],
        "target_s": 10.0,
        "within_target": statistics.median(r["process_s"] for r in runs) <= 10.0,
        "generated_s": None if generated_s is None else round(generated_s, 2),
        "check": {"de_share": runs[0]["de_share"], "de_ci": runs[0]["de_ci"]},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
