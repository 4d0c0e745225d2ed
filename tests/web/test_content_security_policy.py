"""Every page of the product is sent with a Content-Security-Policy that allows no inline script or style, and
its HTML needs none: no inline executable <script>, no style="..." attribute, no <style> element, no on*= handler.

The pages are the named routes of the URL conf that answer GET with HTML, each opened as the role that may see
it, with real objects from the demo loaders (waves, submissions, catalogue, checks). A new route fails
``test_every_route_is_a_checked_page_or_named_as_not_a_page`` until it is added to ``PAGES`` or ``NOT_PAGES``.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

# routes that are not HTML pages answered to GET (files, JSON, POST-only actions, fragments polled by HTMX)
NOT_PAGES = {
    "logout": "POST only",
    "analysis:json": "JSON",
    "reports:start": "POST only",
    "reports:status": "HTMX fragment of one report job (checked with the reports page)",
    "reports:download": "PDF/XLSX file",
    "programme:series_feed": "iCalendar",
    "programme:session_ics": "iCalendar",
    "programme:personal_feed": "iCalendar",
    "programme:me_export": "JSON export",
    "programme:me_delete": "POST only",
    "programme:attendance": "POST only",
    "programme:reach_csv": "CSV",
    "assessment:consent": "POST only",
    "assessment:result_pdf": "a PDF",
    "learning:certificate": "a PDF",
    "learning:course_export": "JSON file",
    "learning:scorm_content": "a SCORM package's files: own sandboxing policy (tests/learning/test_scorm.py)",
    "learning:scorm_commit": "POST only (JSON)",
    "assessment:delete": "POST only",
    "survey:wave_status": "POST only (HTMX)",
    "survey:respond_open_relevance": "POST only (JSON)",
    "survey:respond_test_relevance": "POST only (JSON)",
    "survey:respond_relevance": "POST only (JSON)",
    "programme:me_confirm": "POST action (sends the confirmation e-mail again)",
    "programme:check_claim": "POST action (claims a Digital-Check result)",
    "programme:attendance_all_present": "POST only",
    # NOT CHECKED here yet: pages behind a signed e-mail token (their templates have no inline script or style)
    "programme:signup_confirm": "page behind a signed e-mail token (not checked here)",
    "staff_welcome": "page behind an e-mailed token (checked in tests/web/test_staff.py)",
    "programme:check_claim_link": "page behind a signed e-mail token (not checked here)",
}
EXCLUDED_PREFIXES = ("api/", "openrosa/", "i18n/")  # JSON/XML for machines; the admin is Django's own


class _Inline(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        for name, _value in attrs:
            if name == "style":
                self.problems.append(f"<{tag} style=...>")
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action") and (_value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:...>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and not names.get("src") and names.get("type") != "application/json":
            self.problems.append("inline <script>")


def _inline_problems(html: str) -> list[str]:
    parser = _Inline()
    parser.feed(html)
    return parser.problems


def _route_names(resolver=None, prefix: str = "", route: str = "") -> set[str]:
    names = set()
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            sub = f"{prefix}{p.namespace}:" if p.namespace else prefix
            full = route + str(p.pattern)
            if full.startswith(EXCLUDED_PREFIXES) or p.app_name == "admin":
                continue
            names |= _route_names(p, sub, full)
        elif isinstance(p, URLPattern) and p.name:
            if (route + str(p.pattern)).startswith(EXCLUDED_PREFIXES):
                continue
            names.add(prefix + p.name)
    return names


@pytest.fixture
def world(settings, tmp_path):
    """The demo's users, one small wave with submissions, the catalogue and Digital-Check results."""
    settings.DATA_DIR = tmp_path
    settings.DIGIFIT_DEMO_MAILBOX = True  # the demo's mailbox page is checked too
    from digifit.demo import tour
    from digifit.demo.catalogue import load_catalogue
    from digifit.programme import services as programme_services
    from digifit.programme.models import Registration, Series, Session, Training
    from digifit.reports import selectors
    from digifit.survey import services
    from digifit.survey.models import Submission, Wave
    from digifit.survey.respond import version_test_key, wave_open_key

    tour.users_load()
    version = tour.questionnaire_load()
    tour.waves_load(version=version, rows=400, n_waves=1)
    selectors._analysis.cache_clear()
    selectors._headline.cache_clear()
    load_catalogue(businesses=12)
    tour.business_owner_link()
    tour.checks_load(n=3)
    from digifit.demo.courses import load_courses
    from digifit.learning.models import Certificate, Enrolment, ScormPackage

    load_courses(takers=3)
    from digifit.demo.scorm_package import load_scorm_course

    settings.DIGIFIT_SCORM_ROOT = tmp_path / "scorm"
    load_scorm_course(root=settings.DIGIFIT_SCORM_ROOT)
    wave = Wave.objects.get()
    wave.status, wave.opens_at, wave.closes_at = Wave.Status.OPEN, None, None
    wave.save(update_fields=["status", "opens_at", "closes_at"])
    invitation = services.invitation_create(wave=wave, panel_id="P-CSP", email="csp@example.org", language="de")
    from django.utils import timezone

    from digifit.assessment.models import Assessment

    # a cancellation link expires when its session starts: one of a future session
    registration = Registration.objects.filter(session__start__gt=timezone.now()).first()
    session = Session.objects.first()
    from digifit.survey.models import Webhook

    webhook = Webhook.objects.create(
        questionnaire=version.questionnaire, url="https://hooks.example.org/in", secret="s" * 32
    )
    return {
        "survey:webhooks": {"form_id": version.questionnaire.form_id},
        "survey:webhook": {"webhook_id": webhook.pk},
        "survey:questionnaire": {"form_id": version.questionnaire.form_id},
        "survey:wave": {"wave_id": wave.pk},
        "survey:submissions": {"wave_id": wave.pk},
        "survey:invitations": {"wave_id": wave.pk},
        "survey:mail_texts": {"wave_id": wave.pk},
        "survey:submission": {"instance_id": str(Submission.objects.values_list("instance_id", flat=True)[0])},
        "survey:respond_open": {"key": wave_open_key(wave)},
        "survey:respond_open_thanks": {"key": wave_open_key(wave)},
        "survey:respond_test": {"key": version_test_key(version)},
        "survey:respond_test_thanks": {"key": version_test_key(version)},
        "survey:version_test": {"form_id": version.questionnaire.form_id, "version": version.version},
        "survey:respond_form": {"token": invitation.token},
        "survey:respond_thanks": {"token": invitation.token},
        "programme:training": {"slug": Training.objects.values_list("slug", flat=True)[0]},
        "programme:series": {"slug": Series.objects.values_list("slug", flat=True)[0]},
        "programme:session": {"session_id": session.pk},
        "site_page_edit": {"page": "imprint"},
        "programme:coach_session": {"session_id": session.pk},
        "programme:registration_cancel": {"token": programme_services.cancel_token(registration)},
        "assessment:result": {"token": Assessment.objects.values_list("token", flat=True)[0]},
        **_learning_pages(Enrolment),
        "learning:certificate_verify": {"token": Certificate.objects.values_list("code", flat=True)[0]},
        "learning:package": {"package_id": ScormPackage.objects.values_list("pk", flat=True)[0]},
    }


def _scorm_lesson_url() -> str:
    """The demo's SCORM lesson, with the demo business enrolled in its course."""
    from digifit.learning import services
    from digifit.learning.models import ScormPackage
    from digifit.programme.models import Business

    lesson = ScormPackage.objects.select_related("lesson__module__course").get().lesson
    services.course_enrol(business=Business.objects.get(user__username="betrieb"), course=lesson.module.course)
    return f"/learning/courses/{lesson.module.course.slug}/lessons/{lesson.pk}/"


def _learning_pages(enrolment_model) -> dict:
    """The course the demo business ("betrieb") is part-way through, and a video lesson of the test course."""
    enrolment = enrolment_model.objects.select_related("course").get(business__user__username="betrieb")
    lesson = enrolment.course.modules.get(position=2).lessons.order_by("-position").first()  # its check
    return {
        "learning:course": {"course": enrolment.course.slug},
        "learning:lesson": {"course": enrolment.course.slug, "lesson_id": lesson.pk},
    }


# route name -> who opens it (a demo user name, or None: anonymous)
PAGES = {
    "login": None,
    "front": None,
    "imprint": None,
    "privacy": None,
    "site_page_edit": "organiser",
    "staff": "admin",
    "demo_mailbox": None,
    "survey:dashboard": "manager",
    "survey:questionnaire": "manager",
    "survey:wave": "manager",
    "survey:invitations": "manager",
    "survey:webhooks": "manager",
    "survey:mail_texts": "manager",
    "survey:webhook": "manager",
    "survey:submissions": "analyst",
    "survey:submission": "analyst",
    "survey:respond_open": None,
    "survey:respond_open_thanks": None,
    "survey:respond_test": None,
    "survey:respond_test_thanks": None,
    "survey:version_test": "manager",
    "survey:respond_form": None,
    "survey:respond_thanks": None,
    "dashboard": "analyst",
    "analysis:page": "analyst",
    "analysis:results": "analyst",
    "reports:list": "analyst",
    "reports:margins": "analyst",
    "programme:catalogue": None,
    "programme:training": None,
    "programme:series": None,
    "programme:session": None,
    "programme:registration_cancel": None,
    "programme:signup": None,
    "programme:signup_sent": None,
    "home": "manager",
    "programme:me": "betrieb",
    "programme:coach": "coach",
    "programme:coach_session": "coach",
    "programme:reach": "organiser",
    "assessment:check": None,
    "assessment:result": None,
    "learning:courses": "betrieb",
    "learning:course": "betrieb",
    "learning:lesson": "betrieb",
    "learning:statistics": "organiser",
    "learning:certificate_check": None,
    "learning:packages": "organiser",
    "programme:course_import": "organiser",
    "learning:package": "organiser",
    "learning:certificate_verify": None,
}


def test_every_route_is_a_checked_page_or_named_as_not_a_page():
    assert _route_names() - set(PAGES) - set(NOT_PAGES) == set()
    assert set(PAGES) | set(NOT_PAGES) <= _route_names()


def test_every_page_has_the_policy_and_no_inline_script_or_style(client, world):
    users = get_user_model().objects
    visits = [(reverse(name, kwargs=world.get(name, {})), who) for name, who in PAGES.items()]
    visits += [
        ("/programme/?q=Kasse", None),
        ("/analysis/?by=size&by2=country", "analyst"),
        ("/accounts/login/?next=/analysis/", None),
        (_scorm_lesson_url(), "betrieb"),  # the SCORM player: its config is a JSON data block, not a script
    ]
    checked, problems = [], {}
    for url, who in visits:
        client.logout()
        if who:
            client.force_login(users.get(username=who))
        # thanks pages before an answer lead back to the form (follow); every page must end in a 200
        resp = client.get(url, headers={"Accept-Language": "de"}, follow=True)
        assert resp.status_code == 200, (url, who, resp.status_code)
        policy = resp.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy, (url, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (url, policy)
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        found = _inline_problems(resp.content.decode())
        if found:
            problems[url] = found
        checked.append(url)
    assert problems == {}
    assert len(checked) == len(PAGES) + 4


def test_the_inline_detector_sees_what_it_must():
    html = (
        '<p style="x">a</p><button onclick="y()">b</button><script>z()</script><style>p{}</style>'
        '<a href="javascript:void(0)">c</a><script src="/s.js"></script><script type="application/json">{}</script>'
    )
    assert _inline_problems(html) == [
        "<p style=...>",
        "<button onclick=...>",
        "inline <script>",
        "<style> element",
        "<a href=javascript:...>",
    ]
