"""Invitation tokens are stored as SHA-256 digests only: the clear token is in the respondent's link (the e-mail,
the one-time list at creation) and nowhere in the database, a dump or the manager's later pages."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from digifit.accounts.services import user_role_assign
from digifit.notifications.models import OutboxMessage
from digifit.survey import invitations, services
from digifit.survey.models import Invitation, Wave, invitation_token_digest

from .conftest import xlsform_bytes


@pytest.fixture
def wave(db, settings):
    settings.DIGIFIT_BASE_URL = "https://survey.example.org"
    version = services.questionnaire_version_add(content=xlsform_bytes()).version
    return services.wave_create(questionnaire=version.questionnaire, name="2026-11", status=Wave.Status.OPEN)


def _dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", "survey", stdout=out)
    return out.getvalue()


def test_only_the_digest_is_stored_and_no_dump_contains_the_token(wave):
    inv = services.invitation_create(wave=wave, panel_id="P-1", email="a@example.org")
    [bulk] = services.invitation_bulk_create(wave=wave, csv_text="panel_id,email\nP-2,b@example.org\n")
    for created in (inv, bulk):
        assert len(created.token) >= 32
        assert Invitation.objects.filter(token_digest=invitation_token_digest(created.token)).get().pk == created.pk
        row = Invitation.objects.filter(pk=created.pk).values().get()
        assert created.token not in repr(row)
        assert created.token not in _dump()
        assert invitation_token_digest(created.token) in _dump()  # the dump has the digest, not the key


def test_the_link_opens_the_form_a_wrong_token_or_the_digest_does_not(client, wave):
    inv = services.invitation_create(wave=wave, panel_id="P-1")
    assert client.get(f"/r/{inv.token}/").status_code == 200
    assert client.get(f"/r/{inv.token[:-1]}x/").status_code == 404
    assert client.get(f"/r/{inv.token_digest}/").status_code == 404  # a leaked database opens no form
    assert client.get("/r/no-such-token/thanks").status_code == 404


def test_sending_mails_the_created_token_or_makes_a_new_one(client, wave):
    fresh = services.invitation_create(wave=wave, panel_id="P-1", email="a@example.org")
    old = services.invitation_create(wave=wave, panel_id="P-2", email="b@example.org")
    assert invitations.invitations_send(wave=wave, invitations=[fresh]) == 1
    mail = OutboxMessage.objects.get(key=f"invite:{fresh.pk}")
    assert f"/r/{fresh.token}/" in mail.body_text  # the token the creation answer showed
    # the other one is loaded from the database, where no clear token is: it gets a new one, mailed at once
    assert invitations.invitations_send(wave=wave) == 1
    text = OutboxMessage.objects.get(key=f"invite:{old.pk}").body_text
    [mailed] = re.findall(r"/r/([^/\s]+)/", text)
    assert mailed != old.token
    assert client.get(f"/r/{old.token}/").status_code == 404
    assert client.get(f"/r/{mailed}/").status_code == 200
    reminders = OutboxMessage.objects.filter(key__startswith=f"invite-reminder:{old.pk}:")
    assert reminders.exists() and all(f"/r/{mailed}/" in m.body_text for m in reminders)
    with pytest.raises(ValueError, match="digest"):  # no link can be made without the clear token
        invitations.invitation_link(Invitation.objects.get(pk=old.pk))


def test_the_wave_page_shows_the_new_links_once_and_can_mail_them_at_once(client, wave):
    user = get_user_model().objects.create_user(username="m", password="pw-for-tests-1")
    user_role_assign(user=user, role="survey_manager")
    client.force_login(user)
    panel = b"panel_id,email,language\nP1,a@example.org,de\nP2,,en\n"
    page = client.post(f"/waves/{wave.pk}/", {"file": SimpleUploadedFile("p.csv", panel), "send": "on"})
    html = page.content.decode()
    assert page.status_code == 200
    links = re.findall(r"https://survey\.example\.org/r/([^/<\s]+)/", html)
    assert len(links) == 2
    for token in links:
        assert Invitation.objects.filter(token_digest=invitation_token_digest(token)).exists()
    p1 = Invitation.objects.get(panel_id="P1")
    assert p1.status == Invitation.Status.SENT  # mailed in the same step, with the link shown
    assert any(f"/r/{t}/" in OutboxMessage.objects.get(key=f"invite:{p1.pk}").body_text for t in links)
    again = client.get(f"/waves/{wave.pk}/").content.decode()
    assert not any(t in again for t in links)  # shown once


@pytest.mark.django_db(transaction=True)
def test_the_migration_digests_existing_tokens(wave):
    executor = MigrationExecutor(connection)
    before = [("survey", "0004_webhook_log_without_reply_bodies")]
    after = [("survey", "0005_invitation_token_digest")]
    executor.migrate(before)
    executor.loader.build_graph()
    old_state = executor.loader.project_state(before).apps
    OldInvitation = old_state.get_model("survey", "Invitation")
    OldInvitation.objects.create(wave_id=wave.pk, token="clear-token-of-an-old-link-123", panel_id="P-old")
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    row = Invitation.objects.get(panel_id="P-old")
    assert row.token_digest == invitation_token_digest("clear-token-of-an-old-link-123")
    assert "clear-token-of-an-old-link-123" not in _dump()
