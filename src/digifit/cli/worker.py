"""``digifit worker``: the django-tasks database worker and the e-mail outbox loop, in one process.

The outbox loop runs in a thread next to django-tasks' ``db_worker`` (main thread, which owns the signal
handlers). SIGTERM/SIGINT stop both: the task worker finishes its current task, the outbox loop its current
message. A worker killed hard (SIGKILL, power loss) loses nothing: messages it had claimed are returned to
``pending`` by the sweeper of the next worker pass (``DIGIFIT_OUTBOX_SENDING_TIMEOUT``).
"""

from __future__ import annotations

import os
import socket
import threading

import click


class WorkerUsageError(click.ClickException):
    """A user error: one line on stderr, exit status 2."""

    exit_code = 2


@click.command()
@click.option(
    "--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.05), help="Seconds between passes."
)
@click.option("--queue", "queue", default="*", show_default=True, help="django-tasks queues ('*' for all).")
@click.option("--tasks/--no-tasks", "run_tasks", default=True, show_default=True, help="Run the django-tasks worker.")
@click.option("--outbox/--no-outbox", "run_outbox", default=True, show_default=True, help="Run the e-mail outbox.")
@click.option("--once", is_flag=True, help="One outbox pass and the tasks due now, then exit (for cron and tests).")
@click.option("--worker-id", default=None, help="Unique id of this worker (default host-pid).")
def worker(interval: float, queue: str, run_tasks: bool, run_outbox: bool, once: bool, worker_id: str | None) -> None:
    """Run background work: django-tasks (database backend) and the e-mail outbox (reminders, confirmations)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digifit.web.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.utils import DatabaseError

    try:
        tables = connection.introspection.table_names()
    except DatabaseError as exc:
        raise WorkerUsageError(f"cannot open the database: {exc}") from exc
    if "notifications_outboxmessage" not in tables:
        raise WorkerUsageError("the database is not set up: run 'digifit manage migrate' first")
    if not (run_tasks or run_outbox):
        raise WorkerUsageError("nothing to run: --no-tasks and --no-outbox together")
    from digifit.notifications.services import outbox_run_once
    from digifit.notifications.worker import outbox_loop

    worker_id = (worker_id or f"{socket.gethostname()}-{os.getpid()}")[:64]
    if once:
        sent = outbox_run_once(worker_id=worker_id) if run_outbox else 0
        if run_tasks:
            call_command("db_worker", queue_name=queue, batch=True, reload=False, startup_delay=False, verbosity=0)
        click.echo(f"sent {sent} e-mail(s)")
        return
    stop = threading.Event()
    thread = None
    if run_outbox:
        thread = threading.Thread(
            target=outbox_loop, kwargs={"worker_id": worker_id, "interval": interval, "stop": stop}, daemon=True
        )
        thread.start()
    click.echo(
        f"digifit worker {worker_id}: tasks={'on' if run_tasks else 'off'}, outbox={'on' if run_outbox else 'off'}"
    )
    try:
        if run_tasks:
            call_command(
                "db_worker",
                queue_name=queue,
                interval=interval,
                reload=False,
                startup_delay=False,
                worker_id=worker_id,
                verbosity=0,
            )
        else:
            import signal

            def _stop(signum, frame) -> None:
                stop.set()

            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            while not stop.wait(1.0):
                pass
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=60)
