"""The outbox loop that ``digifit worker`` runs next to the django-tasks database worker."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections

from digifit.notifications.services import outbox_run_once

logger = logging.getLogger("digifit.notifications")


def outbox_loop(*, worker_id: str, interval: float = 5.0, stop: threading.Event | None = None, limit: int = 20) -> None:
    """Sweep and send due messages every ``interval`` seconds until ``stop`` is set.

    A pass that sent a full batch is followed at once by the next one.
    """
    stop = stop or threading.Event()
    while not stop.is_set():
        close_old_connections()
        try:
            sent = outbox_run_once(worker_id=worker_id, limit=limit)
        except Exception:  # a database hiccup must not end the loop; the next pass retries
            logger.exception("outbox pass failed")
            sent = 0
        close_old_connections()
        if sent < limit:
            stop.wait(interval)
