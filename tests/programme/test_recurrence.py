"""The weekly series: wall-clock 10:00 Europe/Berlin across DST, exceptions, windows, validation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digifit.errors import DigifitError
from digifit.programme.recurrence import (
    ProgrammeError,
    Series,
    SessionSlot,
    series_from_mapping,
    series_sessions,
    session_slot,
)

BERLIN = ZoneInfo("Europe/Berlin")


def season(**kw) -> Series:
    base = {
        "slug": "dienstag",
        "title": "Digital-Sprechstunde",
        "start_date": date(2026, 1, 1),
        "until": date(2026, 12, 31),
    }
    return Series(**(base | kw))


def test_defaults_every_tuesday_ten_to_eleven_berlin():
    slots = series_sessions(season())
    assert len(slots) == 52  # Tuesdays of 2026: 6 Jan .. 29 Dec
    assert slots[0].start == datetime(2026, 1, 6, 10, tzinfo=BERLIN)
    assert slots[-1].start == datetime(2026, 12, 29, 10, tzinfo=BERLIN)
    for slot in slots:
        assert slot.start.weekday() == 1
        assert slot.start.tzinfo == BERLIN
        assert slot.start.time() == time(10) and slot.end.time() == time(11)
        assert slot.end - slot.start == timedelta(hours=1)
        assert not slot.moved and slot.original_date == slot.start.date()


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (date(2026, 3, 24), 9),  # the week of 29 March 2026: still CET
        (date(2026, 3, 31), 8),  # first Tuesday in CEST
        (date(2026, 10, 20), 8),  # last Tuesday in CEST
        (date(2026, 10, 27), 9),  # the week after 25 October 2026: CET again
    ],
)
def test_dst_weeks_keep_ten_oclock_local(day, utc_hour):
    (slot,) = series_sessions(season(), start=day, end=day)
    assert slot.start.replace(tzinfo=None) == datetime.combine(day, time(10))
    assert slot.start.astimezone(UTC) == datetime.combine(day, time(utc_hour), tzinfo=UTC)
    assert slot.end.astimezone(UTC) - slot.start.astimezone(UTC) == timedelta(hours=1)


def test_first_session_is_first_weekday_on_or_after_start_date():
    s = Series("x", "X", date(2026, 3, 25), count=2)  # a Wednesday
    assert [slot.start.date() for slot in series_sessions(s)] == [date(2026, 3, 31), date(2026, 4, 7)]
    assert Series("x", "X", date(2026, 3, 31), count=1).first_date == date(2026, 3, 31)


def test_until_is_inclusive_and_count_counts_skipped_dates():
    assert series_sessions(season(until=date(2026, 1, 13)))[-1].start.date() == date(2026, 1, 13)
    s = Series("x", "X", date(2026, 1, 6), count=4, skipped={date(2026, 1, 13)})
    assert [slot.original_date for slot in series_sessions(s)] == [
        date(2026, 1, 6),
        date(2026, 1, 20),
        date(2026, 1, 27),
    ]
    assert s.last_date == date(2026, 1, 27)


def test_skipped_dates_are_absent_and_moved_sessions_at_their_new_time():
    new = datetime(2026, 5, 6, 14, 30, tzinfo=BERLIN)
    s = season(skipped={date(2026, 4, 7), date(2026, 12, 29)}, moved={date(2026, 5, 5): new})
    slots = series_sessions(s)
    starts = {slot.start for slot in slots}
    assert len(slots) == 50
    assert datetime(2026, 4, 7, 10, tzinfo=BERLIN) not in starts
    assert datetime(2026, 5, 5, 10, tzinfo=BERLIN) not in starts
    (moved,) = [slot for slot in slots if slot.moved]
    assert moved == SessionSlot(new, new + timedelta(hours=1), date(2026, 5, 5), True)
    assert [slot.start for slot in slots] == sorted(starts)


def test_moved_time_in_another_zone_is_shown_in_the_series_zone():
    s = season(moved={date(2026, 6, 2): datetime(2026, 6, 3, 12, tzinfo=UTC)})
    slot = session_slot(s, date(2026, 6, 2))
    assert slot.start.tzinfo == BERLIN and slot.start.hour == 14 and slot.moved


def test_window_dates_inclusive_datetimes_half_open():
    s = season()
    assert [x.start.day for x in series_sessions(s, start=date(2026, 3, 3), end=date(2026, 3, 17))] == [3, 10, 17]
    half_open = series_sessions(
        s, start=datetime(2026, 3, 3, 10, tzinfo=BERLIN), end=datetime(2026, 3, 17, 10, tzinfo=BERLIN)
    )
    assert [x.start.day for x in half_open] == [3, 10]


def test_window_uses_the_moved_start():
    s = season(moved={date(2026, 9, 1): datetime(2026, 3, 5, 10, tzinfo=BERLIN)})
    got = series_sessions(s, start=date(2026, 3, 4), end=date(2026, 3, 6))
    assert [(x.original_date, x.moved) for x in got] == [(date(2026, 9, 1), True)]


def test_open_ended_series_needs_an_end_and_finds_sessions_moved_in_from_later():
    s = Series("x", "X", date(2026, 1, 6), moved={date(2030, 1, 1): datetime(2026, 1, 8, 9, tzinfo=BERLIN)})
    assert s.last_date is None
    with pytest.raises(ProgrammeError, match="open-ended"):
        series_sessions(s)
    got = series_sessions(s, end=date(2026, 1, 13))
    assert [x.start.date() for x in got] == [date(2026, 1, 6), date(2026, 1, 8), date(2026, 1, 13)]


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)),
    weekday=st.sampled_from(["MO", "TU", "WE", "TH", "FR"]),
    tz=st.sampled_from(["Europe/Berlin", "Europe/Vienna", "America/New_York", "Australia/Sydney"]),
    hour=st.integers(min_value=6, max_value=20),
)
@settings(max_examples=60, deadline=None)
def test_every_session_at_the_same_wall_clock_time(start, weekday, tz, hour):
    s = Series("x", "X", start, weekday=weekday, start_time=time(hour, 15), tz=tz, count=60)
    slots = series_sessions(s)
    assert len(slots) == 60
    zone = ZoneInfo(tz)
    for slot in slots:
        local = slot.start.astimezone(zone)
        assert (local.hour, local.minute) == (hour, 15)
        assert ("MO", "TU", "WE", "TH", "FR")[local.weekday()] == weekday
        assert slot.end.astimezone(UTC) - slot.start.astimezone(UTC) == timedelta(hours=1)


def test_series_is_a_hashable_value():
    a = season(skipped={date(2026, 4, 7)}, moved={date(2026, 5, 5): datetime(2026, 5, 6, 14, tzinfo=BERLIN)})
    b = season(skipped=[date(2026, 4, 7)], moved={date(2026, 5, 5): datetime(2026, 5, 6, 14, tzinfo=BERLIN)})
    assert a == b and hash(a) == hash(b)
    with pytest.raises(TypeError):
        a.moved[date(2026, 6, 2)] = datetime(2026, 6, 3, tzinfo=BERLIN)  # type: ignore[index]


# -- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"skipped": {date(2026, 4, 8)}}, r"skipped date 2026-04-08 \(Wednesday\) is not on the recurrence"),
        ({"skipped": {date(2025, 12, 30)}}, r"skipped date 2025-12-30 \(Tuesday\) is not on the recurrence"),
        ({"skipped": {date(2027, 1, 5)}}, r"every Tuesday from 2026-01-06 to 2026-12-29"),
        ({"moved": {date(2026, 4, 9): datetime(2026, 4, 10, 10, tzinfo=BERLIN)}}, "moved date 2026-04-09"),
        ({"moved": {date(2026, 4, 7): datetime(2026, 4, 8, 10)}}, "expected an aware datetime"),
        (
            {"moved": {date(2026, 4, 7): datetime(2026, 4, 14, 10, 30, tzinfo=BERLIN)}},
            "overlaps the session of 2026-04-14",
        ),
        (
            {"skipped": {date(2026, 4, 7)}, "moved": {date(2026, 4, 7): datetime(2026, 4, 8, tzinfo=BERLIN)}},
            "both skipped and moved",
        ),
        ({"count": 3}, "both until and count"),
        ({"until": date(2026, 1, 5)}, "before the first session"),
        ({"tz": "Europe/Bonn"}, "IANA time zone"),
        ({"weekday": "DI"}, "weekday: got 'DI'"),
        ({"slug": "Dienstag Coaching"}, "slug"),
        ({"title": " "}, "title"),
        ({"duration": timedelta(0)}, "duration"),
        ({"active_capacity": -1}, "active_capacity"),
        ({"language": "it"}, "language"),
        ({"start_date": datetime(2026, 1, 1, 10)}, "start_date"),
    ],
)
def test_invalid_series_raise_programme_error(kw, match):
    with pytest.raises(ProgrammeError, match=match) as info:
        season(**kw)
    assert isinstance(info.value, ValueError) and isinstance(info.value, DigifitError)


def test_end_before_start_is_an_error():
    with pytest.raises(ProgrammeError, match="end 2026-03-01 is before start 2026-04-01"):
        series_sessions(season(), start=date(2026, 4, 1), end=date(2026, 3, 1))
    with pytest.raises(ProgrammeError, match="aware datetime"):
        series_sessions(season(), start=datetime(2026, 4, 1))


def test_session_slot_of_a_skipped_or_foreign_date():
    s = season(skipped={date(2026, 4, 7)})
    with pytest.raises(ProgrammeError, match="is skipped"):
        session_slot(s, date(2026, 4, 7))
    with pytest.raises(ProgrammeError, match="not on the recurrence"):
        session_slot(s, date(2026, 4, 8))


# -- the file form (CLI) ----------------------------------------------------------------------------------


def test_series_from_mapping_reads_json_style_strings():
    s = series_from_mapping(
        {
            "slug": "dienstag",
            "title": "Sprechstunde",
            "start_date": "2026-01-01",
            "until": "2026-12-31",
            "start_time": "09:30",
            "duration_minutes": 90,
            "skipped": ["2026-04-07"],
            "moved": {"2026-05-05": "2026-05-06T14:00", "2026-06-02": "2026-06-03T12:00:00+00:00"},
        }
    )
    assert s.start_time == time(9, 30) and s.duration == timedelta(minutes=90)
    assert s.skipped == frozenset({date(2026, 4, 7)})
    assert s.moved[date(2026, 5, 5)] == datetime(2026, 5, 6, 14, tzinfo=BERLIN)  # naive = series zone
    assert s.moved[date(2026, 6, 2)] == datetime(2026, 6, 3, 14, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"slug": "x", "title": "X"}, "field 'start_date' is missing"),
        ({"slug": "x", "title": "X", "start_date": "2026-01-01", "colour": "red"}, r"unknown field\(s\) \['colour'\]"),
        ({"slug": "x", "title": "X", "start_date": "01.01.2026"}, "start_date.*YYYY-MM-DD"),
        ({"slug": "x", "title": "X", "start_date": "2026-01-01", "start_time": "10 Uhr"}, "HH:MM"),
        (
            {"slug": "x", "title": "X", "start_date": "2026-01-01", "moved": {"2026-01-06": "morgen"}},
            "moved.2026-01-06",
        ),
    ],
)
def test_series_from_mapping_errors_name_the_source_and_field(data, match):
    with pytest.raises(ProgrammeError, match=match) as info:
        series_from_mapping(data, source="tuesday.toml")
    assert "tuesday.toml" in str(info.value)
