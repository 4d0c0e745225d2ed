"""The iCalendar output, read back by three independent readers.

1. ``recurring-ical-events`` (on top of ``icalendar``'s parser) expands the RRULE, EXDATEs and overrides.
2. ``ical`` (allenporter/ical, Home Assistant's strict pydantic RFC 5545 parser; no code shared with
   ``icalendar``) parses the same bytes, expands its own timeline, and evaluates the VTIMEZONE *as written*
   (``IcsTimezoneInfo``), not the IANA zone its TZID names, the way a client without tz data must.
3. The raw bytes: CRLF, folding at 75 octets, one RDATE/EXDATE value per line, a VTIMEZONE per TZID.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from dateutil import tz as dateutil_tz
from ical.calendar_stream import IcsCalendarStream
from ical.timezone import IcsTimezoneInfo

from digifit.programme.calendar import personal_feed, series_feed, session_event
from digifit.programme.recurrence import ProgrammeError, Series, series_sessions, session_slot

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2026, 1, 2, 8, 30, tzinfo=UTC)
MOVED_TO = datetime(2026, 5, 6, 14, 0, tzinfo=BERLIN)
SERIES = Series(
    "dienstag",
    "Digital-Sprechstunde für Gastronomie, Einzelhandel & Reisebüros – live",
    date(2026, 1, 1),
    until=date(2027, 12, 31),
    skipped=frozenset({date(2026, 4, 7), date(2026, 12, 29)}),
    moved={date(2026, 5, 5): MOVED_TO},
    description="Öffentliche Sprechstunde: Expertinnen und Experten arbeiten an Ihren Fragen; alle können zuschauen.",
    location="https://meet.example.org/dienstag",
)
DST_WEEKS = [  # (day, expected UTC hour): the Tuesdays either side of 29 March and 25 October 2026
    (date(2026, 3, 24), 9),
    (date(2026, 3, 31), 8),
    (date(2026, 10, 20), 8),
    (date(2026, 10, 27), 9),
]


@pytest.fixture(scope="module")
def feed() -> bytes:
    return series_feed(SERIES, url="https://digifit.example/programme/dienstag", stamp=STAMP)


def expected_starts(series: Series) -> list[datetime]:
    return [slot.start.astimezone(UTC) for slot in series_sessions(series)]


# -- 1. recurring-ical-events ----------------------------------------------------------------------------


def test_recurring_ical_events_expands_exactly_the_sessions(feed):
    cal = icalendar.Calendar.from_ical(feed)
    events = recurring_ical_events.of(cal).between(date(2025, 1, 1), date(2029, 1, 1))
    got = sorted(e["DTSTART"].dt.astimezone(UTC) for e in events)
    assert got == expected_starts(SERIES)
    assert len(got) == 52 + 52 - 2


@pytest.mark.parametrize(("day", "utc_hour"), DST_WEEKS)
def test_recurring_ical_events_dst_weeks_at_ten_local(feed, day, utc_hour):
    cal = icalendar.Calendar.from_ical(feed)
    (event,) = recurring_ical_events.of(cal).at(day)
    start = event["DTSTART"].dt
    assert start.replace(tzinfo=None) == datetime.combine(day, time(10))
    assert start.astimezone(UTC).hour == utc_hour
    assert event["DTEND"].dt - start == timedelta(hours=1)
    assert [str(a["TRIGGER"].to_ical(), "ascii") for a in event.walk("VALARM")] == ["-P1D", "-PT1H"]


def test_recurring_ical_events_skipped_absent_moved_at_new_time(feed):
    cal = icalendar.Calendar.from_ical(feed)
    query = recurring_ical_events.of(cal)
    assert query.at(date(2026, 4, 7)) == [] and query.at(date(2026, 12, 29)) == []
    assert query.at(date(2026, 5, 5)) == []  # the original slot of the moved session is gone
    (moved,) = query.at(date(2026, 5, 6))
    assert moved["DTSTART"].dt == MOVED_TO
    assert moved["RECURRENCE-ID"].dt == datetime(2026, 5, 5, 10, tzinfo=BERLIN)
    assert moved["UID"] == "dienstag@digifit"
    assert "ursprünglich am 05.05.2026" in moved["DESCRIPTION"]


# -- 2. ical (independent parser) -------------------------------------------------------------------------


def test_ical_parser_expands_the_same_sessions(feed):
    cal = IcsCalendarStream.calendar_from_ics(feed.decode("utf-8"))
    starts = sorted(
        e.dtstart.astimezone(UTC)
        for e in cal.timeline.overlapping(datetime(2025, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC))
    )
    assert starts == expected_starts(SERIES)


@pytest.mark.parametrize(("day", "utc_hour"), DST_WEEKS)
def test_ical_parser_dst_weeks_at_ten_local(feed, day, utc_hour):
    cal = IcsCalendarStream.calendar_from_ics(feed.decode("utf-8"))
    (event,) = cal.timeline_tz(BERLIN).on_date(day)
    assert event.dtstart.astimezone(BERLIN).replace(tzinfo=None) == datetime.combine(day, time(10))
    assert event.dtstart.astimezone(UTC).hour == utc_hour


def test_written_vtimezone_alone_gives_the_right_utc_time_for_every_session(feed):
    """Evaluate the VTIMEZONE as a strict client does, without the IANA database."""
    cal = IcsCalendarStream.calendar_from_ics(feed.decode("utf-8"))
    (zone,) = cal.timezones
    assert zone.tz_id == "Europe/Berlin"
    written = IcsTimezoneInfo.from_timezone(zone)
    slots = series_sessions(SERIES)
    assert len(slots) == 102
    for slot in slots:
        wall = slot.start.replace(tzinfo=None)
        assert wall.replace(tzinfo=written).astimezone(UTC) == slot.start.astimezone(UTC), wall
    for day, utc_hour in DST_WEEKS:
        assert datetime.combine(day, time(10), tzinfo=written).astimezone(UTC).hour == utc_hour


@pytest.mark.parametrize(
    "zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Tokyo", "America/Sao_Paulo"]
)
def test_written_vtimezone_read_by_ical_and_dateutil_agrees_with_zoneinfo(zone):
    """Three years of weekly sessions at 10:00 and 02:30 (inside a DST gap/fold for some zones)."""
    for start_time in (time(10), time(2, 30)):
        series = Series("x", "X", date(2026, 1, 1), weekday="SU", start_time=start_time, tz=zone, count=156)
        data = series_feed(series, stamp=STAMP)
        text = data.decode("utf-8")
        vtimezone = text[text.index("BEGIN:VTIMEZONE") : text.index("END:VTIMEZONE") + len("END:VTIMEZONE")]
        by_dateutil = dateutil_tz.tzical(io.StringIO(vtimezone + "\r\n")).get(zone)
        (parsed,) = IcsCalendarStream.calendar_from_ics(text).timezones
        by_ical = IcsTimezoneInfo.from_timezone(parsed)
        for slot in series_sessions(series):
            wall = slot.start.replace(tzinfo=None)
            if slot.start.astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None) != wall:
                continue  # a wall time that does not exist (spring gap): clients differ, RFC 5545 3.3.5
            if wall.replace(fold=1, tzinfo=ZoneInfo(zone)).utcoffset() != slot.start.utcoffset():
                continue  # an ambiguous wall time (autumn fold): not decidable from the wall time alone
            expected = slot.start.astimezone(UTC)
            assert wall.replace(tzinfo=by_ical).astimezone(UTC) == expected, (zone, wall)
            assert wall.replace(tzinfo=by_dateutil).astimezone(UTC) == expected, (zone, wall)


def test_utc_series_uses_z_times_and_needs_no_vtimezone():
    data = series_feed(Series("u", "U", date(2026, 1, 1), count=2, tz="UTC"), stamp=STAMP)
    lines = unfold(data)
    assert "DTSTART:20260106T100000Z" in lines and "BEGIN:VTIMEZONE" not in lines and "TZID" not in data.decode()


def test_ical_parser_reads_valarms_and_the_override(feed):
    cal = IcsCalendarStream.calendar_from_ics(feed.decode("utf-8"))
    master, override = cal.events
    assert master.uid == override.uid == "dienstag@digifit"
    assert [a.trigger for a in master.alarm] == [timedelta(hours=-24), timedelta(hours=-1)]
    assert override.dtstart == MOVED_TO


# -- 3. the raw bytes --------------------------------------------------------------------------------------


def unfold(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")


def test_lines_crlf_and_folded_at_75_octets(feed):
    assert feed.endswith(b"END:VCALENDAR\r\n")
    physical = feed.split(b"\r\n")
    assert b"\n" not in feed.replace(b"\r\n", b"")
    for line in physical:
        assert len(line) <= 75, line
        line.decode("utf-8")  # a fold never splits a multi-byte character
    assert any(line.startswith(b" ") for line in physical)  # the long German text was folded


def test_every_tzid_has_a_vtimezone_and_one_rdate_per_line(feed):
    lines = unfold(feed)
    used = {m.group(1) for line in lines for m in re.finditer(r";TZID=([^;:]+)", line)}
    defined = {line.split(":", 1)[1] for line in lines if line.startswith("TZID:")}
    assert used == {"Europe/Berlin"}
    assert used <= defined
    rdates = [line for line in lines if line.startswith("RDATE")]
    assert rdates, "a two-year series has transitions after the first observance"
    assert all("," not in line.split(":", 1)[1] for line in rdates)
    exdates = [line for line in lines if line.startswith("EXDATE")]
    assert exdates == ["EXDATE;TZID=Europe/Berlin:20260407T100000", "EXDATE;TZID=Europe/Berlin:20261229T100000"]
    assert lines.index("BEGIN:VTIMEZONE") < lines.index("BEGIN:VEVENT")


def test_master_event_properties(feed):
    lines = unfold(feed)
    assert "DTSTART;TZID=Europe/Berlin:20260106T100000" in lines
    assert "RRULE:FREQ=WEEKLY;UNTIL=20271228T090000Z;BYDAY=TU;WKST=MO" in lines
    assert "RECURRENCE-ID;TZID=Europe/Berlin:20260505T100000" in lines
    assert lines.count("UID:dienstag@digifit") == 2
    assert lines.count("DTSTAMP:20260102T083000Z") == 2
    assert lines.count("SEQUENCE:0") == 2
    # exact hours, not the nominal -P1D: "24 h before" holds even across a DST change
    assert lines.count("TRIGGER:-PT24H") == lines.count("TRIGGER:-PT1H") == 2
    assert "METHOD:PUBLISH" in lines


def test_subscription_hints(feed):
    lines = unfold(feed)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT12H" in lines and "X-PUBLISHED-TTL:PT12H" in lines
    assert "URL:https://digifit.example/programme/dienstag" in lines
    assert not any(line.startswith("SOURCE") for line in lines)  # the page is not the feed's address
    with_source = unfold(series_feed(SERIES, source="https://digifit.example/programme/dienstag.ics", stamp=STAMP))
    assert "SOURCE;VALUE=URI:https://digifit.example/programme/dienstag.ics" in with_source
    single = unfold(session_event(SERIES, session_slot(SERIES, date(2026, 3, 31)), stamp=STAMP))
    assert not any(line.startswith("REFRESH-INTERVAL") for line in single)


def test_feed_is_stable_for_a_fixed_stamp(feed):
    assert series_feed(SERIES, url="https://digifit.example/programme/dienstag", stamp=STAMP) == feed
    later = series_feed(SERIES, stamp=STAMP + timedelta(days=3), sequence=2)
    assert "UID:dienstag@digifit" in unfold(later) and "SEQUENCE:2" in unfold(later)


def test_count_series_and_open_ended_series():
    counted = Series("x", "X", date(2026, 3, 1), count=6, skipped={date(2026, 3, 10)})
    data = series_feed(counted, stamp=STAMP, alarms=())
    assert "RRULE:FREQ=WEEKLY;COUNT=6;BYDAY=TU;WKST=MO" in unfold(data)
    assert "BEGIN:VALARM" not in unfold(data)
    events = recurring_ical_events.of(icalendar.Calendar.from_ical(data)).between(date(2026, 1, 1), date(2027, 1, 1))
    assert len(events) == 5

    open_ended = Series("y", "Y", date(2026, 1, 1))
    lines = unfold(series_feed(open_ended, stamp=STAMP))
    assert "RRULE:FREQ=WEEKLY;BYDAY=TU;WKST=MO" in lines
    rdates = [line for line in lines if line.startswith("RDATE:")]
    assert len(rdates) == 1 + 2 * 11  # first observance + both changes in 2026..2036 (ten years on)
    assert rdates[-1].startswith("RDATE:2036")
    cal = icalendar.Calendar.from_ical(series_feed(open_ended, stamp=STAMP))
    (event,) = recurring_ical_events.of(cal).at(date(2030, 10, 29))
    assert event["DTSTART"].dt.astimezone(UTC).hour == 9


def test_bad_alarm_or_stamp():
    with pytest.raises(ProgrammeError, match="alarms"):
        series_feed(SERIES, alarms=(timedelta(hours=-1),))
    with pytest.raises(ProgrammeError, match="stamp"):
        series_feed(SERIES, stamp=datetime(2026, 1, 1))


# -- one session and the personal feed --------------------------------------------------------------------


def test_session_event_request_for_a_confirmation():
    slot = session_slot(SERIES, date(2026, 3, 31))
    data = session_event(
        SERIES,
        slot,
        method="REQUEST",
        organizer="Digital-Coaching <coaching@example.org>",
        attendees=["Anna Müller <anna@example.org>"],
        url="https://meet.example.org/dienstag",
        stamp=STAMP,
    )
    lines = unfold(data)
    assert "METHOD:REQUEST" in lines
    assert "UID:dienstag-20260331@digifit" in lines
    assert "DTSTART;TZID=Europe/Berlin:20260331T100000" in lines
    assert "SEQUENCE:0" in lines
    assert any(line.startswith("ORGANIZER;CN=Digital-Coaching:mailto:coaching@example.org") for line in lines)
    attendee = next(line for line in lines if line.startswith("ATTENDEE"))
    assert "PARTSTAT=ACCEPTED" in attendee and attendee.endswith("mailto:anna@example.org")
    cal = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    (event,) = cal.events
    assert event.dtstart.astimezone(UTC) == datetime(2026, 3, 31, 8, tzinfo=UTC)
    assert len(cal.timezones) == 1


def test_session_event_of_a_moved_session_and_a_cancellation():
    slot = session_slot(SERIES, date(2026, 5, 5))
    lines = unfold(session_event(SERIES, slot, stamp=STAMP))
    assert "UID:dienstag-20260505@digifit" in lines and "SEQUENCE:1" in lines
    assert "DTSTART;TZID=Europe/Berlin:20260506T140000" in lines and "METHOD:PUBLISH" in lines
    cancel = unfold(
        session_event(
            SERIES,
            slot,
            method="cancel",
            organizer="coaching@example.org",
            attendees=["anna@example.org"],
            sequence=2,
            stamp=STAMP,
        )
    )
    assert "METHOD:CANCEL" in cancel and "STATUS:CANCELLED" in cancel and "SEQUENCE:2" in cancel


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"method": "REQUEST"}, "expected an organizer and at least one attendee"),
        ({"method": "REPLY"}, "method: got 'REPLY'"),
        ({"method": "REQUEST", "organizer": "nobody", "attendees": ["a@example.org"]}, "organizer: got 'nobody'"),
    ],
)
def test_session_event_errors(kw, match):
    with pytest.raises(ProgrammeError, match=match):
        session_event(SERIES, session_slot(SERIES, date(2026, 3, 31)), **kw)


def test_session_event_refuses_a_slot_of_another_series_or_a_skipped_date():
    other = Series("x", "X", date(2026, 1, 1), weekday="WE", count=3)
    with pytest.raises(ProgrammeError, match="not a session of series 'dienstag'"):
        session_event(SERIES, series_sessions(other)[0])
    skipped = session_slot(Series("z", "Z", date(2026, 4, 7), count=1), date(2026, 4, 7))
    with pytest.raises(ProgrammeError, match="is skipped"):
        session_event(SERIES, skipped)


def test_personal_feed_across_two_time_zones():
    new_york = Series("ny", "Office hour NYC", date(2026, 3, 1), tz="America/New_York", count=4, language="en")
    sessions = [
        (SERIES, session_slot(SERIES, date(2026, 3, 31))),
        (SERIES, session_slot(SERIES, date(2026, 5, 5))),
        *[(new_york, slot) for slot in series_sessions(new_york)],
    ]
    data = personal_feed("Anna Müller", sessions, stamp=STAMP)
    lines = unfold(data)
    assert "X-WR-CALNAME:Meine Termine – Anna Müller" in lines
    used = {m.group(1) for line in lines for m in re.finditer(r";TZID=([^;:]+)", line)}
    defined = {line.split(":", 1)[1] for line in lines if line.startswith("TZID:")}
    assert used == defined == {"Europe/Berlin", "America/New_York"}
    assert "UID:dienstag-20260331@digifit" in lines and "UID:dienstag-20260505@digifit" in lines
    cal = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    zones = {tz.tz_id: IcsTimezoneInfo.from_timezone(tz) for tz in cal.timezones}
    for event in cal.events:
        zone = zones[str(event.dtstart.tzinfo)]
        written = event.dtstart.replace(tzinfo=zone).astimezone(UTC)
        assert written == event.dtstart.astimezone(UTC)  # the VTIMEZONE agrees with the IANA zone
    assert (
        len(recurring_ical_events.of(icalendar.Calendar.from_ical(data)).between(date(2026, 1, 1), date(2027, 1, 1)))
        == 6
    )
    assert max(len(x) for x in data.split(b"\r\n")) <= 75
