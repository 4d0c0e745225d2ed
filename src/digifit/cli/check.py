"""``digifit check score`` and ``digifit check export``: the Digital-Check on the command line.

``score`` needs no database: it checks answers against the check form with the forms engine and scores them
with the same functions as the web page (:func:`digifit.assessment.scoring.answers_check` and
:func:`~digifit.assessment.scoring.score`), so organisers can test an edited form or rules file. ``export``
writes the results whose owners consented to statistics to Parquet for the analytic store.
User errors are one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from digifit.errors import DigifitError


class CheckUsageError(click.ClickException):
    """A user error in a ``check`` command: one line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"digifit: error: {self.format_message()}", err=True)


@click.group()
def check() -> None:
    """The Digital-Check: score answers, export consenting results."""


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


@check.command("score")
@click.argument("answers", metavar="ANSWERS.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the result as JSON: CheckResult.to_dict() (exact scores) plus 'rounded' and 'display'.",
)
@click.option(
    "--rules",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Scoring rules file (default: the bundled rules.toml).",
)
@click.option(
    "--form",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Check form XLSForm (default: the bundled digital_check.xlsx).",
)
@click.option(
    "--language",
    default="en",
    show_default=True,
    help="Language of the form's error messages and of the shown scores (de, en, fr).",
)
def score_command(answers: Path, as_json: bool, rules: Path | None, form: Path | None, language: str) -> None:
    """Score one set of answers (a JSON object of answer names to values; '-' reads standard input).

    Unanswered questions are allowed and listed as missing; unknown names and values outside the choices
    are errors.
    """
    from digifit.assessment import display, scoring
    from digifit.assessment.content import instrument_paths, load_form

    try:
        text = sys.stdin.read() if str(answers) == "-" else answers.read_text(encoding="utf-8")
    except OSError as exc:
        raise CheckUsageError(f"{answers}: cannot read the file ({exc.strerror or exc}).") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckUsageError(
            f"{answers}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from None
    try:
        loaded_rules = scoring.load_rules(rules)
        questionnaire = load_form(form or instrument_paths().form)
        values = scoring.answers_check(questionnaire, data, language=language, partial=True)
        result = scoring.score(values, loaded_rules)
    except FileNotFoundError as exc:
        raise CheckUsageError(f"{exc.filename}: no such file.") from None
    except DigifitError as exc:
        raise CheckUsageError(f"{answers}: {_one_line(exc)}") from None
    if as_json:
        out = result.to_dict()  # exactly what the web page stores: exact scores
        out["rounded"] = display.scores_rounded(result)  # the figures a person reads, as numbers
        out["display"] = display.scores_display(result, language)  # ... and as text in --language
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(f"rules version {result.rules_version}")
    complete = "" if result.dii_complete else f" (lower bound: {len(result.dii_missing)} item(s) unanswered)"
    basic = "at least basic" if result.dii_basic else "below basic"
    click.echo(f"DII {result.dii_score}/{len(loaded_rules.dii_items)}: {result.dii_level}, {basic}{complete}")
    for dim, value in result.dimensions.items():
        click.echo(f"  {dim:<12} {display.format_score(value, language):>5}")
    click.echo(f"  {'overall':<12} {display.format_score(result.overall, language):>5}")
    channels = ", ".join(f"{k}={'-' if v is None else v}" for k, v in result.channels.items())
    click.echo(f"channels: {channels}; digital revenue share: {result.digital_share or '-'}")
    if result.missing:
        click.echo(f"missing: {', '.join(result.missing)}")


@check.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.parquet")
def export_command(out: Path) -> None:
    """Write the results whose owners consented to statistics to FILE.parquet (no links, no e-mails)."""
    from digifit.cli.web import WebUsageError, _django, _migrated_or_fail

    _django()
    _migrated_or_fail()
    from django.db import connection

    if "assessment_assessment" not in connection.introspection.table_names():
        raise WebUsageError("the database is not set up: run 'digifit manage migrate' first")
    if not out.parent.exists():
        raise CheckUsageError(f"{out.parent}: no such directory")
    from digifit.assessment import services

    tmp = out.with_name(out.name + ".tmp")
    n = services.results_export(target=tmp)
    tmp.replace(out)
    click.echo(f"{out}: {n} consenting Digital-Check results")
