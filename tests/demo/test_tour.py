"""The product tour (``digifit demo``): loads into an empty database, twice without duplicates."""

from __future__ import annotations

import os
import subprocess
import sys

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
    assert (first.users, first.waves, first.submissions, first.snapshots) == (5, WAVES, ROWS, WAVES)
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
    assert before[:5] == (5, 1, WAVES, ROWS, True)
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
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "0 new submissions in 0 new waves" in again.stdout
    assert (tmp_path / "digifit.sqlite3").exists()
