"""The product tour (``digifit demo``): loads into an empty database, twice without duplicates."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from digifit.demo import tour

ROWS = 2400
WAVES = 3


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_tour_loads_twice_without_duplicates(data_dir):
    from django.contrib.auth import get_user_model

    from digifit.assessment.models import Assessment
    from digifit.learning.models import Enrolment
    from digifit.programme.models import Business, Series
    from digifit.survey.models import Questionnaire, Submission, Wave

    first = tour.tour_load(rows=ROWS, n_waves=WAVES)
    assert (first.users, first.waves, first.submissions, first.snapshots) == (len(tour.DEMO_USERS), WAVES, ROWS, WAVES)
    assert first.catalogue_created and first.checks == tour.CHECK_BUSINESSES
    assert first.courses_created
    from digifit.programme import selectors as programme_selectors

    # the demo's checks are claimed by their verified businesses, so they count toward reach
    assert len(programme_selectors.checks_by_business()) == tour.CHECK_BUSINESSES
    assert not Business.objects.filter(email_verified_at__isnull=True).exists()

    def counts():
        return (
            get_user_model().objects.filter(username__in=[u for u, _r, _d in tour.DEMO_USERS]).count(),
            Questionnaire.objects.count(),
            Wave.objects.count(),
            Submission.objects.count(),
            Submission.objects.exclude(panel_id="").count() > 0,
            Series.objects.count(),
            Business.objects.count(),
            Assessment.objects.count(),
            Enrolment.objects.count(),
            len(list((data_dir / "snapshots").glob("*/*.parquet"))),
        )

    before = counts()
    assert before[:5] == (len(tour.DEMO_USERS), 1, WAVES, ROWS, True)
    assert before[7] == tour.CHECK_BUSINESSES and before[9] == WAVES
    assert before[8] > 1  # the demo's takers and the "betrieb" business part-way through its course

    second = tour.tour_load(rows=ROWS, n_waves=WAVES)
    assert (second.users, second.waves, second.submissions, second.snapshots, second.checks) == (0, 0, 0, 0, 0)
    assert not second.catalogue_created and not second.courses_created
    assert counts() == before


@pytest.mark.django_db
def test_tour_users_have_their_roles(data_dir):
    from django.contrib.auth import authenticate

    tour.users_load()
    analyst = authenticate(username="analyst", password=tour.DEMO_PASSWORD)
    manager = authenticate(username="manager", password=tour.DEMO_PASSWORD)
    owner = authenticate(username="betrieb", password=tour.DEMO_PASSWORD)
    assert analyst.has_perm("survey.view_data") and not analyst.has_perm("survey.manage_surveys")
    assert manager.has_perm("survey.manage_surveys")
    assert not owner.has_perm("survey.view_data")
    assert authenticate(username="coach", password=tour.DEMO_PASSWORD).has_perm("programme.coach_sessions")
    assert authenticate(username="organiser", password=tour.DEMO_PASSWORD).has_perm("programme.view_reach")


@pytest.mark.django_db
def test_bulk_load_checks_answers_with_the_form_rules(data_dir):
    from digifit.survey.errors import SubmissionRejected
    from digifit.survey.models import Submission
    from digifit.survey.services import wave_create

    version = tour.questionnaire_load()
    wave = wave_create(questionnaire=version.questionnaire, name="x", status="open")
    bad = {"instance_id": "00000000-0000-4000-8000-000000000001", "panel_id": "", "language": "de",
           "submitted_at": None, "data": {"country": "Atlantis"}}  # fmt: skip
    with pytest.raises(SubmissionRejected):
        tour.submissions_bulk_load(version=version, wave=wave, rows=[bad])
    assert Submission.objects.count() == 0


def test_digifit_demo_no_serve_on_a_fresh_sqlite(tmp_path):
    """The command as ``make demo`` runs it (without serving): migrate, load, print the logins; twice."""
    env = {**os.environ, "DIGIFIT_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    cmd = [sys.executable, "-c", "from digifit.cli import main; main()", "demo", "--no-serve", "--rows", "1200",
           "--waves", "2"]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "1,200 new submissions in 2 new waves" in out.stdout
    for user in ("manager", "analyst", "coach", "organiser", "betrieb"):
        assert f"  {user}" in out.stdout
    assert (tmp_path / "digifit.sqlite3").exists()
    # again, serving on another port: nothing new is loaded, the demo mailbox answers, SIGTERM stops the worker
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve = [*cmd[:4], "--port", str(port), "--rows", "1200", "--waves", "2"]
    server = subprocess.Popen(serve, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in server.stdout:  # the command prints "serving at" once it has loaded (or exits on a failure)
            lines.append(line)
            if "serving at" in line:
                break
        output = "".join(lines)
        assert "0 new submissions in 0 new waves" in output, output
        assert f"http://127.0.0.1:{port}/" in output
        page = _get_when_up(f"http://127.0.0.1:{port}/demo/mail/")
        assert "Demo-Postfach" in page or "Demo mailbox" in page
        children = _children(server.pid)
        assert children, "the demo starts its background worker"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        for pid in children:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid), f"worker {pid} outlived the demo"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _get_when_up(url: str, attempts: int = 600) -> str:
    """GET ``url`` once the server accepts connections (polling a condition, up to 5 minutes)."""
    import urllib.error
    import urllib.request

    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read().decode("utf-8")
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    raise AssertionError(f"{url} never answered")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except FileNotFoundError:
        return "zombie"
