"""Reads of the accounts app."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from digifit.accounts.models import Token
from digifit.accounts.services import token_digest


def _token_user_sql() -> tuple[str, list[str]]:
    """One statement for token → user → permissions: the token's row with its user, then one row per
    permission the user has directly or through a group (role). Built from the models' table names."""
    user_model = get_user_model()
    q = connection.ops.quote_name
    user_fields = [f for f in user_model._meta.concrete_fields]
    user_cols = ", ".join(f"u.{q(f.column)}" for f in user_fields)
    nulls = ", ".join("NULL" for _ in user_fields)
    token, user = q(Token._meta.db_table), q(user_model._meta.db_table)
    perm, ctype = q(Permission._meta.db_table), q(ContentType._meta.db_table)
    user_perms = q(user_model.user_permissions.through._meta.db_table)
    user_groups = q(user_model.groups.through._meta.db_table)
    group_perms = q(Group.permissions.through._meta.db_table)
    live = "t.digest = %s AND t.revoked_at IS NULL"
    sql = (
        f"SELECT t.id, t.last_used_at, {user_cols}, NULL, NULL, NULL FROM {token} t JOIN {user} u ON u.id = t.user_id "
        f"WHERE {live} "
        f"UNION ALL SELECT NULL, NULL, {nulls}, 'user', ct.app_label, p.codename FROM {token} t "
        f"JOIN {user_perms} up ON up.user_id = t.user_id JOIN {perm} p ON p.id = up.permission_id "
        f"JOIN {ctype} ct ON ct.id = p.content_type_id WHERE {live} "
        f"UNION ALL SELECT NULL, NULL, {nulls}, 'group', ct.app_label, p.codename FROM {token} t "
        f"JOIN {user_groups} ug ON ug.user_id = t.user_id JOIN {group_perms} gp ON gp.group_id = ug.group_id "
        f"JOIN {perm} p ON p.id = gp.permission_id JOIN {ctype} ct ON ct.id = p.content_type_id WHERE {live}"
    )
    return sql, [f.attname for f in user_fields]


def token_user_get(*, raw: str):
    """Return the active user owning the raw bearer token, or None.

    One round trip: the token (not revoked), its user and every permission of the user (direct or through a
    role's group) come in one statement, and the permissions are put where Django's ``ModelBackend`` caches
    them, so ``user.has_perm`` asks the database nothing more during this request. Nothing is cached across
    requests: a revoked token, a deactivated user or a role taken away stops working with the next request.
    """
    if not raw:
        return None
    digest = token_digest(raw)
    sql, attnames = _token_user_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest, digest, digest])
        rows = cursor.fetchall()
    head = next((r for r in rows if r[0] is not None), None)
    if head is None:
        return None
    user_model = get_user_model()
    user = user_model.from_db(connection.alias, attnames, _converted(user_model, attnames, head[2 : 2 + len(attnames)]))
    if not user.is_active:
        return None
    if user.is_superuser:  # may do everything; Django answers without the caches
        return _touched(user, head)
    direct = {f"{r[-2]}.{r[-1]}" for r in rows if r[-3] == "user"}
    via_groups = {f"{r[-2]}.{r[-1]}" for r in rows if r[-3] == "group"}
    user._user_perm_cache = direct  # ModelBackend's caches, for this request's user object only
    user._group_perm_cache = via_groups
    user._perm_cache = direct | via_groups
    return _touched(user, head)


def _touched(user, head):
    """Note that the token was used (coarsely, to spare a write per request) and return its user."""
    token_id, last_used_at = head[0], _converted_one(Token._meta.get_field("last_used_at"), head[1])
    now = timezone.now()
    if last_used_at is None or now - last_used_at > timedelta(minutes=5):
        Token.objects.filter(pk=token_id).update(last_used_at=now)  # coarse, to spare a write per request
    return user


def _converted_one(field, value):
    column = field.get_col(field.model._meta.db_table)
    for converter in [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]:
        value = converter(value, column, connection)
    return value


def _converted(model, attnames: list[str], values) -> list:
    """Values as the ORM would give them (SQLite hands back datetimes and booleans as text and integers)."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return [_converted_one(fields[name], value) for name, value in zip(attnames, values, strict=True)]
