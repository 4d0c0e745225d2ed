"""Reads of the accounts app."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from digifit.accounts.models import Token
from digifit.accounts.services import token_digest


def token_user_get(*, raw: str):
    """Return the active user owning the raw bearer token, or None."""
    if not raw:
        return None
    token = Token.objects.select_related("user").filter(digest=token_digest(raw), revoked_at=None).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        Token.objects.filter(pk=token.pk).update(last_used_at=now)  # coarse, to spare a write per request
    return token.user
