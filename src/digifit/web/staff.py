"""The staff page (``/staff/``): user administrators invite staff by e-mail, give and withdraw roles, deactivate
accounts — in the browser, without the Django admin. The invitee sets a password through the e-mailed link
(``/staff/welcome/…``), which proves the address and activates the account (:mod:`digifit.accounts.staff`).

This lives in the web layer because it knows every app's roles (survey and programme).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digifit.accounts import roles as survey_roles
from digifit.accounts import staff
from digifit.notifications.services import outbox_enqueue
from digifit.programme import roles as programme_roles

#: the roles a user administrator gives, with their names on the page
ROLES: tuple[tuple[str, str], ...] = (
    (survey_roles.SURVEY_MANAGER, gettext_lazy("Survey manager")),
    (survey_roles.ANALYST, gettext_lazy("Analyst")),
    (programme_roles.COACH, gettext_lazy("Coach")),
    (programme_roles.ORGANISER, gettext_lazy("Organiser")),
    (survey_roles.USER_ADMIN, gettext_lazy("User administration")),
)
ROLE_NAMES = [name for name, _label in ROLES]
LANGUAGES = (("de", "Deutsch"), ("en", "English"), ("fr", "Français"))


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail address"))
    roles = forms.MultipleChoiceField(label=gettext_lazy("Roles"), choices=ROLES, widget=forms.CheckboxSelectMultiple)
    language = forms.ChoiceField(label=gettext_lazy("Language of the e-mail"), choices=LANGUAGES, initial="de")


def _refusal(exc: staff.StaffError) -> str:
    return {
        "exists": _("An account with this address exists already: give it roles in the list below."),
        "roles": _("Choose at least one of the roles shown."),
        "self": _("You cannot lock yourself out: ask another user administrator to do this."),
    }.get(exc.code, _("This change is not possible."))


def _invite_mail(*, user, uidb64: str, token: str, language: str, by) -> None:
    base = getattr(settings, "DIGIFIT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    link = base + reverse("staff_welcome", kwargs={"uidb64": uidb64, "token": token})
    with translation.override(language):
        context = {"link": link, "by": by.get_username(), "days": round(settings.PASSWORD_RESET_TIMEOUT / 86400)}
        subject = render_to_string("web/mail_staff_invite_subject.txt", context).strip()
        body = render_to_string("web/mail_staff_invite.txt", context)
    outbox_enqueue(
        key=f"staff-invite:{user.pk}:{timezone.now():%Y%m%dT%H%M%S}",
        to=user.email,
        subject=subject,
        body_text=body,
        send_at=timezone.now(),
        language=language,
    )


@login_required
@permission_required(survey_roles.MANAGE_USERS, raise_exception=True)
def staff_page(request: HttpRequest) -> HttpResponse:
    """The staff accounts with their roles; invite, change roles, deactivate (POST ``action``)."""
    form = InviteForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "invite":
            form = InviteForm(request.POST)
            if form.is_valid():
                try:
                    user, uidb64, token = staff.staff_invite(
                        email=form.cleaned_data["email"], roles=form.cleaned_data["roles"], known_roles=ROLE_NAMES
                    )
                except staff.StaffError as exc:
                    form.add_error("email" if exc.code == "exists" else "roles", _refusal(exc))
                else:
                    _invite_mail(
                        user=user, uidb64=uidb64, token=token, language=form.cleaned_data["language"], by=request.user
                    )
                    messages.success(
                        request,
                        _("%(email)s is invited: the account becomes active when its owner sets a password.")
                        % {"email": user.email},
                    )
                    return redirect("staff")
        elif action in ("roles", "active"):
            pk = request.POST.get("user", "")
            user = get_user_model().objects.filter(pk=pk).first() if pk.isdigit() else None
            if user is None or (user.is_superuser and not request.user.is_superuser):
                return HttpResponse(_("No such staff account."), status=404)
            try:
                if action == "roles":
                    chosen = [r for r in request.POST.getlist("roles") if r in ROLE_NAMES]
                    staff.staff_roles_set(user=user, roles=chosen, known_roles=ROLE_NAMES, by=request.user)
                    messages.success(request, _("Roles of %(user)s saved.") % {"user": user.get_username()})
                else:
                    active = request.POST.get("active") == "1"
                    staff.staff_active_set(user=user, active=active, by=request.user)
                    text = _("%(user)s is active again.") if active else _("%(user)s is deactivated.")
                    messages.success(request, text % {"user": user.get_username()})
            except staff.StaffError as exc:
                messages.error(request, _refusal(exc))
            return redirect("staff")
        else:
            return HttpResponse(_("Unknown action."), status=400)
    rows = []
    for user in staff.staff_list(roles=ROLE_NAMES):
        has = {g.name for g in user.groups.all()}
        rows.append({"user": user, "roles": [(name, label, name in has) for name, label in ROLES]})
    return render(request, "web/staff.html", {"rows": rows, "form": form, "roles": ROLES})


def staff_welcome(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The invitee sets a password; that proves the address and activates the account."""
    user = staff.staff_link_user(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "web/staff_welcome_invalid.html", status=400)
    form = SetPasswordForm(user)
    if request.method == "POST":
        form = SetPasswordForm(user, request.POST)
        if form.is_valid():
            user = form.save(commit=False)
            user.is_active = True
            user.save()
            messages.success(request, _("Your password is set. Log in with your e-mail address and it."))
            return redirect("login")
    return render(request, "web/staff_welcome.html", {"form": form, "invited": user})
