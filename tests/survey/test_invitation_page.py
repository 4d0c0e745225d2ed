"""The survey manager's invitations page: the list by status, sending, reminder days and a new link for one
invitation — in the browser, no shell. Real database, real outbox rows."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from digifit.notifications.models import OutboxMessage
from digifit.survey import invitations, services
from digifit.survey.models import Invitation, ReminderSchedule, Wave, invitation_token_digest

from .conftest import answers, login_as, new_id, xlsform_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave(settings):
    settings.DIGIFIT_BASE_URL = "https://survey.example.org"
    version = services.questionnaire_version_add(content=xlsform_bytes()).version
    wave = services.wave_create(questionnaire=version.questionnaire, name="2026-11", status=Wave.Status.OPEN)
    services.invitation_create(wave=wave, panel_id="P-1", email="one@example.org", language="de")
    services.invitation_create(wave=wave, panel_id="P-2", email="two@example.org", language="en")
    services.invitation_create(wave=wave, panel_id="P-3", email="", language="de")  # no address: by hand
    return wave


def _url(wave, **query) -> str:
    url = reverse("survey:invitations", kwargs={"wave_id": wave.pk})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_manager_sees_every_invitation_with_its_status_in_german(client, wave):
    login_as(client, "survey_manager")
    page = client.get(_url(wave), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    for panel_id in ("P-1", "P-2", "P-3"):
        assert panel_id in page
    assert "Einladungen" in page and "ausstehend (3)" in page
    assert "2 ausstehende Einladungen mit E-Mail-Adresse." in page


def test_status_filter_shows_only_that_status(client, wave):
    login_as(client, "survey_manager")
    Invitation.objects.filter(panel_id="P-2").update(status=Invitation.Status.COMPLETED)
    page = client.get(_url(wave, status="completed")).content.decode()
    assert "P-2" in page and "P-1" not in page and "P-3" not in page
    # an unknown status filters nothing (no 500, no empty page)
    assert "P-1" in client.get(_url(wave, status="bogus")).content.decode()


def test_send_button_queues_mails_for_pending_invitations_with_an_address(client, wave):
    login_as(client, "survey_manager")
    response = client.post(_url(wave), {"action": "send"}, follow=True)
    assert response.status_code == 200
    assert set(Invitation.objects.filter(wave=wave).values_list("panel_id", "status")) == {
        ("P-1", "sent"),
        ("P-2", "sent"),
        ("P-3", "pending"),
    }
    assert OutboxMessage.objects.filter(key__startswith="invite:").count() == 2
    # pressing again queues nothing new and says so
    page = client.post(_url(wave), {"action": "send"}, follow=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert OutboxMessage.objects.filter(key__startswith="invite:").count() == 2
    assert "nothing to send" in page


def test_reminder_days_are_saved_and_bad_days_are_refused_naming_the_value(client, wave):
    login_as(client, "survey_manager")
    client.post(_url(wave), {"action": "reminders", "days": "10, 3,3"})
    assert ReminderSchedule.objects.get(wave=wave).offsets_days == [3, 10]
    response = client.post(_url(wave), {"action": "reminders", "days": "5, zwei"}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200
    assert "„zwei“" in response.content.decode() or "“zwei”" in response.content.decode()
    assert ReminderSchedule.objects.get(wave=wave).offsets_days == [3, 10]  # unchanged
    client.post(_url(wave), {"action": "reminders", "days": ""})
    assert invitations.reminder_days(wave) == []


def test_new_link_replaces_the_old_one_and_withdraws_its_queued_mails(client, wave):
    login_as(client, "survey_manager")
    client.post(_url(wave), {"action": "send"})
    inv = Invitation.objects.get(panel_id="P-1")
    old_digest = inv.token_digest
    assert OutboxMessage.objects.filter(key__startswith=f"invite-reminder:{inv.pk}:", state="pending").exists()
    page = client.post(_url(wave), {"action": "renew", "invitation": inv.pk}).content.decode()
    link = re.search(r"https://survey\.example\.org/r/([\w-]+)/", page)
    assert link is not None
    inv.refresh_from_db()
    assert inv.token_digest == invitation_token_digest(link.group(1)) != old_digest
    assert not OutboxMessage.objects.filter(key__startswith=f"invite-reminder:{inv.pk}:", state="pending").exists()
    # the new link opens the form; nothing else of the wave changed
    assert client.get(f"/r/{link.group(1)}/").status_code == 200
    assert Invitation.objects.get(panel_id="P-2").token_digest != inv.token_digest


def test_new_link_refused_for_an_answered_invitation_and_for_another_waves(client, wave):
    login_as(client, "survey_manager")
    inv = Invitation.objects.get(panel_id="P-1")
    services.submission_submit(
        questionnaire_version=wave.questionnaire.versions.get(),
        instance_id=new_id(),
        data=answers(),
        wave=wave,
        invitation=inv,
    )
    inv.refresh_from_db()
    assert inv.status == Invitation.Status.COMPLETED
    digest = inv.token_digest
    assert client.post(_url(wave), {"action": "renew", "invitation": inv.pk}).status_code == 409
    other = services.wave_create(questionnaire=wave.questionnaire, name="2027-01", status=Wave.Status.OPEN)
    foreign = services.invitation_create(wave=other, panel_id="P-9", email="x@example.org")
    assert client.post(_url(wave), {"action": "renew", "invitation": foreign.pk}).status_code == 404
    assert client.post(_url(wave), {"action": "renew", "invitation": "1 OR 1"}).status_code == 404
    assert client.post(_url(wave), {"action": "explode"}).status_code == 400
    inv.refresh_from_db()
    assert inv.token_digest == digest


@pytest.mark.parametrize("role", ["analyst", None])
def test_only_survey_managers_open_the_page(client, wave, role):
    login_as(client, role)
    assert client.get(_url(wave)).status_code == 403
    assert client.post(_url(wave), {"action": "send"}).status_code == 403
    assert not OutboxMessage.objects.exists()


def test_an_empty_wave_and_an_unknown_wave(client, wave):
    login_as(client, "survey_manager")
    empty = services.wave_create(questionnaire=wave.questionnaire, name="leer", status=Wave.Status.OPEN)
    page = client.get(_url(empty), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No invitation yet" in page
    assert client.get(reverse("survey:invitations", kwargs={"wave_id": 999999})).status_code == 404
