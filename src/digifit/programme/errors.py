"""Errors of the programme's web side. Views turn them into form errors or HTTP 4xx; the CLI into one line.

::

    DigifitError
     └── ProgrammeError(ValueError)           recurrence/calendar/reach inputs (digifit.programme.recurrence)
          ├── RegistrationRefused             the session is past, cancelled, or the business is registered
          ├── CancellationRefused             the cancellation deadline has passed or the link is invalid
          └── AttendanceRefused               the session has not started, or the registration is not confirmed
"""

from __future__ import annotations

from digifit.programme.recurrence import ProgrammeError


class RegistrationRefused(ProgrammeError):
    """A registration cannot be made (session past or cancelled, already registered, bad role)."""


class CancellationRefused(ProgrammeError):
    """A cancellation cannot be made (deadline passed, link invalid, already cancelled)."""


class AttendanceRefused(ProgrammeError):
    """Attendance cannot be marked (the session has not started or is cancelled, the registration is not
    confirmed). The message is in the UI language."""


__all__ = ["AttendanceRefused", "CancellationRefused", "ProgrammeError", "RegistrationRefused"]
