"""Creating a wave on the questionnaire's page with the browser's date-and-time pickers (local time,
Europe/Berlin), and a closing time before the opening refused in the manager's language."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from digifit.survey import services
from digifit.survey.models import Wave

from .conftest import login_as, xlsform_bytes

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def manager(client):
    services.questionnaire_version_add(content=xlsform_bytes())
    login_as(client, "survey_manager")
    return client


def test_the_pickers_take_local_time(manager):
    page = manager.get("/questionnaires/fob_test/").content.decode()
    assert page.count('type="datetime-local"') == 2
    done = manager.post(
        "/questionnaires/fob_test/",
        {"name": "2027-01", "opens_at": "2027-01-04T09:00", "closes_at": "2027-01-31T18:00"},
    )
    assert done.status_code == 302
    wave = Wave.objects.get(name="2027-01")
    assert wave.opens_at == dt.datetime(2027, 1, 4, 9, 0, tzinfo=BERLIN)
    assert wave.closes_at == dt.datetime(2027, 1, 31, 18, 0, tzinfo=BERLIN)


def test_closing_before_opening_is_refused_in_german(manager):
    refused = manager.post(
        "/questionnaires/fob_test/",
        {"name": "x", "opens_at": "2027-01-31T09:00", "closes_at": "2027-01-04T09:00"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert refused.status_code == 200
    assert "Die Welle muss nach ihrem Beginn enden." in refused.content.decode()
    assert "must be after" not in refused.content.decode()
    assert not Wave.objects.filter(name="x").exists()
    bad = manager.post("/questionnaires/fob_test/", {"name": "y", "opens_at": "morgen"}, HTTP_ACCEPT_LANGUAGE="de")
    assert "Bitte ein gültiges Datum und Uhrzeit eingeben." in bad.content.decode()
