"""The weekly live-coaching series and the sessions it generates.

A :class:`Series` is a value: a weekly recurrence (default every Tuesday 10:00–11:00 Europe/Berlin) with its
exceptions: dates *skipped* (holidays) and dates *moved* to another time. :func:`series_sessions` turns it
into concrete :class:`SessionSlot` values with time-zone-aware start and end.

Times are wall-clock times in the series' IANA time zone (``zoneinfo``): the session starts at 10:00 local
time every week, so its UTC time moves by an hour across the daylight-saving changes (08:00Z in summer,
09:00Z in winter), exactly as an iCalendar ``RRULE`` with ``DTSTART;TZID=Europe/Berlin`` does.

This module knows nothing about Django; the programme's models store these fields and call these functions.

Examples
--------
>>> from datetime import date
>>> s = Series("dienstag", "Digital-Sprechstunde", date(2026, 3, 24), count=3)
>>> [slot.start.isoformat() for slot in series_sessions(s)]
['2026-03-24T10:00:00+01:00', '2026-03-31T10:00:00+02:00', '2026-04-07T10:00:00+02:00']
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digifit.errors import DigifitError

__all__ = [
    "LANGUAGES",
    "WEEKDAYS",
    "ProgrammeError",
    "Series",
    "SessionSlot",
    "series_from_mapping",
    "series_sessions",
    "session_slot",
]

#: iCalendar weekday codes, Monday first (``date.weekday()`` is the index).
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: Languages the programme speaks (German first).
LANGUAGES = ("de", "en", "fr")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ProgrammeError(ValueError, DigifitError):
    """A series, a session, a calendar or a reach/forecast input is unusable."""


@dataclass(frozen=True)
class SessionSlot:
    """One concrete session of a series.

    Attributes
    ----------
    start, end : datetime
        Aware datetimes in the series' time zone.
    original_date : date
        The recurrence date this session belongs to (its identity, also after a move).
    moved : bool
        Whether the session was moved away from its recurrence date and time.
    """

    start: datetime
    end: datetime
    original_date: date
    moved: bool = False


@dataclass(frozen=True)
class Series:
    """A weekly series of live-coaching sessions, validated once on construction.

    Parameters
    ----------
    slug : str
        Stable identifier (lower-case letters, digits, hyphens); part of every calendar UID.
    title : str
        Shown as the calendar entry's summary.
    start_date : date
        The first session is on the first ``weekday`` on or after this date.
    weekday : {'MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'}, default 'TU'
    start_time : time, default 10:00
        Naive wall-clock time in ``tz``.
    duration : timedelta, default 60 minutes
    tz : str, default 'Europe/Berlin'
        IANA time zone name.
    until : date, optional
        Last possible session date (inclusive). At most one of ``until`` and ``count``; neither means the
        series is open-ended.
    count : int, optional
        Number of recurrence dates. As in RFC 5545, skipped dates count (an ``EXDATE`` does not extend a
        ``COUNT``) and so do moved ones.
    skipped : set of date
        Recurrence dates without a session.
    moved : mapping of date to datetime
        Recurrence date -> the aware datetime the session starts at instead. It keeps its identity
        (``original_date``) and its duration.
    active_capacity, follower_capacity : int, default 5 and 500
        Places per session for businesses coached live and for followers.
    language : {'de', 'en', 'fr'}, default 'de'
    description, location : str
        Free text for calendar entries (the location may be a meeting URL).

    Raises
    ------
    ProgrammeError
        On any invalid field, naming the series, the field, the value and what was expected.
    """

    slug: str
    title: str
    start_date: date
    weekday: str = "TU"
    start_time: time = time(10, 0)
    duration: timedelta = timedelta(minutes=60)
    tz: str = "Europe/Berlin"
    until: date | None = None
    count: int | None = None
    skipped: frozenset[date] = frozenset()
    moved: Mapping[date, datetime] = field(default_factory=dict, hash=False)
    active_capacity: int = 5
    follower_capacity: int = 500
    language: str = "de"
    description: str = ""
    location: str = ""

    def __post_init__(self) -> None:
        where = f"series {self.slug!r}"
        if not isinstance(self.slug, str) or not _SLUG.match(self.slug):
            raise ProgrammeError(
                f"series slug: got {self.slug!r}; expected lower-case letters, digits and single hyphens"
            )
        if not isinstance(self.title, str) or not self.title.strip():
            raise ProgrammeError(f"{where}, title: got {self.title!r}; expected a non-empty text")
        if isinstance(self.start_date, datetime) or not isinstance(self.start_date, date):
            raise ProgrammeError(f"{where}, start_date: got {self.start_date!r}; expected a date")
        weekday = self.weekday.upper() if isinstance(self.weekday, str) else self.weekday
        if weekday not in WEEKDAYS:
            raise ProgrammeError(f"{where}, weekday: got {self.weekday!r}; expected one of {WEEKDAYS}")
        object.__setattr__(self, "weekday", weekday)
        if not isinstance(self.start_time, time) or self.start_time.tzinfo is not None:
            raise ProgrammeError(
                f"{where}, start_time: got {self.start_time!r}; expected a naive time (wall clock in tz)"
            )
        if not isinstance(self.duration, timedelta) or self.duration <= timedelta(0):
            raise ProgrammeError(f"{where}, duration: got {self.duration!r}; expected a positive timedelta")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ProgrammeError(
                f"{where}, tz: got {self.tz!r}; expected an IANA time zone such as 'Europe/Berlin'"
            ) from None
        if self.until is not None and self.count is not None:
            raise ProgrammeError(f"{where}: got both until and count; expected at most one of them")
        if self.count is not None and (
            isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1
        ):
            raise ProgrammeError(f"{where}, count: got {self.count!r}; expected a positive integer")
        if self.until is not None:
            if isinstance(self.until, datetime) or not isinstance(self.until, date):
                raise ProgrammeError(f"{where}, until: got {self.until!r}; expected a date")
            if self.until < self.first_date:
                raise ProgrammeError(
                    f"{where}, until: got {self.until.isoformat()}; it is before the first session on "
                    f"{self.first_date.isoformat()}"
                )
        for name in ("active_capacity", "follower_capacity"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ProgrammeError(f"{where}, {name}: got {value!r}; expected an integer >= 0")
        if self.language not in LANGUAGES:
            raise ProgrammeError(f"{where}, language: got {self.language!r}; expected one of {LANGUAGES}")

        skipped = frozenset(self.skipped)
        for d in sorted(skipped, key=_sort_key):
            self._check_occurrence(d, "skipped date")
        object.__setattr__(self, "skipped", skipped)

        moved = dict(self.moved)
        for d in sorted(moved, key=_sort_key):
            self._check_occurrence(d, "moved date")
            new = moved[d]
            if not isinstance(new, datetime) or new.tzinfo is None or new.utcoffset() is None:
                raise ProgrammeError(f"{where}, moved date {d.isoformat()}: got {new!r}; expected an aware datetime")
            if d in skipped:
                raise ProgrammeError(f"{where}: {d.isoformat()} is both skipped and moved; expected one or the other")
        object.__setattr__(self, "moved", MappingProxyType(moved))
        self._check_moved_collisions()

    # -- the recurrence -------------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The series' time zone."""
        return ZoneInfo(self.tz)

    @property
    def first_date(self) -> date:
        """The first recurrence date: the first ``weekday`` on or after ``start_date``."""
        shift = (WEEKDAYS.index(self.weekday) - self.start_date.weekday()) % 7
        return self.start_date + timedelta(days=shift)

    @property
    def last_date(self) -> date | None:
        """The last recurrence date, or None for an open-ended series."""
        if self.count is not None:
            return self.first_date + timedelta(weeks=self.count - 1)
        if self.until is not None:
            return self.first_date + timedelta(weeks=(self.until - self.first_date).days // 7)
        return None

    def recurrence_text(self) -> str:
        """Describe the recurrence in words, for error messages."""
        text = f"every {_WEEKDAY_NAMES[WEEKDAYS.index(self.weekday)]} from {self.first_date.isoformat()}"
        if self.last_date is not None:
            text += f" to {self.last_date.isoformat()}"
        return text

    def is_occurrence(self, d: date) -> bool:
        """Tell whether ``d`` is a recurrence date (before skipping and moving)."""
        if isinstance(d, datetime) or not isinstance(d, date):
            return False
        last = self.last_date
        return d >= self.first_date and (d - self.first_date).days % 7 == 0 and (last is None or d <= last)

    def occurrence_start(self, d: date) -> datetime:
        """Return the aware start of recurrence date ``d`` (the iCalendar RECURRENCE-ID), ignoring moves."""
        if not self.is_occurrence(d):
            self._check_occurrence(d, "date")
        return datetime.combine(d, self.start_time, tzinfo=self.zone)

    def occurrence_dates(self, *, through: date | None = None) -> Iterator[date]:
        """Yield the recurrence dates in order (skipped and moved ones included).

        An open-ended series needs ``through`` (inclusive).
        """
        last = self.last_date
        if through is not None:
            last = through if last is None else min(last, through)
        if last is None:
            raise ProgrammeError(
                f"series {self.slug!r} is open-ended (no until or count); pass an end to bound its sessions"
            )
        d = self.first_date
        while d <= last:
            yield d
            d += timedelta(weeks=1)

    # -- validation helpers ---------------------------------------------------------------------------

    def _check_occurrence(self, d: Any, what: str) -> None:
        where = f"series {self.slug!r}"
        if isinstance(d, datetime) or not isinstance(d, date):
            raise ProgrammeError(f"{where}, {what}: got {d!r}; expected a date")
        if self.is_occurrence(d):
            return
        raise ProgrammeError(
            f"{where}, {what} {d.isoformat()} ({_WEEKDAY_NAMES[d.weekday()]}) is not on the recurrence; "
            f"expected a date of {self.recurrence_text()}"
        )

    def _check_moved_collisions(self) -> None:
        """A moved session must not overlap another session of the same series."""
        zone = self.zone
        spans: dict[date, tuple[datetime, datetime]] = {}
        for d, new in self.moved.items():
            start = new.astimezone(UTC)
            spans[d] = (start, start + self.duration)
        for d, (start, end) in sorted(spans.items()):
            local = start.astimezone(zone).date()
            reach = self.duration.days + 1
            for k in range(-reach, reach + 1):
                other = local + timedelta(days=k)
                if other == d or other in self.skipped or not self.is_occurrence(other):
                    continue
                if other in spans:
                    o_start, o_end = spans[other]
                else:
                    o_start = self.occurrence_start(other).astimezone(UTC)
                    o_end = o_start + self.duration
                if start < o_end and o_start < end:
                    raise ProgrammeError(
                        f"series {self.slug!r}: the session of {d.isoformat()} moved to "
                        f"{_when_text(self.moved[d], zone)} overlaps the session of {other.isoformat()}; "
                        "expected moved sessions not to overlap others"
                    )


def _when_text(value: datetime, zone: ZoneInfo) -> str:
    """Format an aware datetime in ``zone`` for messages (``2026-04-09 14:00 Europe/Berlin``)."""
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"


def _sort_key(d: Any) -> tuple[int, str]:
    return (0, d.isoformat()) if isinstance(d, date) else (1, repr(d))


def _window_bound(value: date | datetime | None, zone: ZoneInfo, name: str, *, end: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ProgrammeError(f"{name}: got {value!r}; expected an aware datetime or a date")
        return value
    if isinstance(value, date):
        day = value + timedelta(days=1) if end else value
        return datetime.combine(day, time(0), tzinfo=zone)
    raise ProgrammeError(f"{name}: got {value!r}; expected a date or an aware datetime")


def series_sessions(
    series: Series, *, start: date | datetime | None = None, end: date | datetime | None = None
) -> list[SessionSlot]:
    """List the sessions of a series, skipped dates left out and moved ones at their new time.

    Parameters
    ----------
    series : Series
    start, end : date or aware datetime, optional
        The window. Dates are whole days in the series' time zone, both inclusive; datetimes make the
        half-open interval ``start <= session.start < end``. A session is in the window by its actual
        (possibly moved) start. An open-ended series needs ``end``.

    Returns
    -------
    list of SessionSlot
        Sorted by start; datetimes in the series' time zone.

    Raises
    ------
    ProgrammeError
        If ``end`` is before ``start``, a bound is a naive datetime, or the series is open-ended and no
        ``end`` is given.

    Examples
    --------
    >>> from datetime import date
    >>> s = Series("x", "X", date(2026, 10, 20), until=date(2026, 11, 3), skipped={date(2026, 11, 3)})
    >>> [(slot.start.isoformat(), slot.end.time().isoformat()) for slot in series_sessions(s)]
    [('2026-10-20T10:00:00+02:00', '11:00:00'), ('2026-10-27T10:00:00+01:00', '11:00:00')]
    """
    zone = series.zone
    lo = _window_bound(start, zone, "start", end=False)
    hi = _window_bound(end, zone, "end", end=True)
    if lo is not None and hi is not None and hi < lo:
        raise ProgrammeError(
            f"series {series.slug!r}: end {_bound_text(end)} is before start {_bound_text(start)}; "
            "expected end on or after start"
        )
    through: date | None = None
    if series.last_date is None:
        if hi is None:
            raise ProgrammeError(
                f"series {series.slug!r} is open-ended (no until or count); pass end= to bound its sessions"
            )
        # A session moved into the window may come from a later recurrence date.
        through = max([hi.astimezone(zone).date(), *series.moved.keys()])
    slots: list[SessionSlot] = []
    for d in series.occurrence_dates(through=through):
        if d in series.skipped:
            continue
        slot = session_slot(series, d)
        if (lo is None or slot.start >= lo) and (hi is None or slot.start < hi):
            slots.append(slot)
    slots.sort(key=lambda slot: slot.start)
    return slots


def session_slot(series: Series, original_date: date) -> SessionSlot:
    """Return the session of recurrence date ``original_date``, at its moved time if it was moved.

    Raises
    ------
    ProgrammeError
        If the date is not on the recurrence or is skipped.

    Examples
    --------
    >>> from datetime import date
    >>> s = Series("x", "X", date(2026, 3, 24))
    >>> session_slot(s, date(2026, 3, 31)).start.isoformat()
    '2026-03-31T10:00:00+02:00'
    """
    if not series.is_occurrence(original_date):
        series._check_occurrence(original_date, "date")
    if original_date in series.skipped:
        raise ProgrammeError(f"series {series.slug!r}: {original_date.isoformat()} is skipped; it has no session")
    zone = series.zone
    moved = original_date in series.moved
    begin = series.moved[original_date].astimezone(zone) if moved else series.occurrence_start(original_date)
    finish = (begin.astimezone(UTC) + series.duration).astimezone(zone)
    return SessionSlot(start=begin, end=finish, original_date=original_date, moved=moved)


def _bound_text(value: date | datetime | None) -> str:
    return value.isoformat() if isinstance(value, date) else repr(value)


# -- reading a series description (the CLI's JSON/TOML file) --------------------------------------------

_FIELDS = {
    "slug",
    "title",
    "start_date",
    "weekday",
    "start_time",
    "duration_minutes",
    "tz",
    "until",
    "count",
    "skipped",
    "moved",
    "active_capacity",
    "follower_capacity",
    "language",
    "description",
    "location",
}


def series_from_mapping(data: Mapping[str, Any], *, source: str = "series") -> Series:
    """Build a :class:`Series` from a JSON/TOML-style mapping.

    Dates are ``YYYY-MM-DD`` (or TOML dates), ``start_time`` is ``HH:MM``, ``duration_minutes`` an integer,
    ``skipped`` a list of dates and ``moved`` a table ``{"2026-04-07": "2026-04-09T14:00"}``; a moved time
    without a UTC offset is wall-clock time in the series' ``tz``. Unknown keys are an error.

    Raises
    ------
    ProgrammeError
        Naming ``source`` and the field.
    """
    if not isinstance(data, Mapping):
        raise ProgrammeError(f"{source}: got {type(data).__name__}; expected a table/object of series fields")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ProgrammeError(f"{source}: unknown field(s) {unknown}; expected some of {sorted(_FIELDS)}")
    for required in ("slug", "title", "start_date"):
        if required not in data:
            raise ProgrammeError(f"{source}: field {required!r} is missing")
    tz = data.get("tz", "Europe/Berlin")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ProgrammeError(
            f"{source}, field 'tz': got {tz!r}; expected an IANA time zone such as 'Europe/Berlin'"
        ) from None
    kwargs: dict[str, Any] = {
        "slug": data["slug"],
        "title": data["title"],
        "start_date": _as_date(data["start_date"], source, "start_date"),
        "tz": tz,
    }
    for name in ("weekday", "active_capacity", "follower_capacity", "language", "description", "location"):
        if name in data:
            kwargs[name] = data[name]
    if "count" in data:
        kwargs["count"] = data["count"]
    if data.get("until") is not None:
        kwargs["until"] = _as_date(data["until"], source, "until")
    if "start_time" in data:
        kwargs["start_time"] = _as_time(data["start_time"], source)
    if "duration_minutes" in data:
        minutes = data["duration_minutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes <= 0:
            raise ProgrammeError(f"{source}, field 'duration_minutes': got {minutes!r}; expected a positive number")
        kwargs["duration"] = timedelta(minutes=minutes)
    skipped = data.get("skipped", [])
    if not isinstance(skipped, list | tuple):
        raise ProgrammeError(f"{source}, field 'skipped': got {skipped!r}; expected a list of dates")
    kwargs["skipped"] = frozenset(_as_date(v, source, "skipped") for v in skipped)
    moved = data.get("moved", {})
    if not isinstance(moved, Mapping):
        raise ProgrammeError(f"{source}, field 'moved': got {moved!r}; expected a table of date = new start datetime")
    kwargs["moved"] = {
        _as_date(k, source, "moved"): _as_datetime(v, zone, source, f"moved.{k}") for k, v in moved.items()
    }
    return Series(**kwargs)


def _as_date(value: Any, source: str, name: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ProgrammeError(f"{source}, field {name!r}: got {value!r}; expected a date YYYY-MM-DD")


def _as_time(value: Any, source: str) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ProgrammeError(f"{source}, field 'start_time': got {value!r}; expected a time HH:MM")


def _as_datetime(value: Any, zone: ZoneInfo, source: str, name: str) -> datetime:
    result: datetime | None = None
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value)
        except ValueError:
            result = None
    if result is None:
        raise ProgrammeError(f"{source}, field {name!r}: got {value!r}; expected a datetime YYYY-MM-DDTHH:MM")
    return result if result.tzinfo is not None else result.replace(tzinfo=zone)
