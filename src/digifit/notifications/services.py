"""Writes of the outbox: queue, claim, deliver, sweep, cancel.

Delivery guarantee
------------------
A message is queued once per ``key`` (a unique constraint; queueing again returns the stored row and changes
nothing), usually in the same transaction as the business write that causes it (a registration and its
confirmation commit together or not at all: a transactional outbox).

Sending is *at least once, deduplicated*: SMTP is not transactional, so no design can make "SMTP accepted"
and "marked sent in the database" one atomic step. The worker

1. claims due rows (``pending`` → ``sending``, ``attempts + 1``) in a short transaction with
   ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite serialises writers with ``BEGIN IMMEDIATE``),
   so two workers never claim the same row;
2. hands the message to the SMTP server and only **after the server accepted it** marks it ``sent``;
3. on an SMTP error returns it to ``pending`` with a back-off, or ``failed`` after
   ``DIGIFIT_OUTBOX_MAX_ATTEMPTS``.

If a worker dies between 1 and 2, the row stays ``sending``; :func:`outbox_sweep` (run by every worker loop)
returns rows older than ``DIGIFIT_OUTBOX_SENDING_TIMEOUT`` to ``pending``: nothing is lost. If it dies in the
tiny window after the server's ``250 OK`` and before the ``sent`` update, the message is sent again — with the
same ``Message-ID`` (derived from the key), which mail clients and most MTAs use to drop duplicates. We chose
this over at-most-once (mark ``sent`` before sending) because a lost reminder or confirmation is worse than a
duplicate that carries the same Message-ID.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from digifit.notifications.errors import OutboxError
from digifit.notifications.models import OutboxMessage

__all__ = [
    "message_id_for",
    "outbox_cancel",
    "outbox_claim",
    "outbox_deliver",
    "outbox_enqueue",
    "outbox_run_once",
    "outbox_sweep",
]

logger = logging.getLogger("digifit.notifications")
LANGUAGES = ("de", "en", "fr")


def message_id_for(key: str) -> str:
    """Return the stable ``Message-ID`` of the message with ``key`` (a resend carries the same one)."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "digifit.localhost"
    return f"<outbox.{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def outbox_enqueue(
    *,
    key: str,
    to: str,
    subject: str,
    body_text: str,
    body_html: str | None = None,
    send_at: datetime,
    language: str = "de",
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> OutboxMessage:
    """Queue one e-mail, idempotently on ``key``.

    Parameters
    ----------
    key : str
        Unique name of this message (e.g. ``"programme.reminder:42:24h"``). A second call with the same key
        returns the stored message unchanged, whatever the other arguments.
    to : str
        One address.
    send_at : datetime
        Aware; the message is sent at or after this time (now or in the past: at the worker's next pass).
    attachments : sequence of (filename, content, MIME type)

    Raises
    ------
    OutboxError
        On an empty key, a bad address, a naive ``send_at``, an unknown language or a malformed attachment.
    """
    if not isinstance(key, str) or not key.strip() or len(key) > 200:
        raise OutboxError(f"outbox key: got {key!r}; expected a non-empty text of at most 200 characters")
    existing = OutboxMessage.objects.filter(key=key).first()
    if existing is not None:
        return existing
    try:
        validate_email(to)
    except ValidationError:
        raise OutboxError(f"outbox message {key!r}, to: got {to!r}; expected an e-mail address") from None
    if not isinstance(send_at, datetime) or timezone.is_naive(send_at):
        raise OutboxError(f"outbox message {key!r}, send_at: got {send_at!r}; expected an aware datetime")
    if language not in LANGUAGES:
        raise OutboxError(f"outbox message {key!r}, language: got {language!r}; expected one of {LANGUAGES}")
    stored: list[list[str]] = []
    for i, item in enumerate(attachments):
        try:
            filename, content, mimetype = item
        except (TypeError, ValueError):
            raise OutboxError(
                f"outbox message {key!r}, attachment {i + 1}: got {item!r}; expected (filename, bytes, MIME type)"
            ) from None
        if not isinstance(content, bytes | bytearray) or "/" not in str(mimetype):
            raise OutboxError(
                f"outbox message {key!r}, attachment {filename!r}: expected bytes and a MIME type such as text/calendar"
            )
        stored.append([str(filename), base64.b64encode(bytes(content)).decode("ascii"), str(mimetype)])
    message = OutboxMessage(
        key=key,
        to=to,
        subject=subject[:500],
        body_text=body_text,
        body_html=body_html,
        language=language,
        attachments=stored,
        send_at=send_at,
        message_id=message_id_for(key),
    )
    try:
        with transaction.atomic():  # a savepoint when called inside the caller's transaction
            message.save()
    except IntegrityError:
        # a concurrent call with the same key won the race
        return OutboxMessage.objects.get(key=key)
    return message


def outbox_cancel(*, keys: Iterable[str] = (), key_prefix: str = "") -> int:
    """Withdraw messages not sent yet (``pending``) by key or key prefix; return how many.

    Sent and in-flight (``sending``) messages are kept: they may already be on their way.
    """
    keys = list(keys)
    if not keys and not key_prefix:
        return 0
    pending = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING)
    selected = pending.filter(key__in=keys) if keys else pending.none()
    if key_prefix:
        selected = selected | pending.filter(key__startswith=key_prefix)
    return OutboxMessage.objects.filter(pk__in=selected.values("pk")).update(state=OutboxMessage.State.CANCELLED)


def outbox_claim(*, worker_id: str, limit: int = 20, now: datetime | None = None) -> list[OutboxMessage]:
    """Claim up to ``limit`` due messages for ``worker_id``: ``pending`` → ``sending``, one attempt more.

    Two workers never claim the same row: PostgreSQL locks with ``FOR UPDATE SKIP LOCKED``, SQLite takes its
    write lock at ``BEGIN`` (the settings' ``transaction_mode = IMMEDIATE``).
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING, send_at__lte=now).order_by(
            "send_at", "id"
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        rows = list(due[:limit])
        for row in rows:
            row.state = OutboxMessage.State.SENDING
            row.attempts += 1
            row.claimed_at = now
            row.claimed_by = worker_id[:64]
            row.save(update_fields=["state", "attempts", "claimed_at", "claimed_by"])
    return rows


def _email(message: OutboxMessage, connection_) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={"Message-ID": message.message_id, "Content-Language": message.language},
        connection=connection_,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for filename, content, mimetype in message.attachments:
        email.attach(filename, base64.b64decode(content), mimetype)
    return email


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 60 * 2 ** max(0, attempts - 1)))


def outbox_deliver(message: OutboxMessage, *, connection_=None, now: datetime | None = None) -> str:
    """Send one claimed message; mark it ``sent`` only after the SMTP server accepted it.

    Returns the new state. An SMTP/network error puts the message back to ``pending`` with an exponential
    back-off (1, 2, 4 … minutes, at most an hour), or ``failed`` after ``DIGIFIT_OUTBOX_MAX_ATTEMPTS``.
    """
    try:
        _email(message, connection_).send(fail_silently=False)
    except Exception as exc:  # smtplib and socket errors, and anything a backend raises: retry later
        now = now or timezone.now()
        final = message.attempts >= settings.DIGIFIT_OUTBOX_MAX_ATTEMPTS
        state = OutboxMessage.State.FAILED if final else OutboxMessage.State.PENDING
        OutboxMessage.objects.filter(pk=message.pk, state=OutboxMessage.State.SENDING).update(
            state=state,
            send_at=now + _backoff(message.attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            claimed_at=None,
            claimed_by="",
        )
        logger.warning("outbox %s: attempt %d failed: %s", message.key, message.attempts, exc)
        return state
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxMessage.State.SENT, sent_at=timezone.now(), last_error=""
    )
    return OutboxMessage.State.SENT


def outbox_sweep(*, timeout: timedelta | None = None, now: datetime | None = None) -> int:
    """Return messages stuck in ``sending`` longer than ``timeout`` to ``pending`` (their worker died).

    Messages that used up ``DIGIFIT_OUTBOX_MAX_ATTEMPTS`` become ``failed``. Returns how many rows moved.
    The timeout (default ``DIGIFIT_OUTBOX_SENDING_TIMEOUT`` seconds) must exceed the SMTP timeout, so that a
    slow but live worker is not overtaken.
    """
    now = now or timezone.now()
    if timeout is None:
        timeout = timedelta(seconds=settings.DIGIFIT_OUTBOX_SENDING_TIMEOUT)
    stuck = OutboxMessage.objects.filter(state=OutboxMessage.State.SENDING, claimed_at__lt=now - timeout)
    failed = stuck.filter(attempts__gte=settings.DIGIFIT_OUTBOX_MAX_ATTEMPTS).update(
        state=OutboxMessage.State.FAILED, last_error="worker died while sending (attempts used up)"
    )
    back = stuck.update(
        state=OutboxMessage.State.PENDING,
        claimed_at=None,
        claimed_by="",
        last_error="returned by the sweeper: the worker that claimed it did not finish",
    )
    if failed or back:
        logger.warning("outbox sweep: %d message(s) back to pending, %d failed", back, failed)
    return failed + back


def outbox_run_once(*, worker_id: str, limit: int = 20) -> int:
    """One pass of the outbox loop: sweep, claim due messages, send them over one SMTP connection.

    Returns the number of messages sent.
    """
    outbox_sweep()
    rows = outbox_claim(worker_id=worker_id, limit=limit)
    if not rows:
        return 0
    sent = 0
    conn = get_connection(fail_silently=False)
    try:
        for row in rows:
            if outbox_deliver(row, connection_=conn) == OutboxMessage.State.SENT:
                sent += 1
    finally:
        with contextlib.suppress(Exception):  # closing a broken SMTP connection must not hide the result
            conn.close()
    return sent
