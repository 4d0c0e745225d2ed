"""``digifit programme feed`` and ``digifit programme forecast``: outputs, and one-line errors with exit 2."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import icalendar
import recurring_ical_events
from click.testing import CliRunner

from digifit.cli import main

TOML = """\
slug = "dienstag"
title = "Digital-Sprechstunde"
start_date = 2026-01-01
until = 2026-12-31
start_time = "10:00"
duration_minutes = 60
tz = "Europe/Berlin"
skipped = [2026-04-07]

[moved]
"2026-05-05" = 2026-05-06T14:00:00
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_feed_from_toml_to_a_file(tmp_path):
    series = tmp_path / "tuesday.toml"
    series.write_text(TOML)
    out = tmp_path / "tuesday.ics"
    result = run("programme", "feed", str(series), "--out", str(out), "--stamp", "2026-01-02T08:00:00")
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert b"DTSTAMP:20260102T080000Z" in data
    query = recurring_ical_events.of(icalendar.Calendar.from_ical(data))
    (late_march,) = query.at(date(2026, 3, 31))
    assert late_march["DTSTART"].dt.astimezone(UTC) == datetime(2026, 3, 31, 8, tzinfo=UTC)
    assert query.at(date(2026, 4, 7)) == []
    assert query.at(date(2026, 5, 6))[0]["DTSTART"].dt.hour == 14


def test_feed_from_json_to_stdout(tmp_path):
    series = tmp_path / "tuesday.json"
    series.write_text(json.dumps({"slug": "dienstag", "title": "Sprechstunde", "start_date": "2026-03-01", "count": 3}))
    result = run("programme", "feed", str(series))
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"BEGIN:VCALENDAR\r\n")  # bytes as written, CRLF kept
    assert b"RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=TU;WKST=MO\r\n" in result.stdout_bytes


def test_feed_errors_are_one_line_with_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(TOML.replace("skipped = [2026-04-07]", "skipped = [2026-04-08]"))
    result = run("programme", "feed", str(bad), "--out", str(tmp_path / "x.ics"))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: series 'dienstag', skipped date 2026-04-08 (Wednesday) is not on the recurrence; "
        "expected a date of every Tuesday from 2026-01-06 to 2026-12-29"
    ]
    assert not (tmp_path / "x.ics").exists()
    for name, text, match in [
        ("broken.toml", "slug = ", "not valid TOML"),
        ("list.json", "[1, 2]", "expected an object"),
        ("series.yaml", "slug: x", "expected .json or .toml"),
    ]:
        (tmp_path / name).write_text(text)
        result = run("programme", "feed", str(tmp_path / name))
        assert result.exit_code == 2 and match in result.output and len(result.output.strip().splitlines()) == 1
    result = run("programme", "feed", str(tmp_path / "missing.toml"))
    assert result.exit_code == 2 and "cannot read" in result.output


def history_csv(tmp_path, counts):
    path = tmp_path / "history.csv"
    start = date(2026, 1, 5)
    rows = [f"{date.fromordinal(start.toordinal() + 7 * k).isoformat()},{c}" for k, c in enumerate(counts)]
    path.write_text("week_start,new_fit\n" + "\n".join(rows) + "\n")
    return path


def test_forecast_json_and_text(tmp_path):
    path = history_csv(tmp_path, [40, 38, 45, 41, 39, 44, 40, 42, 37, 43, 40, 41])
    result = run("programme", "forecast", str(path), "--target", "2000", "--deadline", "2026-12-31", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["target"] == 2000 and out["deadline"] == "2026-12-31" and out["weeks"] == 12
    assert out["reached"] == 490 and out["level"] == 0.9
    assert out["low"] <= out["expected"] <= out["high"]
    text = run("programme", "forecast", str(path), "--target", "2000")
    assert text.exit_code == 0
    first, second = text.output.strip().splitlines()
    assert first.startswith("Target 2,000") and second.startswith("model: ")


def test_forecast_errors_exit_2(tmp_path):
    short = history_csv(tmp_path, [1, 2, 3])
    result = run("programme", "forecast", str(short))
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "expected at least 4" in result.output
    result = run("programme", "forecast", str(history_csv(tmp_path, [1, 2, 3, 4])), "--deadline", "31.12.2026")
    assert result.exit_code == 2  # click's own usage error


def test_help_lists_the_commands():
    result = run("programme", "--help")
    assert result.exit_code == 0 and "feed" in result.output and "forecast" in result.output
