"""Errors of the outbox."""

from __future__ import annotations

from digifit.errors import DigifitError


class OutboxError(ValueError, DigifitError):
    """A message cannot be queued (bad address, naive send time, unknown language, bad attachment)."""
