"""Writes of the accounts app."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.utils import timezone

from digifit.accounts.models import Token
from digifit.accounts.roles import ROLE_PERMISSIONS, roles_sync


def token_digest(raw: str) -> str:
    """Return the SHA-256 hex digest under which a raw token is stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(*, user: AbstractBaseUser, name: str = "") -> tuple[Token, str]:
    """Create an API token for ``user``; return it and the raw value (shown once, never stored)."""
    raw = secrets.token_urlsafe(32)
    token = Token(user=user, name=name, digest=token_digest(raw), prefix=raw[:8])
    token.full_clean()
    token.save()
    return token, raw


def token_revoke(*, token: Token) -> Token:
    """Revoke a token; it stops working at once."""
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    return token


@transaction.atomic
def user_role_assign(*, user: AbstractBaseUser, role: str) -> None:
    """Put ``user`` into the group of ``role`` (``survey_manager`` or ``analyst``).

    Raises
    ------
    ValueError
        If ``role`` is not a known role.
    """
    if role not in ROLE_PERMISSIONS:
        raise ValueError(f"role {role!r} is unknown; expected one of {sorted(ROLE_PERMISSIONS)}")
    group = Group.objects.filter(name=role).first()
    if group is None:
        roles_sync()
        group = Group.objects.get(name=role)
    user.groups.add(group)
