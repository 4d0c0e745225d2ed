"""Webhooks call only public addresses: internal targets are refused when the webhook is created (service, API,
admin form) and again before every delivery (DNS rebinding), before any connection is opened; the request goes
to the address that was checked; the delivery log keeps the status and a short error, never the reply.

No test sends anything off 127.0.0.1: ``socket.socket.connect`` is wrapped to fail the test on any other
address, and made-up host names are answered by a stand-in for ``socket.getaddrinfo``.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django.utils import translation

from digifit.survey import services, webhooks
from digifit.survey.admin import WebhookForm
from digifit.survey.errors import SubmissionRejected
from digifit.survey.models import Webhook, WebhookDelivery

from .conftest import answers, new_id, xlsform_bytes

SECRET = "a-secret-of-thirty-two-characters!"
REPLY = b"internal: db password is hunter2"

SSRF_TARGETS = [
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://10.0.0.1/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://localhost/hook",
    "http://127.0.0.1:8080/hook",
    "http://[::1]/hook",
    "http://0.0.0.0/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://100.64.0.1/hook",
    "http://[fe80::1]/hook",
    "http://private.example.test/hook",  # a made-up name that resolves to a private address
]


@pytest.fixture
def connections(monkeypatch):
    """Every address a socket connects to; a connection anywhere but 127.0.0.1 / ::1 fails the test first."""
    opened: list[str] = []
    real = socket.socket.connect

    def guarded(sock, address):
        opened.append(address[0])
        if address[0] not in ("127.0.0.1", "::1"):
            pytest.fail(f"a connection to {address!r} was opened")
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return opened


@pytest.fixture
def dns(monkeypatch):
    """Answers for made-up names: ``dns.answers[name]`` is a list of address lists, one per lookup (the last
    one repeats); ``dns.lookups`` counts the lookups per name."""
    real = socket.getaddrinfo

    dns = SimpleNamespace(answers={"private.example.test": [["192.168.7.7"]]}, lookups={})

    def fake(host, port, *args, **kwargs):
        if host not in dns.answers:
            return real(host, port, *args, **kwargs)
        n = dns.lookups.get(host, 0)
        dns.lookups[host] = n + 1
        seq = dns.answers[host]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in seq[min(n, len(seq) - 1)]]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return dns


class Receiver:
    """An HTTP server on 127.0.0.1 answering every POST with ``status``, ``REPLY`` as body and ``headers``."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"host": self.headers["Host"], "body": json.loads(body)})
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(REPLY)))
                self.end_headers()
                self.wfile.write(REPLY)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def version(db):
    return services.questionnaire_version_add(content=xlsform_bytes()).version


def _submit(version, capture):
    with capture(execute=True):
        return services.submission_submit(questionnaire_version=version, instance_id=new_id(), data=answers())


def _stored_text(delivery: WebhookDelivery) -> str:
    """Every column of the delivery row but the payload we sent, as one string."""
    delivery.refresh_from_db()
    return " ".join(str(getattr(delivery, f.name)) for f in WebhookDelivery._meta.fields if f.name != "body")


@pytest.mark.parametrize("url", SSRF_TARGETS)
def test_internal_targets_are_refused_at_creation(url, version, connections, dns):
    with pytest.raises(SubmissionRejected) as exc:
        webhooks.webhook_create(questionnaire=version.questionnaire, url=url, secret=SECRET)
    [problem] = exc.value.problems
    assert (problem.field, problem.code) == ("url", "blocked")
    assert "only public addresses" in problem.message and "DIGIFIT_WEBHOOK_ALLOWED_HOSTS" in problem.message
    assert not Webhook.objects.exists() and connections == []


@pytest.mark.parametrize("url", SSRF_TARGETS)
def test_internal_targets_are_refused_at_delivery(url, version, connections, dns, django_capture_on_commit_callbacks):
    """A webhook stored before the guard existed (or by a migration) is refused when it would be called."""
    Webhook.objects.create(questionnaire=version.questionnaire, url=url, secret=SECRET)
    _submit(version, django_capture_on_commit_callbacks)
    assert webhooks.webhook_deliveries_run() == 1
    d = WebhookDelivery.objects.get()
    assert (d.status, d.attempts, d.response_code) == ("pending", 1, None)
    assert d.last_error.startswith("refused: ") and "only public addresses may be called" in d.last_error
    assert connections == []


def test_dns_rebinding_between_creation_and_delivery_is_refused(
    version, connections, dns, django_capture_on_commit_callbacks
):
    dns.answers["rebind.example.test"] = [["93.184.216.34"], ["10.0.0.1"]]  # public when created, then private
    webhooks.webhook_create(questionnaire=version.questionnaire, url="https://rebind.example.test/in", secret=SECRET)
    _submit(version, django_capture_on_commit_callbacks)
    webhooks.webhook_deliveries_run()
    d = WebhookDelivery.objects.get()
    assert d.response_code is None and "'rebind.example.test' resolves to 10.0.0.1" in d.last_error
    assert connections == [] and dns.lookups["rebind.example.test"] == 2


def test_the_request_goes_to_the_address_that_was_checked(
    version, connections, dns, settings, django_capture_on_commit_callbacks
):
    """The name resolves to the local receiver for the checks, and to a private address for any later lookup:
    the delivery connects to the checked address without asking DNS again."""
    settings.DIGIFIT_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    dns.answers["pinned.example.test"] = [["127.0.0.1"], ["127.0.0.1"], ["10.0.0.1"]]
    with Receiver() as receiver:
        url = f"http://pinned.example.test:{receiver.port}/hook"
        webhooks.webhook_create(questionnaire=version.questionnaire, url=url, secret=SECRET)
        sub = _submit(version, django_capture_on_commit_callbacks).submission
        webhooks.webhook_deliveries_run()
    assert dns.lookups["pinned.example.test"] == 2  # once at creation, once before the delivery
    assert connections == ["127.0.0.1"]
    [request] = receiver.requests
    assert request["host"] == f"pinned.example.test:{receiver.port}"  # the URL's host name, not the address
    assert request["body"]["instance_id"] == str(sub.instance_id)
    assert WebhookDelivery.objects.get().status == "delivered"


def test_local_receiver_on_the_allow_list_gets_the_delivery_and_the_log_keeps_no_reply(
    version, connections, settings, manager, django_capture_on_commit_callbacks
):
    settings.DIGIFIT_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with Receiver(status=200) as ok, Receiver(status=500) as broken:
        webhooks.webhook_create(questionnaire=version.questionnaire, url=ok.url, secret=SECRET)
        hook = webhooks.webhook_create(questionnaire=version.questionnaire, url=broken.url, secret=SECRET)
        _submit(version, django_capture_on_commit_callbacks)
        assert webhooks.webhook_deliveries_run() == 2
    assert len(ok.requests) == 1 and len(broken.requests) == 1
    delivered = WebhookDelivery.objects.get(webhook__url=ok.url)
    failed = WebhookDelivery.objects.get(webhook=hook)
    assert (delivered.status, delivered.response_code, delivered.last_error) == ("delivered", 200, "")
    assert (failed.status, failed.response_code, failed.last_error) == ("pending", 500, "HTTP 500")
    for d in (delivered, failed):
        assert "hunter2" not in _stored_text(d)
    log = manager.get(f"/api/webhooks/{hook.pk}/deliveries")
    assert log.status_code == 200 and log.json()[0]["last_error"] == "HTTP 500"
    assert b"hunter2" not in log.content and "body" not in log.json()[0]
    assert set(connections) == {"127.0.0.1"}


def test_redirects_are_not_followed(version, connections, settings, django_capture_on_commit_callbacks):
    settings.DIGIFIT_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with Receiver(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}) as receiver:
        webhooks.webhook_create(questionnaire=version.questionnaire, url=receiver.url, secret=SECRET)
        _submit(version, django_capture_on_commit_callbacks)
        webhooks.webhook_deliveries_run()
    d = WebhookDelivery.objects.get()
    assert (d.status, d.response_code, d.last_error) == ("pending", 302, "HTTP 302 (redirects are not followed)")
    assert len(receiver.requests) == 1 and connections == ["127.0.0.1"]


def test_credentials_and_other_schemes_are_refused_even_on_the_allow_list(version, settings, connections):
    settings.DIGIFIT_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    for url, code in [("http://user:pw@127.0.0.1:9/hook", "credentials"), ("ftp://127.0.0.1/hook", "invalid")]:
        with pytest.raises(SubmissionRejected) as exc:
            webhooks.webhook_create(questionnaire=version.questionnaire, url=url, secret=SECRET)
        assert exc.value.problems[0].code == code
    hook = webhooks.webhook_create(questionnaire=version.questionnaire, url="http://127.0.0.1:9/hook", secret=SECRET)
    with pytest.raises(SubmissionRejected):  # changing the URL passes the same guard
        webhooks.webhook_update(webhook=hook, url="http://10.0.0.1/hook")
    hook.refresh_from_db()
    assert hook.url == "http://127.0.0.1:9/hook" and connections == []


def test_api_refuses_internal_targets_with_422_naming_the_field(manager, connections):
    manager.post("/api/questionnaires", files={"file": _upload()})
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[::1]:8000/"):
        resp = manager.post("/api/webhooks", {"form_id": "fob_test", "url": url, "secret": SECRET})
        assert resp.status_code == 422, resp.content
        [error] = resp.json()["errors"]
        assert error["field"] == "url" and error["code"] == "blocked"
        assert "only public addresses may be called" in error["message"]
    assert not Webhook.objects.exists() and connections == []


def test_admin_form_refuses_internal_targets_in_the_users_language(version, connections):
    form = WebhookForm(data={"questionnaire": version.questionnaire.pk, "url": "http://10.0.0.1/hook", "active": True})
    with translation.override("de"):
        assert not form.is_valid()
        [message] = form.errors["url"]
    assert "10.0.0.1" in message and "öffentliche Adressen" in message
    assert not Webhook.objects.exists() and connections == []


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("fob.xlsx", xlsform_bytes())
