"""An acknowledged submission is never lost: kill -9 the server during a load run, restart it, count.

The server is a real ``digifit serve`` process on 127.0.0.1 with its own database (a SQLite file, or a fresh
PostgreSQL database when ``DATABASE_URL`` points at PostgreSQL). Clients post submissions until the server dies;
every submission the server acknowledged (201/200) must be there after the restart, and re-sending the
unacknowledged ones — as an offline client does — stores each exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from .conftest import answers, xlsform_bytes

pytestmark = pytest.mark.slow

CLIENTS = 4
RUN_SECONDS = 30  # hard bound of the load loop


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(env: dict[str, str], *args: str) -> str:
    code = "import sys; from digifit.cli import web; web.{}(sys.argv[1:], standalone_mode=True)"
    command, *rest = args
    result = subprocess.run(
        [sys.executable, "-c", code.format(command), *rest], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _start(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from digifit.cli import web; web.serve(sys.argv[1:])",
            "--port",
            str(port),
            "--no-migrate",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=2)
            return proc
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("digifit serve did not start within 60 s")


def _post(port: int, token: str, body: dict) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/submissions",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def server_env(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DIGIFIT_DATA_DIR"] = str(tmp_path)
    env["DJANGO_DEBUG"] = "0"
    url = os.environ.get("DATABASE_URL", "")
    dbname = None
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        dbname = f"digifit_durability_{os.getpid()}"
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            con.execute(f'CREATE DATABASE "{dbname}"')
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + dbname
    yield env
    if dbname:
        import psycopg

        with psycopg.connect(url, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def test_killing_the_server_loses_no_acknowledged_submission(server_env, tmp_path):
    env = server_env
    _cli(env, "manage", "migrate", "-v", "0")
    form = tmp_path / "form.xlsx"
    form.write_bytes(xlsform_bytes())
    _cli(env, "questionnaire", "add", str(form))
    _cli(env, "waves", "--create", "fob_test", "w1")
    token = _cli(env, "manage", "token_create", "loader", "--create", "--role", "survey_manager").strip()
    port = _free_port()
    server = _start(env, port)

    acknowledged: set[str] = set()
    unacknowledged: set[str] = set()
    refused: list[int] = []  # any HTTP answer but 200/201 while the server was up is a failure
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        deadline = time.monotonic() + RUN_SECONDS
        while not stop.is_set() and time.monotonic() < deadline:
            iid = str(uuid.uuid4())
            body = {"form_id": "fob_test", "instance_id": iid, "data": answers()}
            try:
                status = _post(port, token, body)
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                status = None
            with lock:
                (acknowledged if status in (200, 201) else unacknowledged).add(iid)
                if status is not None and status not in (200, 201):
                    refused.append(status)
            if status is None:
                return  # the server is gone

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        with lock:
            if len(acknowledged) >= 60:
                break
        time.sleep(0.05)
    server.send_signal(signal.SIGKILL)  # mid-request, no shutdown of any kind
    server.wait(timeout=30)
    for t in threads:
        t.join(timeout=RUN_SECONDS + 15)
    stop.set()
    assert refused == [], f"the server refused valid submissions under load: {refused[:10]}"
    assert len(acknowledged) >= 20, "the load run acknowledged too few submissions to mean anything"

    server = _start(env, port)
    try:
        for iid in sorted(unacknowledged):  # an offline client re-sends what was not acknowledged
            assert _post(port, token, {"form_id": "fob_test", "instance_id": iid, "data": answers()}) in (200, 201)
        for iid in sorted(acknowledged)[:: max(1, len(acknowledged) // 20)]:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/submissions/{iid}", headers={"Authorization": f"Bearer {token}"}
            )
            with urllib.request.urlopen(request, timeout=10) as resp:
                assert resp.status == 200
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/submissions?limit=1", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            count = json.load(resp)["count"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    # every acknowledged submission survived, every re-sent one is stored once, nothing else exists
    print(f"acknowledged {len(acknowledged)}, unacknowledged {len(unacknowledged)}, stored {count}")
    assert count == len(acknowledged | unacknowledged)
