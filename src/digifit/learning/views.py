"""Pages of the learning app: thin views over :mod:`~digifit.learning.selectors` and :mod:`~digifit.learning.services`.

Who may do what: anyone sees the course list and a course's outline; only the business linked to the logged-in
account enrols, opens lessons, marks them done and takes checks (its own enrolment, never another's: the
enrolment is looked up from the account, never from an id in the request); the organiser
(``programme.view_reach``) sees the statistics. A completed course's certificate (PDF) is the business's own;
its verification page is public and answers only whether a code is valid, for which course and day.
"""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import re
from pathlib import Path

from csp.decorators import csp_exempt, csp_update
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from digifit.learning import certificate_code, course_file, lesson_text, scorm_messages, selectors, services, video
from digifit.learning.errors import AnswersInvalid, EnrolmentRefused, LessonRefused
from digifit.learning.models import Lesson, Module
from digifit.learning.scorm_manifest import ManifestInvalid
from digifit.survey.qr import link_qr_svg
from digifit.uploads import UploadRefused

#: the organiser's permission (declared by the programme's roles; named here, not imported: learning sits below)
VIEW_STATISTICS = "programme.view_reach"


def _course_or_404(slug: str):
    course = selectors.course_get(slug=slug)
    if course is None:
        raise Http404("no such course")
    return course


def course_list(request: HttpRequest) -> HttpResponse:
    """Every published course; a business sees its progress beside each."""
    business = selectors.business_of(request.user)
    progress = {o.course.pk: o for o in selectors.outlines_for_business(business=business)} if business else {}
    courses = [(c, progress.get(c.pk)) for c in selectors.course_list()]
    return render(request, "learning/courses.html", {"courses": courses, "business": business})


@require_http_methods(["GET", "POST"])
def course_detail(request: HttpRequest, course: str) -> HttpResponse:
    """The outline with learning outcomes; a business enrols (POST) and continues at its first open lesson."""
    the_course = _course_or_404(course)
    business = selectors.business_of(request.user)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if business is None:
            return redirect("programme:signup")
        try:
            services.course_enrol(business=business, course=the_course)
        except EnrolmentRefused as exc:
            messages.error(request, str(exc))
            return redirect("learning:course", course=the_course.slug)
        outline = selectors.course_outline(
            course=the_course, enrolment=selectors.enrolment_get(business=business, course=the_course)
        )
        if outline.next_lesson is not None:
            return redirect("learning:lesson", course=the_course.slug, lesson_id=outline.next_lesson.pk)
        return redirect("learning:course", course=the_course.slug)
    enrolment = selectors.enrolment_get(business=business, course=the_course)
    outline = selectors.course_outline(course=the_course, enrolment=enrolment)
    context = {"outline": outline, "course": the_course, "training": the_course.training, "business": business}
    return render(request, "learning/course.html", context)


def _check_answers(request: HttpRequest, lesson: Lesson) -> dict[int, list[str]]:
    return {q.pk: request.POST.getlist(f"q{q.pk}") for q in lesson.questions.all()}


@csp_update({"frame-src": ["'self'", *video.FRAME_ORIGINS]})  # 'self': a SCORM package's sandboxed frame
@require_http_methods(["GET", "POST"])
def lesson_detail(request: HttpRequest, course: str, lesson_id: int) -> HttpResponse:
    """A lesson of the business's course: text or video (marked done with a button), or a knowledge check (the
    result with feedback per answer at once; a passed check is done)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    business = selectors.business_of(request.user)
    if business is None:
        return redirect("programme:signup")
    the_course = _course_or_404(course)
    lesson = selectors.lesson_get(course=the_course, lesson_id=lesson_id)
    if lesson is None:
        raise Http404("no such lesson in this course")
    enrolment = selectors.enrolment_get(business=business, course=the_course)
    if enrolment is None:
        messages.info(request, _("Start the course first."))
        return redirect("learning:course", course=the_course.slug)
    status, result, error = 200, None, ""
    if request.method == "POST":
        try:
            if lesson.kind == Lesson.Kind.CHECK:
                result = services.check_submit(
                    enrolment=enrolment, lesson=lesson, answers=_check_answers(request, lesson)
                )
            else:
                services.lesson_done(enrolment=enrolment, lesson=lesson)
                after = selectors.lesson_after(lesson=lesson)
                if after is not None:
                    return redirect("learning:lesson", course=the_course.slug, lesson_id=after.pk)
                return redirect("learning:course", course=the_course.slug)
        except (AnswersInvalid, LessonRefused) as exc:
            status, error = 400, str(exc)
        else:
            if enrolment.completed_at is not None and result is not None and result.passed:
                messages.success(request, _("Congratulations: you have completed the course."))
    outline = selectors.course_outline(course=the_course, enrolment=enrolment)
    by_question = {r.question.pk: r for r in result.questions} if result else {}
    submitted = {q: set(v) for q, v in _check_answers(request, lesson).items()} if error else {}
    items = []
    for q in lesson.questions.prefetch_related("choices") if lesson.kind == Lesson.Kind.CHECK else []:
        r = by_question.get(q.pk)
        picked = {str(c.pk) for c in r.chosen} if r else submitted.get(q.pk, set())
        items.append({"question": q, "result": r, "choices": [(c, str(c.pk) in picked) for c in q.choices.all()]})
    context = {
        "scorm": _scorm_player(request, enrolment, lesson) if lesson.kind == Lesson.Kind.SCORM else None,
        "course": the_course,
        "training": the_course.training,
        "lesson": lesson,
        "body_html": lesson_text.render(lesson.body),
        "embed": video.embed(lesson.video_url) if lesson.kind == Lesson.Kind.VIDEO else None,
        "done": selectors.lesson_done_for(enrolment=enrolment, lesson=lesson),
        "after": selectors.lesson_after(lesson=lesson),
        "outline": outline,
        "items": items,
        "result": result,
        "attempts": selectors.attempts_for(enrolment=enrolment, lesson=lesson),
        "error": error,
    }
    return render(request, "learning/lesson.html", context, status=status)


@login_required
def statistics(request: HttpRequest) -> HttpResponse:
    """Per course: enrolled → started → completed, the drop-off per lesson, the average score of each check."""
    if not request.user.has_perm(VIEW_STATISTICS):
        return HttpResponseForbidden(_("This page is for organisers."))
    return render(request, "learning/statistics.html", {"stats": selectors.course_statistics()})


@never_cache
@require_GET
def certificate_pdf(request: HttpRequest, course: str) -> HttpResponse:
    """The certificate of the business's completed course: a tagged PDF (PDF/UA) in the business's language with
    its verification code and a QR code of the verification page."""
    from weasyprint import HTML

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    business = selectors.business_of(request.user)
    the_course = _course_or_404(course)
    enrolment = selectors.enrolment_get(business=business, course=the_course) if business else None
    if enrolment is None or enrolment.completed_at is None:
        raise Http404("no completed course")
    certificate = services.certificate_issue(enrolment=enrolment)
    verify_url = request.build_absolute_uri(reverse("learning:certificate_verify", args=[certificate.code]))
    with translation.override(business.language or "de"):
        context = {
            "certificate": certificate,
            "course": the_course,
            "training": the_course.training,
            "language": translation.get_language(),
            "minutes": selectors.course_outline(course=the_course).minutes,
            "verify_url": verify_url,
            "qr": link_qr_svg(verify_url, _("Verify this certificate")),
        }
        html = render_to_string("learning/certificate_pdf.html", context, request=request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf(pdf_variant="pdf/ua-1")
    response = HttpResponse(pdf, content_type="application/pdf")
    day = timezone.localtime(certificate.issued_at).date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="certificate-{the_course.slug}-{day}.pdf"'
    return response


@require_GET
def certificate_check(request: HttpRequest) -> HttpResponse:
    """The public form to check a certificate's code (``?code=``: to its verification page)."""
    typed = request.GET.get("code", "").strip()
    if not typed:
        return render(request, "learning/certificate_verify.html", {"typed": ""})
    canonical = certificate_code.normalise(typed)
    if canonical is None:
        error = _("A verification code has 12 letters and digits, for example 7KQ2-M9XD-4HTR.")
        return render(request, "learning/certificate_verify.html", {"typed": typed, "error": error}, status=400)
    return redirect("learning:certificate_verify", token=canonical)


@require_GET
def certificate_verify(request: HttpRequest, token: str) -> HttpResponse:
    """Whether a certificate code is valid, for which course and day — nothing about who holds it."""
    certificate = selectors.certificate_verify(code=token)
    context = {"typed": token, "certificate": certificate, "checked": True}
    if certificate is None:
        return render(request, "learning/certificate_verify.html", context, status=404)
    context["training"] = certificate.enrolment.course.training
    return render(request, "learning/certificate_verify.html", context)


# ----------------------------------------------------------------------------------------- SCORM

_COMMIT_SALT = "digifit.learning.scorm.commit"


def scorm_commit_token(enrolment, lesson) -> str:
    """The signed address part that lets the lesson page's player store the commits of this enrolment."""
    return signing.dumps([enrolment.pk, lesson.pk], salt=_COMMIT_SALT, compress=True)


def _scorm_player(request: HttpRequest, enrolment, lesson) -> dict | None:
    package = getattr(lesson, "scorm", None)
    if package is None:
        return None
    record = selectors.scorm_record_for(enrolment=enrolment, lesson=lesson)
    launch, _sep, query = package.launch.partition("?")
    return {
        "version": package.version,
        "commitUrl": reverse("learning:scorm_commit", args=[scorm_commit_token(enrolment, lesson)]),
        "contentUrl": reverse("learning:scorm_content", args=[package.key, launch]) + (f"?{query}" if query else ""),
        "cmi": selectors.scorm_start(enrolment=enrolment, package=package),
        "frameTitle": lesson.title_in(translation.get_language() or "de"),
        "doneText": _("Done: the module reports that you have completed it."),
        "saved": record is not None,
    }


@csrf_exempt
@require_POST
def scorm_commit(request: HttpRequest, token: str) -> JsonResponse:
    """A commit of scorm-again for the enrolment and lesson the signed ``token`` names (JSON body).

    No cookie is needed (the end-of-session commit may be sent as the page unloads); the token is only ever
    in the enrolled business's own lesson page. Answers ``{"result": true, "done": …}``, or 400/404.
    """
    try:
        enrolment_id, lesson_id = signing.loads(token, salt=_COMMIT_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise Http404("no such player") from None
    enrolment = selectors.enrolment_by_id(enrolment_id=enrolment_id)
    lesson = Lesson.objects.filter(pk=lesson_id, kind=Lesson.Kind.SCORM).first()
    if enrolment is None or lesson is None:
        raise Http404("no such player")
    try:
        body = json.loads(request.body or b"null")
        services.scorm_commit(enrolment=enrolment, lesson=lesson, commit=body)
    except (ValueError, AnswersInvalid, LessonRefused) as exc:
        return JsonResponse({"result": False, "errorCode": 101, "error": str(exc)[:200]}, status=400)
    done = selectors.lesson_done_for(enrolment=enrolment, lesson=lesson)
    return JsonResponse({"result": True, "errorCode": 0, "done": done})


#: the package's frame: an opaque origin (no allow-same-origin), scripts as authoring tools write them, nothing
#: loaded from elsewhere, framed only by digifit's own lesson page
SCORM_CONTENT_POLICY = "; ".join(
    [
        "sandbox allow-scripts allow-forms allow-popups allow-downloads",
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'none'",
        "frame-ancestors 'self'",
    ]
)
_HEAD = re.compile(rb"<head(\s[^>]*)?>", re.IGNORECASE)


@csp_exempt()
@xframe_options_sameorigin
@require_GET
def scorm_content(request: HttpRequest, package_key: str, path: str) -> HttpResponse:
    """A file of a SCORM package, under the package's random key; its HTML pages get scorm-again's cross-frame
    API. Every answer carries the sandboxing policy, so even opened on its own the package cannot reach the app."""
    package = selectors.scorm_package_by_key(key=package_key)
    if package is None:
        raise Http404("no such package")
    root = (Path(settings.DIGIFIT_SCORM_ROOT) / package.key).resolve()
    target = (root / path).resolve()
    if root not in target.parents or not target.is_file():
        raise Http404("no such file in the package")
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if content_type == "text/html":
        page = target.read_bytes()
        origin = f"{request.scheme}://{request.get_host()}"
        inject = (
            f'<script src="{escape(static("vendor/cross-frame-api.min.js"))}"></script>'
            f'<script src="{escape(static("learning/scorm-frame.js"))}" data-lms="{escape(origin)}"'
            f' data-version="{escape(package.version)}"></script>'
        ).encode()
        match = _HEAD.search(page)
        page = page[: match.end()] + inject + page[match.end() :] if match else inject + page
        response = HttpResponse(page, content_type="text/html; charset=utf-8")
    else:
        response = FileResponse(target.open("rb"), content_type=content_type)
    response["Content-Security-Policy"] = SCORM_CONTENT_POLICY
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "same-origin"
    return response


class PackageUploadForm(forms.Form):
    """An organiser's upload: the package, the module it joins (as its last lesson), an optional title."""

    package = forms.FileField(label=gettext_lazy("SCORM package (.zip)"))
    module = forms.ModelChoiceField(queryset=Module.objects.none(), label=gettext_lazy("Add to module"))
    title = forms.CharField(
        label=gettext_lazy("Lesson title"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("Empty: the title in the package."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = translation.get_language() or "de"
        self.fields["module"].queryset = Module.objects.select_related("course__training").order_by(
            "course__slug", "position"
        )
        self.fields["module"].label_from_instance = lambda m: (
            f"{m.course.training.title_in(language)} · {m.position}. {m.title_in(language)}"
        )
        self.fields["package"].widget.attrs["accept"] = ".zip,application/zip"


@login_required
@require_http_methods(["GET", "POST"])
def packages(request: HttpRequest) -> HttpResponse:
    """SCORM packages: upload one into a course (checked as every upload, the manifest validated), and the list
    with how many businesses started and completed each."""
    if not request.user.has_perm(VIEW_STATISTICS):
        return HttpResponseForbidden(_("This page is for organisers."))
    status = 200
    if request.method == "POST":
        form = PackageUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["package"]
            if upload.size > settings.DIGIFIT_SCORM_MAX_BYTES:
                form.add_error(
                    "package",
                    _("The package is larger than %(limit)s, the most this server accepts.")
                    % {"limit": filesizeformat(settings.DIGIFIT_SCORM_MAX_BYTES)},
                )
            else:
                try:
                    lesson = services.scorm_package_add(
                        module=form.cleaned_data["module"],
                        data=upload,
                        file_name=upload.name,
                        title=form.cleaned_data["title"],
                        root=Path(settings.DIGIFIT_SCORM_ROOT),
                        limits=scorm_upload_limits(),
                    )
                except (UploadRefused, ManifestInvalid) as exc:
                    form.add_error("package", scorm_messages.refusal_text(exc))
                else:
                    messages.success(
                        request,
                        _("The package was added as lesson “%(title)s”. Publish the course to open it.")
                        % {"title": lesson.title}
                        if not lesson.module.course.published
                        else _("The package was added as lesson “%(title)s”.") % {"title": lesson.title},
                    )
                    return redirect("learning:package", package_id=lesson.scorm.pk)
        status = 400
    else:
        form = PackageUploadForm()
    return render(request, "learning/packages.html", {"form": form, "rows": selectors.scorm_packages()}, status=status)


def scorm_upload_limits():
    from digifit.uploads.scorm import SCORM_LIMITS

    return dataclasses.replace(SCORM_LIMITS, max_bytes=int(settings.DIGIFIT_SCORM_MAX_BYTES))


@login_required
@require_http_methods(["GET", "POST"])
def package_detail(request: HttpRequest, package_id: int) -> HttpResponse:
    """One package: its course and lesson, and who played it — status, score, time, when completed. POST
    ``action=delete`` (with the confirmation box) removes the package and its lesson."""
    if not request.user.has_perm(VIEW_STATISTICS):
        return HttpResponseForbidden(_("This page is for organisers."))
    package = selectors.scorm_package_get(package_id=package_id)
    if package is None:
        raise Http404("no such package")
    if request.method == "POST":
        if request.POST.get("action") != "delete" or request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the box to confirm that the package and its lesson are removed."))
            return redirect("learning:package", package_id=package.pk)
        title = package.lesson.title
        services.scorm_package_delete(package=package, root=Path(settings.DIGIFIT_SCORM_ROOT))
        messages.success(request, _("The package “%(title)s” and its lesson were removed.") % {"title": title})
        return redirect("learning:packages")
    context = {"package": package, "learners": selectors.scorm_learners(package=package)}
    return render(request, "learning/package.html", context)


@login_required
def course_export(request: HttpRequest, course: str) -> HttpResponse:
    """The course as a ``digifit-course`` file (JSON) to import into another digifit; for organisers."""
    if not request.user.has_perm(VIEW_STATISTICS):
        return HttpResponseForbidden(_("This page is for organisers."))
    the_course = _course_or_404(course)
    body = json.dumps(course_file.course_export(the_course), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="course-{the_course.slug}.json"'
    return response
