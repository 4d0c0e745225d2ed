"""Manager pages: thin views over selectors and services (server-rendered, HTMX-enhanced)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digifit.accounts import roles
from digifit.survey import corrections, invitations, selectors, services
from digifit.survey.answer_labels import AnswerColumns, AnswerLabels
from digifit.survey.errors import SubmissionRejected, SurveyError
from digifit.survey.models import Invitation, Submission, SubmissionEdit
from digifit.survey.notices import notice_lines
from digifit.survey.qr import link_qr_svg
from digifit.survey.respond import wave_open_url
from digifit.survey.upload_policy import refusal_message, refusal_of


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("XLSForm (.xlsx)"))


class InvitationsForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Panel (CSV: panel_id, email, language)"))
    send = forms.BooleanField(label=gettext_lazy("Send the invitation e-mails now"), required=False)


#: the browser's own date-and-time picker; its value ("2026-12-04T09:00") is local time (Europe/Berlin)
_PICKER = {"attrs": {"type": "datetime-local"}, "format": "%Y-%m-%dT%H:%M"}


THANKS_LINKS_LABEL = gettext_lazy("After submitting, point respondents to the programme and the Digital-Check")


class ThanksLinksForm(forms.Form):
    thanks_links = forms.BooleanField(label=THANKS_LINKS_LABEL, required=False)


class WaveForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    opens_at = forms.DateTimeField(
        label=gettext_lazy("Opens at"), required=False, widget=forms.DateTimeInput(**_PICKER)
    )
    closes_at = forms.DateTimeField(
        label=gettext_lazy("Closes at"), required=False, widget=forms.DateTimeInput(**_PICKER)
    )
    thanks_links = forms.BooleanField(label=THANKS_LINKS_LABEL, required=False)

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("The wave must close after it opens."))
        return data


class ReminderDaysForm(forms.Form):
    days = forms.CharField(
        label=gettext_lazy("Reminder days after sending"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("Whole numbers separated by commas, e.g. 7, 14. Empty: no reminders."),
    )

    def clean_days(self) -> list[int]:
        days = []
        for part in self.cleaned_data["days"].replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or int(part) <= 0 or int(part) > 365:
                raise forms.ValidationError(
                    _("“%(value)s” is not a day: type whole numbers from 1 to 365 separated by commas, e.g. 7, 14.")
                    % {"value": part}
                )
            days.append(int(part))
        return sorted(set(days))


def _can_see(user) -> bool:
    return user.has_perm(roles.MANAGE) or user.has_perm(roles.VIEW_DATA)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Questionnaires and waves at a glance; upload for survey managers. Other roles go to their own home."""
    if not _can_see(request.user):
        return redirect("home")
    form = UploadForm()
    if request.method == "POST":
        if not request.user.has_perm(roles.MANAGE):
            return render(request, "survey/no_role.html", status=403)
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                added = services.questionnaire_version_add(
                    content=upload.read(), filename=upload.name, user=request.user
                )
            except SurveyError as exc:
                refused = refusal_of(exc)
                if refused is not None:  # a hostile or unreadable file: one line in the user's language
                    form.add_error("file", refusal_message(refused))
                else:
                    for p in exc.problems[:20] or []:
                        form.add_error("file", p.message)
                    if not exc.problems:
                        form.add_error("file", str(exc))
            else:
                v = added.version
                if added.created:
                    messages.success(
                        request,
                        _("Stored %(form)s version %(version)s.") % {"form": v.questionnaire, "version": v.version},
                    )
                    for line in notice_lines(v.schema):
                        messages.warning(request, line)
                else:
                    messages.info(request, _("This file was already stored."))
                return redirect("survey:dashboard")
    context = {
        "questionnaires": selectors.questionnaire_list(),
        "waves": selectors.wave_list(),
        "form": form,
        "can_manage": request.user.has_perm(roles.MANAGE),
        "can_export": request.user.has_perm(roles.EXPORT),
    }
    return render(request, "survey/dashboard.html", context)


@login_required
def questionnaire_detail(request: HttpRequest, form_id: str) -> HttpResponse:
    """Versions (with translation completeness) and waves of one questionnaire."""
    if not _can_see(request.user):
        return render(request, "survey/no_role.html", status=403)
    q = selectors.questionnaire_get(form_id=form_id)
    if q is None:
        raise Http404(form_id)
    form = WaveForm()
    if request.method == "POST":
        if not request.user.has_perm(roles.MANAGE):
            return render(request, "survey/no_role.html", status=403)
        form = WaveForm(request.POST)
        if form.is_valid():
            try:
                services.wave_create(questionnaire=q, **form.cleaned_data)
            except SurveyError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("survey:questionnaire", form_id=form_id)
    context = {
        "questionnaire": q,
        "versions": selectors.version_list(questionnaire=q),
        "waves": selectors.wave_list(questionnaire=q),
        "form": form,
        "can_manage": request.user.has_perm(roles.MANAGE),
        "can_export": request.user.has_perm(roles.EXPORT),
    }
    return render(request, "survey/questionnaire.html", context)


@login_required
@permission_required(roles.MANAGE, raise_exception=True)
def wave_status(request: HttpRequest, wave_id: int) -> HttpResponse:
    """Open or close a wave (POST ``status``); answers HTMX with the new status cell."""
    wave = selectors.wave_get(wave_id=wave_id)
    if wave is None or request.method != "POST":
        raise Http404(str(wave_id))
    try:
        services.wave_status_set(wave=wave, status=request.POST.get("status", ""))
    except SurveyError as exc:
        return HttpResponse(str(exc), status=422)
    if request.headers.get("HX-Request"):
        return render(request, "survey/_wave_status.html", {"wave": wave, "can_manage": True})
    return redirect("survey:questionnaire", form_id=wave.questionnaire.form_id)


@login_required
def wave_detail(request: HttpRequest, wave_id: int) -> HttpResponse:
    """A wave: its numbers, invitations by status, CSV invitations for managers, exports."""
    if not _can_see(request.user):
        return render(request, "survey/no_role.html", status=403)
    wave = selectors.wave_get(wave_id=wave_id)
    if wave is None:
        raise Http404(str(wave_id))
    can_manage = request.user.has_perm(roles.MANAGE)
    form = InvitationsForm()
    links: list[tuple[str, str, str]] = []
    if request.method == "POST" and request.POST.get("action") == "thanks_links":
        if not can_manage:
            return render(request, "survey/no_role.html", status=403)
        thanks = ThanksLinksForm(request.POST)
        thanks.is_valid()  # a missing box is False: the form cannot be invalid
        services.wave_thanks_links_set(wave=wave, enabled=thanks.cleaned_data.get("thanks_links", False))
        messages.success(request, _("The thank-you page is saved."))
        return redirect("survey:wave", wave_id=wave.pk)
    if request.method == "POST":
        if not can_manage:
            return render(request, "survey/no_role.html", status=403)
        form = InvitationsForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8")
                created = services.invitation_bulk_create(wave=wave, csv_text=text)
            except UnicodeDecodeError:
                form.add_error("file", _("The file is not UTF-8 text."))
            except SurveyError as exc:
                for p in exc.problems[:20]:
                    form.add_error("file", f"{p.field}: {p.message}")
                if not exc.problems:
                    form.add_error("file", str(exc))
            else:
                # only digests are stored: the links are shown now, once (and mailed in the same step if asked)
                if form.cleaned_data.get("send"):
                    invitations.invitations_send(wave=wave, invitations=created)
                messages.success(request, _("%(n)d invitations created.") % {"n": len(created)})
                links = [(inv.panel_id, inv.email, invitations.invitation_link(inv)) for inv in created]
                form = InvitationsForm()
    context = {
        "links": links,
        "wave": wave,
        "by_status": [
            (Invitation.Status(status).label, n) for status, n in selectors.invitation_counts(wave=wave).items()
        ],
        "n_submissions": selectors.submission_list(wave=wave).count(),
        "form": form,
        "thanks_form": ThanksLinksForm(initial={"thanks_links": wave.thanks_links}),
        "can_manage": can_manage,
        "can_export": request.user.has_perm(roles.EXPORT),
    }
    if can_manage:
        open_url = request.build_absolute_uri(wave_open_url(wave))
        context["open_link"] = (open_url, link_qr_svg(open_url, _("QR code of the open link")))
    return render(request, "survey/wave.html", context)


@login_required
@permission_required(roles.MANAGE, raise_exception=True)
def invitation_list(request: HttpRequest, wave_id: int) -> HttpResponse:
    """A wave's invitations one by one (status, sent, answered), for survey managers: send the pending ones,
    set the reminder days, make a new link for one invitation (shown once: only digests are stored)."""
    wave = selectors.wave_get(wave_id=wave_id)
    if wave is None:
        raise Http404(str(wave_id))
    days_form = ReminderDaysForm(initial={"days": ", ".join(map(str, invitations.reminder_days(wave)))})
    new_link: tuple[Invitation, str] | None = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "send":
            n = invitations.invitations_send(wave=wave)
            if n:
                messages.success(request, _("%(n)d invitation e-mails are queued; the worker sends them.") % {"n": n})
            else:
                messages.info(request, _("No pending invitation with an e-mail address: nothing to send."))
            return redirect("survey:invitations", wave_id=wave.pk)
        if action == "reminders":
            days_form = ReminderDaysForm(request.POST)
            if days_form.is_valid():
                invitations.reminder_schedule_set(wave=wave, days=days_form.cleaned_data["days"])
                messages.success(request, _("Reminder days saved; they apply to invitations sent from now on."))
                return redirect("survey:invitations", wave_id=wave.pk)
        elif action == "renew":
            pk = request.POST.get("invitation", "")
            invitation = selectors.invitation_list(wave=wave).filter(pk=pk).first() if pk.isdigit() else None
            if invitation is None:
                return HttpResponse(_("This invitation does not belong to this wave."), status=404)
            if invitation.status == Invitation.Status.COMPLETED:
                return HttpResponse(_("This invitation is answered already: it needs no new link."), status=409)
            token = invitations.invitation_link_renew(invitation=invitation)
            new_link = (invitation, invitations.invitation_link(invitation, token))
        else:
            return HttpResponse(_("Unknown action."), status=400)
    status = request.GET.get("status", "")
    qs = selectors.invitation_list(wave=wave)
    if status in Invitation.Status.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    counts = selectors.invitation_counts(wave=wave)
    context = {
        "wave": wave,
        "page": Paginator(qs, 50).get_page(request.GET.get("page")),
        "status": status,
        "query": urlencode({"status": status}) if status else "",
        "by_status": [(value, Invitation.Status(value).label, n) for value, n in counts.items()],
        "total": sum(counts.values()),
        "n_sendable": selectors.invitation_sendable_list(wave=wave).count(),
        "days_form": days_form,
        "new_link": new_link,
    }
    return render(request, "survey/invitations.html", context)


class ReviewForm(forms.Form):
    review_state = forms.ChoiceField(label=gettext_lazy("Review"), choices=Submission.ReviewState.choices)
    review_note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)


@login_required
def submission_list(request: HttpRequest, wave_id: int) -> HttpResponse:
    """Complete submissions of a wave, 50 per page, with their key answers as labels, filtered by review state,
    version and one answer (``answer=<question>:<choice>``, any single-choice question) (analysts, managers)."""
    if not request.user.has_perm(roles.VIEW_DATA):
        return render(request, "survey/no_role.html", status=403)
    wave = selectors.wave_get(wave_id=wave_id)
    if wave is None:
        raise Http404(str(wave_id))
    qs = selectors.submission_list(wave=wave).select_related("questionnaire_version")
    review = request.GET.get("review", "")
    if review in Submission.ReviewState.values:
        qs = qs.filter(review_state=review)
    else:
        review = ""
    versions = list(
        selectors.version_list(questionnaire=wave.questionnaire).values_list("version", flat=True).distinct()
    )
    version = request.GET.get("version", "")
    if version in versions:
        qs = qs.filter(questionnaire_version__version=version)
    else:
        version = ""
    latest = selectors.version_latest(questionnaire=wave.questionnaire)
    columns = AnswerColumns(latest.schema if latest else {}, request.LANGUAGE_CODE)
    answer = request.GET.get("answer", "")
    chosen = columns.filter_of(answer)
    if chosen is not None:
        qs = qs.filter(**{f"data__{chosen[0]}": chosen[1]})
    else:
        answer = ""
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = list(page)
    edits = dict(
        SubmissionEdit.objects.filter(submission__in=rows)
        .values("submission")
        .annotate(n=Count("id"))
        .values_list("submission", "n")
    )  # counted for this page's rows only: a GROUP BY over the whole wave would slow every page of 100 k rows
    params = (("review", review), ("version", version), ("answer", answer))
    context = {
        "wave": wave,
        "page": page,
        "rows": [(s, columns.cells(s.data), edits.get(s.pk, 0)) for s in rows],
        "columns": columns.headers,
        "answer_filters": columns.filters,
        "answer": answer,
        "review": review,
        "reviews": Submission.ReviewState.choices,
        "version": version,
        "versions": versions,
        "filtered": bool(review or version or answer),
        "query": urlencode({k: v for k, v in params if v}),
    }
    return render(request, "survey/submissions.html", context)


@login_required
def submission_detail(request: HttpRequest, instance_id: str) -> HttpResponse:
    """One submission: its answers with the questions' and choices' labels, its review state, its audit trail.

    Survey managers set the review state (POST)."""
    if not request.user.has_perm(roles.VIEW_DATA):
        return render(request, "survey/no_role.html", status=403)
    sub = selectors.submission_get(instance_id=instance_id)
    if sub is None:
        raise Http404(instance_id)
    can_review = request.user.has_perm(roles.MANAGE)
    form = ReviewForm(initial={"review_state": sub.review_state, "review_note": sub.review_note})
    labels = AnswerLabels(sub.questionnaire_version.schema, request.LANGUAGE_CODE)
    correctable = corrections.correctable_fields(sub.questionnaire_version.schema) if can_review else []
    correcting = request.POST.get("field") or request.GET.get("correct", "")
    correction = None
    if can_review and correcting:
        if correcting not in correctable:
            return HttpResponse(_("This answer cannot be corrected here."), status=400)
        correction = corrections.CorrectionForm(
            request.POST if request.method == "POST" else None,
            spec=labels.fields[correcting],
            labels=labels,
            current=sub.data.get(correcting),
        )
    status = 200
    if request.method == "POST" and request.POST.get("action") == "correct":
        if not can_review:
            return render(request, "survey/no_role.html", status=403)
        if correction is None:
            return HttpResponse(_("Choose the answer to correct."), status=400)
        if correction.is_valid():
            data = {**sub.data, correcting: correction.stored_value()}
            if data[correcting] is None:
                del data[correcting]
            try:
                edit = services.submission_edit(
                    submission=sub,
                    data=data,
                    user=request.user,
                    reason=correction.cleaned_data["reason"],
                    language=request.LANGUAGE_CODE,
                )
            except SubmissionRejected as exc:
                for problem in exc.problems:
                    correction.add_error(None, corrections.problem_text(problem, labels))
            else:
                if edit is None:
                    messages.info(request, _("Nothing changed: the answer was already this."))
                else:
                    messages.success(request, _("Correction saved; the audit trail below shows it."))
                return redirect("survey:submission", instance_id=instance_id)
        status = 422
    elif request.method == "POST":
        if not can_review:
            return render(request, "survey/no_role.html", status=403)
        form = ReviewForm(request.POST)
        if form.is_valid():
            services.submission_review_set(
                submission=sub,
                state=form.cleaned_data["review_state"],
                note=form.cleaned_data["review_note"],
                user=request.user,
            )
            messages.success(request, _("Review saved."))
            return redirect("survey:submission", instance_id=instance_id)
    repeats = [
        (labels.question(r["name"]), [labels.answers(entry, repeat=r["name"]) for entry in sub.data[r["name"]]])
        for r in sub.questionnaire_version.schema.get("repeats", [])
        if isinstance(sub.data.get(r["name"]), list)
    ]
    edits = sub.edits.select_related("edited_by").order_by("edited_at", "id")
    context = {
        "sub": sub,
        "rows": labels.answers(sub.data),
        "repeats": repeats,
        "edits": [(e, corrections.edit_changes(e.before or {}, e.after or {}, labels)) for e in edits],
        "form": form,
        "can_review": can_review,
        "correctable": set(correctable),
        "unanswered": [(name, labels.question(name)) for name in correctable if name not in sub.data],
        "correction": correction,
        "correcting": correcting,
    }
    return render(request, "survey/submission.html", context, status=status)
