"""Roles are groups with exactly their permissions; tokens are stored as digests and can be revoked."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from digifit.accounts import roles
from digifit.accounts.models import Token
from digifit.accounts.selectors import token_user_get
from digifit.accounts.services import token_create, token_revoke, user_role_assign

pytestmark = pytest.mark.django_db


def perms(group: str) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=group).permissions.all()}


def test_migrate_creates_the_role_groups_with_exactly_their_permissions():
    assert perms(roles.SURVEY_MANAGER) == set(roles.ROLE_PERMISSIONS[roles.SURVEY_MANAGER])
    assert perms(roles.ANALYST) == {roles.VIEW_DATA, roles.EXPORT}


def test_analyst_cannot_manage_collect_or_edit():
    user = get_user_model().objects.create_user(username="a")
    user_role_assign(user=user, role=roles.ANALYST)
    user = get_user_model().objects.get(pk=user.pk)
    assert user.has_perm(roles.VIEW_DATA) and user.has_perm(roles.EXPORT)
    for perm in (roles.MANAGE, roles.COLLECT, roles.EDIT_DATA):
        assert not user.has_perm(perm)
    with pytest.raises(ValueError, match="role 'coach' is unknown"):
        user_role_assign(user=user, role="coach")


def test_token_is_stored_as_a_digest_and_revocable():
    user = get_user_model().objects.create_user(username="t")
    token, raw = token_create(user=user, name="laptop")
    assert raw not in (token.digest, token.prefix) and token.prefix == raw[:8]
    assert token_user_get(raw=raw) == user
    assert token_user_get(raw=raw + "x") is None and token_user_get(raw="") is None
    token_revoke(token=token)
    assert token_user_get(raw=raw) is None
    user.is_active = False
    user.save()
    _, raw2 = token_create(user=user)
    assert token_user_get(raw=raw2) is None


def test_token_create_command_prints_the_token_once(capsys):
    call_command("token_create", "collector", "--create", "--role", "survey_manager")
    raw = capsys.readouterr().out.strip()
    user = token_user_get(raw=raw)
    assert user.username == "collector" and user.has_perm(roles.COLLECT)
    assert Token.objects.count() == 1
