"""Reminders arrive exactly once although the worker is killed mid-run (real worker, real SMTP server).

A real ``digifit worker`` process sends the outbox to a local aiosmtpd server. The server holds one message
in DATA until the test has killed the worker with SIGKILL; a message whose client disappeared before the
server's ``250`` is not delivered (as a real MTA does). After the kill some messages are left ``sending``;
a restarted worker sweeps them back (``DIGIFIT_OUTBOX_SENDING_TIMEOUT`` of 1 s here) and sends the rest. Every
confirmation and reminder must have arrived exactly once, by Message-ID and in total.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REGISTRATIONS = 12
KILL_AT = 10  # the message the server holds while the worker is killed

SETUP = r"""
import os, sys, json
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digifit.web.settings")
import django; django.setup()
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from digifit.programme import recurrence, services
from digifit.programme.models import Session
from zoneinfo import ZoneInfo
berlin = ZoneInfo("Europe/Berlin")
start = (timezone.now() + timedelta(minutes=30)).astimezone(berlin).replace(second=0, microsecond=0)
series = services.series_create(slug="test-serie", title="Live-Coaching", start_date=start.date(),
    weekday=recurrence.WEEKDAYS[start.weekday()], start_time=start.time(), until=start.date() + timedelta(days=7),
    active_capacity=50)
services.series_sessions_sync(series=series, through=start.date())
session = Session.objects.get(series=series, original_date=start.date())
registered_at = timezone.now() - timedelta(days=2)
keys = []
for i in range(int(sys.argv[1])):
    email = f"owner{i}@example.org"
    user = get_user_model().objects.create_user(username=email, email=email, password="x" * 12)
    b = services.business_register(user=user, company=f"Firma {i}", sector="retail", size_class="micro",
        region="BY", contact_name=f"Person {i}", email=email, consent=True, language=["de", "en", "fr"][i % 3])
    services.session_register(session=session, business=b, role="active", question="Wie?", now=registered_at)
from digifit.notifications.models import OutboxMessage
print(json.dumps(dict(OutboxMessage.objects.values_list("key", "message_id"))))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """aiosmtpd handler: records a message only if its client is still there to receive the 250."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.entered = 0
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        with self.lock:
            self.entered += 1
            hold = self.entered == KILL_AT
        if hold:
            self.holding.set()
            for _ in range(200):  # until the test killed the worker (at most 10 s)
                if self.release.is_set():
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
        transport = getattr(server, "transport", None)
        if transport is None or transport.is_closing():
            return "451 client gone before the reply; not delivered"
        message = message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.received.append(" ".join(str(message["Message-ID"]).split()))
        return "250 OK"


@pytest.fixture
def worker_env(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DIGIFIT_DATA_DIR": str(tmp_path), "DJANGO_DEBUG": "0", "DIGIFIT_OUTBOX_SENDING_TIMEOUT": "1"}
    url = os.environ.get("DATABASE_URL", "")
    dbname = None
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        dbname = f"digifit_reminders_{os.getpid()}"
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            con.execute(f'CREATE DATABASE "{dbname}"')
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + dbname
    yield env
    if dbname:
        import psycopg

        with psycopg.connect(url, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _run(env, *args: str, code: str = "from digifit.cli import main; main()") -> str:
    result = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _states(env) -> Counter:
    code = (
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'digifit.web.settings'); import django; "
        "django.setup(); from digifit.notifications.models import OutboxMessage as M; "
        "print(' '.join(M.objects.values_list('state', flat=True)))"
    )
    return Counter(_run(env, code=code).split())


def test_each_reminder_arrives_once_across_a_killed_worker(worker_env):
    import json

    from aiosmtpd.controller import Controller

    env = worker_env
    _run(env, "manage", "migrate", "-v", "0")
    expected = json.loads(_run(env, str(REGISTRATIONS), code=SETUP).strip().splitlines()[-1])
    assert len(expected) == 3 * REGISTRATIONS  # a confirmation and two reminders (24 h, 1 h) each
    assert sum(k.startswith("programme.reminder:") for k in expected) == 2 * REGISTRATIONS

    recorder = Recorder()
    port = _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    env |= {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port)}
    command = [
        sys.executable,
        "-c",
        "from digifit.cli import main; main()",
        "worker",
        "--no-tasks",
        "--interval",
        "0.2",
    ]
    try:
        first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert recorder.holding.wait(60), "the worker did not get to the message the server holds"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        recorder.release.set()
        time.sleep(0.5)
        states = _states(env)
        assert states["sending"] >= 1, states  # the killed worker left claimed messages behind
        assert len(recorder.received) == KILL_AT - 1

        second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(recorder.received) < len(expected):
            time.sleep(0.2)
        time.sleep(1.0)  # anything sent twice would arrive now
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    finally:
        controller.stop()
    counts = Counter(recorder.received)
    assert set(counts) == set(expected.values())
    assert [mid for mid, n in counts.items() if n != 1] == []
    assert len(recorder.received) == len(expected)
    assert _states(env) == Counter({"sent": len(expected)})
