"""The roles of digifit, as Django groups with permissions.

===============  ==========================================================================
role             may
===============  ==========================================================================
survey_manager   upload questionnaires, run waves, invite, collect (OpenRosa), read, edit and
                 export submissions
analyst          read submissions and export them, upload a wave's population margins (the
                 reports' weighting); nothing that changes the survey data
user_admin       invite staff by e-mail, give and withdraw roles, deactivate accounts (the
                 staff page ``/staff/``; Django's own user permissions)
respondent       no account: an invitation token lets them answer their own questionnaire
===============  ==========================================================================

Staff users (``is_staff``) reach the Django admin; superusers may do everything.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

SURVEY_MANAGER = "survey_manager"
ANALYST = "analyst"
USER_ADMIN = "user_admin"

# Permission codenames of the survey app (declared on survey.Questionnaire.Meta.permissions).
MANAGE = "survey.manage_surveys"
COLLECT = "survey.collect_submissions"
VIEW_DATA = "survey.view_data"
EXPORT = "survey.export_data"
EDIT_DATA = "survey.edit_data"
# Django's own permissions on users: the user administrators' (the staff page).
MANAGE_USERS = "auth.change_user"

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    SURVEY_MANAGER: (MANAGE, COLLECT, VIEW_DATA, EXPORT, EDIT_DATA),
    ANALYST: (VIEW_DATA, EXPORT),
    USER_ADMIN: ("auth.view_user", "auth.add_user", MANAGE_USERS),
}


def roles_sync(*, using: str = "default") -> None:
    """Create the role groups and give each exactly its permissions (idempotent)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            found = Permission.objects.using(using).filter(content_type__app_label=app_label, codename=codename).first()
            if found is not None:  # not yet there during the very first migrate of the accounts app
                wanted.append(found)
        group.permissions.set(wanted)
