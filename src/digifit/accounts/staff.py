"""Staff accounts: invited by e-mail, activated by the person who owns the address, roles given and withdrawn.

A staff member is invited with their e-mail address and roles: the account is created **inactive and without a
password**; the invitation link (Django's password-reset token, bound to the account's state, so it is spent
once the password is set, and expires after ``PASSWORD_RESET_TIMEOUT``) lets the owner of the address choose a
password, which activates the account. Nothing is looked up by a typed e-mail: the link carries the account.

Roles are Django groups (``digifit.accounts.roles`` and ``digifit.programme.roles``). The caller says which
group names are roles (this module sits below the programme app and does not know its roles).
"""

from __future__ import annotations

from collections.abc import Collection

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode


class StaffError(ValueError):
    """A staff change that is refused; ``code`` names the reason for the page's message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def staff_list(*, roles: Collection[str]) -> QuerySet:
    """Accounts with at least one of ``roles`` (or staff or superuser flags, or invited and not yet active),
    by user name; businesses' accounts without a role are not staff."""
    users = get_user_model().objects
    staff = Q(groups__name__in=list(roles)) | Q(is_staff=True) | Q(is_superuser=True)
    return users.filter(staff).distinct().prefetch_related("groups").order_by("username")


@transaction.atomic
def staff_invite(*, email: str, roles: Collection[str], known_roles: Collection[str]) -> tuple[object, str, str]:
    """Create an inactive account for ``email`` with ``roles``; return (user, uidb64, token) for the link.

    Raises
    ------
    StaffError
        ``exists``: an account with this address or user name exists (give it roles in the list instead);
        ``roles``: no role, or a role that is not one of ``known_roles``.
    """
    email = email.strip()
    User = get_user_model()
    if not roles or set(roles) - set(known_roles):
        raise StaffError("roles", f"roles: got {sorted(roles)}; expected one or more of {sorted(known_roles)}")
    if User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
        raise StaffError("exists", f"an account for {email!r} exists already")
    user = User.objects.create_user(username=email, email=email, password=None, is_active=False)
    user.groups.set(Group.objects.filter(name__in=list(roles)))
    return user, urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)


def staff_link_user(*, uidb64: str, token: str):
    """The invited account of a valid, unspent link, or None (tampered, expired, or the password is set)."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError):
        return None
    user = get_user_model().objects.filter(pk=pk).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


@transaction.atomic
def staff_roles_set(*, user, roles: Collection[str], known_roles: Collection[str], by) -> None:
    """Give ``user`` exactly ``roles`` among ``known_roles`` (other groups are kept).

    Raises
    ------
    StaffError
        ``self``: ``by`` would withdraw their own user administration (nobody could undo it);
        ``roles``: an unknown role.
    """
    wanted = set(roles)
    if wanted - set(known_roles):
        raise StaffError("roles", f"roles: got {sorted(wanted)}; expected some of {sorted(known_roles)}")
    from digifit.accounts.roles import USER_ADMIN

    if user.pk == by.pk and USER_ADMIN not in wanted and not user.is_superuser:
        raise StaffError("self", "you cannot withdraw your own user administration")
    kept = user.groups.exclude(name__in=list(known_roles))
    user.groups.set([*kept, *Group.objects.filter(name__in=sorted(wanted))])


def staff_active_set(*, user, active: bool, by) -> None:
    """Deactivate (or reactivate) an account; a deactivated account cannot log in, its tokens stop working.

    Raises
    ------
    StaffError
        ``self``: ``by`` would deactivate their own account.
    """
    if user.pk == by.pk and not active:
        raise StaffError("self", "you cannot deactivate your own account")
    type(user).objects.filter(pk=user.pk).update(is_active=active)
    user.is_active = active


__all__ = ["StaffError", "staff_active_set", "staff_invite", "staff_link_user", "staff_list", "staff_roles_set"]
