"""The thank-you page of a wave can point to the programme and the Digital-Check (issue 13, item 10): off by
default, switched on by the survey manager on the wave's page, shown after a real submission in the
respondent's language, and the links then open in that language — on the bundled questionnaire, through
Django's test client."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
from digifit.survey import services
from digifit.survey.models import Wave

from .conftest import login_as
from .test_respond import PAGES

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave(db):
    version = services.questionnaire_version_add(content=QUESTIONNAIRE_PATH.read_bytes()).version
    return services.wave_create(questionnaire=version.questionnaire, name="2026-12", status=Wave.Status.OPEN)


def _submit(wave, language):
    client = Client()
    n = wave.invitations.count() + 1
    invitation = services.invitation_create(wave=wave, panel_id=f"P-{n}", language=language)
    url = f"/r/{invitation.token}/"
    for name, data in PAGES.items():
        response = client.post(url, {"_page": name, "_action": "submit" if name == "contact" else "next", **data})
        assert response.status_code == 302, (name, response.content.decode()[:1000])
    return client, client.get(f"{url}thanks")


def test_off_by_default_then_switched_on_by_the_manager(client, wave):
    _, thanks = _submit(wave, "de")
    assert "Vielen Dank" in thanks.content.decode()
    assert "Digital-Check starten" not in thanks.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in thanks.cookies

    login_as(client, "survey_manager")
    page = client.get(f"/waves/{wave.pk}/").content.decode()
    section = page.split("<h2>Dankeseite</h2>", 1)[1].split("</section>", 1)[0]
    box = re.search(r'<input type="checkbox" name="thanks_links"[^>]*>', section)
    assert box is not None and "checked" not in box.group(0)
    done = client.post(f"/waves/{wave.pk}/", {"action": "thanks_links", "thanks_links": "on"})
    assert done.status_code == 302
    wave.refresh_from_db()
    assert wave.thanks_links is True
    page = client.get(done["Location"]).content.decode()
    assert "Die Dankeseite ist gespeichert." in page
    assert re.search(r'<input type="checkbox" name="thanks_links"[^>]*checked', page)

    html = _submit(wave, "de")[1].content.decode()
    assert "Wie geht es weiter?" in html and 'href="/check/"' in html and 'href="/programme/"' in html
    browser, english = _submit(wave, "en")
    assert "Start the Digital-Check" in english.content.decode()
    assert english.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    # the Check then opens in the language of the form, whatever the browser asks for
    check = browser.get("/check/", headers={"Accept-Language": "de"})
    assert check.status_code == 200 and '<html lang="en"' in check.content.decode()

    # switched off again: the box unticked is False
    client.post(f"/waves/{wave.pk}/", {"action": "thanks_links"})
    wave.refresh_from_db()
    assert wave.thanks_links is False


def test_only_a_manager_changes_it(client, wave):
    login_as(client, "analyst")
    page = client.get(f"/waves/{wave.pk}/")
    assert page.status_code == 200 and "thanks_links" not in page.content.decode()
    refused = client.post(f"/waves/{wave.pk}/", {"action": "thanks_links", "thanks_links": "on"})
    assert refused.status_code == 403
    wave.refresh_from_db()
    assert wave.thanks_links is False


def test_a_wave_created_with_the_box_ticked(client, wave):
    login_as(client, "survey_manager")
    form_id = wave.questionnaire.form_id
    done = client.post(f"/questionnaires/{form_id}/", {"name": "2027-01", "thanks_links": "on"})
    assert done.status_code == 302
    assert Wave.objects.get(name="2027-01").thanks_links is True
