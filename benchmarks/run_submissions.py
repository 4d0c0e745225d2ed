"""Submissions per second on PostgreSQL through a real WSGI server, and whether any was lost or duplicated.

    python benchmarks/run_submissions.py [--clients 8] [--seconds 60] [--workers 3] [--threads 2]
                                         [--database-url postgres://digifit:digifit@127.0.0.1:5432/digifit]
                                         [--rounds 1] [--no-floor] [--kill-worker]
                                         [--profile 200] [--json results.json]

What it does:

1. creates a fresh database ``<name>_bench_<pid>`` next to the one in ``--database-url`` (the role needs
   CREATEDB), migrates it, uploads the bundled questionnaire, opens a wave and makes a survey-manager token;
2. starts gunicorn (``digifit.web.wsgi:application``, ``gthread`` workers, ``DJANGO_DEBUG=0``) on 127.0.0.1;
3. runs ``--clients`` client *processes* (not threads: the client must not share one GIL) for ``--seconds``;
   each keeps one HTTP/1.1 connection open and POSTs ``/api/submissions`` with a new ``instance_id`` and a
   complete, valid answer to the bundled questionnaire, recording latency and the ids the server acknowledged
   (201). A request that got no answer is re-sent with the same ``instance_id``, as an offline client does;
4. stops the server and counts in the database: every acknowledged ``instance_id`` stored exactly once, nothing
   stored that was never sent;
5. does 2–4 again with the floor (``benchmarks/floor_submissions.py``: a bare WSGI handler that parses the same
   JSON and inserts it into the same table with ``ON CONFLICT DO NOTHING``, psycopg directly) under the same
   gunicorn settings and clients, and reports digifit's throughput as a share of the floor's. ``--rounds N``
   alternates floor and digifit N times (the machine's load drifts); ``--no-floor`` skips the floor;
6. with ``--kill-worker``, kills one gunicorn worker with SIGKILL halfway through digifit's measured time (the
   master starts a new one); the clients re-send what got no answer, and the count must still find every
   acknowledged submission stored, once;
7. with ``--profile N``, profiles N submissions in one process (Django's test client, same database) and prints
   where the time goes (cProfile, cumulative).

Prints one JSON object (and writes it to ``--json``). The database is dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

#: A complete, valid answer to the bundled questionnaire (future_of_business.xlsx).
ANSWERS = {
    "country": "DE",
    "region": "de_by",
    "sector": "retail",
    "size": "small",
    "founded": 1998,
    "presence_before": ["website", "social_page"],
    "digital_share": "p25_49",
    "revenue_change": "dec1_24",
    "employment_change": "same",
    "closed": "yes",
    "closed_months": 3,
    "tools_since": ["online_shop", "cloud"],
    "tool_detail": [{"tool": "online_shop", "tool_cost": 29.9}, {"tool": "cloud", "tool_useful": "4"}],
    "remote_staff": "sometimes",
    "collaboration": ["video", "shared_docs"],
    "remote_stays": "partly",
    "support_needs": ["online_ads", "other"],
    "support_needs_other": "Buchhaltung",
    "training_format": ["live_coaching", "videos"],
    "consent": "yes",
    "email": "inhaberin@example.org",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [str(VENV_BIN / "digifit"), "manage", *args], env=env, capture_output=True, text=True, timeout=300
    )
    if out.returncode != 0:
        raise SystemExit(f"digifit manage {' '.join(args)} failed:\n{out.stderr}")
    return out.stdout


def _prepare(env: dict[str, str]) -> tuple[str, int, int]:
    """Migrate, upload the questionnaire, open a wave; return a manager's token, the version's and wave's ids."""
    _manage(env, "migrate", "--verbosity", "0")
    token = _manage(env, "token_create", "bench", "--create", "--role", "survey_manager").strip().split()[-1]
    code = (
        "import django; django.setup()\n"
        "from digifit.demo.questionnaire import QUESTIONNAIRE_PATH\n"
        "from digifit.survey import services\n"
        "v = services.questionnaire_version_add(content=QUESTIONNAIRE_PATH.read_bytes()).version\n"
        "w = services.wave_create(questionnaire=v.questionnaire, name='bench', status='open')\n"
        "print(v.pk, w.pk)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300, capture_output=True, text=True)
    version_id, wave_id = out.stdout.split()[-2:]
    return token, int(version_id), int(wave_id)


def _client(port: int, token: str, seconds: float, warmup: float, start_at: float, out: mp.Queue) -> None:
    """One client process: POST submissions for ``warmup`` + ``seconds``; report the latencies of the measured
    ``seconds``, and every id sent and acknowledged (warm-up included: they are counted too)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    acked: list[str] = []
    sent: list[str] = []
    errors: dict[str, int] = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.time() < start_at:
        time.sleep(0.005)
    measure_from = time.perf_counter() + warmup
    deadline = measure_from + seconds
    measured = 0
    while time.perf_counter() < deadline:
        instance_id = str(uuid.uuid4())
        sent.append(instance_id)
        body = json.dumps({"form_id": "future_of_business", "instance_id": instance_id, "data": ANSWERS})
        for _attempt in range(5):  # no answer: send the same instance again (idempotent), as ODK Collect does
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/api/submissions", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            if t0 >= measure_from:
                latencies.append(time.perf_counter() - t0)
            if response.status in (200, 201):
                acked.append(instance_id)
                measured += t0 >= measure_from
            else:
                errors[f"HTTP {response.status}"] = errors.get(f"HTTP {response.status}", 0) + 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            break
    conn.close()
    out.put({"latencies": latencies, "acked": acked, "sent": sent, "errors": errors, "measured": measured})


def _wait_for(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _count(url: str, acked: set[str], sent: set[str], sent_before: set[str]) -> dict[str, int]:
    """Count this phase's ids in the table (``sent_before``: the ids of earlier phases, stored there too)."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT instance_id::text, status FROM survey_submission").fetchall()
    rows = [r for r in rows if r[0] not in sent_before]
    stored = {r[0] for r in rows if r[1] == "complete"}
    return {
        "stored": len(stored),
        "acknowledged": len(acked),
        "lost": len(acked - stored),
        "duplicated": len(rows) - len({r[0] for r in rows}),  # instance_id is unique: a second row is impossible
        "stored_never_sent": len(stored - sent),
        "stored_not_acknowledged": len(stored - acked),
    }


def _profile(env: dict[str, str], token: str, n: int) -> str:
    code = f"""
import cProfile, io, json, pstats, uuid, django
django.setup()
from django.test import Client
answers = json.loads({json.dumps(json.dumps(ANSWERS))})
client = Client()
headers = {{"Authorization": "Bearer {token}"}}
def one():
    body = {{"form_id": "future_of_business", "instance_id": str(uuid.uuid4()), "data": answers}}
    r = client.post("/api/submissions", body, content_type="application/json", headers=headers)
    assert r.status_code == 201, r.content
for _ in range(20):
    one()
import time
wall, cpu = time.perf_counter(), time.process_time()
for _ in range({n}):
    one()
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(f"unprofiled, one process: {{1000 * wall / {n}:.1f}} ms per submission, of which {{1000 * cpu / {n}:.1f}} ms CPU "
      f"of this process (the rest waits for PostgreSQL and for the CPU)")
from django.db import connection
from django.test.utils import CaptureQueriesContext
with CaptureQueriesContext(connection) as queries:
    one()
print(f"{{len(queries.captured_queries)}} SQL statements per submission:")
for q in queries.captured_queries:
    print("  ", q["time"], q["sql"][:150])
profile = cProfile.Profile()
profile.enable()
for _ in range({n}):
    one()
profile.disable()
out = io.StringIO()
pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(45)
pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
print(out.getvalue())
"""
    env = {**env, "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    return done.stdout + done.stderr[-3000:]


def _workers_of(master: int) -> list[int]:
    """The pids of the gunicorn master's worker processes (its children)."""
    found = []
    for task in Path(f"/proc/{master}/task").iterdir():
        children = (task / "children").read_text().split()
        found.extend(int(pid) for pid in children)
    return found


def _phase(args, env: dict[str, str], app: str, token: str, cwd: Path, kill_worker: bool) -> dict:
    """Start gunicorn with ``app``, run the clients, stop it; return the clients' results (and the kill)."""
    port = _free_port()
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--workers", str(args.workers),
            "--worker-class", "gthread",
            "--threads", str(args.threads),
            "--bind", f"127.0.0.1:{port}",
            "--keep-alive", "30",
            "--log-level", "warning",
            app,
        ],
        env=env,
        cwd=cwd,
    )  # fmt: skip
    killed = None
    try:
        _wait_for(port, server)
        time.sleep(2)  # the workers import their application
        queue: mp.Queue = mp.Queue()
        start_at = time.time() + 1.0
        client_args = (port, token, args.seconds, args.warmup, start_at, queue)
        clients = [mp.Process(target=_client, args=client_args) for _ in range(args.clients)]
        for c in clients:
            c.start()
        if kill_worker:
            time.sleep(max(0.0, start_at + args.warmup + args.seconds / 2 - time.time()))
            workers = _workers_of(server.pid)
            if workers:
                killed = workers[0]
                os.kill(killed, signal.SIGKILL)  # one of our gunicorn's workers, by its pid
        results = [queue.get(timeout=args.warmup + args.seconds + 120) for _ in clients]
        for c in clients:
            c.join()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    return {"results": results, "killed_worker": killed}


def _summary(args, phase: dict, db_url: str, sent_before: set[str]) -> tuple[dict, set[str]]:
    results = phase["results"]
    latencies = sorted(x for r in results for x in r["latencies"])
    acked = {i for r in results for i in r["acked"]}
    sent = {i for r in results for i in r["sent"]}
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    counts = _count(db_url, acked, sent, sent_before)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    out = {
        "submissions_per_second": round(sum(r["measured"] for r in results) / args.seconds, 1),
        "latency_ms": {
            "p50": round(pct(0.50), 1),
            "p90": round(pct(0.90), 1),
            "p99": round(pct(0.99), 1),
            "max": round(latencies[-1] * 1000, 1) if latencies else None,
            "mean": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        },
        "errors": errors,
        **counts,
    }
    if phase["killed_worker"] is not None:
        out["killed_worker_pid"] = phase["killed_worker"]
    return out, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load before measuring (not counted)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--database-url", default="postgres://digifit:digifit@127.0.0.1:5432/digifit")
    parser.add_argument("--rounds", type=int, default=1, help="alternate floor and digifit this many times")
    parser.add_argument("--no-floor", action="store_true", help="do not run the floor")
    parser.add_argument("--kill-worker", action="store_true", help="SIGKILL one digifit worker mid-run")
    parser.add_argument("--profile", type=int, default=0, help="profile N submissions in one process afterwards")
    parser.add_argument("--json", help="also write the result here")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    name = f"{urlsplit(args.database_url).path.strip('/') or 'digifit'}_bench_{os.getpid()}"
    db_url = _with_db(args.database_url, name)
    _admin(args.database_url, f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "benchmark-" + uuid.uuid4().hex,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_COOKIES": "0",
        "DIGIFIT_DB_POOL_MAX": str(max(2, args.threads + 1)),
        "DIGIFIT_LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "digifit.web.settings",
    }
    failed = False
    try:
        token, version_id, wave_id = _prepare(env)
        floor_env = {**env, "FLOOR_DSN": db_url, "FLOOR_VERSION_ID": str(version_id), "FLOOR_WAVE_ID": str(wave_id)}
        sent_before: set[str] = set()
        runs: list[dict] = []
        for _round in range(args.rounds):
            plan = [] if args.no_floor else [("floor", "floor_submissions:application", ROOT / "benchmarks")]
            plan.append(("digifit", "digifit.web.wsgi:application", ROOT))
            for label, app, cwd in plan:
                phase = _phase(args, floor_env if label == "floor" else env, app, token, cwd, args.kill_worker and
                               label == "digifit")  # fmt: skip
                summary, sent = _summary(args, phase, db_url, sent_before)
                sent_before |= sent
                runs.append({"server": label, **summary})
                failed = failed or bool(summary["lost"] or summary["duplicated"] or summary["stored_never_sent"])
        result = {
            "benchmark": "submissions",
            "database": "postgresql",
            "server": f"gunicorn gthread {args.workers} workers x {args.threads} threads",
            "clients": args.clients,
            "seconds": args.seconds,
            "cpus": os.cpu_count(),
            "kill_worker": args.kill_worker,
            "runs": runs,
        }
        digifit = [r["submissions_per_second"] for r in runs if r["server"] == "digifit"]
        floor = [r["submissions_per_second"] for r in runs if r["server"] == "floor"]
        result["submissions_per_second"] = statistics.median(digifit)
        if floor:
            result["floor_submissions_per_second"] = statistics.median(floor)
            result["share_of_floor"] = round(statistics.median(digifit) / statistics.median(floor), 3)
        if args.profile:
            result["profile"] = _profile(env, token, args.profile)
        text = json.dumps({k: v for k, v in result.items() if k != "profile"}, indent=2)
        print(text)
        if args.profile:
            print(result["profile"])
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
        if failed:
            raise SystemExit("submissions were lost or duplicated")
    finally:
        if not args.keep:
            _admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
