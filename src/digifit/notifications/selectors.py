"""Reads of the outbox."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from digifit.notifications.models import OutboxMessage


def outbox_message_list(*, key_prefix: str = "", state: str | None = None) -> QuerySet[OutboxMessage]:
    """Messages, optionally those whose key starts with ``key_prefix`` and in one state."""
    qs = OutboxMessage.objects.all()
    if key_prefix:
        qs = qs.filter(key__startswith=key_prefix)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("send_at", "id")


def outbox_counts() -> dict[str, int]:
    """Number of messages per state."""
    return dict(OutboxMessage.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
