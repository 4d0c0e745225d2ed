"""Errors of the programme's web side. Views turn them into form errors or HTTP 4xx; the CLI into one line.

::

    DigifitError
     └── ProgrammeError(ValueError)           recurrence/calendar/reach inputs (digifit.programme.recurrence)
          ├── RegistrationRefused             the session is past, cancelled, or the business is registered
          ├── CancellationRefused             the cancellation deadline has passed or the link is invalid
          │    └── CancellationLinkExpired     the session of the link has started
          ├── AddressTaken                    the address belongs to another verified business or login
          ├── LinkInvalid                     a confirmation or claim link was not signed by us (tampered)
          ├── LinkExpired                     a confirmation or claim link is older than its validity
          ├── ClaimRefused                    a Digital-Check result cannot be claimed by this account
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


class CancellationLinkExpired(CancellationRefused):
    """A cancellation link is used after its session started."""


class AddressTaken(ProgrammeError):
    """The e-mail address belongs to another verified business (or another account's login)."""


class LinkInvalid(ProgrammeError):
    """A signed link (confirmation, claim) was not made by us for this purpose: tampered or truncated."""


class LinkExpired(ProgrammeError):
    """A signed link is ours but older than ``DIGIFIT_CONFIRMATION_MAX_AGE_HOURS``."""


class ClaimRefused(ProgrammeError):
    """A Digital-Check result cannot be claimed (account not verified, another address, already claimed)."""


__all__ = [
    "AddressTaken",
    "AttendanceRefused",
    "CancellationLinkExpired",
    "CancellationRefused",
    "ClaimRefused",
    "LinkExpired",
    "LinkInvalid",
    "ProgrammeError",
    "RegistrationRefused",
]
