"""``digifit forms …``: work with XLSForm questionnaires from the command line."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

import click

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FormsUsageError(click.ClickException):
    """A user error in a ``forms`` command: one line on stderr, exit status 2."""

    exit_code = 2


@click.group()
def forms() -> None:
    """XLSForm questionnaires: evaluate relevance, constraint and calculation expressions."""


#: An argument shaped like an option (``-h``, ``--json``, ``--valuez``, ``--today=…``); anything else that
#: starts with '-' (``-7 mod 3``, ``-${x}``, ``-1``) is an expression.
_OPTION_SHAPE = re.compile(r"--?[A-Za-z][A-Za-z0-9-]*(=.*)?", re.DOTALL)


class _ExpressionCommand(click.Command):
    """A command whose argument may start with '-' (``digifit forms eval '-7 mod 3'``).

    click would read ``-7 mod 3`` as the short options ``-7``, ``- ``, ``-m`` …; before parsing, every
    argument that starts with '-' but is not shaped like an option is moved behind ``--``, so click takes
    it as the EXPRESSION. Unknown options (``--valuez``) are still reported as such.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value = {
            name for param in self.params if isinstance(param, click.Option) and not param.is_flag
            for name in param.opts
        }  # fmt: skip
        ordered: list[str] = []
        expressions: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                ordered.extend(args[i:])
                break
            if arg in takes_value:
                ordered.extend(args[i : i + 2])
                i += 2
                continue
            if arg.startswith("-") and len(arg) > 1 and not _OPTION_SHAPE.fullmatch(arg):
                expressions.append(arg)
            else:
                ordered.append(arg)
            i += 1
        if expressions:
            if "--" not in ordered:
                ordered.append("--")
            cut = ordered.index("--") + 1
            ordered[cut:cut] = expressions
        return super().parse_args(ctx, ordered)


@forms.command("eval", cls=_ExpressionCommand)
@click.argument("expression")
@click.option(
    "--values",
    "values_text",
    metavar="JSON",
    default=None,
    help='Answers as a JSON object ({"age": 42, "channels": "web shop"}), or @file.json. '
    "Strings shaped YYYY-MM-DD become dates; a repeat is a list of objects.",
)
@click.option("--context", metavar="FIELD", default=None, help="The field '.' refers to (a constraint's own field).")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date today() returns (default: the local date).",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"value": ..., "type": ...} as JSON.')
def eval_command(
    expression: str, values_text: str | None, context: str | None, today: dt.datetime | None, as_json: bool
) -> None:
    """Print the value EXPRESSION takes for the given answers.

    \b
    Examples:
      digifit forms eval '${age} >= 18' --values '{"age": 17}'
      digifit forms eval 'count-selected(${channels})' --values '{"channels": "web shop"}' --json
      digifit forms eval 'regex(., "^[0-9]{5}$")' --context plz --values '{"plz": "10115"}'
      digifit forms eval '-7 mod 3'
      digifit forms eval --json -- '-1 div 0'

    An expression may start with '-'. After '--' nothing is read as an option (put the options
    first): '--' is the safe way to pass an expression shaped like an option. Errors (syntax, bad
    JSON) print one line and exit with status 2.
    """
    from digifit.forms.expressions import ExpressionError, compile_expression, type_name

    values = _read_values(values_text)
    try:
        compiled = compile_expression(expression)
        result = compiled.evaluate(values, context=context, today=today.date() if today else None)
    except ExpressionError as error:
        raise FormsUsageError(error.summary) from None
    if as_json:
        click.echo(json.dumps({"value": _json_value(result), "type": type_name(result)}, ensure_ascii=False))
    elif isinstance(result, list | dict):
        click.echo(json.dumps(_json_value(result), ensure_ascii=False))
    else:
        click.echo(to_string(result))


def _read_values(text: str | None) -> dict[str, object]:
    if text is None:
        return {}
    where = "--values"
    if text.startswith("@"):
        path = Path(text[1:])
        where = f"--values file {str(path)!r}"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise FormsUsageError(f"cannot read {where}: {error.strerror or error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FormsUsageError(
            f"{where} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    if not isinstance(data, dict):
        raise FormsUsageError(f"{where} must be a JSON object of answers by field name, got {type(data).__name__}")
    return _with_dates(data)


def _with_dates(value: object) -> object:
    """Turn strings shaped YYYY-MM-DD into dates, as a date question's answer would be typed."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _with_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_dates(v) for v in value]
    return value


def to_string(value: object) -> str:
    """The XPath string of ``value`` (the form engine is imported here, when a command needs it)."""
    from digifit.forms.expressions import to_string as xpath_string

    return xpath_string(value)


def _json_value(value: object) -> object:
    """A JSON-safe rendering: integral numbers as ints, NaN/Infinity and dates as their XPath strings."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return to_string(value)
        return int(value) if value.is_integer() and abs(value) < 2**63 else value
    if isinstance(value, int):
        return value
    if isinstance(value, dt.date):
        return to_string(value)
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return str(value)
