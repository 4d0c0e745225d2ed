"""Preview and test a questionnaire version: its test link in each language, with a QR code for a phone.

A test link shows the form exactly as respondents see it — also before any wave is open — and stores what is
submitted with the status ``test``: no wave, no webhook delivery, not in exports or statistics (they read
``complete`` answers only). The page lists the test answers and deletes them when the manager is done.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from digifit.accounts import roles
from digifit.survey import selectors
from digifit.survey.models import QuestionnaireVersion, Submission
from digifit.survey.qr import link_qr_svg
from digifit.survey.respond import LANGUAGES, version_test_url

_LANGUAGE_NAMES = {"de": "Deutsch", "en": "English", "fr": "Français"}


def test_answers(version: QuestionnaireVersion):
    """The answers given through ``version``'s test link: submitted tests and unfinished ones (drafts with
    neither wave nor invitation: only a test link saves those)."""
    return Submission.objects.filter(questionnaire_version=version).filter(
        Q(status=Submission.Status.TEST) | Q(status=Submission.Status.DRAFT, wave__isnull=True, invitation__isnull=True)
    )


@login_required
@permission_required(roles.MANAGE, raise_exception=True)
def version_test(request: HttpRequest, form_id: str, version: str) -> HttpResponse:
    """A version's test links (one per language, each with a QR code) and its test answers; POST
    ``action=delete`` deletes the test answers."""
    found = selectors.version_get(form_id=form_id, version=version)
    if found is None:
        raise Http404(f"{form_id} {version}")
    answers = test_answers(found)
    if request.method == "POST":
        if request.POST.get("action") != "delete":
            return HttpResponse(_("Unknown action."), status=400)
        with transaction.atomic():
            n = answers.count()
            answers.delete()
        messages.success(request, ngettext("%(n)d test answer deleted.", "%(n)d test answers deleted.", n) % {"n": n})
        return redirect("survey:version_test", form_id=form_id, version=version)
    path = version_test_url(found)
    languages = [lang for lang in LANGUAGES if lang in (found.languages or [])] or [found.default_language or "de"]
    links = []
    for lang in languages:
        url = request.build_absolute_uri(f"{path}?lang={lang}")
        name = _LANGUAGE_NAMES.get(lang, lang)
        links.append(
            {
                "language": lang,
                "name": name,
                "url": url,
                "qr": link_qr_svg(url, _("QR code of the test link (%(language)s)") % {"language": name}),
            }
        )
    context = {
        "questionnaire": found.questionnaire,
        "version": found,
        "links": links,
        "answers": answers.order_by("-updated_at", "-id")[:100],
        "n_answers": answers.count(),
    }
    return render(request, "survey/version_test.html", context)
