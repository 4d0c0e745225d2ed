"""``digifit programme …``: the live-coaching series' calendar feed and the reach forecast.

SERIES is the slug of a series in the database (``dienstag``); a ``.json`` or ``.toml`` file describing a
series (see ``docs/coach.md``) still works, for a feed without a database.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import click

from digifit.errors import DigifitError


class ProgrammeUsageError(click.ClickException):
    """A user error in a ``programme`` command: one line on stderr, exit status 2."""

    exit_code = 2


@click.group()
def programme() -> None:
    """The programme: the live-coaching series' calendar feed and the forecast of reach."""


@programme.command("feed")
@click.argument("series", metavar="SERIES")
@click.option(
    "--out",
    "out",
    metavar="FILE.ics",
    default="-",
    show_default=True,
    help="Where to write the iCalendar feed; '-' is standard output.",
)
@click.option("--url", default=None, help="The series page, written as the events' URL.")
@click.option(
    "--stamp",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    default=None,
    help="DTSTAMP in UTC (default now); fix it for byte-identical output.",
)
def feed(series: str, out: str, url: str | None, stamp: datetime | None) -> None:
    """Write the subscribable iCalendar feed of SERIES.

    SERIES is the slug of a series in the database (see 'digifit manage' and the admin), or a .json/.toml
    file with the series' fields (slug, title, start_date, weekday, start_time, duration_minutes, tz, until
    or count, skipped, moved, ...). A slug never contains a dot, so 'x.toml' always means the file.

    \b
    Examples:
      digifit programme feed dienstag --out dienstag.ics
      digifit programme feed tuesday.toml --out tuesday.ics
    """
    from digifit.programme.calendar import series_feed

    sequence = 0
    try:
        if _SLUG.match(series) and not Path(series).exists():
            value, sequence = _series_from_database(series)
        else:
            from digifit.programme.recurrence import series_from_mapping

            value = series_from_mapping(_read_series_file(Path(series)), source=Path(series).name)
        data = series_feed(value, url=url, stamp=stamp.replace(tzinfo=UTC) if stamp else None, sequence=sequence)
    except DigifitError as error:
        raise ProgrammeUsageError(str(error)) from None
    if out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        Path(out).write_bytes(data)
    except OSError as error:
        raise ProgrammeUsageError(f"{out}: cannot write ({error.strerror or error})") from None
    click.echo(f"wrote {out}", err=True)


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _series_from_database(slug: str):
    """The series ``slug`` from the database (Django set up lazily), as a recurrence value and its SEQUENCE."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digifit.web.settings")
    import django

    django.setup()
    from django.db.utils import DatabaseError

    try:
        from digifit.programme.selectors import series_get

        row = series_get(slug=slug)
    except DatabaseError as error:
        raise ProgrammeUsageError(
            f"cannot read series {slug!r} from the database ({str(error).splitlines()[0]}); "
            "run 'digifit manage migrate' first"
        ) from None
    if row is None:
        raise ProgrammeUsageError(
            f"no series {slug!r} in the database and no such file; give a slug from the admin or a .json/.toml file"
        )
    return row.to_value(), row.sequence


@programme.command("forecast")
@click.argument("history", metavar="HISTORY.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--target", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option(
    "--deadline",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="YYYY-MM-DD; default 31 December of the history's last week.",
)
@click.option(
    "--level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.9,
    show_default=True,
    help="Coverage of the prediction interval.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the forecast as a JSON object.")
def forecast(history: Path, target: int, deadline: datetime | None, level: float, as_json: bool) -> None:
    """Forecast when the number of digitally fit businesses reaches the target.

    HISTORY.csv has the columns week_start (YYYY-MM-DD, consecutive weeks, quiet ones as 0) and new_fit
    (businesses newly digitally fit that week), from the programme's first week on; at least 4 weeks.
    Model: negative-binomial (or Poisson) weekly counts with a log-linear trend, fitted by maximum
    likelihood; prediction interval by simulation with a fixed seed (docs/coach.md).

    \b
    Example:
      digifit programme forecast fit_per_week.csv --target 10000 --deadline 2026-12-31 --json
    """
    from digifit.programme.reach import forecast as run_forecast
    from digifit.programme.reach import weekly_counts_from_csv

    try:
        result = run_forecast(
            weekly_counts_from_csv(history),
            target=target,
            deadline=deadline.date() if deadline else None,
            level=level,
        )
    except DigifitError as error:
        raise ProgrammeUsageError(str(error)) from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    click.echo(result.summary())
    click.echo(
        f"model: {result.model}; {result.weeks} weeks of history to {result.last_week}, "
        f"{result.reached:,} fit so far; next week's expected new fit: {result.rate:.1f} "
        f"(weekly growth {result.weekly_growth:+.1%})"
    )


def _read_series_file(path: Path) -> dict[str, object]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ProgrammeUsageError(f"{path}: cannot read ({error.strerror or error})") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            return tomllib.loads(raw.decode("utf-8"))
        if suffix == ".json":
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict):
                raise ProgrammeUsageError(f"{path.name}: got a JSON {type(data).__name__}; expected an object")
            return data
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ProgrammeUsageError(f"{path.name}: not valid {suffix[1:].upper()} ({error})") from None
    raise ProgrammeUsageError(f"{path.name}: got a {suffix or 'suffix-less'} file; expected .json or .toml")


__all__ = ["feed", "forecast", "programme"]
