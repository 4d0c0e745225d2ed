"""The outbox: idempotent queueing, claim/deliver/sweep, SMTP errors, cancellation."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from digifit.notifications import services
from digifit.notifications.errors import OutboxError
from digifit.notifications.models import OutboxMessage

NOW = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def _enqueue(key: str = "k1", **kw) -> OutboxMessage:
    args = {"to": "a@example.org", "subject": "Hallo", "body_text": "Text", "send_at": NOW} | kw
    return services.outbox_enqueue(key=key, **args)


@pytest.mark.django_db
def test_enqueue_is_idempotent_on_key():
    first = _enqueue(attachments=[("a.ics", b"BEGIN:VCALENDAR", "text/calendar")])
    second = _enqueue(subject="other", to="b@example.org")
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1
    stored = OutboxMessage.objects.get()
    assert stored.subject == "Hallo" and stored.to == "a@example.org"
    assert stored.message_id == services.message_id_for("k1")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"to": "nobody"}, "expected an e-mail address"),
        ({"send_at": datetime(2026, 1, 1)}, "expected an aware datetime"),
        ({"language": "it"}, "expected one of"),
        ({"attachments": [("x", "text", "text/plain")]}, "expected bytes"),
    ],
)
def test_enqueue_refuses_bad_input(kw, match):
    with pytest.raises(OutboxError, match=match):
        _enqueue(**kw)


@pytest.mark.django_db
def test_run_once_sends_due_messages_once_with_stable_message_id():
    _enqueue("due")
    _enqueue("later", send_at=timezone.now() + timedelta(hours=1))
    _enqueue("ics", attachments=[("s.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")])
    assert services.outbox_run_once(worker_id="w1") == 2
    assert services.outbox_run_once(worker_id="w1") == 0
    assert len(mail.outbox) == 2
    ids = {m.extra_headers["Message-ID"] for m in mail.outbox}
    assert ids == {services.message_id_for("due"), services.message_id_for("ics")}
    sent = {m.key: m for m in OutboxMessage.objects.all()}
    assert sent["due"].state == "sent" and sent["due"].attempts == 1
    assert sent["later"].state == "pending"
    with_ics = next(m for m in mail.outbox if m.attachments)
    assert with_ics.attachments[0][0] == "s.ics"


@pytest.mark.django_db
def test_sweeper_returns_stuck_messages_and_they_are_sent_once():
    _enqueue("stuck")
    [claimed] = services.outbox_claim(worker_id="dead-worker", now=NOW)
    assert claimed.state == "sending"
    # the worker dies here: nothing sent; a young claim is left alone
    assert services.outbox_sweep(timeout=timedelta(minutes=10), now=NOW + timedelta(minutes=5)) == 0
    assert services.outbox_sweep(timeout=timedelta(minutes=10), now=NOW + timedelta(minutes=11)) == 1
    assert OutboxMessage.objects.get().state == "pending"
    assert services.outbox_run_once(worker_id="w2") == 1
    message = OutboxMessage.objects.get()
    assert (message.state, message.attempts, len(mail.outbox)) == ("sent", 2, 1)


@pytest.mark.django_db
def test_smtp_failure_backs_off_then_fails(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    settings.DIGIFIT_OUTBOX_MAX_ATTEMPTS = 2
    _enqueue("x")
    assert services.outbox_run_once(worker_id="w") == 0
    m = OutboxMessage.objects.get()
    assert m.state == "pending" and m.attempts == 1 and m.send_at > timezone.now() and m.last_error
    OutboxMessage.objects.update(send_at=NOW)
    assert services.outbox_run_once(worker_id="w") == 0
    assert OutboxMessage.objects.get().state == "failed"


@pytest.mark.django_db
def test_cancel_withdraws_only_pending():
    _enqueue("a")
    _enqueue("b")
    services.outbox_run_once(worker_id="w")
    _enqueue("c", send_at=timezone.now() + timedelta(days=1))
    assert services.outbox_cancel(keys=["a", "c"]) == 1
    assert dict(OutboxMessage.objects.values_list("key", "state")) == {"a": "sent", "b": "sent", "c": "cancelled"}


@pytest.mark.django_db(transaction=True)
def test_parallel_claims_never_share_a_message():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent claims need a server database; run with DATABASE_URL=postgres://…")
    for i in range(60):
        _enqueue(f"m{i}")
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def work(n: int) -> None:
        try:
            barrier.wait()
            while rows := services.outbox_claim(worker_id=f"w{n}", limit=3):
                with lock:
                    claimed.extend(r.pk for r in rows)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(claimed) == 60 and len(set(claimed)) == 60
