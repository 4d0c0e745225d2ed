"""``digifit demo``: the product tour — migrate, load everything, print the logins, serve.

The loading itself is :func:`digifit.demo.tour.tour_load` (idempotent: running twice stores nothing new).
"""

from __future__ import annotations

import os
import sys
import time

import click


class DemoUsageError(click.ClickException):
    """A user error: one line on stderr, exit status 2."""

    exit_code = 2


@click.command()
@click.option("--serve/--no-serve", default=True, show_default=True, help="Serve the web app after loading.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--rows", default=20_000, show_default=True, type=click.IntRange(min=600), help="Synthetic responses.")
@click.option(
    "--worker/--no-worker",
    "with_worker",
    default=True,
    show_default=True,
    help="While serving, also run 'digifit worker' (reports in the background).",
)
@click.option("--waves", "n_waves", default=4, show_default=True, type=click.IntRange(1, 12), help="Monthly waves.")
def demo(serve: bool, host: str, port: int, rows: int, with_worker: bool, n_waves: int) -> None:
    """Load the demo (users, questionnaire, synthetic waves, snapshots, catalogue, checks) and serve it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digifit.web.settings")
    # the demo's e-mails are read in the browser (/demo/mail/), and their links point at this server's port
    os.environ.setdefault("DIGIFIT_DEMO_MAILBOX", "1")
    link_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    os.environ.setdefault("DIGIFIT_BASE_URL", f"http://{link_host}:{port}")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.utils import DatabaseError

    from digifit.errors import DigifitError

    started = time.perf_counter()
    try:
        call_command("migrate", interactive=False, verbosity=0)
    except DatabaseError as exc:
        raise DemoUsageError(f"cannot set up the database: {exc}") from exc
    click.echo("database migrated")
    from digifit.demo.tour import DEMO_PASSWORD, DEMO_USERS, tour_load

    try:
        loaded = tour_load(rows=rows, n_waves=n_waves, progress=click.echo)
    except DigifitError as exc:
        raise DemoUsageError(str(exc)) from exc
    total = time.perf_counter() - started
    t = loaded.timings
    click.echo(
        f"loaded: {loaded.submissions:,} new submissions in {loaded.waves} new waves "
        f"({t.get('submissions', 0):.1f} s), {loaded.snapshots} snapshots ({t.get('snapshots', 0):.1f} s), "
        f"catalogue {'loaded' if loaded.catalogue_created else 'already there'}, "
        f"courses {'loaded' if loaded.courses_created else 'already there'}, {loaded.checks} new Digital-Checks "
        f"({t.get('catalogue', 0):.1f} s); {total:.1f} s in all"
    )
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for username, _role, display in DEMO_USERS:
        click.echo(f"  {username:<10} {display}")
    base = f"http://{host}:{port}"
    click.echo(
        f"\n  {base}/dashboard/  headline finding   {base}/analysis/  analysis   {base}/reports/  reports\n"
        f"  {base}/programme/  programme          {base}/check/  Digital-Check   {base}/learning/  courses\n"
        "  Reports are made by the background worker ('digifit worker'; started with the server here)."
    )
    sys.stdout.flush()
    if not serve:
        return
    click.echo(f"\nserving at {base}/ (Ctrl-C stops)")
    sys.stdout.flush()
    import signal
    import subprocess

    def _stop(signum, frame):  # SIGTERM (a service manager, `kill`) stops like Ctrl-C: the worker too
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    worker = None
    if with_worker:
        code = "from digifit.cli import main; main()"
        worker = subprocess.Popen([sys.executable, "-c", code, "worker", "--interval", "1"])
    try:
        call_command("runserver", f"{host}:{port}", use_reloader=False, insecure_serving=True)
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
