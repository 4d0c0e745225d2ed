"""Invitation e-mails and reminders through the outbox: content per language, scheduling, cancellation on
answer and on close — and one run over a real SMTP server (aiosmtpd on 127.0.0.1) reading what arrived."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket

import pytest
from django.core.management import call_command
from django.utils import timezone

from digifit.notifications.models import OutboxMessage
from digifit.notifications.services import outbox_claim, outbox_deliver, outbox_run_once
from digifit.survey import invitations, services
from digifit.survey.models import Invitation, Wave, invitation_token_digest

from .conftest import answers, new_id, xlsform_bytes


@pytest.fixture
def wave(db, settings):
    settings.DIGIFIT_BASE_URL = "https://survey.example.org"
    version = services.questionnaire_version_add(content=xlsform_bytes()).version
    return services.wave_create(questionnaire=version.questionnaire, name="2026-11", status=Wave.Status.OPEN)


def _invite(wave, panel_id="P-1", language="de", email_="owner@example.org"):
    return services.invitation_create(wave=wave, panel_id=panel_id, email=email_, language=language)


@pytest.mark.parametrize(
    ("language", "subject", "greeting", "button"),
    [
        ("de", "Ihre Einladung: FoB Test", "Guten Tag,", "Zur Befragung"),
        ("en", "Your invitation: FoB Test", "Hello,", "Start the survey"),
        ("fr", "Votre invitation : FoB Test", "Bonjour,", "Commencer l’enquête"),
    ],
)
def test_message_in_the_invitations_language_with_its_link(wave, language, subject, greeting, button):
    inv = _invite(wave, language=language)
    got_subject, text, html = invitations.invitation_message(inv)
    link = f"https://survey.example.org/r/{inv.token}/"
    assert got_subject == subject
    assert text.startswith(greeting) and link in text and "&amp;" not in text
    assert f'href="{link}"' in html and button in html and f'lang="{language}"' in html
    reminder_subject, reminder_text, _ = invitations.invitation_message(inv, reminder=1)
    assert reminder_subject.startswith({"de": "Erinnerung", "en": "Reminder", "fr": "Rappel"}[language])
    assert link in reminder_text


def test_send_queues_invitation_and_reminders_once(wave):
    inv = _invite(wave)
    _invite(wave, panel_id="P-2", email_="")  # no address: not sent
    now = timezone.now()
    invitations.reminder_schedule_set(wave=wave, days=[3, 10])
    assert invitations.invitations_send(wave=wave, now=now) == 1
    assert invitations.invitations_send(wave=wave, now=now) == 0  # idempotent
    rows = {m.key: m for m in OutboxMessage.objects.all()}
    assert set(rows) == {f"invite:{inv.pk}", f"invite-reminder:{inv.pk}:1", f"invite-reminder:{inv.pk}:2"}
    assert rows[f"invite:{inv.pk}"].send_at == now and rows[f"invite:{inv.pk}"].to == "owner@example.org"
    assert rows[f"invite-reminder:{inv.pk}:1"].send_at == now + dt.timedelta(days=3)
    assert rows[f"invite-reminder:{inv.pk}:2"].send_at == now + dt.timedelta(days=10)
    inv.refresh_from_db()
    assert inv.status == Invitation.Status.SENT and inv.sent_at == now


def test_no_reminder_after_the_wave_closes(wave):
    now = timezone.now()
    wave.closes_at = now + dt.timedelta(days=10)
    wave.save()
    inv = _invite(wave)
    invitations.invitations_send(wave=wave, now=now)  # default days 7 and 14: only the first fits
    assert sorted(OutboxMessage.objects.values_list("key", flat=True)) == [
        f"invite-reminder:{inv.pk}:1",
        f"invite:{inv.pk}",
    ]


def test_answering_cancels_the_reminders(wave, django_capture_on_commit_callbacks):
    inv = _invite(wave)
    invitations.invitations_send(wave=wave)
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_submit(
            questionnaire_version=wave.questionnaire.versions.get(),
            instance_id=new_id(),
            data=answers(),
            invitation=inv,
        )
    states = dict(OutboxMessage.objects.values_list("key", "state"))
    assert states[f"invite:{inv.pk}"] == "pending"  # the invitation itself is not withdrawn
    assert states[f"invite-reminder:{inv.pk}:1"] == states[f"invite-reminder:{inv.pk}:2"] == "cancelled"


def test_closing_the_wave_cancels_the_reminders(wave, django_capture_on_commit_callbacks):
    inv = _invite(wave)
    invitations.invitations_send(wave=wave)
    with django_capture_on_commit_callbacks(execute=True):
        services.wave_status_set(wave=wave, status=Wave.Status.CLOSED)
    assert OutboxMessage.objects.get(key=f"invite-reminder:{inv.pk}:1").state == "cancelled"


def test_bad_reminder_days_are_refused(wave):
    with pytest.raises(ValueError, match="got -1"):
        invitations.reminder_schedule_set(wave=wave, days=[7, -1])


def test_management_command(wave, capsys):
    _invite(wave)
    call_command("invitations_send", str(wave.pk), "--reminder-days", "5")
    out = capsys.readouterr().out
    assert "1 invitation e-mail(s) queued" in out and "reminders after days: 5" in out
    assert OutboxMessage.objects.count() == 2


# ------------------------------------------------------------------------------------------ real SMTP


class _Recorder:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    recorder = _Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield recorder
    controller.stop()


def test_invitation_and_reminder_arrive_over_smtp(wave, smtp_server):
    inv = _invite(wave, language="en", email_="owner@example.org")
    invitations.invitations_send(wave=wave)
    assert outbox_run_once(worker_id="test") == 1  # the reminders are not due yet
    [(rcpt, raw)] = smtp_server.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert rcpt == ["owner@example.org"] and message["Subject"] == "Your invitation: FoB Test"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    # sent from the database: a new token was made for the e-mail (only its digest is stored)
    [token] = re.findall(r"https://survey\.example\.org/r/([^/\s]+)/", text)
    assert token != inv.token and f"/r/{token}/" in html
    inv.refresh_from_db()
    assert inv.token_digest == invitation_token_digest(token)
    # eight days later the first reminder is due, once
    later = timezone.now() + dt.timedelta(days=8)
    for claimed in outbox_claim(worker_id="test", now=later):
        outbox_deliver(claimed, now=later)
    assert outbox_claim(worker_id="test", now=later) == []
    assert len(smtp_server.messages) == 2
    reminder = email.message_from_bytes(smtp_server.messages[1][1], policy=email.policy.default)
    assert reminder["Subject"] == "Reminder: FoB Test"


# ---------------------------------------------------------------------------------------------- own texts


def test_a_waves_own_text_replaces_the_default_in_its_language_only(wave):
    invitations.mail_text_set(
        wave=wave,
        kind="invitation",
        language="de",
        subject="Ihre Meinung zählt",
        body="liebe Betriebe,\n\nbitte mitmachen.",
    )
    de, en = _invite(wave, language="de"), _invite(wave, panel_id="P-2", language="en")
    subject, text, html = invitations.invitation_message(de)
    assert subject == "Ihre Meinung zählt"
    assert "bitte mitmachen." in text and f"https://survey.example.org/r/{de.token}/" in text  # the link stays
    assert "<p>bitte mitmachen.</p>" in html
    assert invitations.invitation_message(en)[0] == "Your invitation: FoB Test"  # English keeps the default
    assert invitations.invitation_message(de, reminder=1)[0].startswith("Erinnerung")  # and so do reminders


def test_html_in_an_own_text_is_text(wave):
    invitations.mail_text_set(wave=wave, kind="invitation", language="de", subject="S", body='<a href="x">klick</a>')
    _, text, html = invitations.invitation_message(_invite(wave))
    assert '<a href="x">' not in html and "&lt;a href=&quot;x&quot;&gt;klick&lt;/a&gt;" in html
    assert '<a href="x">klick</a>' in text  # the plain-text part is plain text


def test_the_default_wording_or_an_empty_text_removes_the_own_text(wave):
    from digifit.survey.models import MailText

    invitations.mail_text_set(wave=wave, kind="reminder", language="fr", subject="Rappel !", body="Encore vous.")
    assert MailText.objects.count() == 1
    subject, body = invitations.mail_text_default("reminder", "fr", "FoB Test")
    assert invitations.mail_text_set(wave=wave, kind="reminder", language="fr", subject=subject, body=body) is None
    assert MailText.objects.count() == 0


def test_the_page_edits_all_texts_previews_and_refuses_bad_input(client, wave):
    from digifit.survey.models import MailText

    from .conftest import login_as

    login_as(client, "survey_manager")
    url = f"/waves/{wave.pk}/invitations/texts/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Ihre Einladung: FoB Test" in page and "Your invitation: FoB Test" in page and "Rappel : FoB Test" in page
    data = {}
    for kind in ("invitation", "reminder"):
        for lang in ("de", "en", "fr"):
            subject, body = invitations.mail_text_default(kind, lang, "FoB Test")
            data[f"{kind}-{lang}-subject"], data[f"{kind}-{lang}-body"] = subject, body
    data["invitation-de-subject"] = "Machen Sie mit!"
    saved = client.post(url, data, HTTP_ACCEPT_LANGUAGE="de")
    assert saved.status_code == 302
    assert list(MailText.objects.values_list("kind", "language", "subject")) == [
        ("invitation", "de", "Machen Sie mit!")
    ]
    preview = client.get(url + "?preview=invitation-de", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Vorschau" in preview and "Machen Sie mit!" in preview and "Guten Tag," in preview
    bad = dict(data, **{"invitation-en-subject": "x" * 201})
    refused = client.post(url, bad, HTTP_ACCEPT_LANGUAGE="de")
    assert refused.status_code == 422 and "höchstens 200 Zeichen" in refused.content.decode()
    assert MailText.objects.get().subject == "Machen Sie mit!"  # nothing half-saved
