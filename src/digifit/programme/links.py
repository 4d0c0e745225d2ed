"""Signed, expiring links sent by e-mail: the sign-up confirmation and the claim of a Digital-Check result.

A link carries a small payload signed with Django's :mod:`django.core.signing` (HMAC with ``SECRET_KEY`` and a
salt per kind, and a timestamp: ``TimestampSigner`` under ``signing.dumps``); nothing is stored. It is valid for
``DIGIFIT_CONFIRMATION_MAX_AGE_HOURS`` (default 72 hours). The payload names the e-mail address the link was
sent to, so a link proves that whoever opens it can read that mailbox, and nothing else.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from digifit.programme.errors import LinkExpired, LinkInvalid

SIGNUP = "signup"
CLAIM = "claim"
_KINDS = (SIGNUP, CLAIM)


def max_age_seconds() -> int:
    """How long a confirmation or claim link is valid, in seconds."""
    return int(float(getattr(settings, "DIGIFIT_CONFIRMATION_MAX_AGE_HOURS", 72)) * 3600)


def link_token(kind: str, payload: dict) -> str:
    """Return the signed token of a link of ``kind`` (``signup`` or ``claim``) carrying ``payload``."""
    if kind not in _KINDS:
        raise ValueError(f"link kind {kind!r} is unknown; expected one of {_KINDS}")
    return signing.dumps(payload, salt=f"digifit.programme.{kind}", compress=True)


def link_payload(kind: str, token: str) -> dict:
    """Return the payload of a token made by :func:`link_token` for ``kind``.

    Raises
    ------
    LinkExpired
        The token is ours but older than :func:`max_age_seconds`.
    LinkInvalid
        The token was not signed by us for this kind (tampered, truncated, another kind of link).
    """
    try:
        data = signing.loads(token, salt=f"digifit.programme.{kind}", max_age=max_age_seconds())
    except signing.SignatureExpired:
        raise LinkExpired("this link has expired") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise LinkInvalid("this link is not valid") from None
    if not isinstance(data, dict):
        raise LinkInvalid("this link is not valid")
    return data
