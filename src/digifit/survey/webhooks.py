"""Webhooks: every accepted submission of a questionnaire is POSTed as signed JSON to the URLs its managers
registered, retried with exponential backoff, with a delivery log.

The flow::

    submission_submit  --same transaction-->  submission_deliveries_add   (one WebhookDelivery per webhook)
                       --transaction.on_commit-->  the django-tasks task webhooks_flush (an optimisation)
    webhook_loop / `digifit manage webhooks_deliver` / webhooks_flush  -->  webhook_deliveries_run

* **Never in the way of a submission, never lost.** Deliveries are written in the submission's own transaction
  (a process killed right after the commit loses none), under a savepoint: an error while creating them is
  logged, not raised, and the submission stands; the HTTP requests happen in a background worker.
* **The table is the queue.** A ``WebhookDelivery`` row is both the log (status, attempts, response code, last
  error) and the retry schedule (``next_attempt_at``). django-tasks' database backend does not retry a task
  whose worker died, so a task only *wakes* delivery up; the loop (``webhooks_deliver``) finds every due row.
  A worker takes a row by moving ``next_attempt_at`` a lease ahead (under ``SELECT … FOR UPDATE SKIP LOCKED`` on
  PostgreSQL), so two workers never post the same attempt, and a worker that dies only delays it.
* **Signed.** Headers ``X-Digifit-Timestamp`` (Unix seconds) and ``X-Digifit-Signature: sha256=<hex>``, the
  HMAC-SHA256 with the webhook's secret over ``<timestamp>.<body>``; ``X-Digifit-Delivery`` is the delivery's
  id (the same on every retry: use it to drop duplicates). docs/survey-manager.md has the verification recipe.
* **Only public addresses.** The outbound guard (:mod:`digifit.outbound`) resolves the URL's host when the
  webhook is created and again before every attempt, refuses loopback, private, link-local, CGNAT, multicast,
  reserved and unspecified addresses unless ``DIGIFIT_WEBHOOK_ALLOWED_HOSTS`` names them, and connects to the
  address it checked (a second DNS answer cannot redirect the request). Redirects are not followed. The log
  keeps the status code and a short error, never the receiver's reply.
* **Backoff.** Attempt *n* failed (no 2xx, a timeout, a refused connection): the next one waits
  ``DIGIFIT_WEBHOOK_BACKOFF_SECONDS · 2^(n-1)`` (default 30 s), at most ``DIGIFIT_WEBHOOK_BACKOFF_MAX_SECONDS``
  (6 h); after ``DIGIFIT_WEBHOOK_MAX_ATTEMPTS`` (default 10) the delivery is ``failed`` and can be retried by
  hand (``webhook_delivery_retry``, the API or the admin).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import close_old_connections, connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digifit.outbound import OutboundRefused, post_pinned, target_vet
from digifit.survey.errors import FieldProblem, SubmissionRejected
from digifit.survey.models import Questionnaire, Submission, Webhook, WebhookDelivery

logger = logging.getLogger("digifit.survey.webhooks")

EVENT_SUBMISSION = "submission.created"
EVENT_TEST = "webhook.test"
SIGNATURE_HEADER = "X-Digifit-Signature"
TIMESTAMP_HEADER = "X-Digifit-Timestamp"
DELIVERY_HEADER = "X-Digifit-Delivery"
EVENT_HEADER = "X-Digifit-Event"
LEASE_SECONDS = 120
TIMEOUT_SECONDS = 10
ERROR_CHARS = 300  # the delivery log keeps a short error; never the receiver's reply


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


# ------------------------------------------------------------------------------------------- signing


def webhook_signature(*, secret: str, timestamp: int | str, body: bytes) -> str:
    """Return the ``X-Digifit-Signature`` value: ``sha256=`` + HMAC-SHA256 of ``<timestamp>.<body>``.

    Examples
    --------
    >>> webhook_signature(secret="s3cret", timestamp=1700000000, body=b'{"a":1}')[:15]
    'sha256=1698a50'
    """
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_verify(*, secret: str, body: bytes, timestamp: str, signature: str, tolerance: int = 300, now=None) -> bool:
    """Check a delivery as a receiver should: the signature matches and the timestamp is recent.

    ``tolerance`` (seconds) bounds replays of a captured request; compare in constant time.
    """
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - sent) > tolerance:
        return False
    return hmac.compare_digest(webhook_signature(secret=secret, timestamp=sent, body=body), signature or "")


# ------------------------------------------------------------------------------------------- services


def webhook_allowed_hosts() -> list[str]:
    """The allow-list of hosts and networks webhooks may call although they are not public (a setting)."""
    value = getattr(settings, "DIGIFIT_WEBHOOK_ALLOWED_HOSTS", ()) or ()
    return [value] if isinstance(value, str) else list(value)


ALLOW_ADVICE = "webhooks may only call public addresses; an administrator can allow a host with the setting "


_CATEGORIES = {
    "loopback": gettext_lazy("loopback"),
    "private": gettext_lazy("private"),
    "link-local": gettext_lazy("link-local"),
    "shared (CGNAT)": gettext_lazy("shared (CGNAT)"),
    "multicast": gettext_lazy("multicast"),
    "reserved": gettext_lazy("reserved"),
    "unspecified": gettext_lazy("unspecified"),
}


def webhook_url_refusal_text(exc: SubmissionRejected) -> str:
    """The refusal of a webhook URL in the user's language (for forms; the API answers in English)."""
    cause = exc.__cause__
    if not isinstance(cause, OutboundRefused):
        return _("Enter a web address that starts with http:// or https://.")
    if cause.code == "credentials":
        return _("The address may not contain a user name or password; receivers check the signature instead.")
    if cause.code == "unresolvable":
        return _("The host %(host)s cannot be found. Check the address.") % {"host": cause.host}
    if cause.code == "blocked":
        return _(
            "%(host)s resolves to %(address)s, a %(category)s address. Webhooks may only call public addresses; "
            "an administrator can allow this host with the setting DIGIFIT_WEBHOOK_ALLOWED_HOSTS."
        ) % {"host": cause.host, "address": cause.address, "category": _CATEGORIES.get(cause.category, cause.category)}
    return _("Enter a web address that starts with http:// or https://.")


def webhook_url_check(url: str) -> str:
    """Return the URL as a webhook will store it, or raise :class:`SubmissionRejected` (field ``url``)."""
    return _url_checked(url)


def _url_checked(url: str) -> str:
    """Return the stripped URL, or refuse it: not http(s), credentials in it, or an address that is not public.

    The host is resolved now; it is resolved and checked again before every delivery (see ``_post``).
    """
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise SubmissionRejected(
            [FieldProblem(field="url", code="invalid", message=f"got {url!r}; expected an http(s) URL")]
        ) from exc
    try:
        target_vet(url, allowed=webhook_allowed_hosts())
    except OutboundRefused as exc:
        message = str(exc)
        if exc.code == "blocked":
            message += f" ({ALLOW_ADVICE}DIGIFIT_WEBHOOK_ALLOWED_HOSTS)"
        raise SubmissionRejected([FieldProblem(field="url", code=exc.code, message=message)]) from exc
    return url


@transaction.atomic
def webhook_create(
    *, questionnaire: Questionnaire, url: str, secret: str = "", description: str = "", user=None
) -> Webhook:
    """Register a URL that receives every accepted submission of ``questionnaire``.

    Without ``secret`` one is generated (read it from the returned webhook; the API shows it once).

    Raises
    ------
    SubmissionRejected
        The URL is not an http(s) URL, carries credentials, or its host does not resolve or resolves to an
        address that is not public (loopback, private, link-local, …) and not in
        ``DIGIFIT_WEBHOOK_ALLOWED_HOSTS``; or the secret is shorter than 16 characters.
    """
    url = _url_checked(url)
    if secret and len(secret) < 16:
        raise SubmissionRejected(
            [FieldProblem(field="secret", code="invalid", message="a secret needs at least 16 characters")]
        )
    hook = Webhook(
        questionnaire=questionnaire,
        url=url,
        secret=secret or secrets.token_urlsafe(32),
        description=(description or "")[:200],
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    hook.full_clean()
    hook.save()
    return hook


@transaction.atomic
def webhook_update(*, webhook: Webhook, url: str | None = None, active: bool | None = None) -> Webhook:
    """Change a webhook's URL or switch it on or off (pending deliveries of a switched-off webhook wait)."""
    if url is not None:
        webhook.url = _url_checked(url)
    if active is not None:
        webhook.active = active
    webhook.full_clean()
    webhook.save()
    return webhook


@transaction.atomic
def webhook_delete(*, webhook: Webhook) -> None:
    """Remove a webhook and its delivery log."""
    webhook.delete()


def webhook_delivery_retry(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Make a failed (or pending) delivery due now."""
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=WebhookDelivery.Status.DELIVERED).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now()
    )
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def webhook_secret_rotate(*, webhook: Webhook) -> str:
    """Give the webhook a new secret and return it (shown once). Deliveries from now on, retries of earlier
    ones included, are signed with it: the receiver switches to the new secret at the same time."""
    webhook.secret = secrets.token_urlsafe(32)
    webhook.save(update_fields=["secret"])
    return webhook.secret


def webhook_test_send(*, webhook: Webhook, now: dt.datetime | None = None) -> WebhookDelivery:
    """Send a test event (``webhook.test``, no answers in it) to the webhook at once and return its delivery,
    logged like any other. The receiver can check its signature check with it before real submissions come;
    a switched-off webhook is tested too (that is when one wants to know)."""
    now = now or timezone.now()
    delivery_id = uuid.uuid4()
    body = {
        "event": EVENT_TEST,
        "delivery_id": str(delivery_id),
        "form_id": webhook.questionnaire.form_id,
        "test": True,
        "sent_at": now.isoformat(),
    }
    delivery = WebhookDelivery.objects.create(
        id=delivery_id,
        webhook=webhook,
        submission=None,
        event=EVENT_TEST,
        body=json.dumps(body, ensure_ascii=False, sort_keys=True),
        next_attempt_at=now + dt.timedelta(seconds=LEASE_SECONDS),  # taken by this call, not by a worker
    )
    _attempt(delivery, now=now, max_attempts=1)
    delivery.refresh_from_db()
    return delivery


def submission_payload(submission: Submission, *, delivery_id: uuid.UUID, event: str = EVENT_SUBMISSION) -> dict:
    """The JSON document a webhook receives for a submission."""
    version = submission.questionnaire_version
    return {
        "event": event,
        "delivery_id": str(delivery_id),
        "form_id": version.questionnaire.form_id,
        "version": version.version,
        "instance_id": str(submission.instance_id),
        "wave_id": submission.wave_id,
        "wave": submission.wave.name if submission.wave_id else None,
        "panel_id": submission.panel_id,
        "language": submission.language,
        "source": submission.source,
        "submitted_at": submission.submitted_at.isoformat() if submission.submitted_at else None,
        "data": submission.data,
    }


def webhook_deliveries_create(
    *, submission_id: int | None = None, submission: Submission | None = None, hooks=None, event: str = EVENT_SUBMISSION
) -> list[WebhookDelivery]:
    """Queue the delivery of a stored submission to every active webhook of its questionnaire (idempotent).

    Give the submission itself (with its version, questionnaire and wave loaded) to spare the look-up, and the
    webhooks when they are already known.
    """
    if submission is None:
        submission = (
            Submission.objects.select_related("questionnaire_version__questionnaire", "wave")
            .filter(pk=submission_id, status=Submission.Status.COMPLETE)
            .first()
        )
    if submission is None:
        return []
    if hooks is None:
        hooks = Webhook.objects.filter(questionnaire_id=submission.questionnaire_version.questionnaire_id, active=True)
    created = []
    now = timezone.now()
    for hook in hooks:
        delivery_id = uuid.uuid4()
        body = json.dumps(
            submission_payload(submission, delivery_id=delivery_id, event=event), ensure_ascii=False, sort_keys=True
        )
        with transaction.atomic():
            if WebhookDelivery.objects.filter(webhook=hook, submission=submission, event=event).exists():
                continue
            created.append(
                WebhookDelivery.objects.create(
                    id=delivery_id, webhook=hook, submission=submission, event=event, body=body, next_attempt_at=now
                )
            )
    return created


def submission_deliveries_add(*, submission: Submission) -> None:
    """Call inside the transaction that stores a submission: write its webhook deliveries (the outbox) in that
    same transaction, so a submission is never committed without them, whatever happens to the process next.

    Never raises: a broken webhook must not fail the submission (its rows are written under a savepoint that
    alone rolls back; the error is logged). Without webhooks it costs one indexed query.
    """
    try:
        hooks = list(
            Webhook.objects.filter(questionnaire_id=submission.questionnaire_version.questionnaire_id, active=True)
        )
        if not hooks:
            return
        with transaction.atomic():
            created = webhook_deliveries_create(submission=submission, hooks=hooks)
        if created:
            transaction.on_commit(_wake_worker)  # the task only makes delivery sooner; the loop is the backstop
    except Exception:  # logged, and the submission stands
        logger.exception("could not queue webhook deliveries of submission %s", submission.pk)


def submission_accepted(*, submission_id: int, questionnaire_id: int | None = None) -> None:
    """Queue the webhook deliveries of a submission stored earlier (an import, a repair); idempotent.

    Never raises: a webhook must not fail or slow down the submission that triggered it. Without webhooks it
    costs one indexed query (on the questionnaire, when its id is given).
    """
    try:
        hooks = Webhook.objects.filter(active=True)
        if questionnaire_id is not None:
            hooks = hooks.filter(questionnaire_id=questionnaire_id)
        else:
            hooks = hooks.filter(questionnaire__versions__submissions__pk=submission_id)
        if not hooks.exists():
            return
        if webhook_deliveries_create(submission_id=submission_id):
            _wake_worker()
    except Exception:  # logged, and the submission stands
        logger.exception("could not queue webhook deliveries of submission %s", submission_id)


# Sent when deliveries were queued. ``digifit.survey.tasks`` listens and enqueues its flush task, so the
# dependency runs one way (tasks -> webhooks); with no listener the webhooks_deliver loop delivers.
deliveries_queued = Signal()


def _wake_worker() -> None:
    """Ask the task side to deliver at once (when TASKS is configured); the loop is the backstop."""
    if not getattr(settings, "TASKS", None):
        return
    try:
        deliveries_queued.send(sender=None)
    except Exception:  # no task backend: the webhooks_deliver loop delivers
        logger.debug("webhooks_flush not enqueued", exc_info=True)


# ------------------------------------------------------------------------------------------- delivery


def _backoff(attempts: int) -> dt.timedelta:
    base = _setting("DIGIFIT_WEBHOOK_BACKOFF_SECONDS", 30)
    cap = _setting("DIGIFIT_WEBHOOK_BACKOFF_MAX_SECONDS", 6 * 3600)
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST and return (status code or None, a short error; empty when 2xx); the reply's body is never read.

    The outbound guard resolves and checks the host again now (a name may point elsewhere than at creation)
    and connects to the very address it checked; redirects are not followed.
    """
    reply = post_pinned(url, body, headers, allowed=webhook_allowed_hosts(), timeout=TIMEOUT_SECONDS)
    return reply.status, reply.error


def _claim(now: dt.datetime, limit: int) -> list[WebhookDelivery]:
    with transaction.atomic():
        qs = WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, webhook__active=True
        ).order_by("next_attempt_at")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        due = list(qs.select_related("webhook")[:limit])
        if due:
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in due]).update(
                next_attempt_at=now + dt.timedelta(seconds=LEASE_SECONDS)
            )
    return due


def _attempt(delivery: WebhookDelivery, *, now: dt.datetime, max_attempts: int) -> None:
    """Post one delivery once and log the outcome: delivered, failed (after ``max_attempts``), or due again after
    the backoff."""
    body = delivery.body.encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "digifit-webhooks/1",
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.pk),
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: webhook_signature(secret=delivery.webhook.secret, timestamp=stamp, body=body),
    }
    code, error = _post(delivery.webhook.url, body, headers)
    attempts = delivery.attempts + 1
    fields: dict[str, Any] = {"attempts": attempts, "last_attempt_at": now, "response_code": code}
    if code is not None and 200 <= code < 300:
        fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now, last_error="")
    elif attempts >= max_attempts:
        fields.update(status=WebhookDelivery.Status.FAILED, last_error=error[:ERROR_CHARS])
    else:
        fields.update(next_attempt_at=now + _backoff(attempts), last_error=error[:ERROR_CHARS])
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)


def webhook_deliveries_run(*, now: dt.datetime | None = None, limit: int = 50) -> int:
    """Attempt every due delivery once; return how many were attempted.

    ``now`` (for tests) is the time deliveries are due by and the attempts are logged at.
    """
    now = now or timezone.now()
    due = _claim(now, limit)
    max_attempts = int(_setting("DIGIFIT_WEBHOOK_MAX_ATTEMPTS", 10))
    for delivery in due:
        _attempt(delivery, now=now, max_attempts=max_attempts)
    return len(due)


def webhook_loop(*, interval: float = 2.0, stop: threading.Event | None = None, limit: int = 50) -> None:
    """Deliver due webhooks every ``interval`` seconds until ``stop`` is set (``webhooks_deliver`` runs it)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        close_old_connections()
        try:
            attempted = webhook_deliveries_run(limit=limit)
        except Exception:  # a database hiccup must not end the loop
            logger.exception("webhook pass failed")
            attempted = 0
        close_old_connections()
        if attempted < limit:
            stop.wait(interval)


__all__ = [
    "EVENT_SUBMISSION",
    "EVENT_TEST",
    "submission_accepted",
    "submission_deliveries_add",
    "submission_payload",
    "webhook_allowed_hosts",
    "webhook_create",
    "webhook_delete",
    "webhook_deliveries_create",
    "webhook_deliveries_run",
    "webhook_delivery_retry",
    "webhook_loop",
    "webhook_secret_rotate",
    "webhook_signature",
    "webhook_test_send",
    "webhook_update",
    "webhook_url_check",
    "webhook_url_refusal_text",
    "webhook_verify",
]
