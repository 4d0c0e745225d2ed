"""Background tasks of the programme (django-tasks, run by ``digifit worker``).

Neither task is needed for correctness — the outbox loop sends every due message and the sessions of a series
with an end date exist from its creation — they only make things faster or keep open-ended series ahead:

- ``outbox_flush`` (from :mod:`digifit.notifications.tasks`) is enqueued after a registration commits, so the
  confirmation leaves at once instead of at the loop's next pass;
- :func:`sessions_extend` generates the sessions of open-ended series (no ``until``) for the coming weeks.

The database backend never retries a task whose worker died; if that happens, the loop still sends the mail and
the next ``sessions_extend`` still creates the sessions (it is idempotent).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task


@task()
def sessions_extend(weeks: int = 26) -> int:
    """Create the sessions of every series for the next ``weeks`` weeks; return how many sessions exist."""
    from digifit.programme import services
    from digifit.programme.models import Series

    through = timezone.localdate() + timedelta(weeks=weeks)
    return sum(len(services.series_sessions_sync(series=s, through=through)) for s in Series.objects.all())


def confirmation_send_soon() -> None:
    """After the current transaction commits, ask the worker to send due e-mails now."""
    from digifit.notifications.tasks import outbox_flush

    transaction.on_commit(outbox_flush.enqueue)
