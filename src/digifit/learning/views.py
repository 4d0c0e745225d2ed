"""Pages of the learning app: thin views over :mod:`~digifit.learning.selectors` and :mod:`~digifit.learning.services`.

Who may do what: anyone sees the course list and a course's outline; only the business linked to the logged-in
account enrols, opens lessons, marks them done and takes checks (its own enrolment, never another's: the
enrolment is looked up from the account, never from an id in the request); the organiser
(``programme.view_reach``) sees the statistics. A completed course's certificate (PDF) is the business's own;
its verification page is public and answers only whether a code is valid, for which course and day.
"""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from digifit.learning import certificate_code, lesson_text, selectors, services, video
from digifit.learning.errors import AnswersInvalid, EnrolmentRefused, LessonRefused
from digifit.learning.models import Lesson
from digifit.survey.qr import link_qr_svg

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


@csp_update({"frame-src": list(video.FRAME_ORIGINS)})
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
