"""Benchmark weighting: raking to three margins, and bootstrap against Taylor, against the floor and the peers.

    python benchmarks/run_weighting.py                          # 1M and 10M, 3 runs, peers capped at 120 s
    python benchmarks/run_weighting.py --sizes 1M --repeats 3 --no-peers
    python benchmarks/run_weighting.py --spark --update-docs    # also run benchmarks/run_spark.py once
    python benchmarks/run_weighting.py --render benchmarks/results/weighting.json --update-docs

Everything runs on the seeded Parquet files ``benchmarks/data/sample_<size>.parquet`` (``generate.py`` writes
them if missing). The population margins of country (3 levels), sector (8) and size (4) are built once per file:
the weighted sample margins × 1.05, each level perturbed by up to ±3 % (seeded), each margin rescaled to the
same population size; every tool gets the same numbers.

Raking (from the design weights, 50 iterations at most, convergence 1e-6):

digifit (process)
    ``digifit weight FILE --weights weight --strata stratum --ids psu --rake country=c.csv --rake sector=s.csv
    --rake size=z.csv --max-iter 50 --epsilon 1e-6 --out OUT.parquet``, the whole process.
floor (process)
    ``python benchmarks/run_weighting.py floor FILE MARGINS.json OUT.parquet``: a fresh Python process that
    imports duckdb and numpy, runs one ``GROUP BY country, sector, size`` (Σw over the 96 cells), fits the cells
    by IPF in numpy, and writes the file with ``weight`` multiplied by three ``CASE`` factors (``COPY … TO``).
digifit / floor (compute)
    The same inside a started process: ``stats.design(..., validate=False)`` + ``stats.rake`` +
    ``export.write_weights``, and the floor's query + IPF + COPY. The first (cold) call is reported apart.
floor, weight column only (compute)
    The floor as the issue defines it: the COPY writes the raked weight column alone.
digifit, frame in memory (compute)
    ``stats.design`` on a pyarrow Table already read + ``stats.rake`` + the weight column of
    ``export.weighted_table`` fetched to Python: the peers' task (data and weights in memory).
balance, svy, weightipy (compute)
    Their rake on a frame already in memory (loading is timed apart and not counted): ``balance``'s
    ``weighting_methods.rake.rake`` from the design weights (in ``benchmarks/.venv-balance``: balance pins
    numpy < 2 on Python 3.11), ``svy``'s ``Sample.weighting.rake`` from the design weights, ``weightipy``'s
    ``weight`` from uniform weights (it cannot start from design weights). Each is capped: no further repeat
    starts after ``--cap`` seconds, and the process is killed after twice that.

Bootstrap (``--bootstrap``, default on): ``stats.proportion(d, "online", by="country")`` with Taylor SEs and
with ``stats.as_replicate(d, "bootstrap", replicates=200, seed=1)`` (design, replicate design and estimate
timed), at every size; svy's 100 Rao-Wu bootstrap replicates (``create_bs_wgts`` + replication estimate) and
its Taylor estimate at 1M.

Checks: every tool's raked weights are compared on the margins (largest relative difference from the
population margins) and row by row with the floor's and digifit's (largest absolute and relative difference;
weightipy, which starts from 1, only on the margins after scaling to the population size).

Results go to ``benchmarks/results/weighting.json``; ``--update-docs`` rewrites the sections between the
``<!-- … -->`` markers of ``docs/benchmarks-weighting.md``. Child processes run without
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` (this machine sets them and they slow numpy down).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PROJECT_PY = ROOT / ".venv" / "bin" / "python"
DIGIFIT = ROOT / ".venv" / "bin" / "digifit"
PEERS_PY = BENCH / ".venv-peers" / "bin" / "python"
BALANCE_PY = BENCH / ".venv-balance" / "bin" / "python"
RESULTS = BENCH / "results" / "weighting.json"
DOCS = ROOT / "docs" / "benchmarks-weighting.md"
ENV = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
MARGINS = ("country", "sector", "size")
MAX_ITER, EPSILON = 50, 1e-6
DESIGN_ARGS = ["--weights", "weight", "--strata", "stratum", "--ids", "psu"]
FLOOR = "floor (DuckDB + numpy IPF)"
FLOOR_COL = "floor, weight column only"
OURS = "digifit"
OURS_MEM = "digifit, frame in memory"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------- margins


def build_margins(path: Path, outdir: Path, seed: int = 7) -> dict:
    """Write the population margins of ``path`` as JSON and R-style CSVs (level column + Freq); return them."""
    import duckdb
    import numpy as np

    con = duckdb.connect()
    total = con.execute("SELECT sum(weight) FROM read_parquet(?)", [str(path)]).fetchone()[0]
    population = 1.05 * total
    rng = np.random.default_rng(seed)
    margins = {}
    for col in MARGINS:
        rows = con.execute(
            f"SELECT {col}, sum(weight) FROM read_parquet(?) GROUP BY 1 ORDER BY 1", [str(path)]
        ).fetchall()
        values = np.array([r[1] for r in rows]) * 1.05 * (1 + rng.uniform(-0.03, 0.03, len(rows)))
        values *= population / values.sum()
        margins[col] = {str(r[0]): float(v) for r, v in zip(rows, values)}
        with open(outdir / f"{col}.csv", "w") as f:
            f.write(f"{col},Freq\n" + "".join(f"{k},{v!r}\n" for k, v in margins[col].items()))
    (outdir / "margins.json").write_text(json.dumps(margins))
    return margins


# ----------------------------------------------------------------------------------------------------- floor


def ipf(base, codes, pops, max_iter: int = MAX_ITER, epsilon: float = EPSILON):
    """Rake the cell totals ``base``; return each margin's cumulative factor per level (R's rake stopping rule)."""
    import numpy as np

    eps = epsilon * base.sum() if epsilon < 1 else epsilon
    w = base.copy()
    cumulative = [np.ones(len(p)) for p in pops]
    for _ in range(max_iter):
        old = w
        for m, (code, pop) in enumerate(zip(codes, pops)):
            factor = pop / np.bincount(code, weights=w, minlength=len(pop))
            w = w * factor[code]
            cumulative[m] *= factor
        if np.max(np.abs(old - w)) < eps:
            return cumulative
    raise RuntimeError(f"floor IPF did not converge in {max_iter} iterations")


def floor_rake(path: str, margins: dict, out: str, *, weight_only: bool = False) -> None:
    """The floor: one GROUP BY over the three columns, IPF on the cells, one COPY with the factor as CASEs.

    The file written has every column, ``weight`` raked (what ``write_weights`` writes), or with
    ``weight_only`` the raked weight column alone (the issue's floor).
    """
    import duckdb
    import numpy as np

    con = duckdb.connect()
    cols = list(margins)
    cells = con.execute(
        f"SELECT {', '.join(cols)}, sum(weight) AS sw FROM read_parquet(?) GROUP BY ALL", [path]
    ).fetchnumpy()
    codes, pops, levels = [], [], []
    for col in cols:
        lv = sorted(margins[col])
        index = {v: i for i, v in enumerate(lv)}
        codes.append(np.array([index[v] for v in cells[col]]))
        pops.append(np.array([margins[col][v] for v in lv]))
        levels.append(lv)
    factors = ipf(np.asarray(cells["sw"], dtype=float), codes, pops)
    cases = [
        f"CASE {col} " + " ".join(f"WHEN '{v}' THEN CAST({float(f)!r} AS DOUBLE)" for v, f in zip(lv, fac)) + " END"
        for col, lv, fac in zip(cols, levels, factors)
    ]
    src = path.replace("'", "''")
    dst = out.replace("'", "''")
    raked = f"weight * {' * '.join(cases)}"
    select = f"{raked} AS weight" if weight_only else f"* REPLACE ({raked} AS weight)"
    con.execute(f"COPY (SELECT {select} FROM read_parquet('{src}')) TO '{dst}' (FORMAT parquet)")


# --------------------------------------------------------------------------------------------------- workers


def _timed(fn, repeats: int, cap: float) -> tuple[list[float], float]:
    """Run ``fn`` once cold, then up to ``repeats`` times (none starts after ``cap`` s in all); return times."""
    gc.collect()
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    times = []
    spent = first
    for _ in range(repeats):
        if spent > cap:
            break
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return times, first


def worker(tool: str, path: str, margins_json: str, repeats: int, cap: float, out: str) -> dict:
    """Run one tool's measurement in this process; return what the driver records."""
    margins = json.loads(Path(margins_json).read_text())
    if tool in ("floor", "floor-column"):
        only = tool == "floor-column"
        times, first = _timed(lambda: floor_rake(path, margins, out, weight_only=only), repeats, cap)
        import duckdb

        return {"version": duckdb.__version__, "seconds": times, "first_seconds": first}
    if tool == "digifit":
        start = time.perf_counter()
        from digifit import stats
        from digifit.stats.export import write_weights

        imported = time.perf_counter() - start

        def once():
            d = stats.design(path, weights="weight", strata="stratum", ids="psu", validate=False)
            r = stats.rake(d, margins, max_iter=MAX_ITER, epsilon=EPSILON)
            write_weights(r, out)

        times, first = _timed(once, repeats, cap)
        from importlib.metadata import version

        return {"version": version("digifit"), "seconds": times, "first_seconds": first, "import_seconds": imported}
    if tool == "digifit-memory":
        import numpy as np
        import pyarrow.parquet as pq

        from digifit import stats
        from digifit.stats.export import weighted_table

        start = time.perf_counter()
        table = pq.read_table(path)
        load = time.perf_counter() - start
        result: dict = {}

        def once():
            d = stats.design(table, weights="weight", strata="stratum", ids="psu", validate=False)
            r = stats.rake(d, margins, max_iter=MAX_ITER, epsilon=EPSILON)
            result["w"] = r.execute(weighted_table(r).select("weight")).column("weight")

        times, first = _timed(once, repeats, cap)
        np.save(out, result["w"].to_numpy())
        from importlib.metadata import version

        return {"version": version("digifit"), "seconds": times, "first_seconds": first, "load_seconds": load}
    if tool == "bootstrap":
        return bootstrap_worker(path, repeats, cap)
    return peer_worker(tool, path, margins, repeats, cap, out)


def peer_worker(tool: str, path: str, margins: dict, repeats: int, cap: float, out: str) -> dict:
    import warnings
    from importlib.metadata import version

    import numpy as np
    import pyarrow.parquet as pq

    warnings.simplefilter("ignore")
    start = time.perf_counter()
    extra = ["online"] if tool == "svy-bootstrap" else []
    table = pq.read_table(path, columns=["stratum", "psu", *MARGINS, "weight", *extra])
    result: dict = {}
    if tool == "svy":
        import polars as pl
        import svy

        frame = pl.from_arrow(table)
        load = time.perf_counter() - start

        def once():
            s = svy.Sample(frame, svy.Design(stratum="stratum", psu="psu", wgt="weight"))
            r = s.weighting.rake(controls=margins, tol=1e-7, max_iter=MAX_ITER)
            result["w"] = r.data["rk_wgt"].to_numpy()

    elif tool == "balance":
        import pandas as pd
        from balance.weighting_methods.rake import rake

        df = table.to_pandas()
        load = time.perf_counter() - start
        # the target as the 96-cell independence table: its margins are exactly the population margins
        grid = pd.MultiIndex.from_product([sorted(margins[c]) for c in MARGINS], names=list(MARGINS)).to_frame(
            index=False
        )
        n_pop = sum(margins[MARGINS[0]].values())
        target_w = np.ones(len(grid))
        for c in MARGINS:
            target_w = target_w * grid[c].map(margins[c]).to_numpy() / n_pop
        target_w = pd.Series(target_w * n_pop)

        def once():
            res = rake(
                df[list(MARGINS)],
                df["weight"],
                grid,
                target_w,
                variables=list(MARGINS),
                transformations=None,
                max_iteration=MAX_ITER,
                convergence_rate=1e-9,
                rate_tolerance=0.0,
            )
            result["w"] = res["weight"].to_numpy()

    elif tool == "weightipy":
        import weightipy

        df = table.select(list(MARGINS)).to_pandas()
        load = time.perf_counter() - start
        shares = {c: {k: 100 * v / sum(m.values()) for k, v in m.items()} for c, m in margins.items()}

        def once():
            scheme = weightipy.scheme_from_dict(shares, rim_params={"max_iterations": MAX_ITER})
            result["w"] = weightipy.weight(df, scheme).to_numpy()

    elif tool == "svy-bootstrap":
        return svy_bootstrap_worker(table, start, repeats, cap)
    else:
        raise SystemExit(f"unknown tool {tool!r}")
    times, first = _timed(once, repeats, cap)
    np.save(out, np.asarray(result["w"], dtype=float))
    return {"version": version(tool), "seconds": times, "first_seconds": first, "load_seconds": load}


def bootstrap_worker(path: str, repeats: int, cap: float) -> dict:
    from digifit import stats

    est: dict = {}

    def taylor():
        d = stats.design(path, weights="weight", strata="stratum", ids="psu", validate=False)
        est["taylor"] = stats.proportion(d, "online", by="country").to_dicts()

    def boot():
        d = stats.design(path, weights="weight", strata="stratum", ids="psu", validate=False)
        b = stats.as_replicate(d, "bootstrap", replicates=200, seed=1)
        est["bootstrap"] = stats.proportion(b, "online", by="country").to_dicts()

    t_times, t_first = _timed(taylor, repeats, cap)
    b_times, b_first = _timed(boot, repeats, cap)

    def ones(rows):
        return {r["domain"]["country"]: (r["estimate"], r["se"]) for r in rows if str(r["level"]) in ("1", "1.0")}

    return {
        "taylor": {"seconds": t_times, "first_seconds": t_first, "estimates": ones(est["taylor"])},
        "bootstrap": {"seconds": b_times, "first_seconds": b_first, "estimates": ones(est["bootstrap"])},
    }


def svy_bootstrap_worker(table, start: float, repeats: int, cap: float) -> dict:
    from importlib.metadata import version

    import polars as pl
    import svy

    frame = pl.from_arrow(table)
    load = time.perf_counter() - start
    est: dict = {}

    def taylor():
        s = svy.Sample(frame, svy.Design(stratum="stratum", psu="psu", wgt="weight"))
        est["taylor"] = s.estimation.prop("online", by="country").to_polars()

    def boot():
        s = svy.Sample(frame, svy.Design(stratum="stratum", psu="psu", wgt="weight"))
        b = s.weighting.create_bs_wgts(100, rstate=1)
        est["bootstrap"] = b.estimation.prop("online", by="country", method="replication").to_polars()

    t_times, t_first = _timed(taylor, repeats, cap)
    b_times, b_first = _timed(boot, repeats, cap)

    def ones(df):
        return {r["country"]: (r["est"], r["se"]) for r in df.filter(pl.col("online") == 1).iter_rows(named=True)}

    return {
        "version": version("svy"),
        "load_seconds": load,
        "taylor": {"seconds": t_times, "first_seconds": t_first, "estimates": ones(est["taylor"])},
        "bootstrap": {"seconds": b_times, "first_seconds": b_first, "estimates": ones(est["bootstrap"])},
    }


# ---------------------------------------------------------------------------------------------------- driver


def snapshot(commit: str, tmp: Path) -> str:
    """Measure the committed code: extract ``src/`` of ``commit`` and put it first on the children's path.

    Other work may be under way in the tree (half-edited modules); the project venv's editable install points at
    ``src/``, and ``PYTHONPATH`` comes before it. Returns the commit hash (or ``"worktree"``).
    """
    if commit == "worktree":
        return commit
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", commit], capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha, "src"], capture_output=True, check=True)
    (tmp / "snapshot").mkdir()
    subprocess.run(["tar", "-x", "-C", str(tmp / "snapshot")], input=archive.stdout, check=True)
    ENV["PYTHONPATH"] = str(tmp / "snapshot" / "src")
    log(f"measuring src/ of commit {sha[:10]}")
    return sha


def run(cmd: list[str], *, timeout: float = 1800) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done


def run_worker(py: Path, tool: str, path: Path, margins: Path, repeats: int, cap: float, out: Path) -> dict:
    cmd = [str(py), str(Path(__file__)), "_worker", tool, str(path), str(margins), str(repeats), str(cap), str(out)]
    try:
        done = run(cmd, timeout=2 * cap + 60)
    except subprocess.TimeoutExpired:
        return {"error": f"killed after {2 * cap + 60:.0f} s"}
    except RuntimeError as e:
        return {"error": str(e).splitlines()[-1][:300]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_processes(cmds: dict[str, list[str]], repeats: int) -> tuple[dict, dict]:
    """Warm up each command once, then let them take turns ``repeats`` times; wall and CPU seconds."""
    for cmd in cmds.values():
        run(cmd)
    wall: dict[str, list[float]] = {k: [] for k in cmds}
    cpu: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            run(cmd)
            wall[name].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def check_weights(path: Path, margins: dict, outputs: dict[str, Path]) -> dict:
    """Margins of each tool's weights against the population, and row-by-row against the floor and digifit."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=[*MARGINS, "weight"])
    codes = {}
    for c in MARGINS:
        lv = sorted(margins[c])
        codes[c] = (np.asarray(pc.index_in(t[c], value_set=pa.array(lv))), np.array([margins[c][v] for v in lv]))
    base = t["weight"].to_numpy()
    n_pop = sum(margins[MARGINS[0]].values())
    weights = {}
    for tool, out in outputs.items():
        if not out.exists():
            continue
        w = np.load(out) if out.suffix == ".npy" else pq.read_table(out, columns=["weight"])["weight"].to_numpy()
        if tool.startswith("weightipy"):
            w = w * n_pop / w.sum()
        weights[tool] = w
    check = {}
    for tool, w in weights.items():
        row = {
            "max_rel_margin": max(
                float(np.max(np.abs(np.bincount(code, weights=w, minlength=len(pop)) / pop - 1)))
                for code, pop in codes.values()
            )
        }
        if not tool.startswith("weightipy"):
            ratio = w / base
            cell = codes["country"][0] * 32 + codes["sector"][0] * 4 + codes["size"][0]
            spread = np.zeros(96)
            np.maximum.at(spread, cell, ratio)
            low = np.full(96, np.inf)
            np.minimum.at(low, cell, ratio)
            seen = np.isfinite(low)
            row["max_rel_spread_factor_in_cell"] = float(np.max(spread[seen] / low[seen] - 1))
            for ref in (f"{FLOOR} compute", f"{OURS} compute"):
                if ref in weights and ref != tool:
                    key = "floor" if ref.startswith("floor") else "digifit"
                    row[f"max_abs_diff_vs_{key}"] = float(np.max(np.abs(w - weights[ref])))
                    row[f"max_rel_diff_vs_{key}"] = float(np.max(np.abs(w / weights[ref] - 1)))
        check[tool] = row
    return check


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_worker":
        tool, path, margins, repeats, cap, out = argv[1:7]
        print(json.dumps(worker(tool, path, margins, int(repeats), float(cap), out)))
        return
    if argv and argv[0] == "floor":
        floor_rake(argv[1], json.loads(Path(argv[2]).read_text()), argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1M", "10M"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cap", type=float, default=120.0, help="seconds after which a peer starts no repeat")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--peers-max-size", default="10M", help="largest size the peers run at (1M or 10M)")
    parser.add_argument("--no-bootstrap", action="store_true")
    parser.add_argument("--spark", action="store_true", help="also run benchmarks/run_spark.py once (10M)")
    parser.add_argument(
        "--commit",
        default="HEAD",
        help="measure src/ of this commit (extracted with git archive; default HEAD), or 'worktree' for the tree",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--update-docs", action="store_true")
    parser.add_argument("--render", type=Path, metavar="JSON", help="only print (and --update-docs) a saved run")
    args = parser.parse_args(argv)
    if args.render:
        publish(json.loads(args.render.read_text()), args.update_docs)
        return
    sys.path.insert(0, str(BENCH))
    from generate import ensure

    py = PROJECT_PY if PROJECT_PY.exists() else Path(sys.executable)
    load_before = os.getloadavg()[0]
    rows: list[dict] = []
    checks: dict = {}
    boot: dict = {}
    tmp = Path(tempfile.mkdtemp(prefix="digifit-weighting-"))
    commit = snapshot(args.commit, tmp)

    def add(size, name, kind, seconds, note="", cpu=None, extra=None):
        med = statistics.median(seconds) if seconds else None
        rows.append(
            {"size": size, "name": name, "kind": kind, "seconds": seconds, "median": med, "note": note}
            | {"cpu_seconds": cpu, "cpu_median": statistics.median(cpu) if cpu else None}
            | (extra or {})
        )
        log(f"  {size:>4} {name:<30} {kind:<8} " + (f"{med:8.3f} s" if med is not None else note))

    try:
        for size in args.sizes:
            path = ensure(size)
            work = tmp / size
            work.mkdir()
            margins = build_margins(path, work)
            mj = work / "margins.json"
            log(f"{size}: {path.relative_to(ROOT)}")
            n = args.repeats
            rake_args = [a for c in MARGINS for a in ("--rake", f"{c}={work / (c + '.csv')}")]
            cmds = {
                "floor": [str(py), str(Path(__file__)), "floor", str(path), str(mj), str(work / "floor_p.parquet")],
                "digifit": [
                    *(str(DIGIFIT), "weight", str(path), *DESIGN_ARGS, *rake_args),
                    *("--max-iter", str(MAX_ITER), "--epsilon", str(EPSILON), "--out", str(work / "digifit_p.parquet")),
                ],
            }
            wall, cpu = time_processes(cmds, n)
            add(size, FLOOR, "process", wall["floor"], cpu=cpu["floor"])
            add(size, OURS, "process", wall["digifit"], cpu=cpu["digifit"])
            outputs = {f"{OURS} process": work / "digifit_p.parquet"}
            for tool, name in (("floor", FLOOR), ("floor-column", FLOOR_COL), ("digifit", OURS)):
                out = work / f"{tool}_c.parquet"
                r = run_worker(py, tool, path, mj, n, args.cap, out)
                note = f"first call {r['first_seconds']:.2f} s"
                if "import_seconds" in r:
                    note = f"import {r['import_seconds']:.2f} s, " + note
                add(size, name, "compute", r["seconds"], note, extra={"version": r["version"]})
                outputs[f"{name} compute"] = out
            r = run_worker(py, "digifit-memory", path, mj, n, args.cap, work / "digifit_m.npy")
            note = f"load {r['load_seconds']:.2f} s (not counted), first call {r['first_seconds']:.2f} s"
            add(size, OURS_MEM, "compute", r["seconds"], note + "; weights stay in memory")
            outputs[f"{OURS_MEM} compute"] = work / "digifit_m.npy"
            peers_ok = not args.no_peers and (size == "1M" or args.peers_max_size == "10M")
            if peers_ok:
                for tool, ppy in (("balance", BALANCE_PY), ("svy", PEERS_PY), ("weightipy", PEERS_PY)):
                    if not ppy.exists():
                        add(size, tool, "compute", None, f"not installed ({ppy.parent.parent.name})")
                        continue
                    out = work / f"{tool}.npy"
                    r = run_worker(ppy, tool, path, mj, n, args.cap, out)
                    if "error" in r:
                        add(size, tool, "compute", None, r["error"])
                        continue
                    note = f"load {r['load_seconds']:.2f} s (not counted), first call {r['first_seconds']:.2f} s"
                    if not r["seconds"]:
                        r["seconds"] = [r["first_seconds"]]
                        note += f"; one run only (cap {args.cap:.0f} s)"
                    elif len(r["seconds"]) < n:
                        note += f"; {len(r['seconds'])} runs (cap {args.cap:.0f} s)"
                    if tool == "weightipy":
                        note += "; from uniform weights"
                    add(size, f"{tool} {r['version']}", "compute", r["seconds"], note, extra={"version": r["version"]})
                    outputs[f"{tool} compute"] = out
            checks[size] = check_weights(path, margins, outputs)
            for f in work.glob("*.parquet"):
                f.unlink()
            for f in work.glob("*.npy"):
                f.unlink()
            if not args.no_bootstrap:
                b = run_worker(py, "bootstrap", path, mj, n, 600.0, work / "none")
                boot[size] = {"digifit": b}
                add(size, "digifit proportion, Taylor", "boot", b["taylor"]["seconds"])
                add(size, "digifit proportion, 200 bootstrap", "boot", b["bootstrap"]["seconds"])
                if size == "1M" and not args.no_peers and PEERS_PY.exists():
                    s = run_worker(PEERS_PY, "svy-bootstrap", path, mj, n, args.cap, work / "none")
                    boot[size]["svy"] = s
                    if "error" in s:
                        add(size, "svy prop, 100 bootstrap", "boot", None, s["error"])
                    else:
                        add(size, f"svy {s['version']} prop, Taylor", "boot", s["taylor"]["seconds"])
                        add(size, f"svy {s['version']} prop, 100 bootstrap", "boot", s["bootstrap"]["seconds"])
        spark = None
        if args.spark:
            log("spark: benchmarks/run_spark.py (10M)")
            try:
                done = run([str(py), str(BENCH / "run_spark.py")], timeout=900)
                spark = json.loads(done.stdout.strip().splitlines()[-1])
            except Exception as e:  # recorded, not fatal
                spark = {"error": str(e)[-500:]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "versions": versions(),
        "commit": commit,
        "repeats": args.repeats,
        "cap_seconds": args.cap,
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "rows": rows,
        "checks": checks,
        "bootstrap": boot,
        "spark": spark,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"results: {args.out}")
    publish(report, args.update_docs)


def publish(report: dict, update_docs: bool) -> None:
    """Print the Markdown sections of ``report``; with ``update_docs`` write them into the docs page."""
    rows, load = report["rows"], report["load_average_1min"]
    sections = {
        "machine": machine_table(report),
        "results": (
            f"Run {report['date']} on commit {str(report.get('commit', '?'))[:10]}, {report['repeats']} timed runs "
            f"per row (medians, seconds); 1-minute load average {load['before']:.2f} before, "
            f"{load['after']:.2f} after.\n\n" + table(rows)
        ),
        "checks": check_table(report["checks"]),
        "bootstrap": boot_table(rows, report["bootstrap"]),
        "spark": spark_table(report["spark"]),
        "targets": targets(rows, report["bootstrap"], report["spark"]),
    }
    print("\n\n".join(sections.values()))
    if update_docs:
        doc = DOCS.read_text()
        for key, text in sections.items():
            start, end = doc.index(f"<!-- {key} -->"), doc.index(f"<!-- /{key} -->")
            doc = doc[:start] + f"<!-- {key} -->\n{text}\n" + doc[end:]
        DOCS.write_text(doc)
        log(f"updated {DOCS.relative_to(ROOT)}")


def machine_table(report: dict) -> str:
    m, v = report["machine"], report.get("versions", {})

    def pkgs(env: str) -> str:
        return ", ".join(f"{k} {x}" for k, x in v.get(env, {}).items())

    return "\n".join(
        [
            "| what | value |",
            "| --- | --- |",
            f"| date | {report['date']} |",
            f"| machine | `nproc` = {m['nproc']}, {m['cpu']} (the model name `/proc/cpuinfo` gives), "
            f"{m['ram_gib']} GiB RAM, shared with other jobs |",
            f"| digifit | commit `{str(report.get('commit', '?'))[:10]}`; project venv `.venv`: {pkgs('project')} |",
            f"| svy, weightipy | `benchmarks/.venv-peers`: {pkgs('peers')} |",
            f"| balance | `benchmarks/.venv-balance`: {pkgs('balance')} |",
        ]
    )


def machine() -> dict:
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in ln),
        "?",
    )
    mem = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem / 2**20, 1)}


def versions() -> dict:
    code = (
        "import json, platform, sys; from importlib.metadata import version as v\n"
        "out = {'python': platform.python_version()}\n"
        "for p in sys.argv[1:]:\n  try: out[p] = v(p)\n  except Exception: pass\n"
        "print(json.dumps(out))"
    )
    out = {}
    for name, py, pkgs in (
        ("project", PROJECT_PY, ["digifit", "duckdb", "ibis-framework", "numpy", "pyarrow"]),
        ("peers", PEERS_PY, ["svy", "svy-rs", "weightipy", "polars", "pandas", "numpy", "scipy"]),
        ("balance", BALANCE_PY, ["balance", "pandas", "numpy", "scipy", "scikit-learn"]),
    ):
        if py.exists():
            with contextlib.suppress(Exception):
                out[name] = json.loads(run([str(py), "-c", code, *pkgs]).stdout)
    return out


def _median(rows: list[dict], size: str, name: str, kind: str) -> float | None:
    return next((r["median"] for r in rows if (r["size"], r["name"], r["kind"]) == (size, name, kind)), None)


def table(rows: list[dict]) -> str:
    lines = [
        "| rows | measurement | kind | median (s) | min (s) | × floor | × digifit | CPU (s) | note |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        if r["kind"] == "boot":
            continue
        floor = _median(rows, r["size"], FLOOR, r["kind"])
        ours = _median(rows, r["size"], OURS, r["kind"])
        med = r["median"]
        cells = [
            r["size"],
            r["name"],
            r["kind"],
            "—" if med is None else f"{med:.3f}",
            "" if med is None else f"{min(r['seconds']):.3f}",
            "" if med is None or not floor else f"{med / floor:.2f}",
            "" if med is None or not ours else f"{med / ours:.2f}",
            "" if r.get("cpu_median") is None else f"{r['cpu_median']:.3f}",
            r["note"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def check_table(checks: dict) -> str:
    lines = [
        "| rows | weights of | max rel. diff. margins | max abs. diff. vs floor | max rel. diff. vs floor "
        "| max rel. diff. vs digifit | factor spread in a cell |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]

    def f(x):
        return "" if x is None else f"{x:.1e}"

    for size, by_tool in checks.items():
        for tool, c in by_tool.items():
            lines.append(
                f"| {size} | {tool} | {f(c['max_rel_margin'])} | {f(c.get('max_abs_diff_vs_floor'))} "
                f"| {f(c.get('max_rel_diff_vs_floor'))} | {f(c.get('max_rel_diff_vs_digifit'))} "
                f"| {f(c.get('max_rel_spread_factor_in_cell'))} |"
            )
    return "\n".join(lines)


def boot_table(rows: list[dict], boot: dict) -> str:
    lines = ["| rows | measurement | median (s) | min (s) | × Taylor (same tool) | SE DE | SE FR | SE UK |"]
    lines.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        if r["kind"] != "boot":
            continue
        taylor = next(
            x["median"]
            for x in rows
            if x["kind"] == "boot" and x["size"] == r["size"] and x["name"].split()[0] == r["name"].split()[0]
        )
        tool = "svy" if r["name"].startswith("svy") else "digifit"
        which = "taylor" if "Taylor" in r["name"] else "bootstrap"
        est = boot.get(r["size"], {}).get(tool, {}).get(which, {}).get("estimates", {})
        se = [f"{est[c][1]:.6f}" if c in est else "" for c in ("DE", "FR", "UK")]
        med = r["median"]
        cells = [r["size"], r["name"], "—", "", ""]
        if med is not None:
            cells[2:] = [f"{med:.3f}", f"{min(r['seconds']):.3f}", f"{med / taylor:.2f}" if taylor else ""]
        lines.append("| " + " | ".join(cells + se) + " |")
    return "\n".join(lines)


def spark_table(spark: dict | None) -> str:
    if spark is None:
        return "Not run in this run; see `benchmarks/run_spark.py`."
    if "error" in spark:
        return f"`benchmarks/run_spark.py` failed in this run: {spark['error'][-300:]}"
    s, d = spark["spark"], spark["duckdb"]
    return "\n".join(
        [
            f"`benchmarks/run_spark.py` ({spark['size']}, master {spark['master']}, pyspark {spark['pyspark']}, "
            f"{len(s['seconds'])} timed runs, run {spark['date']}): Taylor proportion of online by country.",
            "",
            "| engine | median (s) | min (s) | first call (s) | × DuckDB | note |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
            f"| DuckDB (in process) | {d['median']:.3f} | {min(d['seconds']):.3f} "
            f"| {d['first_seconds']:.2f} | 1.00 | |",
            f"| Spark local (in process) | {s['median']:.3f} | {min(s['seconds']):.3f} | {s['first_seconds']:.2f} "
            f"| {spark['spark_over_duckdb']:.2f} | session start {s['session_seconds']:.1f} s; "
            f"max rel. diff. of estimates and SEs vs DuckDB {spark['max_rel_diff']:.1e} |",
        ]
    )


def targets(rows: list[dict], boot: dict, spark: dict | None) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    out = ["Targets (issue 5, item 7), at 10M unless stated:"]
    size = "10M" if _median(rows, "10M", OURS, "compute") else "1M"
    ours_c, floor_c = _median(rows, size, OURS, "compute"), _median(rows, size, FLOOR, "compute")
    ours_p, floor_p = _median(rows, size, OURS, "process"), _median(rows, size, FLOOR, "process")
    col_c = _median(rows, size, FLOOR_COL, "compute")
    if ours_c and floor_c:
        out.append(
            f"- raking within 2x of the floor writing the same file ({size}): in-process {ours_c:.3f} s vs "
            f"{floor_c:.3f} s = {ours_c / floor_c:.2f}x -> {verdict(ours_c <= 2 * floor_c)}; whole process "
            f"{ours_p:.3f} s vs {floor_p:.3f} s = {ours_p / floor_p:.2f}x -> {verdict(ours_p <= 2 * floor_p)}"
        )
    if ours_c and col_c:
        out.append(
            f"- raking within 2x of the issue's floor (only the weight column written; about 0.45 s expected) "
            f"({size}): {col_c:.3f} s; digifit in-process {ours_c / col_c:.2f}x -> {verdict(ours_c <= 2 * col_c)} "
            "(digifit's `write_weights` writes every column, so it cannot do this floor's work)"
        )
    for peer, need in (("balance", 5), ("svy", 10), ("weightipy", 1)):
        for sz in ("1M", "10M"):
            r = next((x for x in rows if x["size"] == sz and x["name"].split()[0] == peer), None)
            ours = _median(rows, sz, OURS, "compute")
            if r is None or ours is None:
                continue
            if r["median"] is None:
                out.append(f"- {peer} at {sz}: {r['note']} (no ratio)")
                continue
            want = f">= {need}x faster" if need > 1 else "faster"
            parts = []
            for label, mine in (("file to file", ours), ("in memory", _median(rows, sz, OURS_MEM, "compute"))):
                if mine:
                    ratio = r["median"] / mine
                    ok = ratio >= need if need > 1 else ratio > 1
                    parts.append(f"{label} {ratio:.1f}x -> {verdict(ok)}")
            out.append(f"- {want} than {peer} at {sz} (peer time / digifit time): {'; '.join(parts)}")
    for sz, b in boot.items():
        d = b.get("digifit", {})
        if "taylor" in d and d["taylor"]["seconds"] and d["bootstrap"]["seconds"]:
            t, bs = statistics.median(d["taylor"]["seconds"]), statistics.median(d["bootstrap"]["seconds"])
            out.append(
                f"- 200 bootstrap replicates within 1.5x of Taylor at {sz}: {bs:.3f} s vs {t:.3f} s = "
                f"{bs / t:.2f}x -> {verdict(bs <= 1.5 * t)}"
            )
    if spark is None:
        out.append("- Spark local mode at 10M: not run here; see `benchmarks/run_spark.py`")
    elif "error" in spark:
        out.append(f"- Spark local mode at 10M: run_spark.py failed: {spark['error'][-200:]}")
    else:
        out.append("- Spark local mode at 10M: recorded (see the Spark section)")
    return "\n".join(out)


if __name__ == "__main__":
    main()
