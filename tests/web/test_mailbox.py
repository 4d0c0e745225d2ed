"""The demo's mailbox (/demo/mail/): off by default, shows the queued e-mails with clickable links when the demo
turns it on, and a public deployment refuses to start with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from digifit.notifications.services import outbox_enqueue

SRC = str(Path(__file__).resolve().parents[2] / "src")
pytestmark = pytest.mark.django_db


def _mail():
    outbox_enqueue(
        key="invite:demo-1",
        to="owner@example.org",
        subject="Ihre Einladung: Future of Business",
        body_text="Guten Tag,\nhier ist Ihr Link: http://127.0.0.1:8001/r/abc123/\n",
        send_at=timezone.now(),
    )


def test_off_by_default(client):
    _mail()
    assert client.get("/demo/mail/").status_code == 404
    assert "Demo-Postfach" not in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de").content.decode()


def test_the_demo_shows_every_queued_mail_with_its_link(client, settings):
    settings.DIGIFIT_DEMO_MAILBOX = True
    empty = client.get("/demo/mail/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Noch keine E-Mail." in empty
    _mail()
    page = client.get("/demo/mail/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Ihre Einladung: Future of Business" in page and "owner@example.org" in page
    assert '<a href="http://127.0.0.1:8001/r/abc123/"' in page
    assert 'href="/demo/mail/"' in page  # the header links to it on every page
    assert client.get("/demo/mail/?page=zzz").status_code == 200


def test_a_public_deployment_refuses_the_mailbox(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGIFIT_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env |= {
        "PYTHONPATH": SRC,
        "DJANGO_SETTINGS_MODULE": "digifit.web.settings",
        "DIGIFIT_DATA_DIR": str(tmp_path),
        "DIGIFIT_HTTPS": "1",
        "DIGIFIT_SECRET_KEY": "k" * 50,
        "DIGIFIT_DEMO_MAILBOX": "1",
    }
    command = [sys.executable, "-m", "django", "check"]
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "DIGIFIT_DEMO_MAILBOX" in out.stderr and "Traceback" not in out.stderr
