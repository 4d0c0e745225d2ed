"""The programme's roles, as Django groups with permissions.

===============  ==========================================================================
role             may
===============  ==========================================================================
coach            see the agenda of the coaching sessions (active businesses and their
                 questions), mark attendance, write notes, publish recordings
organiser        everything a coach may, plus the reach dashboard and its CSV export
business owner   no group: a user with a business profile sees and changes only its own
                 profile and registrations (export and delete its data)
===============  ==========================================================================
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

COACH = "coach"
ORGANISER = "organiser"

COACH_SESSIONS = "programme.coach_sessions"
VIEW_REACH = "programme.view_reach"

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    COACH: (COACH_SESSIONS,),
    ORGANISER: (COACH_SESSIONS, VIEW_REACH),
}


def programme_roles_sync(*, using: str = "default") -> None:
    """Create the programme's role groups and give each exactly its permissions (idempotent)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            found = Permission.objects.using(using).filter(content_type__app_label=app_label, codename=codename).first()
            if found is not None:
                wanted.append(found)
        group.permissions.set(wanted)


def roles_sync_after_migrate(sender, using: str = "default", **kwargs) -> None:
    programme_roles_sync(using=using)


def user_role_assign(*, user, role: str) -> None:
    """Put ``user`` into the group of a programme role (``coach`` or ``organiser``)."""
    if role not in ROLE_PERMISSIONS:
        raise ValueError(f"role {role!r} is unknown; expected one of {sorted(ROLE_PERMISSIONS)}")
    if not Group.objects.filter(name=role).exists():
        programme_roles_sync()
    user.groups.add(Group.objects.get(name=role))
