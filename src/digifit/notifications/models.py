"""The outbox: one row per e-mail, identified by a caller-chosen unique key.

States: ``pending`` → ``sending`` (claimed by one worker) → ``sent`` | ``failed``; ``cancelled`` for messages
withdrawn before they were sent (a reminder of a cancelled registration). See
:mod:`digifit.notifications.services` for the delivery guarantees.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """One e-mail to send at (or after) ``send_at``."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    key = models.CharField(_("key"), max_length=200, unique=True)
    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=500)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True, null=True)
    language = models.CharField(_("language"), max_length=10, default="de")
    attachments = models.JSONField(default=list, blank=True, help_text=_("[filename, base64 content, MIME type]"))
    send_at = models.DateTimeField(_("send at"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    message_id = models.CharField(max_length=200, editable=False)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["send_at", "id"]
        indexes = [models.Index(fields=["state", "send_at"], name="notif_outbox_due")]

    def __str__(self) -> str:
        return f"{self.key} → {self.to} ({self.state})"
