"""Webhooks against real HTTP receivers (``http.server`` threads on 127.0.0.1): signed JSON for every accepted
submission, retries with backoff, the delivery log, the API — and a webhook never fails a submission."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.utils import timezone

from digifit.survey import services, webhooks
from digifit.survey.errors import SubmissionRejected
from digifit.survey.models import Submission, Webhook, WebhookDelivery

from .conftest import answers, new_id, xlsform_bytes

SECRET = "a-secret-of-thirty-two-characters!"


class Receiver:
    """An HTTP server on 127.0.0.1 that checks each request's signature and answers with ``codes`` in turn."""

    def __init__(self, codes=(200,), secret: str = SECRET) -> None:
        self.codes = list(codes)
        self.secret = secret
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = webhooks.webhook_verify(
                    secret=receiver.secret,
                    body=body,
                    timestamp=self.headers.get("X-Digifit-Timestamp"),
                    signature=self.headers.get("X-Digifit-Signature"),
                )
                receiver.requests.append(
                    {"body": json.loads(body), "verified": ok, "delivery": self.headers.get("X-Digifit-Delivery")}
                )
                code = receiver.codes.pop(0) if len(receiver.codes) > 1 else receiver.codes[0]
                self.send_response(code if ok else 401)
                self.end_headers()
                self.wfile.write(b"nope" if code >= 400 else b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    """The receivers of these tests listen on 127.0.0.1, which only the allow-list lets webhooks call."""
    settings.DIGIFIT_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def public_name(monkeypatch):
    """``hooks.example.test`` resolves to a public address (no DNS query; nothing is ever sent there)."""
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "hooks.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return "hooks.example.test"


@pytest.fixture
def version(db):
    return services.questionnaire_version_add(content=xlsform_bytes()).version


def _submit(version, **overrides):
    return services.submission_submit(questionnaire_version=version, instance_id=new_id(), data=answers(**overrides))


def test_signature_recipe():
    body = b'{"a":1}'
    sig = webhooks.webhook_signature(secret="s3cret", timestamp=1700000000, body=body)
    assert webhooks.webhook_verify(secret="s3cret", body=body, timestamp="1700000000", signature=sig, now=1700000100)
    assert not webhooks.webhook_verify(secret="other", body=body, timestamp="1700000000", signature=sig, now=1700000100)
    assert not webhooks.webhook_verify(
        secret="s3cret", body=b'{"a":2}', timestamp="1700000000", signature=sig, now=1700000100
    )
    # a replay ten minutes later is refused
    assert not webhooks.webhook_verify(
        secret="s3cret", body=body, timestamp="1700000000", signature=sig, now=1700000600
    )


def test_every_accepted_submission_is_posted_signed(django_capture_on_commit_callbacks, version):
    with Receiver() as receiver:
        webhooks.webhook_create(questionnaire=version.questionnaire, url=receiver.url, secret=SECRET)
        with django_capture_on_commit_callbacks(execute=True):
            sub = _submit(version).submission
        with django_capture_on_commit_callbacks(execute=True):  # the same answers again: nothing new to post
            services.submission_submit(questionnaire_version=version, instance_id=sub.instance_id, data=answers())
        assert webhooks.webhook_deliveries_run() == 1
    [request] = receiver.requests
    assert request["verified"] is True
    body = request["body"]
    assert body["event"] == "submission.created" and body["instance_id"] == str(sub.instance_id)
    assert body["form_id"] == "fob_test" and body["data"]["employees"] == 12 and body["data"]["big"] == 0
    delivery = WebhookDelivery.objects.get()
    assert request["delivery"] == str(delivery.pk) == body["delivery_id"]
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.response_code == 200
    assert webhooks.webhook_deliveries_run() == 0  # delivered once, never again


def test_fails_twice_then_succeeds_with_backoff(django_capture_on_commit_callbacks, version, settings):
    settings.DIGIFIT_WEBHOOK_BACKOFF_SECONDS = 30
    with Receiver(codes=(500, 503, 200)) as receiver:
        webhooks.webhook_create(questionnaire=version.questionnaire, url=receiver.url, secret=SECRET)
        with django_capture_on_commit_callbacks(execute=True):
            _submit(version)
        t0 = timezone.now()
        assert webhooks.webhook_deliveries_run(now=t0) == 1
        d = WebhookDelivery.objects.get()
        assert (d.status, d.attempts, d.response_code) == ("pending", 1, 500)
        assert "HTTP 500" in d.last_error and d.next_attempt_at == t0 + dt.timedelta(seconds=30)
        assert webhooks.webhook_deliveries_run(now=t0 + dt.timedelta(seconds=29)) == 0  # not due yet
        t1 = t0 + dt.timedelta(seconds=30)
        assert webhooks.webhook_deliveries_run(now=t1) == 1
        d.refresh_from_db()
        assert (d.attempts, d.response_code) == (2, 503) and d.next_attempt_at == t1 + dt.timedelta(seconds=60)
        assert webhooks.webhook_deliveries_run(now=t1 + dt.timedelta(seconds=60)) == 1
    d.refresh_from_db()
    assert (d.status, d.attempts, d.response_code, d.last_error) == ("delivered", 3, 200, "")
    assert len(receiver.requests) == 3 and all(r["verified"] for r in receiver.requests)
    assert len({r["delivery"] for r in receiver.requests}) == 1  # the same delivery id on every retry


def test_gives_up_after_max_attempts_and_can_be_retried(django_capture_on_commit_callbacks, version, settings):
    settings.DIGIFIT_WEBHOOK_MAX_ATTEMPTS = 2
    with Receiver(codes=(500,)) as receiver:
        webhooks.webhook_create(questionnaire=version.questionnaire, url=receiver.url, secret=SECRET)
        with django_capture_on_commit_callbacks(execute=True):
            _submit(version)
        far = timezone.now() + dt.timedelta(days=1)
        webhooks.webhook_deliveries_run()
        webhooks.webhook_deliveries_run(now=far)
        d = WebhookDelivery.objects.get()
        assert (d.status, d.attempts) == ("failed", 2)
        assert webhooks.webhook_deliveries_run(now=far + dt.timedelta(days=1)) == 0
        receiver.codes = [200]
        webhooks.webhook_delivery_retry(delivery=d)
        assert webhooks.webhook_deliveries_run(now=far + dt.timedelta(days=1)) == 1
    d.refresh_from_db()
    assert d.status == "delivered" and d.attempts == 3


def test_unreachable_receiver_is_logged(django_capture_on_commit_callbacks, version):
    with Receiver() as receiver:
        url = receiver.url
    webhooks.webhook_create(questionnaire=version.questionnaire, url=url, secret=SECRET)  # nobody listens now
    with django_capture_on_commit_callbacks(execute=True):
        _submit(version)
    webhooks.webhook_deliveries_run()
    d = WebhookDelivery.objects.get()
    assert (d.status, d.response_code, d.last_error) == ("pending", None, "connection refused")


def test_a_broken_webhook_never_fails_the_submission(django_capture_on_commit_callbacks, version, monkeypatch):
    webhooks.webhook_create(questionnaire=version.questionnaire, url="http://127.0.0.1:9/hook", secret=SECRET)

    def broken(**kwargs):
        raise RuntimeError("webhook table on fire")

    monkeypatch.setattr(webhooks, "webhook_deliveries_create", broken)
    with django_capture_on_commit_callbacks(execute=True):
        result = _submit(version)
    assert result.created and Submission.objects.filter(pk=result.submission.pk).exists()


def test_a_rejected_submission_posts_nothing(django_capture_on_commit_callbacks, version):
    webhooks.webhook_create(questionnaire=version.questionnaire, url="http://127.0.0.1:9/hook", secret=SECRET)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(SubmissionRejected):
        _submit(version, employees=-1)
    assert WebhookDelivery.objects.count() == 0


def test_inactive_webhooks_and_other_questionnaires_get_nothing(django_capture_on_commit_callbacks, version):
    other = services.questionnaire_version_add(content=xlsform_bytes(form_id="other_form")).version
    hook = webhooks.webhook_create(questionnaire=other.questionnaire, url="http://127.0.0.1:9/a", secret=SECRET)
    off = webhooks.webhook_create(questionnaire=version.questionnaire, url="http://127.0.0.1:9/b", secret=SECRET)
    webhooks.webhook_update(webhook=off, active=False)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(version)
    assert not WebhookDelivery.objects.filter(webhook__in=[hook, off]).exists()


def test_bad_url_and_short_secret_are_refused(version, public_name):
    with pytest.raises(SubmissionRejected, match="url"):
        webhooks.webhook_create(questionnaire=version.questionnaire, url="ftp://example.org/x")
    with pytest.raises(SubmissionRejected) as exc:
        webhooks.webhook_create(questionnaire=version.questionnaire, url=f"https://{public_name}/x", secret="short")
    assert exc.value.problems[0].field == "secret"
    hook = webhooks.webhook_create(questionnaire=version.questionnaire, url=f"https://{public_name}/x")
    assert len(hook.secret) >= 32


def test_api_register_list_log_retry_delete(django_capture_on_commit_callbacks, manager, analyst):
    manager.post("/api/questionnaires", files={"file": _upload()})
    with Receiver(codes=(500, 200)) as receiver:
        created = manager.post("/api/webhooks", {"form_id": "fob_test", "url": receiver.url, "secret": SECRET})
        assert created.status_code == 201, created.content
        hook = created.json()
        assert hook["secret"] == SECRET
        assert manager.get("/api/webhooks").json()[0]["secret"] is None  # shown once
        assert analyst.get("/api/webhooks").status_code == 403
        assert analyst.post("/api/webhooks", {"form_id": "fob_test", "url": receiver.url}).status_code == 403
        bad = manager.post("/api/webhooks", {"form_id": "fob_test", "url": "not a url"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "url"
        assert manager.post("/api/webhooks", {"form_id": "nope", "url": receiver.url}).status_code == 422
        with django_capture_on_commit_callbacks(execute=True):
            resp = manager.post("/api/submissions", {"form_id": "fob_test", "instance_id": new_id(), "data": answers()})
        assert resp.status_code == 201
        webhooks.webhook_deliveries_run()
        log = manager.get(f"/api/webhooks/{hook['id']}/deliveries").json()
        assert log[0]["status"] == "pending" and log[0]["response_code"] == 500 and log[0]["attempts"] == 1
        retried = manager.post(f"/api/webhooks/{hook['id']}/deliveries/{log[0]['id']}/retry")
        assert retried.status_code == 200
        webhooks.webhook_deliveries_run()
        log = manager.get(f"/api/webhooks/{hook['id']}/deliveries").json()
        assert log[0]["status"] == "delivered" and log[0]["response_code"] == 200
    patched = manager.patch(f"/api/webhooks/{hook['id']}", {"active": False})
    assert patched.status_code == 200 and patched.json()["active"] is False
    gone = manager.client.delete(f"/api/webhooks/{hook['id']}", headers=manager.headers)
    assert gone.status_code == 204 and not Webhook.objects.exists()


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("fob.xlsx", xlsform_bytes())


@pytest.mark.django_db(transaction=True)
def test_delivery_is_queued_only_after_commit_and_by_the_task(version):
    """With a real commit: the on_commit hook creates the delivery and the worker loop posts it."""
    with Receiver() as receiver:
        webhooks.webhook_create(questionnaire=version.questionnaire, url=receiver.url, secret=SECRET)
        _submit(version)
        assert WebhookDelivery.objects.count() == 1
        stop = threading.Event()
        loop = threading.Thread(target=webhooks.webhook_loop, kwargs={"interval": 0.05, "stop": stop})
        loop.start()
        deadline = time.monotonic() + 10
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        loop.join()
        connection.close()
    assert receiver.requests and receiver.requests[0]["verified"]
