"""Export speed: XLSX (digifit's streaming writer, and openpyxl's write-only mode as the peer), CSV and the
floor, on a wave of the bundled questionnaire with ``--rows`` submissions, each in its own process, with time
and peak memory (ru_maxrss).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run_exports.py [--rows 100000] [--rounds 1]
                                                                                   [--json results.json]

1. makes a SQLite database in a temporary data directory (``DIGIFIT_DATA_DIR``), migrates it, uploads the
   bundled questionnaire and loads one synthetic wave of ``--rows`` submissions (``digifit.demo.tour``: the
   demo's generator, so the answers, repeats and labels are the demo's);
2. runs each case in a fresh process (``python run_exports.py --case NAME``), ``--rounds`` times interleaved:
   - ``floor``: read every submission's row from the database as the exports do (the same query, the same
     chunked iterator, JSON decoded) and do nothing with it — no export can be faster;
   - ``csv``: ``csv_stream`` with codes, every chunk consumed;
   - ``xlsx``: ``xlsx_write`` (the streaming writer) to a temporary file;
   - ``xlsx_openpyxl``: the same rows written with openpyxl's write-only mode (the previous implementation);
3. prints seconds, the ratio to the floor, cells per second and peak RSS per case (median over rounds).

Network: none. The data directory is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ("floor", "csv", "xlsx", "xlsx_openpyxl")


def _django(data_dir: str) -> None:
    os.environ["DIGIFIT_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digifit.web.settings")
    import django

    django.setup()


def _prepare(data_dir: str, rows: int) -> dict:
    _django(data_dir)
    from django.core.management import call_command

    from digifit.demo import tour

    call_command("migrate", verbosity=0)
    version = tour.questionnaire_load()
    started = time.perf_counter()
    tour.waves_load(version=version, rows=rows, n_waves=1)
    return {"load_seconds": round(time.perf_counter() - started, 1)}


def _spec():
    from digifit.survey.exports import ExportSpec
    from digifit.survey.models import Questionnaire, Wave

    q = Questionnaire.objects.get()
    return ExportSpec(questionnaire=q, wave=Wave.objects.get())


def _openpyxl_write(spec, target) -> None:
    """The export as it was written before the streaming writer (openpyxl write-only): the peer."""
    from openpyxl import Workbook

    from digifit.exports.cells import safe_cell
    from digifit.survey.exports import _all_repeat_rows, _main_row, _rows, _xlsx_value, layout_for

    layout = layout_for(spec.questionnaire)
    wb = Workbook(write_only=True)
    main = wb.create_sheet("data")
    main.append([safe_cell(c.name) for c in layout.main])
    sheets = {}
    for name, cols in layout.repeats.items():
        sheets[name] = wb.create_sheet(name[:31])
        sheets[name].append([c.name for c in cols])
    for row in _rows(spec):
        main.append([_xlsx_value(v) for v in _main_row(layout, row, spec.labels)])
        for name, rrow in _all_repeat_rows(layout, row, spec.labels):
            sheets[name].append([_xlsx_value(v) for v in rrow])
    wb.save(target)


def _cells(spec) -> int:
    from digifit.survey.exports import _all_repeat_rows, _rows, layout_for

    layout = layout_for(spec.questionnaire)
    n = 0
    for row in _rows(spec):
        n += len(layout.main)
        for name, _rrow in _all_repeat_rows(layout, row):
            n += len(layout.repeats[name])
    return n


def _case(name: str, data_dir: str) -> dict:
    _django(data_dir)
    from digifit.survey import exports

    spec = _spec()
    started = time.perf_counter()
    size = 0
    if name == "floor":
        for _row in exports._rows(spec):
            pass
    elif name == "csv":
        size = sum(len(chunk) for chunk in exports.csv_stream(spec))
    else:
        with tempfile.TemporaryFile() as fh:
            (exports.xlsx_write if name == "xlsx" else _openpyxl_write)(spec, fh)
            size = fh.tell()
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": name, "seconds": seconds, "bytes": size, "peak_mb": round(peak_mb, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_case(args.case, args.data_dir)))
        return
    with tempfile.TemporaryDirectory(prefix="digifit-bench-exports-") as data_dir:
        prep = subprocess.run(
            [sys.executable, "-c", f"import run_exports as r; print(r._prepare({data_dir!r}, {args.rows}))"],
            cwd=Path(__file__).parent,
            check=True,
            capture_output=True,
            text=True,
        )
        results: dict[str, list[dict]] = {c: [] for c in CASES}
        for _ in range(args.rounds):
            for case in CASES:
                out = subprocess.run(
                    [sys.executable, __file__, "--case", case, "--data-dir", data_dir],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                results[case].append(json.loads(out.stdout.strip().splitlines()[-1]))
        _django(data_dir)
        cells = _cells(_spec())
    floor = statistics.median(r["seconds"] for r in results["floor"])
    summary = {
        "rows": args.rows,
        "cells": cells,
        "prepare": prep.stdout.strip().splitlines()[-1],
        "cases": {},
    }
    for case, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        summary["cases"][case] = {
            "seconds": round(seconds, 2),
            "x_floor": round(seconds / floor, 2),
            "cells_per_second": round(cells / seconds) if case != "floor" else None,
            "peak_mb": max(r["peak_mb"] for r in runs),
            "bytes": runs[-1]["bytes"],
        }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
