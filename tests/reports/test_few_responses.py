"""A wave that has just opened (2 responses): a translated message with n on every page, never a 500 or English."""

from __future__ import annotations

import pytest
from django.test import Client

from digifit.demo import tour
from digifit.reports import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_wave(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    tour.users_load()
    version = tour.questionnaire_load()
    import datetime as dt

    from digifit.demo.waves import submissions, waves_table
    from digifit.survey.services import wave_create

    wave = wave_create(
        questionnaire=version.questionnaire,
        name="2026-1",
        opens_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        closes_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        status="open",
    )
    rows = waves_table(60, seed=3, n_waves=1).slice(0, 2)
    assert tour.submissions_bulk_load(version=version, wave=wave, rows=submissions(rows, seed=3)) == 2
    return wave


def test_two_responses_show_the_message_in_german(tiny_wave):
    c = Client(HTTP_ACCEPT_LANGUAGE="de")
    assert c.login(username="analyst", password=tour.DEMO_PASSWORD)
    for url in ("/dashboard/", "/analysis/", f"/analysis/results?wave={tiny_wave.pk}"):
        resp = c.get(url)
        html = resp.content.decode()
        assert resp.status_code == 200, url
        assert "Noch nicht genug Antworten (n = 2)" in html, url
        assert "neighbouring level" not in html and "Not enough" not in html, url
    with pytest.raises(services.ReportJobError, match=r"n = 2"):
        services.reportjob_create(wave=tiny_wave, format="pdf", lang="de", enqueue=False)


def test_the_minimum_is_a_setting(tiny_wave, settings):
    settings.DIGIFIT_MIN_RESPONSES = 1
    c = Client(HTTP_ACCEPT_LANGUAGE="de")
    assert c.login(username="analyst", password=tour.DEMO_PASSWORD)
    resp = c.get("/dashboard/")
    assert resp.status_code == 200 and "Noch nicht genug Antworten" not in resp.content.decode()


def test_sparse_cell_gives_estimates_with_the_note_in_german(settings, tmp_path):
    import datetime as dt

    from digifit.demo.waves import submissions, waves_table
    from digifit.reports import selectors
    from digifit.survey.services import wave_create

    settings.DATA_DIR = tmp_path
    tour.users_load()
    version = tour.questionnaire_load()
    wave = wave_create(
        questionnaire=version.questionnaire,
        name="2026-1",
        opens_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        closes_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        status="open",
    )
    tour.submissions_bulk_load(version=version, wave=wave, rows=submissions(waves_table(60, seed=3, n_waves=1), seed=3))
    tour.margins_load(waves=[wave])
    selectors._headline.cache_clear()
    report = selectors.headline_get(wave=wave)
    assert report.collapsed  # 60 responses leave some country × size cells empty
    c = Client(HTTP_ACCEPT_LANGUAGE="de")
    assert c.login(username="analyst", password=tour.DEMO_PASSWORD)
    html = c.get("/dashboard/").content.decode()
    assert 'data-testid="headline"' in html and "Gewichtung: noch keine Antworten in" in html
    assert "collapsed" not in html and "neighbouring" not in html
