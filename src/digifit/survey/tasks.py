"""Background tasks of the survey app (django-tasks, database backend).

The tables stay the source of truth: a task only makes work happen sooner. The database backend never retries a
task whose worker died, so ``webhooks_flush`` finding nothing, or never running, loses nothing — the
``webhooks_deliver`` loop delivers every due row. Invitation reminders need no task: they are outbox
messages queued with their ``send_at`` when the invitation is sent (see ``invitations.py``).
"""

from __future__ import annotations

from django_tasks import task

from digifit.survey.webhooks import deliveries_queued, webhook_deliveries_run


@task()
def webhooks_flush() -> int:
    """Attempt the webhook deliveries that are due now; return how many were attempted."""
    return webhook_deliveries_run()


def _flush_soon(**_kwargs) -> None:
    webhooks_flush.enqueue()


# connected when the app is ready (SurveyConfig.ready imports this module)
deliveries_queued.connect(_flush_soon, dispatch_uid="digifit.survey.tasks.flush_soon")
