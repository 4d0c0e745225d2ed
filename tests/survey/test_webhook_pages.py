"""The survey manager's webhook pages, against a real receiver on 127.0.0.1: register a webhook (secret shown
once), refuse a bad address in the manager's language, send a signed test event and see it in the delivery
log, rotate the secret (the next delivery is signed with the new one), retry, switch off, remove."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from digifit.survey import services, webhooks
from digifit.survey.models import Webhook, WebhookDelivery

from .conftest import answers, login_as, new_id, xlsform_bytes
from .test_webhooks import Receiver


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    settings.DIGIFIT_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def version(db):
    return services.questionnaire_version_add(content=xlsform_bytes()).version


@pytest.fixture
def manager(client, db):
    login_as(client, "survey_manager")
    client.cookies["django_language"] = "de"
    return client


def _secret_on(page: str) -> str:
    found = re.findall(r"<code>([A-Za-z0-9_\-]{40,})</code>", page)
    assert len(found) == 1, "the page shows exactly one secret"
    return found[0]


def test_register_then_test_event_is_signed_and_logged(manager, version):
    form_id = version.questionnaire.form_id
    page = manager.get(reverse("survey:questionnaire", args=[form_id])).content.decode()
    assert reverse("survey:webhooks", args=[form_id]) in page  # reached from the questionnaire's page
    empty = manager.get(reverse("survey:webhooks", args=[form_id])).content.decode()
    assert "Noch kein Webhook." in empty and ">Webhook eintragen</button>" in empty
    with Receiver() as receiver:
        created = manager.post(reverse("survey:webhooks", args=[form_id]), {"url": receiver.url, "description": "CRM"})
        assert created.status_code == 200
        html = created.content.decode()
        assert "Webhook eingetragen" in html
        secret = _secret_on(html)
        hook = Webhook.objects.get()
        assert hook.secret == secret and hook.url == receiver.url
        receiver.secret = secret
        # the list shows it, without the secret
        listing = manager.get(reverse("survey:webhooks", args=[form_id])).content.decode()
        assert receiver.url in listing and secret not in listing

        sent = manager.post(reverse("survey:webhook", args=[hook.pk]), {"action": "test"}, follow=True)
    html = sent.content.decode()
    assert "Testereignis gesendet" in html and "HTTP 200" in html
    assert secret not in html
    [request] = receiver.requests
    assert request["verified"] and request["body"]["event"] == "webhook.test" and request["body"]["test"] is True
    delivery = WebhookDelivery.objects.get()
    assert delivery.submission is None and delivery.status == WebhookDelivery.Status.DELIVERED
    assert str(delivery.pk) == request["delivery"]
    assert "Testereignis" in html  # the log names the event in the manager's language


def test_a_refused_address_is_explained_in_german_and_nothing_is_stored(manager, version):
    form_id = version.questionnaire.form_id
    bad = manager.post(reverse("survey:webhooks", args=[form_id]), {"url": "ftp://hooks.example.org/in"})
    assert bad.status_code == 422
    assert "Geben Sie eine Webadresse ein, die mit http:// oder https:// beginnt." in bad.content.decode()
    blocked = manager.post(reverse("survey:webhooks", args=[form_id]), {"url": "http://10.1.2.3/in"})
    assert blocked.status_code == 422
    assert "10.1.2.3" in blocked.content.decode() and "privat" in blocked.content.decode()
    assert not Webhook.objects.exists()


def test_a_failed_test_event_says_so_and_can_be_retried(manager, version):
    with Receiver(codes=(503,)) as receiver:
        hook = webhooks.webhook_create(questionnaire=version.questionnaire, url=receiver.url, secret="x" * 32)
        receiver.secret = hook.secret
        page = manager.post(reverse("survey:webhook", args=[hook.pk]), {"action": "test"}, follow=True)
        html = page.content.decode()
        assert "Testereignis nicht zugestellt" in html and "HTTP 503" in html
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == WebhookDelivery.Status.FAILED
        retried = manager.post(reverse("survey:webhook", args=[hook.pk]), {"action": "retry", "delivery": delivery.pk})
        assert retried.status_code == 302
        delivery.refresh_from_db()
        assert delivery.status == WebhookDelivery.Status.PENDING
        receiver.codes = [200]
        assert webhooks.webhook_deliveries_run() == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.attempts == 2
    # a delivery of another webhook cannot be touched through this one
    other = webhooks.webhook_create(questionnaire=version.questionnaire, url=receiver.url, secret="y" * 32)
    assert (
        manager.post(
            reverse("survey:webhook", args=[other.pk]), {"action": "retry", "delivery": delivery.pk}
        ).status_code
        == 404
    )
    assert (
        manager.post(reverse("survey:webhook", args=[other.pk]), {"action": "retry", "delivery": "nope"}).status_code
        == 404
    )
    assert manager.post(reverse("survey:webhook", args=[other.pk]), {"action": "explode"}).status_code == 400


def test_rotating_the_secret_signs_the_next_delivery_with_the_new_one(manager, version):
    with Receiver() as receiver:
        hook = webhooks.webhook_create(questionnaire=version.questionnaire, url=receiver.url, secret="o" * 32)
        page = manager.post(reverse("survey:webhook", args=[hook.pk]), {"action": "rotate"})
        new = _secret_on(page.content.decode())
        assert new != "o" * 32
        hook.refresh_from_db()
        assert hook.secret == new
        receiver.secret = new
        services.submission_submit(questionnaire_version=version, instance_id=new_id(), data=answers())
        assert webhooks.webhook_deliveries_run() == 1
    [request] = receiver.requests
    assert request["verified"] and request["body"]["event"] == "submission.created"
    log = manager.get(reverse("survey:webhook", args=[hook.pk])).content.decode()
    assert "neue Einreichung" in log and new not in log  # shown once, not on the next visit


def test_switch_off_and_on_and_remove(manager, version):
    hook = Webhook.objects.create(
        questionnaire=version.questionnaire, url="https://hooks.example.org/in", secret="s" * 32
    )
    manager.post(reverse("survey:webhook", args=[hook.pk]), {"action": "off"})
    hook.refresh_from_db()
    assert not hook.active
    manager.post(reverse("survey:webhook", args=[hook.pk]), {"action": "on"})
    hook.refresh_from_db()
    assert hook.active
    gone = manager.post(reverse("survey:webhook", args=[hook.pk]), {"action": "delete"})
    assert gone.status_code == 302 and gone["Location"] == reverse(
        "survey:webhooks", args=[version.questionnaire.form_id]
    )
    assert not Webhook.objects.exists()
    assert manager.get(reverse("survey:webhook", args=[hook.pk])).status_code == 404


def test_the_delivery_log_filters_by_status_and_the_api_shows_test_events(manager, version, client):
    with Receiver(codes=(500,)) as receiver:
        hook = webhooks.webhook_create(questionnaire=version.questionnaire, url=receiver.url, secret="z" * 32)
        receiver.secret = hook.secret
        webhooks.webhook_test_send(webhook=hook)
        receiver.codes = [200]
        webhooks.webhook_test_send(webhook=hook)
    url = reverse("survey:webhook", args=[hook.pk])
    failed = manager.get(url, {"status": "failed"}).content.decode()
    delivered = manager.get(url, {"status": "delivered"}).content.decode()
    assert "HTTP 500" in failed and "HTTP 200" not in failed
    assert "HTTP 200" in delivered and "HTTP 500" not in delivered
    assert manager.get(url, {"status": "bogus"}).status_code == 200  # an unknown filter shows everything
    api = manager.get(f"/api/webhooks/{hook.pk}/deliveries")
    assert api.status_code == 200
    rows = json.loads(api.content)
    assert [r["instance_id"] for r in rows] == [None, None] and {r["event"] for r in rows} == {"webhook.test"}
