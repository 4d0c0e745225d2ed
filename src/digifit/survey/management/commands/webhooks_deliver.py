"""``digifit manage webhooks_deliver``: post due webhook deliveries, in a loop (or ``--once``)."""

from __future__ import annotations

import contextlib

from django.core.management.base import BaseCommand

from digifit.survey.webhooks import webhook_deliveries_run, webhook_loop


class Command(BaseCommand):
    help = "Deliver due webhook deliveries (retries with backoff); runs until stopped, or once with --once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass over the due deliveries, then exit")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between passes (default 2)")

    def handle(self, *args, once: bool = False, interval: float = 2.0, **options) -> None:
        if once:
            self.stdout.write(f"{webhook_deliveries_run()} deliveries attempted")
            return
        with contextlib.suppress(KeyboardInterrupt):
            webhook_loop(interval=interval)
