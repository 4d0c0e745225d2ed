"""The survey manager's page for a wave's e-mail texts: the subject and opening text of the invitation and of
the reminders, per language (German, English, French), each starting from digifit's default wording, with a
preview of the e-mail as the respondent receives it (:mod:`digifit.survey.invitations` sends them)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digifit.accounts import roles
from digifit.survey import invitations, selectors
from digifit.survey.models import Invitation, MailText

LANGUAGE_NAMES = {"de": gettext_lazy("German"), "en": gettext_lazy("English"), "fr": gettext_lazy("French")}
PREVIEW_TOKEN = "VORSCHAU-KEIN-GUELTIGER-LINK"


class MailTextForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Opening text"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "Follows the greeting. digifit adds the personal link, the closing date and the do-not-forward note."
        ),
    )


def _forms(wave, data=None) -> list[dict]:
    """One form per (kind, language), prefilled with the wave's text or digifit's default."""
    own = invitations.mail_texts(wave)
    title = wave.questionnaire.title or wave.questionnaire.form_id
    out = []
    for kind, kind_label in MailText.Kind.choices:
        for language in invitations.MAIL_LANGUAGES:
            text = own.get((kind, language))
            subject, body = (text.subject, text.body) if text else invitations.mail_text_default(kind, language, title)
            form = MailTextForm(data, prefix=f"{kind}-{language}", initial={"subject": subject, "body": body})
            out.append(
                {
                    "kind": kind,
                    "kind_label": kind_label,
                    "language": language,
                    "language_name": LANGUAGE_NAMES[language],
                    "form": form,
                    "own": text is not None,
                }
            )
    return out


@login_required
@permission_required(roles.MANAGE, raise_exception=True)
def mail_texts(request: HttpRequest, wave_id: int) -> HttpResponse:
    """Edit a wave's invitation and reminder texts (POST saves all six), and preview one (``?preview=kind-lang``)."""
    wave = selectors.wave_get(wave_id=wave_id)
    if wave is None:
        raise Http404(str(wave_id))
    entries = _forms(wave, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if all(e["form"].is_valid() for e in entries):
            for e in entries:
                invitations.mail_text_set(
                    wave=wave,
                    kind=e["kind"],
                    language=e["language"],
                    subject=e["form"].cleaned_data["subject"],
                    body=e["form"].cleaned_data["body"],
                    user=request.user,
                )
            messages.success(request, _("E-mail texts saved; e-mails queued from now on use them."))
            return redirect("survey:mail_texts", wave_id=wave.pk)
        status = 422
    preview = None
    wanted = request.GET.get("preview", "")
    for e in entries:
        if wanted == f"{e['kind']}-{e['language']}":
            sample = Invitation(wave=wave, language=e["language"], panel_id="P-0000")
            reminder = 1 if e["kind"] == MailText.Kind.REMINDER else 0
            subject, text, _html = invitations.invitation_message(sample, reminder=reminder, token=PREVIEW_TOKEN)
            preview = {"entry": e, "subject": subject, "text": text}
    context = {"wave": wave, "entries": entries, "preview": preview}
    return render(request, "survey/mail_texts.html", context, status=status)
