"""Verification codes of certificates: ``7KQ2-M9XD-4HTR``, 60 random bits in Crockford's base 32.

Crockford's alphabet has no I, L, O or U, so a code read from paper or typed from a phone survives the usual
slips: :func:`normalise` upper-cases, drops spaces and dashes and reads ``O`` as ``0`` and ``I``/``L`` as
``1``. Sixty bits from :mod:`secrets` make guessing hopeless (2⁶⁰ codes for a few thousand certificates),
so the public verification page needs no rate limit of its own.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS, GROUP_LEN = 3, 4
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new() -> str:
    """A fresh random code, grouped by dashes."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LEN))
    return _grouped(raw)


def normalise(text: str) -> str | None:
    """The stored form of a typed code, or None when it cannot be one (wrong length or letters).

    >>> normalise(" 7kq2 m9xd-4htr ")
    '7KQ2-M9XD-4HTR'
    >>> normalise("OIL0-0000-0000")
    '0110-0000-0000'
    >>> normalise("7KQ2-M9XD") is None
    True
    """
    raw = "".join(ch for ch in text.upper() if ch not in " -\t").translate(_READ_AS)
    if len(raw) != GROUPS * GROUP_LEN or any(ch not in ALPHABET for ch in raw):
        return None
    return _grouped(raw)


def _grouped(raw: str) -> str:
    return "-".join(raw[i : i + GROUP_LEN] for i in range(0, len(raw), GROUP_LEN))
