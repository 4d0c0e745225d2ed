"""Pages of the programme: thin views over selectors and services (server-rendered, HTMX-enhanced)."""

from __future__ import annotations

import json
from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from digifit.programme import calendar, charts, links, reach, recurrence, roles, selectors, services, tasks
from digifit.programme.errors import (
    AddressTaken,
    AttendanceRefused,
    CancellationLinkExpired,
    CancellationRefused,
    ClaimRefused,
    LinkExpired,
    LinkInvalid,
    ProgrammeError,
    RegistrationRefused,
)
from digifit.programme.forms import (
    BusinessSignupForm,
    CatalogueFilter,
    ClaimEmailForm,
    NotesForm,
    RecordingForm,
    RegisterForm,
)
from digifit.programme.models import Registration

ICS = "text/calendar; charset=utf-8"


def _ics(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=ICS)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# ----------------------------------------------------------------------------------------- public


def catalogue(request: HttpRequest) -> HttpResponse:
    """The training catalogue with filters (HTMX swaps the list), the next coaching sessions and stories."""
    form = CatalogueFilter(request.GET or None)
    filters = {k: v for k, v in form.cleaned_data.items() if v} if form.is_valid() else {}
    sector = filters.pop("sector", None)
    topic = filters.pop("topic", None)
    trainings = selectors.training_list(sector=sector, topics=[topic] if topic else None, **filters)
    context = {
        "form": form,
        "trainings": trainings,
        "language": request.LANGUAGE_CODE,
        "sessions": selectors.session_upcoming_list(sector=sector, limit=4),
        "stories": selectors.story_list(limit=3),
        "series": selectors.series_list(),
    }
    if request.headers.get("HX-Request"):
        return render(request, "programme/_trainings.html", context)
    return render(request, "programme/catalogue.html", context)


def training_detail(request: HttpRequest, slug: str) -> HttpResponse:
    training = selectors.training_get(slug=slug)
    if training is None:
        raise Http404(slug)
    context = {
        "training": training,
        "stories": selectors.story_list(training=training),
        "language": request.LANGUAGE_CODE,
        "course": selectors.course_for_training(training=training),
    }
    return render(request, "programme/training.html", context)


def series_detail(request: HttpRequest, slug: str) -> HttpResponse:
    series = selectors.series_get(slug=slug)
    if series is None:
        raise Http404(slug)
    context = {
        "series": series,
        "sessions": selectors.session_list(series=series)[:12],
        "feed_url": request.build_absolute_uri(reverse("programme:series_feed", args=[slug])),
        "skipped": [e for e in series.exceptions.all() if e.kind == "skip"],
    }
    return render(request, "programme/series.html", context)


def series_feed(request: HttpRequest, slug: str) -> HttpResponse:
    """The subscribable iCalendar feed of a series (RRULE, EXDATE, moved sessions, VTIMEZONE, VALARM)."""
    series = selectors.series_get(slug=slug)
    if series is None:
        raise Http404(slug)
    data = calendar.series_feed(
        series.to_value(),
        url=request.build_absolute_uri(reverse("programme:series", args=[slug])),
        source=request.build_absolute_uri(),
        sequence=series.sequence,
    )
    return _ics(data, f"{slug}.ics")


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    """A session: its places; a logged-in business registers here (active with its question, or follower)."""
    session = selectors.session_get(session_id=session_id)
    if session is None:
        raise Http404(str(session_id))
    business = selectors.business_for_user(request.user)
    mine = None
    if business is not None:
        mine = session.registrations.filter(business=business).exclude(status="cancelled").first()
    form = RegisterForm(initial={"role": "active"})
    if request.method == "POST":
        if business is None:
            return redirect(f"{reverse('programme:signup')}?next={request.path}")
        form = RegisterForm(request.POST)
        if form.is_valid():
            try:
                mine = services.session_register(session=session, business=business, **form.cleaned_data)
            except RegistrationRefused as exc:
                form.add_error(None, str(exc))
            else:
                tasks.confirmation_send_soon()
                if mine.status == Registration.Status.CONFIRMED:
                    messages.success(request, _("You are registered. The confirmation is on its way by e-mail."))
                else:
                    messages.info(request, _("All places are taken: you are on the waitlist."))
                return redirect("programme:session", session_id=session.pk)
    context = {
        "session": session,
        "series": session.series,
        "business": business,
        "mine": mine,
        "cancel_token": services.cancel_token(mine) if mine else "",
        "form": form,
        "active_free": max(0, session.active_capacity - session.n_active),
        "follower_free": max(0, session.follower_capacity - session.n_followers),
        "past": session.start <= timezone.now(),
    }
    return render(request, "programme/session.html", context)


def session_ics(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.session_get(session_id=session_id)
    if session is None or session.cancelled:
        raise Http404(str(session_id))
    value = session.series.to_value()
    slot = recurrence.session_slot(value, session.original_date)
    return _ics(calendar.session_event(value, slot, url=request.build_absolute_uri()), "session.ics")


def registration_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """Cancel by the signed link from the e-mails: GET asks, POST cancels."""
    try:
        reg = services.registration_from_token(token)
    except CancellationLinkExpired:
        error = _("This cancellation link has expired: the session has already started.")
        return render(request, "programme/cancel.html", {"error": error}, status=410)
    except CancellationRefused:
        error = _("This cancellation link is not valid (or the registration was deleted).")
        return render(request, "programme/cancel.html", {"error": error}, status=404)
    error = ""
    if request.method == "POST":
        try:
            services.registration_cancel(registration=reg)
        except CancellationRefused:
            error = _("The cancellation deadline (%(d)s) has passed.") % {
                "d": timezone.localtime(services.cancel_deadline(reg.session)).strftime("%Y-%m-%d %H:%M")
            }
        else:
            messages.success(request, _("Your registration is cancelled."))
            return redirect("programme:registration_cancel", token=token)
    context = {"reg": reg, "deadline": services.cancel_deadline(reg.session), "error": error}
    return render(request, "programme/cancel.html", context)


def personal_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A registrant's own sessions (secret URL from the confirmation e-mail)."""
    business = selectors.business_by_feed_token(token=token)
    if business is None:
        raise Http404("feed")
    pairs = []
    for session in selectors.personal_sessions(business=business):
        value = session.series.to_value()
        pairs.append((value, recurrence.session_slot(value, session.original_date)))
    return _ics(calendar.personal_feed(business.company, pairs, language=business.language), "digifit.ics")


# ----------------------------------------------------------------------------------------- businesses


def signup(request: HttpRequest) -> HttpResponse:
    """Register a business: profile, login and consent (purpose and text shown, version and time stored).

    Whatever the address, the answer is the same "check your mailbox" page: the account is active only after
    the link sent to the address is opened, and an address already registered gets a notice instead.
    """
    language = request.LANGUAGE_CODE if request.LANGUAGE_CODE in services.CONSENT_TEXT else "de"
    form = BusinessSignupForm(request.POST or None, initial={"language": language})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.business_signup(**data, next_url=_next_url(request, ""))
        except AddressTaken:  # confirmed by someone else between the check and the write: say as little
            pass
        except ProgrammeError:
            form.add_error(None, _("The registration could not be stored; please check your details."))
        if not form.errors:
            tasks.confirmation_send_soon()
            return redirect("programme:signup_sent")
    context = {
        "form": form,
        "purpose": services.CONSENT_PURPOSE[language],
        "consent_text": services.CONSENT_TEXT[language],
        "consent_version": services.CONSENT_VERSION,
        "next": request.GET.get("next", ""),
    }
    return render(request, "programme/signup.html", context)


def signup_sent(request: HttpRequest) -> HttpResponse:
    """The neutral page after a sign-up: the same for a new, a pending and an already registered address."""
    return render(request, "programme/signup_sent.html", {"hours": round(links.max_age_seconds() / 3600)})


def _link_refused(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The page of an expired (410), foreign or tampered (400) link, in the visitor's language."""
    if isinstance(exc, LinkExpired):
        message, status = _("This link has expired. Please ask for a new one."), 410
    else:
        message, status = _("This link is not valid. Please use the complete link from the e-mail."), 400
    return render(request, "programme/link_refused.html", {"error": message}, status=status)


@never_cache
def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Open the confirmation link: the address is confirmed, the account activated and linked to the business."""
    try:
        business = services.business_confirm(token=token)
    except (LinkExpired, LinkInvalid) as exc:
        return _link_refused(request, exc)
    except AddressTaken:
        error = _("This e-mail address already belongs to a business account. Please log in with it.")
        return render(request, "programme/link_refused.html", {"error": error}, status=409)
    target = links.link_payload(links.SIGNUP, token).get("n") or reverse("programme:me")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("programme:me")
    context = {"business": business, "login_url": f"{reverse('login')}?{urlencode({'next': target})}"}
    return render(request, "programme/signup_confirmed.html", context)


@login_required
@require_POST
def me_confirm(request: HttpRequest) -> HttpResponse:
    """Send the confirmation link of the business's address again (its page's button)."""
    business = selectors.business_for_user(request.user)
    if business is None:
        raise Http404("business")
    if services.business_confirmation_send(business=business) is not None:
        tasks.confirmation_send_soon()
    messages.info(request, _("We have sent a confirmation link to %(email)s.") % {"email": business.email})
    return redirect("programme:me")


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """A business's own page: profile, consent, registrations with cancel links, personal feed, GDPR actions."""
    business = selectors.business_for_user(request.user)
    if business is None:
        return redirect("programme:signup")
    now = timezone.now()
    upcoming, past = [], []
    for r in selectors.registration_list_for_business(business=business):
        if r.session.start >= now and r.status != Registration.Status.CANCELLED and not r.session.cancelled:
            upcoming.append((r, services.cancel_token(r), selectors.waitlist_position(r)))
        else:
            past.append(r)
    checks = selectors.checks_for_business(business=business)
    context = {
        "business": business,
        "registrations": upcoming,
        "past": past[::-1],  # the latest first
        # the overall maturity (0-100) of each result, newest first, with the change since the one before
        "checks": [
            (a, a.overall - prev.overall if prev and prev.overall is not None and a.overall is not None else None)
            for prev, a in zip([None, *checks], checks, strict=False)
        ][::-1],
        "courses": selectors.courses_for_business(business=business),
        "feed_url": request.build_absolute_uri(reverse("programme:personal_feed", args=[business.feed_token])),
    }
    return render(request, "programme/me.html", context)


# ----------------------------------------------------------------------------------------- Digital-Check claims


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
def check_claim(request: HttpRequest, token: str) -> HttpResponse:
    """Claim the result behind a private link: a logged-in verified business links it at once (POST); anyone
    else can have a claim link sent to an address (POST ``email``), which links it when that address's verified
    business opens it. The answer to an address is the same whoever owns it."""
    from digifit.assessment.selectors import assessment_get

    assessment = assessment_get(token=token)
    if assessment is None:
        raise Http404("no result behind this link")
    business = selectors.business_for_user(request.user)
    form = ClaimEmailForm(request.POST or None, initial={"email": assessment.email})
    error = ""
    if request.method == "POST":
        if request.POST.get("action") == "claim":
            try:
                services.check_claim(assessment=assessment, business=business)
            except ClaimRefused:
                error = _("Only a business account with a confirmed e-mail address can claim a result it does not own.")
            else:
                messages.success(request, _("The result is linked to your business account."))
                return redirect("assessment:result", token=assessment.token)
        elif form.is_valid():
            language = request.LANGUAGE_CODE if request.LANGUAGE_CODE in services.CONSENT_TEXT else "de"
            if services.check_claim_link_send(
                assessment=assessment, email=form.cleaned_data["email"], language=language
            ):
                tasks.confirmation_send_soon()
            context = {"email": form.cleaned_data["email"], "hours": round(links.max_age_seconds() / 3600)}
            return _private(render(request, "programme/claim_sent.html", context))
    context = {
        "a": assessment,
        "business": business,
        "mine": business is not None and assessment.owner_id is not None and assessment.owner_id == business.user_id,
        "form": form,
        "error": error,
        "login_url": f"{reverse('login')}?{urlencode({'next': request.path})}",
    }
    return _private(render(request, "programme/claim.html", context, status=403 if error else 200))


@never_cache
def check_claim_link(request: HttpRequest, token: str) -> HttpResponse:
    """Open a claim link: shown to the verified business of the address it was sent to, linked on POST."""
    try:
        assessment, email = services.claim_from_token(token)
    except (LinkExpired, LinkInvalid) as exc:
        return _link_refused(request, exc)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    business = selectors.business_for_user(request.user)
    error = ""
    if business is None or not business.verified:
        error = _("Only a business account with a confirmed e-mail address can claim a result.")
    elif business.email.strip().lower() != email:
        error = _("This link was sent to another e-mail address. Log in with the account of that address.")
    elif assessment.owner_id is not None and assessment.owner_id != business.user_id:
        error = _("This result belongs to another account.")
    if not error and request.method == "POST":
        try:
            services.check_claim_from_token(token=token, business=business)
        except ClaimRefused:
            error = _("This result belongs to another account.")
        else:
            messages.success(request, _("The result is linked to your business account."))
            return redirect("programme:me")
    context = {"a": assessment, "business": business, "error": error}
    return _private(render(request, "programme/claim_link.html", context, status=403 if error else 200))


@login_required
def me_export(request: HttpRequest) -> HttpResponse:
    business = selectors.business_for_user(request.user)
    if business is None:
        raise Http404("business")
    data = json.dumps(services.business_export(business=business), ensure_ascii=False, indent=2)
    response = HttpResponse(data, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="digifit-my-data.json"'
    return response


@login_required
@require_POST
def me_delete(request: HttpRequest) -> HttpResponse:
    business = selectors.business_for_user(request.user)
    if business is None:
        raise Http404("business")
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm the deletion."))
        return redirect("programme:me")
    logout(request)
    services.business_delete(business=business)
    messages.success(request, _("Your business and all its data are deleted."))
    return redirect("programme:catalogue")


# ----------------------------------------------------------------------------------------- coach


def _coach_context(session, *, notes_form=None, recording_form=None) -> dict:
    if session is not None and notes_form is None:
        notes_form = NotesForm(initial={"notes": session.notes})
    return {
        "session": session,
        "started": session is not None and session.start <= timezone.now(),
        "agenda": selectors.session_agenda(session=session) if session else [],
        "registrations": selectors.session_attendees(session=session) if session else [],
        "waitlist": selectors.session_waitlist(session=session) if session else [],
        "sessions": selectors.session_list(upcoming=False).filter(start__gte=timezone.now() - timedelta(days=60))[:20],
        "notes_form": notes_form or NotesForm(),
        "recording_form": recording_form or RecordingForm(),
    }


@login_required
def coach_agenda(request: HttpRequest, session_id: int | None = None) -> HttpResponse:
    """The next (or a chosen) session: active businesses' questions by sector, attendees (confirmed only) with
    their attendance, the waitlist, notes and the recording."""
    if not request.user.has_perm(roles.COACH_SESSIONS):
        return HttpResponseForbidden(_("This page is for coaches."))
    session = selectors.session_get(session_id=session_id) if session_id else selectors.session_next()
    if session_id and session is None:
        raise Http404(str(session_id))
    notes_form = recording_form = None
    if session is not None and request.method == "POST":
        if "notes" in request.POST:
            notes_form = NotesForm(request.POST)
            if notes_form.is_valid():
                services.session_notes_set(session=session, notes=notes_form.cleaned_data["notes"])
                messages.success(request, _("Notes saved."))
                return redirect("programme:coach_session", session_id=session.pk)
        else:
            recording_form = RecordingForm(request.POST)
            if recording_form.is_valid():
                n = services.recording_publish(session=session, url=recording_form.cleaned_data["url"])
                messages.success(request, _("Recording published; %(n)d e-mails queued.") % {"n": n})
                return redirect("programme:coach_session", session_id=session.pk)
    context = _coach_context(session, notes_form=notes_form, recording_form=recording_form)
    return render(request, "programme/coach.html", context)


def _attendance_refused(request: HttpRequest, session, exc: AttendanceRefused) -> HttpResponse:
    """409 with the reason in the UI language: as text to HTMX, as the agenda page with the message otherwise."""
    if request.headers.get("HX-Request"):
        return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
    messages.error(request, str(exc))
    return render(request, "programme/coach.html", _coach_context(session), status=409)


@login_required
@require_POST
def attendance(request: HttpRequest, registration_id: int) -> HttpResponse:
    """Mark attendance (HTMX: answers with the updated row); refused (409) before the session starts and for
    registrations that are not confirmed."""
    if not request.user.has_perm(roles.COACH_SESSIONS):
        return HttpResponseForbidden(_("This page is for coaches."))
    reg = Registration.objects.select_related("business", "session").filter(pk=registration_id).first()
    if reg is None:
        raise Http404(str(registration_id))
    value = request.POST.get("attended")
    attended = {"yes": True, "no": False}.get(value)
    if attended is None:
        return HttpResponse(_("attended must be yes or no"), status=400)
    try:
        services.attendance_mark(registration=reg, attended=attended, note=request.POST.get("note"))
    except AttendanceRefused as exc:
        return _attendance_refused(request, reg.session, exc)
    if request.headers.get("HX-Request"):
        return render(request, "programme/_registration_row.html", {"r": reg, "started": True})
    return redirect("programme:coach_session", session_id=reg.session_id)


@login_required
@require_POST
def attendance_all_present(request: HttpRequest, session_id: int) -> HttpResponse:
    """ "All present": every confirmed registrant not marked yet is marked present (from the session's start)."""
    if not request.user.has_perm(roles.COACH_SESSIONS):
        return HttpResponseForbidden(_("This page is for coaches."))
    session = selectors.session_get(session_id=session_id)
    if session is None:
        raise Http404(str(session_id))
    try:
        n = services.attendance_mark_all_present(session=session)
    except AttendanceRefused as exc:
        return _attendance_refused(request, session, exc)
    messages.success(
        request, ngettext("%(n)d attendee marked present.", "%(n)d attendees marked present.", n) % {"n": n}
    )
    return redirect("programme:coach_session", session_id=session.pk)


# ----------------------------------------------------------------------------------------- reach


def _has_vega() -> bool:
    vendor = settings.VENDOR_DIR
    return all((vendor / name).is_file() for name in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"))


def _model_label(forecast: reach.Forecast | None) -> str:
    """The forecast model's name (an English constant of :mod:`reach`) in the UI language."""
    if forecast is None:
        return ""
    names = {
        "Poisson, log-linear trend": _("Poisson counts with a log-linear trend"),
        "negative binomial, log-linear trend": _("negative binomial counts with a log-linear trend"),
        "Poisson, constant rate (the trend has no finite estimate)": _("Poisson counts at a constant rate"),
        "negative binomial, constant rate (the trend has no finite estimate)": _(
            "negative binomial counts at a constant rate"
        ),
        "no fit business yet: Poisson, Jeffreys posterior for the rate": _(
            "no fit business yet: Poisson counts at an uncertain rate"
        ),
        "target already reached": _("target already reached"),
    }
    return names.get(forecast.model, "")


def _labelled(rows, dim: str, labels: dict[str, dict[str, str]]) -> list[tuple[str, reach.FunnelRow]]:
    names = labels.get(dim, {})
    return [(names.get(dict(r.group)[dim], dict(r.group)[dim]), r) for r in rows]


@login_required
def reach_dashboard(request: HttpRequest) -> HttpResponse:
    """Funnel registered → attended → digitally fit by sector, region and week; forecast against the target;
    charts (Vega-Lite). Every number comes from :mod:`digifit.programme.reach` via the summary."""
    if not request.user.has_perm(roles.VIEW_REACH):
        return HttpResponseForbidden(_("This page is for organisers."))
    summary = selectors.reach_summary(band=True)
    labels = selectors.reach_labels()
    fit = summary.total.fit
    context = {
        "s": summary,
        "share": min(100.0, 100.0 * fit / summary.target) if summary.target else 0.0,
        "sectors": _labelled(summary.by["sector"], "sector", labels),
        "regions": _labelled(summary.by["region"], "region", labels),
        "weeks": [(date.fromisoformat(dict(r.group)["week"]), r) for r in summary.by["week"][-12:]],
        "funnel_chart": charts.funnel_chart(summary),
        "trend_chart": charts.trend_chart(summary),
        "model_label": _model_label(summary.forecast),
        "has_vega": _has_vega(),
    }
    return render(request, "programme/reach.html", context)


@login_required
def reach_csv(request: HttpRequest) -> HttpResponse:
    """The funnel as CSV (``?by=sector|region|week``, several allowed; none: overall), with a label column
    (UI language) next to each sector and region code."""
    if not request.user.has_perm(roles.VIEW_REACH):
        return HttpResponseForbidden(_("This page is for organisers."))
    by = [b for b in request.GET.getlist("by") if b]
    try:
        rows = reach.funnel(selectors.fit_inputs(), by=by or None, rule=selectors.fit_rule())
    except ProgrammeError:
        message = _("Unknown grouping; use by=sector, by=region or by=week.")
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    csv_text = reach.funnel_to_csv(rows, labels=selectors.reach_labels())
    response = HttpResponse(csv_text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="reach-{"-".join(by) or "total"}.csv"'
    return response


@login_required
def course_import(request: HttpRequest) -> HttpResponse:
    """Import a course file (``digifit-course``, exported by another digifit) as a new course with its catalogue
    training. The learning app reads and stores it; the programme lends its training writer."""
    from digifit.learning import course_file
    from digifit.learning import services as learning
    from digifit.learning.errors import CourseDataInvalid

    if not request.user.has_perm(roles.VIEW_REACH):
        return HttpResponseForbidden(_("This page is for organisers."))
    error, status = "", 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error, status = _("Choose a course file (.json) to import."), 400
        elif upload.size > course_file.MAX_BYTES:
            error, status = _("The file is larger than 5 MB; a course file is much smaller."), 400
        else:
            try:
                training_fields, course_data = course_file.course_file_read(upload.read())
                course = learning.course_import(
                    training_fields=training_fields, course_data=course_data, training_upsert=services.training_upsert
                )
            except (CourseDataInvalid, ProgrammeError) as exc:
                error, status = _("The course file cannot be imported: %(problem)s.") % {"problem": exc}, 400
            except (TypeError, AttributeError, ValueError):
                error = _("The course file cannot be imported: its contents are not laid out as the format describes.")
                status = 400
            else:
                messages.success(request, _("The course was imported."))
                return redirect("learning:course", course=course.slug)
    elif request.method != "GET":
        return HttpResponse(status=405)
    return render(request, "programme/course_import.html", {"error": error}, status=status)
