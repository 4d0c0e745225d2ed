"""Background tasks of the outbox (django-tasks).

``outbox_flush`` sends what is due now; services may enqueue it to send a confirmation at once instead of at
the worker loop's next pass. It is an optimisation only: the django-tasks database backend never retries a task
whose worker died, so correctness rests on the outbox rows and the loop in :mod:`digifit.notifications.worker`.
"""

from __future__ import annotations

import os
import socket

from django_tasks import task

from digifit.notifications.services import outbox_run_once


@task()
def outbox_flush() -> int:
    """Send the due messages (one pass of the outbox loop)."""
    return outbox_run_once(worker_id=f"task-{socket.gethostname()}-{os.getpid()}")
