"""Each role's start page and navigation.

After login (and from the logo) every user goes to the home of their **main role**. A user with several roles
gets the first of this precedence — the broadest staff role first, so nobody lands on a page narrower than
their job:

=================  ====================================  ===========================================
main role          decided by                            home
=================  ====================================  ===========================================
survey manager     ``survey.manage_surveys``             the survey list (questionnaires and waves
                   (superusers too)                      with their response counts), ``/surveys/``
analyst            ``survey.view_data``                  the dashboard, ``/dashboard/``
organiser          ``programme.view_reach``              the reach page, ``/programme/reach/``
coach              ``programme.coach_sessions``          the next session's agenda, ``/programme/coach/``
user admin         ``auth.change_user``                  the staff page, ``/staff/``
business           none of these (a business account,    its programme page, ``/programme/me/`` (which
                   or an account without any role)       offers the sign-up to an account without one)
=================  ====================================  ===========================================

The navigation shows the entries of **every** role the user has (a survey manager who also coaches sees the
agenda), in one fixed order, and nothing the user cannot open.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from digifit.accounts import roles as survey_roles
from digifit.programme import roles as programme_roles

SURVEY_MANAGER = "survey_manager"
ANALYST = "analyst"
ORGANISER = "organiser"
COACH = "coach"
USER_ADMIN = "user_admin"
BUSINESS = "business"

#: Main roles in the order of precedence, each with the permission that makes it and its home (a URL name).
PRECEDENCE: tuple[tuple[str, str | None, str], ...] = (
    (SURVEY_MANAGER, survey_roles.MANAGE, "survey:dashboard"),
    (ANALYST, survey_roles.VIEW_DATA, "dashboard"),
    (ORGANISER, programme_roles.VIEW_REACH, "programme:reach"),
    (COACH, programme_roles.COACH_SESSIONS, "programme:coach"),
    (USER_ADMIN, survey_roles.MANAGE_USERS, "staff"),
    (BUSINESS, None, "programme:me"),
)


@dataclass(frozen=True)
class NavEntry:
    """One link of the navigation."""

    key: str
    label: str | Promise
    url: str


def _has(user, perm: str | None) -> bool:
    return perm is None or bool(getattr(user, "is_authenticated", False) and user.has_perm(perm))


def main_role(user) -> str:
    """The role whose home ``user`` lands on (see the precedence above)."""
    for role, perm, _url in PRECEDENCE:
        if _has(user, perm):
            return role
    return BUSINESS  # not reached: the last entry needs no permission


def home_url(user) -> str:
    """The start page of ``user``'s main role."""
    role = main_role(user)
    return reverse(next(url for r, _perm, url in PRECEDENCE if r == role))


def nav_entries(user) -> list[NavEntry]:
    """The navigation of ``user``: exactly the pages their roles can use, in a fixed order."""
    if not getattr(user, "is_authenticated", False):
        return []
    manage = _has(user, survey_roles.MANAGE)
    view_data = _has(user, survey_roles.VIEW_DATA)
    reach = _has(user, programme_roles.VIEW_REACH)
    coach = _has(user, programme_roles.COACH_SESSIONS)
    staff_role = manage or view_data or reach or coach or _has(user, survey_roles.MANAGE_USERS)
    wanted: list[tuple[bool, str, str | Promise, str]] = [
        (manage, "surveys", _("Surveys"), "survey:dashboard"),
        (view_data, "dashboard", _("Dashboard"), "dashboard"),
        (view_data, "analysis", _("Analysis"), "analysis:page"),
        (view_data, "reports", _("Reports"), "reports:list"),
        (reach, "reach", _("Reach"), "programme:reach"),
        (coach, "agenda", _("Coaching agenda"), "programme:coach"),
        (reach, "learning", _("Course statistics"), "learning:statistics"),
        (not staff_role, "me", _("My programme"), "programme:me"),
        (not staff_role, "courses", _("Courses"), "learning:courses"),
        (coach or not staff_role, "programme", _("Programme"), "programme:catalogue"),
        (not staff_role, "check", _("Digital-Check"), "assessment:check"),
        (manage or view_data, "api", "API", "api:openapi-view"),
        (_has(user, survey_roles.MANAGE_USERS), "staff", _("Staff"), "staff"),
    ]
    entries = [NavEntry(key, label, reverse(url)) for show, key, label, url in wanted if show]
    if user.is_staff:
        from django.conf import settings

        if settings.DIGIFIT_ADMIN_PATH:
            entries.append(NavEntry("admin", _("Administration"), reverse("admin:index")))
    return entries


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to the start page of their main role."""
    return redirect(home_url(request.user))


__all__ = ["PRECEDENCE", "NavEntry", "home", "home_url", "main_role", "nav_entries"]
