"""SCORM in headless Chromium: the demo's SCORM 1.2 package (and the same quiz as SCORM 2004) plays in the
lesson page through scorm-again, inside a sandboxed frame that cannot read the app's cookies; its answers,
score and status are stored on the server, a passed package completes its lesson (and the course), and a new
visit resumes from the stored suspend data."""

from __future__ import annotations

import pytest

PASSWORD = "scorm-ist-alt-aber-gut"


@pytest.fixture
def scorm_lesson(transactional_db, settings, tmp_path, request):
    from learning.conftest import make_business

    from digifit.demo.scorm_package import build_package
    from digifit.learning import services
    from digifit.learning.models import Course, Module
    from digifit.programme import services as programme

    settings.DIGIFIT_SCORM_ROOT = tmp_path / "scorm"
    version = request.param
    business = make_business(email=f"scorm{version.replace('.', '')}@example.org")
    business.user.set_password(PASSWORD)
    business.user.save()
    training = programme.training_upsert(slug="kurs-scorm", title="Bewertungen", topic="storytelling")
    course = Course.objects.create(training=training, slug="scorm-kurs", published=True)
    module = Module.objects.create(course=course, position=1, title="Quiz")
    lesson = services.scorm_package_add(
        module=module, data=build_package(version=version), file_name="quiz.zip", root=settings.DIGIFIT_SCORM_ROOT
    )
    services.course_enrol(business=business, course=course)
    return business, course, lesson


def _login(page, username: str, next_url: str) -> None:
    page.goto(f"{page.base_url}/accounts/login/?next={next_url}")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    page.wait_for_url(f"**{next_url}")


@pytest.mark.parametrize("scorm_lesson", ["1.2", "2004"], indirect=True)
def test_a_scorm_package_plays_stores_its_result_and_completes_the_lesson(browser_page, scorm_lesson):
    from playwright.sync_api import expect

    from digifit.learning.models import Enrolment, LessonProgress, ScormRecord

    business, course, lesson = scorm_lesson
    page = browser_page
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    url = f"/learning/courses/{course.slug}/lessons/{lesson.pk}/"
    _login(page, business.user.username, url)
    frame = page.frame_locator("iframe.scorm-frame")
    expected = "SCORM 2004" if lesson.scorm.version == "2004" else "SCORM 1.2"
    expect(frame.locator("#lms")).to_have_text(f"Verbunden mit der Lernplattform ({expected}).")

    # the package's frame is sandboxed: an opaque origin without the app's cookies
    sandbox = page.locator("iframe.scorm-frame").get_attribute("sandbox")
    assert "allow-same-origin" not in sandbox and "allow-scripts" in sandbox
    content = next(f for f in page.frames if "/learning/scorm/" in f.url)
    assert content.evaluate("() => { try { return document.cookie; } catch (e) { return e.name; } }") == "SecurityError"
    assert content.evaluate("() => window.origin") == "null"

    # one right answer first: stored as suspend data at once (autocommit after each change)
    frame.get_by_label("Innerhalb von ein bis zwei Tagen.").check()
    enrolment = Enrolment.objects.get(business=business)

    def stored():
        record = ScormRecord.objects.filter(enrolment=enrolment, lesson=lesson).first()
        return record.cmi.get("suspend_data", "") if record else ""

    _wait_until(page, lambda: stored() == "q2=a")

    # a new visit resumes: the stored answer is checked again
    page.reload()
    expect(page.frame_locator("iframe.scorm-frame").get_by_label("Innerhalb von ein bis zwei Tagen.")).to_be_checked()
    frame = page.frame_locator("iframe.scorm-frame")
    frame.get_by_label("Danke für die offene Rückmeldung", exact=False).check()
    frame.get_by_label("Persönlich danken", exact=False).check()
    frame.get_by_role("button", name="Auswerten").click()
    expect(frame.locator("#result")).to_have_text("3 von 3 richtig – bestanden. Gut gemacht!")
    _wait_until(page, lambda: LessonProgress.objects.filter(enrolment=enrolment, lesson=lesson).exists())
    record = _settled(page, lambda: ScormRecord.objects.get(enrolment=enrolment, lesson=lesson))
    assert record.score == 100 and record.success == "passed" and record.completion == "completed"
    _settled(page, enrolment.refresh_from_db)
    assert enrolment.completed_at is not None  # the package was the course's only lesson
    expect(page.locator("#scorm-status")).to_have_text("Erledigt: Das Modul meldet, dass Sie es abgeschlossen haben.")
    assert page.console_errors == []


def _wait_until(page, condition, *, tries: int = 600) -> None:
    """Poll a database condition while the page keeps running (the commit is asynchronous): up to 2 minutes,
    as long as the browser tests' other waits."""
    from django.db import OperationalError

    for _ in range(tries):
        try:
            if condition():
                return
        except OperationalError:  # SQLite's shared in-memory test database: the server thread is writing
            pass
        page.wait_for_timeout(200)
    raise AssertionError("condition not met")


def _settled(page, read):
    """``read()`` once the server thread's write is over (see :func:`_wait_until`)."""
    from django.db import OperationalError

    for _ in range(600):
        try:
            return read()
        except OperationalError:
            page.wait_for_timeout(200)
    raise AssertionError("the database stayed locked")
