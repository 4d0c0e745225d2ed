"""``digifit programme feed SLUG`` reads the series from the database; the file form stays a fallback."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from click.testing import CliRunner

from digifit.cli import main
from digifit.programme import services

from .conftest import make_series


@pytest.mark.django_db
def test_feed_of_a_database_series_with_exceptions(tmp_path):
    series = make_series(through=date(2026, 12, 29))
    services.series_exception_set(series=series, original_date=date(2026, 4, 7), kind="skip")
    services.series_exception_set(
        series=series,
        original_date=date(2026, 5, 5),
        kind="move",
        new_start=datetime(2026, 5, 6, 14, 0, tzinfo=ZoneInfo("Europe/Berlin")),
    )
    out = tmp_path / "dienstag.ics"
    result = CliRunner().invoke(main, ["programme", "feed", "dienstag", "--out", str(out), "--stamp", "2026-01-02"])
    assert result.exit_code == 0, result.output
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    query = recurring_ical_events.of(cal)
    (dst,) = query.at(date(2026, 3, 31))
    assert dst["DTSTART"].dt.astimezone(UTC) == datetime(2026, 3, 31, 8, tzinfo=UTC)
    (winter,) = query.at(date(2026, 10, 27))
    assert winter["DTSTART"].dt.astimezone(UTC) == datetime(2026, 10, 27, 9, tzinfo=UTC)
    assert query.at(date(2026, 4, 7)) == []
    assert query.at(date(2026, 5, 6))[0]["DTSTART"].dt.hour == 14
    assert b"SEQUENCE:2" in out.read_bytes()  # two exceptions raised it twice


@pytest.mark.django_db
def test_unknown_slug_is_one_line_exit_2():
    result = CliRunner().invoke(main, ["programme", "feed", "nosuchseries"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: no series 'nosuchseries' in the database and no such file; give a slug from the admin or a "
        ".json/.toml file"
    ]


@pytest.mark.django_db
def test_worker_once_sends_due_mail():
    from django.utils import timezone

    from digifit.notifications.models import OutboxMessage
    from digifit.notifications.services import outbox_enqueue

    outbox_enqueue(key="w1", to="a@example.org", subject="s", body_text="b", send_at=timezone.now())
    result = CliRunner().invoke(main, ["worker", "--once", "--no-tasks"])
    assert result.exit_code == 0, result.output
    assert "sent 1 e-mail(s)" in result.output
    assert OutboxMessage.objects.get().state == "sent"


@pytest.mark.django_db(transaction=True)  # the worker closes old connections: not inside a test transaction
def test_tasks_run_by_the_database_worker():
    """The programme's tasks go through django-tasks' database backend and `digifit worker --once` runs them."""
    from django_tasks_db.models import DBTaskResult

    from digifit.notifications.tasks import outbox_flush
    from digifit.programme.models import Session
    from digifit.programme.tasks import sessions_extend

    series = make_series(through=date(2026, 1, 31))
    before = Session.objects.filter(series=series).count()
    sessions_extend.enqueue(weeks=10)
    outbox_flush.enqueue()
    assert DBTaskResult.objects.filter(status="READY").count() == 2
    result = CliRunner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert Session.objects.filter(series=series).count() > before
