"""A report job made by a real ``digifit worker`` process (django-tasks' database backend) on a fresh SQLite."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time

import pytest

CLI = [sys.executable, "-c", "from digifit.cli import main; main()"]


@pytest.mark.slow
def test_worker_process_makes_a_report(tmp_path):
    env = {**os.environ, "DIGIFIT_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "digifit.web.settings"}
    env.pop("DATABASE_URL", None)
    load = subprocess.run([*CLI, "demo", "--no-serve", "--rows", "6000", "--waves", "1"], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert load.returncode == 0, load.stderr
    queue = (
        "import django; django.setup()\n"
        "from digifit.reports.services import reportjob_create\n"
        "from digifit.survey.models import Wave\n"
        "job = reportjob_create(wave=Wave.objects.get(), format='xlsx', lang='de')\n"
        "print(job.pk)\n"
    )
    queued = subprocess.run([sys.executable, "-c", queue], env=env, capture_output=True, text=True, timeout=120)
    assert queued.returncode == 0, queued.stderr
    job_id = int(queued.stdout.strip())

    worker = subprocess.Popen([*CLI, "worker", "--no-outbox", "--interval", "0.2"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline:
            with sqlite3.connect(tmp_path / "digifit.sqlite3", timeout=20) as con:
                status, progress, file = con.execute(
                    "SELECT status, progress, file FROM reports_reportjob WHERE id = ?", (job_id,)
                ).fetchone()
            if status in ("done", "failed"):
                break
            time.sleep(0.3)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert (status, progress) == ("done", 100), worker.stderr.read() if worker.stderr else ""
    made = tmp_path / file
    assert made.read_bytes()[:4] == b"PK\x03\x04"
