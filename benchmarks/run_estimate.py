"""Benchmark the by-country proportion: digifit against the floor, R survey, samplics and svy.

    python benchmarks/run_estimate.py                  # 1M and 10M rows, 5 runs each
    python benchmarks/run_estimate.py --sizes 1M --repeats 3 --no-r
    python benchmarks/run_estimate.py --many-clusters  # a million clusters: the pooled panel and 10M rows

Everything runs on the same seeded Parquet file per size (``benchmarks/generate.py`` writes it if missing).
Two kinds of timing, each the median of ``--repeats`` runs (at least 3) after one untimed warm-up run:

process
    Wall time of a whole fresh process, hyperfine-style: ``digifit estimate FILE ... --json`` and the floor
    (``benchmarks/floor.py``: one Python process running only the DuckDB GROUP BY the answer needs), and
    ``digifit estimate --help`` (what starting the command costs before any data is read).
compute
    Time inside a process that is already started: digifit's ``stats.design`` + ``stats.proportion`` (which
    scan the Parquet file every time), the floor query alone, R survey's ``svydesign`` + ``svyby`` on a
    data.frame in memory (1M only), samplics' and svy's design + estimate on arrays/frames in memory
    (1M only, in their own venv ``benchmarks/.venv-peers``, created here if missing).

Ratios are against the floor and against digifit of the same kind and size. The standard errors of every
tool are checked against R's at 1M. Results go to ``benchmarks/results/latest.json``.

Child processes run without ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE``: this machine sets them and they
slow numpy down (``make bench`` also unsets them for this script).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from generate import MANY_CLUSTERS, ensure, ensure_many_clusters  # noqa: E402

PROJECT_PY = ROOT / ".venv" / "bin" / "python"
DIGIFIT = ROOT / ".venv" / "bin" / "digifit"
if not DIGIFIT.exists():  # a worktree without its own venv: the digifit of the interpreter running this script
    DIGIFIT = Path(sys.executable).parent / "digifit"
PEERS_VENV = BENCH / ".venv-peers"
PEERS_PY = PEERS_VENV / "bin" / "python"
PEER_PACKAGES = ["samplics", "svy", "pyarrow"]
RESULTS = BENCH / "results" / "latest.json"
DOCS = ROOT / "docs" / "benchmarks.md"
# PYTHONDONTWRITEBYTECODE is dropped too: an installed digifit has its bytecode compiled, and without the cache
# every process would compile digifit's sources again (about 0.3 s of CPU for digifit.stats alone).
ENV = {
    k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "PYTHONDONTWRITEBYTECODE")
}
#: What ``digifit estimate`` imports before it reads data, profiled with ``python -X importtime``.
IMPORT_PROBE = (
    "import digifit.cli, digifit.cli.stats; from digifit.cli.lean import pyarrow_without_pandas; "
    "pyarrow_without_pandas(); from digifit import stats; from digifit.stats.duckdb_sql import duckdb_compiler; "
    "duckdb_compiler()"
)
#: Packages no CLI start-up may import (the test tests/web/test_cli.py checks the same by module inspection).
UNWANTED = ("pandas", "scipy", "django", "polars", "ibis.backends.sql.compilers.athena")
ESTIMATE_ARGS = ["--weights", "weight", "--strata", "stratum", "--ids", "psu", "--proportion", "online"]
ESTIMATE_ARGS += ["--by", "country", "--json"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(cmd: list[str], *, timeout: float = 1800) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return done


def time_processes(
    cmds: dict[str, list[str]], repeats: int
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, str]]:
    """Time whole processes, hyperfine-style but interleaved.

    Each command runs once untimed (warm-up), then the commands take turns ``repeats`` times, so a burst of
    load from other jobs on the machine hits all of them alike. Returns the wall times, the CPU times (user +
    system of the child and its threads, which waiting for a core does not inflate) and the last stdout per
    command.
    """
    for cmd in cmds.values():
        run(cmd)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    cpu: dict[str, list[float]] = {name: [] for name in cmds}
    stdout: dict[str, str] = {}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            stdout[name] = run(cmd).stdout
            times[name].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return times, cpu, stdout


def run_json(cmd: list[str]) -> dict:
    return json.loads(run(cmd).stdout.strip().splitlines()[-1])


def python() -> str:
    return str(PROJECT_PY if PROJECT_PY.exists() else sys.executable)


def digifit_ready() -> bool:
    """Whether ``digifit estimate`` exists yet (the CLI command may be missing in an early checkout)."""
    exe = DIGIFIT if DIGIFIT.exists() else shutil.which("digifit")
    if exe is None:
        return False
    return subprocess.run([str(exe), "estimate", "--help"], env=ENV, capture_output=True).returncode == 0


def ensure_peers() -> None:
    if PEERS_PY.exists():
        return
    log(f"creating {PEERS_VENV.relative_to(ROOT)} with {' '.join(PEER_PACKAGES)}")
    subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    subprocess.run([str(PEERS_PY), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True, env=ENV)


def ensure_csv(parquet: Path) -> Path:
    """Write the CSV copy R reads (Debian has no r-cran-arrow), once."""
    csv = parquet.with_suffix(".csv")
    if not csv.exists():
        code = "import sys, pyarrow.csv as c, pyarrow.parquet as p; "
        code += "c.write_csv(p.read_table(sys.argv[1]), sys.argv[2])"
        run([python(), "-c", code, str(parquet), str(csv)])
    return csv


def digifit_rows(rows: list[dict] | dict) -> list[dict]:
    """Pick the "online = 1" row per country out of digifit's JSON rows."""
    if isinstance(rows, dict):
        rows = rows.get("estimates") or rows.get("rows") or []
    out = []
    for r in rows:
        if "country" in (r.get("domain") or {}) and str(r.get("level")) in ("1", "None", "True", "1.0"):
            out.append({"country": r["domain"]["country"], "estimate": r["estimate"], "se": r["se"]})
    return sorted(out, key=lambda r: r["country"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1M", "10M"], help="1M, 10M (default: both)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (>= 3)")
    parser.add_argument("--no-r", action="store_true", help="skip R survey")
    parser.add_argument("--no-peers", action="store_true", help="skip samplics and svy")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--update-docs", action="store_true", help=f"rewrite the result sections of {DOCS.name}")
    parser.add_argument("--many-clusters", action="store_true", help="only the million-cluster cases")
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error(f"--repeats must be at least 3; got {args.repeats}")
    if args.many_clusters:
        many_clusters(args.repeats, args.update_docs)
        return

    load_before = os.getloadavg()
    ready = digifit_ready()
    if not ready:
        log("digifit estimate is not available yet: its rows are marked pending")
    rows: list[dict] = []
    estimates: dict[str, list[dict]] = {}

    def add(size: str, name: str, kind: str, seconds: list[float] | None, note: str = "", cpu=None) -> None:
        med = statistics.median(seconds) if seconds else None
        cpu_med = statistics.median(cpu) if cpu else None
        rows.append(
            {"size": size, "name": name, "kind": kind, "seconds": seconds, "median": med, "note": note}
            | {"cpu_seconds": cpu, "cpu_median": cpu_med}
        )
        log(f"  {size:>4} {name:<28} {kind:<8} " + (f"{med:8.3f} s" if med is not None else "pending"))

    for size in args.sizes:
        path = ensure(size)
        log(f"{size}: {path.relative_to(ROOT)}")
        n = args.repeats
        cmds = {"floor": [python(), str(BENCH / "floor.py"), str(path)]}
        if ready:
            cmds["digifit"] = [str(DIGIFIT), "estimate", str(path), *ESTIMATE_ARGS]
            cmds["startup"] = [str(DIGIFIT), "estimate", "--help"]
            cmds["help"] = [str(DIGIFIT), "--help"]
        times, cpu, out = time_processes(cmds, n)
        add(size, "floor (DuckDB GROUP BY)", "process", times["floor"], cpu=cpu["floor"])
        add(
            size,
            "floor (DuckDB GROUP BY)",
            "compute",
            run_json([python(), str(BENCH / "floor.py"), str(path), "--repeat", str(n)])["seconds"],
        )
        if ready:
            add(size, "digifit estimate", "process", times["digifit"], cpu=cpu["digifit"])
            note = "start-up and imports only"
            add(size, "digifit estimate --help", "process", times["startup"], note, cpu=cpu["startup"])
            add(size, "digifit --help", "process", times["help"], "the command list only", cpu=cpu["help"])
            api = run_json([python(), str(BENCH / "digifit_api.py"), str(path), str(n)])
            add(
                size,
                "digifit stats API",
                "compute",
                api["seconds"],
                f"import {api['import_seconds']:.2f} s, first call {api['first_seconds']:.2f} s",
            )
            if size == "1M":
                estimates["digifit CLI"] = digifit_rows(json.loads(out["digifit"]))
                estimates["digifit API"] = digifit_rows(api["rows"])
        else:
            add(size, "digifit estimate", "process", None, "pending")
            add(size, "digifit stats API", "compute", None, "pending")
        if size != "1M":
            continue
        if not args.no_r:
            r = run_json(["Rscript", str(BENCH / "r_survey.R"), str(ensure_csv(path)), str(n)])
            add(size, f"R survey {r['version']}", "compute", r["seconds"], f"load {r['load_seconds']:.2f} s")
            estimates["R survey"] = r["estimates"]
        if not args.no_peers:
            ensure_peers()
            for tool in ("svy", "samplics"):
                p = run_json([str(PEERS_PY), str(BENCH / "peers.py"), tool, str(path), str(n)])
                add(size, f"{tool} {p['version']}", "compute", p["seconds"], f"load {p['load_seconds']:.2f} s")
                estimates[tool] = p["estimates"]

    imports = import_profile()
    report = {
        "imports": imports,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "repeats": args.repeats,
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "rows": rows,
        "estimates_1M": estimates,
        "se_check": se_check(estimates),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    sections = {
        "results": (
            f"Run {report['date']}, {args.repeats} timed runs per row (medians, seconds); 1-minute load average "
            f"{load_before[0]:.2f} before, {report['load_average_1min']['after']:.2f} after.\n\n" + table(rows)
        ),
        "se-check": se_table(report["se_check"]),
        "targets": targets(rows),
        "imports": imports_table(imports),
    }
    print("\n\n".join(sections.values()))
    log(f"results: {args.out}")
    if args.update_docs:
        update_docs(sections)
        log(f"updated {DOCS.relative_to(ROOT)}")


def import_profile(top: int = 15) -> dict:
    """``python -X importtime`` of what ``digifit estimate`` imports before reading data: the top imports by
    cumulative time (median of 3 runs, so one slow run does not decide), the total, and the unwanted packages
    (:data:`UNWANTED`) found in ``sys.modules``."""
    code = IMPORT_PROBE + f"; import sys; print([m for m in {list(UNWANTED)!r} if m in sys.modules])"
    runs = []
    for _ in range(3):
        done = subprocess.run([python(), "-X", "importtime", "-c", code], env=ENV, capture_output=True, text=True)
        if done.returncode != 0:
            return {"error": done.stderr[-500:]}
        cumulative: dict[str, tuple[int, int]] = {}
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line or "cumulative" in line:
                continue
            _self_us, cum_us, name = line.removeprefix("import time:").split("|", 2)
            depth = (len(name) - len(name.lstrip()) - 1) // 2  # importtime indents a child by two spaces
            cumulative[name.strip()] = (int(cum_us), depth)
        runs.append((cumulative, done.stdout.strip()))
    names = set(runs[0][0])
    med = {n: statistics.median(r[0].get(n, (0, 0))[0] for r in runs) for n in names}
    first = runs[0][0]
    tops = sorted(names, key=lambda n: -med[n])[:top]
    return {
        "total_seconds": sum(med[n] for n in names if first[n][1] == 0) / 1e6,
        "top": [{"module": n, "cumulative_seconds": med[n] / 1e6, "depth": first[n][1]} for n in tops],
        "unwanted": runs[0][1],
    }


def imports_table(imports: dict) -> str:
    if "error" in imports:
        return f"(the import profile failed: {imports['error']})"
    lines = [
        f"`python -X importtime` of `digifit estimate`'s imports before it reads data (median of 3 runs): "
        f"{imports['total_seconds']:.3f} s in all; unwanted packages imported: {imports['unwanted']}.",
        "",
        "| module | cumulative (s) | depth |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| `{t['module']}` | {t['cumulative_seconds']:.3f} | {t['depth']} |" for t in imports["top"]]
    return "\n".join(lines)


MANY_CLUSTERS_RESULTS = BENCH / "results" / "many_clusters.json"
MEAN_ARGS = ["--weights", "weight", "--strata", "stratum", "--ids", "psu", "--mean", "online", "--by", "country"]


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run a whole process; return its wall time, CPU time (user + system), peak RSS in MB and stdout."""
    import tempfile

    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        out = proc.stdout.read()  # type: ignore[union-attr]
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (peak RSS), not all children's
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()  # type: ignore[union-attr]
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{err.read()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out


def many_clusters(repeats: int, update: bool) -> None:
    """A million clusters: ``digifit estimate --mean online --by country`` against the floor with Taylor.

    Files (``generate.py``): ``panel4`` (4 pooled waves of a panel, each of 1 M businesses its own cluster,
    4 M rows) and ``clusters10M`` (10 M rows in 1 M clusters). The floor is ``floor.py --taylor``: the one
    GROUP BY, fetched, then the Taylor mean in numpy. One untimed warm-up of each, then ``repeats`` runs
    taking turns; medians of wall time, CPU time and peak RSS (``wait4``) per process. digifit runs from this
    checkout's ``src``.
    """
    env = ENV | {"PYTHONPATH": os.pathsep.join([str(ROOT / "src"), ENV.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    cli = "import sys; from digifit.cli import main; sys.argv[0] = 'digifit'; sys.exit(main())"
    load_before = os.getloadavg()[0]
    rows = []
    for name in MANY_CLUSTERS:
        path = str(ensure_many_clusters(name))
        cmds = {
            "floor": [python(), str(BENCH / "floor.py"), path, "--taylor"],
            "digifit": [python(), "-c", cli, "estimate", path, *MEAN_ARGS, "--json"],
        }
        got: dict[str, list[tuple[float, float, float]]] = {k: [] for k in cmds}
        outs = {k: run_measured(c, env)[3] for k, c in cmds.items()}  # warm-up, and the answers
        for _ in range(repeats):
            for key, cmd in cmds.items():
                got[key].append(run_measured(cmd, env)[:3])
        floor_se = {r["country"]: r["se"] for r in json.loads(outs["floor"])}
        answer = json.JSONDecoder().raw_decode(outs["digifit"][outs["digifit"].index("{") :])[0]
        ours = {r["domain"]["country"]: r["se"] for r in answer["estimates"]}
        diff = max(abs(ours[c] / floor_se[c] - 1) for c in floor_se)
        med = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in got.items()}
        rows.append({"file": name, "runs": got, "median": med, "max_rel_diff_se": diff})
        log(f"{name}: floor {med['floor'][0]:.2f} s, digifit {med['digifit'][0]:.2f} s (SE rel. diff. {diff:.1e})")
    load_after = os.getloadavg()[0]
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"Run {date}, {repeats} interleaved runs each (medians); 1-minute load average {load_before:.2f} before, "
        f"{load_after:.2f} after.",
        "",
        "| file | rows | clusters | floor (s) | digifit (s) | × floor (wall) | floor CPU (s) | digifit CPU (s) "
        "| × floor (CPU) | floor peak (MB) | digifit peak (MB) | SE vs floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    shape = {"panel4": ("4 M", "1 M"), "clusters10M": ("10 M", "1 M")}
    for r in rows:
        (fw, fc, fm), (dw, dc, dm) = r["median"]["floor"], r["median"]["digifit"]
        n, k = shape.get(r["file"], ("", ""))
        lines.append(
            f"| {r['file']} | {n} | {k} | {fw:.2f} | {dw:.2f} | {dw / fw:.2f} | {fc:.2f} | {dc:.2f} | {dc / fc:.2f} "
            f"| {fm:.0f} | {dm:.0f} | {r['max_rel_diff_se']:.1e} |"
        )
    text = "\n".join(lines)
    print(text)
    MANY_CLUSTERS_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {"date": date, "machine": machine(), "load": [load_before, load_after], "rows": rows}
    MANY_CLUSTERS_RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    if update:
        update_docs({"many-clusters": text})


def update_docs(sections: dict[str, str]) -> None:
    """Replace the text between ``<!-- key -->`` and ``<!-- /key -->`` in docs/benchmarks.md."""
    doc = DOCS.read_text()
    for key, text in sections.items():
        start, end = doc.index(f"<!-- {key} -->"), doc.index(f"<!-- /{key} -->")
        doc = doc[:start] + f"<!-- {key} -->\n{text}\n" + doc[end:]
    DOCS.write_text(doc)


def machine() -> dict:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem / 2**20, 1),
        "python": platform.python_version(),
    }


def _median(rows: list[dict], size: str, name: str, kind: str) -> float | None:
    return next((r["median"] for r in rows if (r["size"], r["name"], r["kind"]) == (size, name, kind)), None)


def table(rows: list[dict]) -> str:
    """Render the medians as a Markdown table with ratios against the floor and digifit (same kind)."""
    lines = [
        "| rows | measurement | kind | median (s) | min (s) | × floor | × digifit | CPU (s) | note |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        floor = _median(rows, r["size"], "floor (DuckDB GROUP BY)", r["kind"])
        ours = _median(
            rows, r["size"], "digifit estimate" if r["kind"] == "process" else "digifit stats API", r["kind"]
        )
        med = r["median"]
        cells = [
            r["size"],
            r["name"],
            r["kind"],
            "pending" if med is None else f"{med:.3f}",
            "" if med is None else f"{min(r['seconds']):.3f}",
            "" if med is None or not floor else f"{med / floor:.2f}",
            "" if med is None or not ours else f"{med / ours:.2f}",
            "" if r.get("cpu_median") is None else f"{r['cpu_median']:.3f}",
            r["note"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def se_check(estimates: dict[str, list[dict]]) -> dict:
    """Largest relative difference of each tool's estimates and SEs from R's (or svy's, without R)."""
    ref_name = "R survey" if "R survey" in estimates else next(iter(estimates), None)
    if ref_name is None:
        return {}
    ref = {r["country"]: r for r in estimates[ref_name]}
    out = {"reference": ref_name}
    for tool, est in estimates.items():
        got = {r["country"]: r for r in est}
        if set(got) != set(ref):
            out[tool] = {"error": f"countries {sorted(got)} != {sorted(ref)}"}
            continue
        out[tool] = {
            "max_rel_diff_estimate": max(abs(got[c]["estimate"] / ref[c]["estimate"] - 1) for c in ref),
            "max_rel_diff_se": max(abs(got[c]["se"] / ref[c]["se"] - 1) for c in ref),
            "se": {c: got[c]["se"] for c in sorted(ref)},
        }
    return out


def se_table(check: dict) -> str:
    if not check:
        return "(no estimates to compare)"
    ref = check["reference"]
    lines = [
        f"SE of the proportion online by country at 1M (reference: {ref})",
        "",
        "| tool | SE DE | SE FR | SE UK | max rel. diff. SE | max rel. diff. estimate |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for tool, c in check.items():
        if tool == "reference":
            continue
        if "error" in c:
            lines.append(f"| {tool} | {c['error']} | | | | |")
            continue
        se = c["se"]
        lines.append(
            f"| {tool} | {se['DE']:.10f} | {se['FR']:.10f} | {se['UK']:.10f} "
            f"| {c['max_rel_diff_se']:.1e} | {c['max_rel_diff_estimate']:.1e} |"
        )
    return "\n".join(lines)


def targets(rows: list[dict]) -> str:
    """Say which of the issue's targets are met."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    out = ["Targets:"]
    cli10 = _median(rows, "10M", "digifit estimate", "process")
    floor10 = _median(rows, "10M", "floor (DuckDB GROUP BY)", "process")
    what = "- whole `digifit estimate` process within 2.0x of the floor process at 10M (issue 15; 1.5x stretch):"
    if cli10 and floor10:
        pick = {r["name"]: r for r in rows if r["size"] == "10M" and r["kind"] == "process"}
        a, b = pick["digifit estimate"], pick["floor (DuckDB GROUP BY)"]
        out.append(
            f"{what} {cli10 / floor10:.2f}x by median wall time -> {verdict(cli10 <= 2.0 * floor10)} "
            f"(by fastest run {min(a['seconds']) / min(b['seconds']):.2f}x, "
            f"by CPU time {a['cpu_median'] / b['cpu_median']:.2f}x)"
        )
    else:
        out.append(f"{what} pending")
    helps = [r["median"] for r in rows if r["name"] == "digifit --help" and r["median"] is not None]
    what = "- `digifit --help` within 0.15 s:"
    if helps:
        out.append(f"{what} {max(helps):.3f} s (slowest size's median) -> {verdict(max(helps) <= 0.15)}")
    else:
        out.append(f"{what} pending")
    api = _median(rows, "1M", "digifit stats API", "compute")
    cli = _median(rows, "1M", "digifit estimate", "process")
    r = next((x["median"] for x in rows if x["size"] == "1M" and x["name"].startswith("R survey")), None)
    what = "- >= 30x faster than R survey (design + svyby, data in memory) at 1M:"
    if api and cli and r:
        out.append(
            f"{what} stats API {r / api:.1f}x -> {verdict(r / api >= 30)}; "
            f"whole CLI process {r / cli:.1f}x -> {verdict(r / cli >= 30)}"
        )
    else:
        out.append(f"{what} pending")
    peers = [x for x in rows if x["size"] == "1M" and x["name"].split()[0] in ("svy", "samplics")]
    what = "- faster than every Python peer at 1M (peer time / digifit time):"
    if api and cli and peers:
        parts = [f"{p['name']} {p['median'] / api:.1f}x (API), {p['median'] / cli:.1f}x (CLI)" for p in peers]
        out.append(f"{what} {'; '.join(parts)} -> {verdict(all(p['median'] > api for p in peers))}")
    else:
        out.append(f"{what} pending")
    return "\n".join(out)


if __name__ == "__main__":
    main()
