"""``digifit serve``, ``manage``, ``questionnaire add``, ``waves`` and ``snapshot``: the web platform's CLI.

Django is set up lazily (``DJANGO_SETTINGS_MODULE`` defaults to ``digifit.web.settings``), so the statistics
commands never import it. User errors are one line on stderr and exit status 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


class WebUsageError(click.ClickException):
    """A user error: one line on stderr, exit status 2."""

    exit_code = 2


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digifit.web.settings")
    import django

    django.setup()


def _cli_language() -> str:
    """The language of messages on the command line: the first of ``LANGUAGE`` digifit speaks, else English."""
    for part in os.environ.get("LANGUAGE", "").split(":"):
        code = part.split("_")[0].split(".")[0].lower()
        if code in {"de", "en", "fr"}:
            return code
    return "en"


def _migrated_or_fail() -> None:
    from django.db import connection
    from django.db.utils import OperationalError

    try:
        tables = connection.introspection.table_names()
    except OperationalError as exc:
        raise WebUsageError(f"cannot open the database: {exc}") from exc
    if "survey_submission" not in tables:
        raise WebUsageError("the database is not set up: run 'digifit manage migrate' first")


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command: digifit manage migrate, createsuperuser, token_create USER, …"""
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["digifit manage", *args])


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--migrate/--no-migrate", default=True, show_default=True, help="Apply migrations first.")
def serve(host: str, port: int, migrate: bool) -> None:
    """Serve the web platform (Django's threaded server; put a WSGI server in front for production)."""
    _django()
    from django.core.management import call_command

    if migrate:
        call_command("migrate", interactive=False, verbosity=0)
    call_command("runserver", f"{host}:{port}", use_reloader=False, insecure_serving=True)


@click.group()
def questionnaire() -> None:
    """Questionnaires from XLSForm files."""


@questionnaire.command("add")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def questionnaire_add(path: Path) -> None:
    """Store an XLSForm (.xlsx) as a new questionnaire version."""
    if not path.is_file():
        raise WebUsageError(f"{path}: no such file")
    _django()
    _migrated_or_fail()
    from digifit.survey.errors import SurveyError
    from digifit.survey.services import questionnaire_version_add
    from digifit.survey.upload_policy import refusal_message, refusal_of

    try:
        added = questionnaire_version_add(content=path.read_bytes(), filename=path.name)
    except SurveyError as exc:
        refused = refusal_of(exc)
        if refused is not None:  # the upload guard refused the file: what is wrong and what to do, one line
            from django.utils import translation

            with translation.override(_cli_language()):
                raise WebUsageError(f"{path}: {refusal_message(refused)}") from exc
        raise WebUsageError(f"{path}: {exc}") from exc
    v = added.version
    state = "stored" if added.created else "already stored"
    missing = {lang: len(r.get("missing", [])) for lang, r in (v.completeness or {}).items() if r.get("missing")}
    click.echo(f"{v.questionnaire.form_id} version {v.version}: {state} ({len(v.schema['fields'])} fields)")
    for lang, n in missing.items():
        click.echo(f"  {lang}: {n} missing label(s)")
    from django.utils import translation

    from digifit.survey.notices import notice_lines

    with translation.override(_cli_language()):
        for line in notice_lines(v.schema):
            click.echo(f"  {line}")


@questionnaire.command("list")
def questionnaire_list() -> None:
    """List questionnaires and their versions."""
    _django()
    _migrated_or_fail()
    from digifit.survey import selectors

    for q in selectors.questionnaire_list():
        versions = ", ".join(v.version for v in selectors.version_list(questionnaire=q))
        click.echo(f"{q.form_id}\t{q.title}\t{versions}")


@click.command()
@click.option("--create", "create", nargs=2, metavar="FORM_ID NAME", help="Create a wave (status open).")
def waves(create: tuple[str, str] | None) -> None:
    """List waves with their ids (or create one with --create FORM_ID NAME)."""
    _django()
    _migrated_or_fail()
    from digifit.survey import selectors, services
    from digifit.survey.errors import SurveyError

    if create:
        form_id, name = create
        q = selectors.questionnaire_get(form_id=form_id)
        if q is None:
            raise WebUsageError(f"no questionnaire {form_id!r}; add it with 'digifit questionnaire add FILE.xlsx'")
        try:
            services.wave_create(questionnaire=q, name=name, status="open")
        except SurveyError as exc:
            raise WebUsageError(str(exc)) from exc
    click.echo("id\tform_id\twave\tstatus\tsubmissions\tinvitations")
    for w in selectors.wave_list():
        click.echo(f"{w.pk}\t{w.questionnaire.form_id}\t{w.name}\t{w.status}\t{w.n_submissions}\t{w.n_invitations}")


@click.command()
@click.argument("wave")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.parquet")
def snapshot(wave: str, out: Path) -> None:
    """Write the Parquet snapshot of WAVE (an id from 'digifit waves', or FORM_ID/NAME)."""
    _django()
    _migrated_or_fail()
    from digifit.survey import exports, selectors

    w = selectors.wave_get(wave_id=wave)
    if w is None:
        raise WebUsageError(f"no wave {wave!r}; 'digifit waves' lists them")
    if not out.parent.exists():
        raise WebUsageError(f"{out.parent}: no such directory")
    tmp = out.with_name(out.name + ".tmp")
    n = exports.snapshot_write(exports.ExportSpec(questionnaire=w.questionnaire, wave=w), tmp)
    tmp.replace(out)
    click.echo(f"{out}: {n} submissions of {w.questionnaire.form_id} wave {w.name!r}", err=False)
    sys.stdout.flush()
