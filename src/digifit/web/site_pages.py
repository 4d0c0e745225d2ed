"""The imprint, the privacy notice and the front door's introduction: public pages whose texts the organisation
edits in the browser (:class:`digifit.web.models.SitePage`).

Who may edit: organisers (``programme.view_reach``) and user administrators (``auth.change_user``) — the people
who run the programme and answer for its site. Until a text is stored, each page shows a neutral placeholder in
the visitor's language saying that the organisation still has to write it (a site must not go live pretending
to have an imprint). Texts are plain text: paragraphs by blank lines, rendered escaped with ``linebreaks``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digifit.accounts import roles as survey_roles
from digifit.programme import roles as programme_roles
from digifit.web.models import SitePage

#: The longest text a page takes (an imprint and a privacy notice fit easily; a pasted book does not).
MAX_LENGTH = 20_000
EDITORS = (programme_roles.VIEW_REACH, survey_roles.MANAGE_USERS)
PUBLIC_KEYS = (SitePage.Key.IMPRINT, SitePage.Key.PRIVACY)

_PLACEHOLDERS = {
    SitePage.Key.IMPRINT: gettext_lazy(
        "The organisation running this programme has not entered its imprint yet. "
        "It can do so on this site (organisers and user administrators: “Edit this text”)."
    ),
    SitePage.Key.PRIVACY: gettext_lazy(
        "The organisation running this programme has not entered its privacy notice yet. "
        "It can do so on this site (organisers and user administrators: “Edit this text”)."
    ),
    SitePage.Key.FRONT_INTRO: "",  # the front door has its own default introduction
}


def can_edit(user) -> bool:
    """Whether ``user`` may change the site's texts."""
    return bool(getattr(user, "is_authenticated", False) and any(user.has_perm(p) for p in EDITORS))


def site_page_get(*, key: str) -> SitePage | None:
    return SitePage.objects.filter(key=key).first()


def site_page_text(*, key: str, language: str) -> tuple[str, bool]:
    """The text of page ``key`` in ``language`` and whether it was stored (False: the placeholder)."""
    page = site_page_get(key=key)
    if page is not None and page.text_de.strip():
        return page.text_in(language), True
    return str(_PLACEHOLDERS[SitePage.Key(key)]), False


def site_page_save(*, key: str, text_de: str, text_en: str = "", text_fr: str = "", user=None) -> SitePage:
    """Store the texts of page ``key`` (validated: German required, each at most :data:`MAX_LENGTH`)."""
    with transaction.atomic():
        page = SitePage.objects.select_for_update().filter(key=key).first() or SitePage(key=key)
        page.text_de, page.text_en, page.text_fr = text_de, text_en, text_fr
        page.updated_by = user if getattr(user, "is_authenticated", False) else None
        page.full_clean()
        page.save()
    return page


class SitePageForm(forms.Form):
    """The three texts of one page; German is the site's first language, so it is required."""

    text_de = forms.CharField(
        label=gettext_lazy("Text in German"),
        widget=forms.Textarea(attrs={"rows": 14}),
        max_length=MAX_LENGTH,
        error_messages={
            "required": gettext_lazy("Please enter the German text: it is shown when no other language is stored."),
        },
    )
    text_en = forms.CharField(
        label=gettext_lazy("Text in English (optional)"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=MAX_LENGTH,
        required=False,
    )
    text_fr = forms.CharField(
        label=gettext_lazy("Text in French (optional)"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=MAX_LENGTH,
        required=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.error_messages["max_length"] = gettext_lazy(
                "Please shorten the text to at most %(limit_value)d characters (it has %(show_value)d)."
            )
            field.strip = False  # keep the paragraphs exactly as typed


def _page(request: HttpRequest, key: str) -> HttpResponse:
    text, stored = site_page_text(key=key, language=request.LANGUAGE_CODE)
    context = {
        "key": key,
        "title": SitePage.Key(key).label,
        "text": text,
        "stored": stored,
        "can_edit": can_edit(request.user),
    }
    return render(request, "web/site_page.html", context)


def imprint(request: HttpRequest) -> HttpResponse:
    """The imprint (Impressum), public."""
    return _page(request, SitePage.Key.IMPRINT)


def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy notice (Datenschutzerklärung), public."""
    return _page(request, SitePage.Key.PRIVACY)


@login_required
def site_page_edit(request: HttpRequest, page: str) -> HttpResponse:
    """Edit the texts of one page (organisers and user administrators)."""
    key = page
    if key not in SitePage.Key.values:
        raise Http404(key)
    if not can_edit(request.user):
        return HttpResponseForbidden(_("Only organisers and user administrators may edit the site's texts."))
    stored = site_page_get(key=key)
    initial = {"text_de": stored.text_de, "text_en": stored.text_en, "text_fr": stored.text_fr} if stored else {}
    form = SitePageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        site_page_save(key=key, user=request.user, **form.cleaned_data)
        messages.success(request, _("The text is saved and shown on the site."))
        return redirect("site_page_edit", page=key)
    for name in form.errors if form.is_bound else ():  # screen readers announce the error with its field
        if name in form.fields:
            form.fields[name].widget.attrs.update({"aria-invalid": "true", "aria-describedby": f"id_{name}-error"})
    public_url = {SitePage.Key.IMPRINT: "imprint", SitePage.Key.PRIVACY: "privacy"}.get(key, "front")
    context = {"form": form, "key": key, "title": SitePage.Key(key).label, "public_url": public_url}
    return render(request, "web/site_page_edit.html", context)


__all__ = ["MAX_LENGTH", "SitePageForm", "can_edit", "imprint", "privacy", "site_page_edit", "site_page_save"]
