"""Submissions per second on PostgreSQL through a real WSGI server, and whether any was lost or duplicated.

    python benchmarks/run_submissions.py [--clients 8] [--seconds 60] [--workers 3] [--threads 2]
                                         [--database-url postgres://digifit:digifit@127.0.0.1:5432/digifit]
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
5. with ``--profile N``, profiles N submissions in one process (Django's test client, same database) and prints
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


def _prepare(env: dict[str, str]) -> str:
    """Migrate, upload the questionnaire, open a wave; return a manager's token."""
    _manage(env, "migrate", "--verbosity", "0")
    token = _manage(env, "token_create", "bench", "--create", "--role", "survey_manager").strip().split()[-1]
    code = (
        "import django; django.setup()\n"
        "from digifit.demo.questionnaire import QUESTIONNAIRE_PATH\n"
        "from digifit.survey import services\n"
        "v = services.questionnaire_version_add(content=QUESTIONNAIRE_PATH.read_bytes()).version\n"
        "services.wave_create(questionnaire=v.questionnaire, name='bench', status='open')\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
    return token


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


def _count(url: str, acked: set[str], sent: set[str]) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT instance_id::text, status FROM survey_submission").fetchall()
        per_id = conn.execute(
            "SELECT count(*) FROM (SELECT instance_id FROM survey_submission GROUP BY instance_id HAVING count(*) > 1)"
            " AS d"
        ).fetchone()[0]
    stored = {r[0] for r in rows if r[1] == "complete"}
    return {
        "stored": len(stored),
        "acknowledged": len(acked),
        "lost": len(acked - stored),
        "duplicated": per_id + (len(rows) - len({r[0] for r in rows})),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load before measuring (not counted)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--database-url", default="postgres://digifit:digifit@127.0.0.1:5432/digifit")
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
    server = None
    try:
        token = _prepare(env)
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
                "digifit.web.wsgi:application",
            ],
            env=env,
            cwd=ROOT,
        )  # fmt: skip
        _wait_for(port, server)
        time.sleep(2)  # the workers import Django
        queue: mp.Queue = mp.Queue()
        start_at = time.time() + 1.0
        client_args = (port, token, args.seconds, args.warmup, start_at, queue)
        clients = [mp.Process(target=_client, args=client_args) for _ in range(args.clients)]
        for c in clients:
            c.start()
        results = [queue.get(timeout=args.warmup + args.seconds + 120) for _ in clients]
        for c in clients:
            c.join()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        server = None

        latencies = sorted(x for r in results for x in r["latencies"])
        acked = {i for r in results for i in r["acked"]}
        sent = {i for r in results for i in r["sent"]}
        errors: dict[str, int] = {}
        for r in results:
            for k, v in r["errors"].items():
                errors[k] = errors.get(k, 0) + v
        counts = _count(db_url, acked, sent)

        def pct(p: float) -> float:
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

        result = {
            "benchmark": "submissions",
            "database": "postgresql",
            "server": f"gunicorn gthread {args.workers} workers x {args.threads} threads",
            "clients": args.clients,
            "seconds": args.seconds,
            "cpus": os.cpu_count(),
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
        if args.profile:
            result["profile"] = _profile(env, token, args.profile)
        text = json.dumps({k: v for k, v in result.items() if k != "profile"}, indent=2)
        print(text)
        if args.profile:
            print(result["profile"])
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
        if counts["lost"] or counts["duplicated"] or counts["stored_never_sent"]:
            raise SystemExit("submissions were lost or duplicated")
    finally:
        if server is not None:
            server.kill()
            server.wait()
        if not args.keep:
            _admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
