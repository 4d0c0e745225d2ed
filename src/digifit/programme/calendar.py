"""iCalendar (RFC 5545) output for the live-coaching series, single sessions and personal feeds.

Built with the ``icalendar`` package (7.x). Three products:

- :func:`series_feed`: the subscribable feed of a series: one recurring ``VEVENT`` (``DTSTART;TZID=…`` and
  ``RRULE:FREQ=WEEKLY;BYDAY=TU``) with one ``EXDATE`` line per skipped date and, per moved session, an
  overriding ``VEVENT`` with the same ``UID`` and a ``RECURRENCE-ID`` naming the original occurrence (which
  it replaces, so the original slot is gone and a client that had it updates it in place);
- :func:`session_event`: one session, the ``.ics`` attached to a registration confirmation
  (``METHOD:PUBLISH``, ``REQUEST`` or ``CANCEL``);
- :func:`personal_feed`: a registrant's own sessions, possibly from several series.

Every ``TZID`` used is defined by a ``VTIMEZONE`` generated from the IANA database for the years the
calendar covers, written in the form strict clients parse: one ``RDATE`` value per line (``icalendar``
writes them comma-separated on one long line, which some clients reject), the first onset repeated as an
``RDATE`` (readers that collect onsets from ``RRULE``/``RDATE`` only would otherwise lose it). Lines are
folded at 75 octets and end in CRLF (``icalendar`` does that).

UIDs are stable: ``<slug>@<domain>`` for a series, ``<slug>-<YYYYMMDD of the original date>@<domain>`` for a
single session (a moved session keeps its UID, so a re-sent invitation updates the entry).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr

import icalendar

from digifit.programme.recurrence import ProgrammeError, Series, SessionSlot, session_slot

__all__ = ["DEFAULT_ALARMS", "METHODS", "PRODID", "personal_feed", "series_feed", "session_event"]

PRODID = "-//digifit//programme//EN"
#: Reminders shown by the calendar client before each session.
DEFAULT_ALARMS: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
#: iTIP methods a single-session calendar may carry (RFC 5546).
METHODS = ("PUBLISH", "REQUEST", "CANCEL")
#: Years of time-zone rules written for an open-ended series, counted from the later of its first session
#: and the feed's DTSTAMP (feeds are regenerated on every request, so the window moves along).
OPEN_ENDED_YEARS = 10

_TEXT = {
    "reminder": {"de": "Erinnerung: {title}", "en": "Reminder: {title}", "fr": "Rappel : {title}"},
    "moved": {
        "de": "Verschoben – ursprünglich am {date:%d.%m.%Y}.",
        "en": "Moved – originally on {date:%Y-%m-%d}.",
        "fr": "Déplacé – initialement le {date:%d/%m/%Y}.",
    },
    "personal": {"de": "Meine Termine – {name}", "en": "My sessions – {name}", "fr": "Mes sessions – {name}"},
}


def series_feed(
    series: Series,
    *,
    url: str | None = None,
    source: str | None = None,
    alarms: Sequence[timedelta] = DEFAULT_ALARMS,
    stamp: datetime | None = None,
    sequence: int = 0,
    domain: str = "digifit",
) -> bytes:
    """Write the subscribable iCalendar feed of a series.

    Parameters
    ----------
    series : Series
    url : str, optional
        The series page, written as the events' ``URL``.
    source : str, optional
        The feed's own address, written as the calendar's ``SOURCE`` (RFC 7986), where clients refresh it.
        Every feed asks clients to refresh every 12 hours (``REFRESH-INTERVAL``, ``X-PUBLISHED-TTL``).
    alarms : sequence of timedelta, default (24 h, 1 h)
        One ``VALARM`` (``ACTION:DISPLAY``) per offset before each session's start; empty for none.
    stamp : datetime, optional
        ``DTSTAMP`` (aware; written in UTC). Default now. Pass a fixed value for byte-stable output.
    sequence : int, default 0
        ``SEQUENCE`` of every event; raise it when the series' times change.
    domain : str, default 'digifit'
        Right-hand side of the UIDs.

    Returns
    -------
    bytes
        The ``VCALENDAR`` (``METHOD:PUBLISH``), CRLF line endings, folded at 75 octets.

    Raises
    ------
    ProgrammeError
        On a negative alarm offset or sequence, or a naive ``stamp``.
    """
    stamp = _stamp(stamp)
    _check_common(alarms, sequence)
    zone = series.zone
    uid = f"{series.slug}@{domain}"
    first = series.occurrence_start(series.first_date)
    master = icalendar.Event()
    master.add("uid", uid)
    master.add("dtstamp", stamp)
    master.add("sequence", sequence)
    master.add("dtstart", first)
    master.add("dtend", (first.astimezone(UTC) + series.duration).astimezone(zone))
    rule: dict[str, object] = {"FREQ": "WEEKLY", "BYDAY": series.weekday}
    if series.count is not None:
        rule["COUNT"] = series.count
    elif series.last_date is not None:
        # RFC 5545: with a DTSTART in a time zone, UNTIL is in UTC; the last occurrence's start is exact.
        rule["UNTIL"] = series.occurrence_start(series.last_date).astimezone(UTC)
    rule["WKST"] = "MO"
    master.add("rrule", rule)
    for d in sorted(series.skipped):
        master.add("exdate", series.occurrence_start(d))
    _describe(master, series, url=url, alarms=alarms)

    events = [master]
    slots: list[SessionSlot] = []
    for d in sorted(series.moved):
        slot = session_slot(series, d)
        slots.append(slot)
        override = icalendar.Event()
        override.add("uid", uid)
        override.add("dtstamp", stamp)
        override.add("sequence", sequence)
        override.add("recurrence-id", series.occurrence_start(d))
        override.add("dtstart", slot.start)
        override.add("dtend", slot.end)
        _describe(override, series, url=url, alarms=alarms, moved_from=d)
        events.append(override)

    cal = _calendar(method="PUBLISH", name=series.title, source=source, refresh=True)
    starts = [first, *(s.start for s in slots)]
    if series.last_date is not None:
        starts.append(series.occurrence_start(series.last_date))
    else:
        starts.append(datetime(max(first, stamp).year + OPEN_ENDED_YEARS, 12, 31, tzinfo=UTC))
    return _finish(cal, events, starts)


def session_event(
    series: Series,
    slot: SessionSlot,
    *,
    method: str = "PUBLISH",
    url: str | None = None,
    alarms: Sequence[timedelta] = DEFAULT_ALARMS,
    organizer: str | None = None,
    attendees: Sequence[str] = (),
    sequence: int | None = None,
    stamp: datetime | None = None,
    domain: str = "digifit",
) -> bytes:
    """Write the calendar of one session: the ``.ics`` attached to a confirmation.

    Parameters
    ----------
    series : Series
    slot : SessionSlot
        A session of ``series`` (from :func:`series_sessions`).
    method : {'PUBLISH', 'REQUEST', 'CANCEL'}, default 'PUBLISH'
        ``REQUEST`` (an invitation) and ``CANCEL`` (the registration was cancelled; ``STATUS:CANCELLED``)
        need an ``organizer`` and at least one attendee, as RFC 5546 requires.
    url : str, optional
        The session's page or meeting link (``URL``).
    alarms : sequence of timedelta, default (24 h, 1 h)
    organizer : str, optional
        ``"Name <address>"`` or an address.
    attendees : sequence of str
        ``"Name <address>"`` or addresses; written with ``PARTSTAT=ACCEPTED`` (they registered) except
        for ``CANCEL``.
    sequence : int, optional
        Default 1 for a moved session, else 0 (so a moved session's invitation replaces the first one);
        pass a higher number for every later change, including a cancellation.
    stamp : datetime, optional
        ``DTSTAMP``, default now.
    domain : str, default 'digifit'

    Raises
    ------
    ProgrammeError
        If the slot does not belong to the series, the method is unknown or lacks its organizer/attendee.
    """
    method = method.upper() if isinstance(method, str) else method
    if method not in METHODS:
        raise ProgrammeError(f"method: got {method!r}; expected one of {METHODS}")
    if method != "PUBLISH" and (not organizer or not attendees):
        raise ProgrammeError(
            f"method {method}: got organizer={organizer!r}, attendees={list(attendees)!r}; "
            "expected an organizer and at least one attendee (RFC 5546)"
        )
    if sequence is None:
        sequence = 1 if slot.moved else 0
    stamp = _stamp(stamp)
    _check_common(alarms, sequence)
    event = _session(series, slot, stamp=stamp, sequence=sequence, url=url, alarms=alarms, domain=domain)
    if organizer:
        event.add("organizer", _address(organizer, "organizer"))
    for attendee in attendees:
        person = _address(attendee, "attendee")
        person.params.update(
            {"ROLE": "REQ-PARTICIPANT", "RSVP": "FALSE"} | ({} if method == "CANCEL" else {"PARTSTAT": "ACCEPTED"})
        )
        event.add("attendee", person)
    if method == "CANCEL":
        event["STATUS"] = icalendar.vText("CANCELLED")
    cal = _calendar(method=method, name=series.title, source=None)
    return _finish(cal, [event], [slot.start, slot.end])


def personal_feed(
    registrant_name: str,
    sessions: Iterable[tuple[Series, SessionSlot]],
    *,
    alarms: Sequence[timedelta] = DEFAULT_ALARMS,
    stamp: datetime | None = None,
    language: str = "de",
    domain: str = "digifit",
) -> bytes:
    """Write a registrant's personal feed: each of their sessions as its own event.

    Parameters
    ----------
    registrant_name : str
        Shown in the calendar's name.
    sessions : iterable of (Series, SessionSlot)
        The sessions the registrant holds a place in; they may come from several series and time zones.
    alarms : sequence of timedelta, default (24 h, 1 h)
    stamp : datetime, optional
    language : {'de', 'en', 'fr'}, default 'de'
        Language of the calendar's name.
    domain : str, default 'digifit'

    The UIDs are those of :func:`session_event`, so the entry from a confirmation and the feed's agree.
    """
    stamp = _stamp(stamp)
    _check_common(alarms, 0)
    pairs = list(sessions)
    events = [
        _session(series, slot, stamp=stamp, sequence=1 if slot.moved else 0, url=None, alarms=alarms, domain=domain)
        for series, slot in sorted(pairs, key=lambda pair: pair[1].start)
    ]
    name = _TEXT["personal"].get(language, _TEXT["personal"]["de"]).format(name=registrant_name)
    cal = _calendar(method="PUBLISH", name=name, source=None, refresh=True)
    starts = [x for _, slot in pairs for x in (slot.start, slot.end)] or [stamp]
    return _finish(cal, events, starts)


# -- building blocks ------------------------------------------------------------------------------------


def _stamp(stamp: datetime | None) -> datetime:
    if stamp is None:
        return datetime.now(UTC).replace(microsecond=0)
    if not isinstance(stamp, datetime) or stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ProgrammeError(f"stamp: got {stamp!r}; expected an aware datetime")
    return stamp.astimezone(UTC).replace(microsecond=0)


def _check_common(alarms: Sequence[timedelta], sequence: int) -> None:
    for offset in alarms:
        if not isinstance(offset, timedelta) or offset < timedelta(0):
            raise ProgrammeError(f"alarms: got {offset!r}; expected durations >= 0 before the start")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
        raise ProgrammeError(f"sequence: got {sequence!r}; expected an integer >= 0")


def _calendar(*, method: str, name: str, source: str | None, refresh: bool = False) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    cal.add("name", name)  # RFC 7986
    cal.add("x-wr-calname", name)  # what most clients still read
    if source:
        cal.add("source", source, parameters={"VALUE": "URI"})
    if source or refresh:
        cal.add("refresh-interval", timedelta(hours=12), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", "PT12H")
    return cal


def _session(
    series: Series,
    slot: SessionSlot,
    *,
    stamp: datetime,
    sequence: int,
    url: str | None,
    alarms: Sequence[timedelta],
    domain: str,
) -> icalendar.Event:
    if not isinstance(slot, SessionSlot) or not series.is_occurrence(slot.original_date):
        raise ProgrammeError(
            f"session {getattr(slot, 'original_date', slot)!r} is not a session of series {series.slug!r}"
        )
    if slot.original_date in series.skipped:
        raise ProgrammeError(
            f"session {slot.original_date.isoformat()} of series {series.slug!r} is skipped; "
            "expected a session that takes place"
        )
    event = icalendar.Event()
    event.add("uid", f"{series.slug}-{slot.original_date:%Y%m%d}@{domain}")
    event.add("dtstamp", stamp)
    event.add("sequence", sequence)
    event.add("dtstart", slot.start)
    event.add("dtend", slot.end)
    _describe(event, series, url=url, alarms=alarms, moved_from=slot.original_date if slot.moved else None)
    return event


def _describe(
    event: icalendar.Event,
    series: Series,
    *,
    url: str | None,
    alarms: Sequence[timedelta],
    moved_from: date | None = None,
) -> None:
    event.add("summary", series.title)
    text = series.description
    if moved_from is not None:
        note = _TEXT["moved"][series.language].format(date=moved_from)
        text = f"{note}\n\n{text}" if text else note
    if text:
        event.add("description", text)
    if series.location:
        event.add("location", series.location)
    if url:
        event.add("url", url)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    for offset in alarms:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        # An exact duration (-PT24H, not the nominal -P1D) so that "24 h before" holds across a DST change.
        alarm["TRIGGER"] = icalendar.vText(_exact_duration(-offset))
        alarm.add("description", _TEXT["reminder"][series.language].format(title=series.title))
        event.add_component(alarm)


def _exact_duration(value: timedelta) -> str:
    """RFC 5545 dur-time in hours/minutes/seconds: ``-PT24H``, ``-PT1H30M``, ``PT0S``."""
    sign = "-" if value < timedelta(0) else ""
    seconds = int(abs(value).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return f"{sign}PT{parts or '0S'}"


def _address(value: str, what: str) -> icalendar.vCalAddress:
    name, address = parseaddr(value)
    if "@" not in address:
        raise ProgrammeError(f"{what}: got {value!r}; expected an e-mail address or 'Name <address>'")
    result = icalendar.vCalAddress(f"mailto:{address}")
    if name:
        result.params["CN"] = name
    return result


def _finish(cal: icalendar.Calendar, events: list[icalendar.Event], span: list[datetime]) -> bytes:
    """Add a VTIMEZONE (one RDATE per line) for every TZID used, put them first, serialise."""
    for event in events:
        cal.add_component(event)
    first = date(min(span).year, 1, 1)
    last = date(max(span).year, 12, 31)
    zones = [_timezone(tzid, first, last) for tzid in sorted(cal.get_used_tzids()) if tzid.upper() != "UTC"]
    cal.subcomponents[:0] = zones
    return cal.to_ical()


def _timezone(tzid: str, first: date, last: date) -> icalendar.Timezone:
    """The VTIMEZONE of ``tzid`` for ``first``..``last``, each RDATE value on its own line."""
    try:
        zone = icalendar.Timezone.from_tzid(tzid, first_date=first, last_date=last)
    except Exception as exc:  # icalendar raises several types for an unknown zone
        raise ProgrammeError(f"time zone {tzid!r}: cannot build its VTIMEZONE ({exc})") from None
    for observance in zone.subcomponents:
        rdates = observance.pop("RDATE", None) or []
        # The first onset is repeated as an RDATE: RFC 5545 counts DTSTART as an onset and collapses the
        # duplicate, but readers that build the onsets from RRULE/RDATE alone (dateutil rruleset based,
        # e.g. the `ical` package) would otherwise lose every observance that has no RDATE.
        onsets = [observance.decoded("DTSTART")]
        for lst in rdates if isinstance(rdates, list) else [rdates]:
            onsets.extend(value.dt for value in lst.dts)
        for value in sorted(set(onsets)):
            observance.add("rdate", value)
    return zone
