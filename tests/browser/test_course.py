"""A business takes a course in German on a 390 px wide phone screen, in headless Chromium against a live
server: it starts the course, reads a lesson, loads a video only by clicking (nothing from the platform before),
fails the knowledge check and sees the feedback per answer, logs in again and resumes at the check, passes it
and has completed the course — which its programme page shows; it downloads the certificate, and anyone who types
the printed code on the public verification page sees it confirmed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PASSWORD = "kurse-sind-digital-2026"


@pytest.fixture
def taker(transactional_db):
    from learning.conftest import make_business, make_course

    business = make_business(email="mia@kaffeehaus.example")
    business.user.set_password(PASSWORD)
    business.user.save()
    return business, make_course()


def _login(page, username: str) -> None:
    page.goto(f"{page.base_url}/accounts/login/?next=/learning/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    page.wait_for_url("**/learning/")


def _answer(page, check, *, right: bool) -> None:
    for q in check.questions.order_by("position"):
        choices = list(q.choices.order_by("position"))
        wanted = [c for c in choices if c.correct]
        if not right and q.multiple:
            wanted = wanted[:1]  # one of the two right answers missing
        for c in choices:
            box = page.locator(f"input[name=q{q.pk}][value='{c.pk}']")
            if c in wanted:
                box.check()
            elif q.multiple:
                box.uncheck()
    page.locator("#check-submit").click()


def test_take_a_course_fail_then_pass_the_check_resume_and_complete(browser_page, taker):
    from playwright.sync_api import expect

    from digifit.learning import selectors
    from digifit.learning.models import CheckAttempt, Enrolment

    business, course = taker
    check = selectors.lessons_in_order(course)[-1]
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    platform_requests = []

    def player(route):
        platform_requests.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>Player</title><p>Player</p>")

    page.route("https://www.youtube-nocookie.com/**", player)  # never the real platform: tests stay on 127.0.0.1

    _login(page, business.user.username)
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kurse")
    page.get_by_role("link", name="Testkurs").click()
    expect(page.get_by_role("heading", name="Was Sie danach können")).to_be_visible()
    page.get_by_role("button", name="Kurs starten").click()

    # lesson 1: text, marked done → lesson 2
    expect(page.get_by_role("heading", level=1)).to_have_text("Lesen")
    expect(page.locator(".lesson-body strong")).to_have_text("Wichtig")
    page.get_by_role("button", name="Als erledigt markieren und weiter").click()

    # lesson 2: the video loads only on click
    expect(page.get_by_role("heading", level=1)).to_have_text("Schauen")
    page.wait_for_load_state("load")  # the click handler is a deferred script: under load it may come after the button
    expect(page.locator("iframe")).to_have_count(0)
    assert platform_requests == []
    page.get_by_role("button", name="Video laden").click()
    expect(page.locator("iframe.lesson-video-frame")).to_have_attribute(
        "src", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    )
    expect(page.frame_locator("iframe.lesson-video-frame").get_by_text("Player")).to_be_visible()
    page.get_by_role("button", name="Als erledigt markieren und weiter").click()

    # lesson 3: the check, failed first — the result at once with feedback per chosen answer
    expect(page.get_by_role("heading", level=1)).to_have_text("Wissenscheck")
    _answer(page, check, right=False)
    expect(page.locator("#check-result")).to_contain_text("Nicht bestanden: 50 %")
    expect(page.get_by_text("A stimmt.")).to_be_visible()
    expect(page.locator("fieldset.wrong")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    enrolment = Enrolment.objects.get(business=business)
    assert CheckAttempt.objects.filter(enrolment=enrolment, passed=False).count() == 1

    # a new login resumes where it left off: the course page continues at the check
    page.context.clear_cookies()
    _login(page, business.user.username)
    page.goto(f"{page.base_url}/learning/courses/{course.slug}/")
    expect(page.locator("#continue")).to_contain_text("Weiter: Wissenscheck")
    expect(page.get_by_text("2 von 3 Lektionen erledigt")).to_be_visible()
    page.locator("#continue").click()
    _answer(page, check, right=True)
    expect(page.locator("#check-result")).to_contain_text("Bestanden: 100 %")
    expect(page.locator("#course-completed")).to_contain_text("Abgeschlossen am")
    expect(page.get_by_text("Glückwunsch: Sie haben den Kurs abgeschlossen.")).to_be_visible()

    enrolment.refresh_from_db()
    assert enrolment.completed_at is not None
    assert list(CheckAttempt.objects.filter(enrolment=enrolment).values_list("score", flat=True)) == [50, 100]
    page.goto(f"{page.base_url}/programme/me/")
    expect(page.locator("#my-courses")).to_contain_text("Abgeschlossen am")

    # the certificate: a PDF with the verification code, which the public page confirms (for anyone)
    with page.expect_download() as download:
        page.get_by_role("link", name="Zertifikat herunterladen (PDF)").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    code = enrolment.certificate.code
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", download.value.path(), "-"], capture_output=True, text=True).stdout
        assert "Teilnahmezertifikat" in text and code in text
    page.context.clear_cookies()
    page.goto(f"{page.base_url}/learning/certificates/")
    page.get_by_label("Prüfcode").fill(code.lower().replace("-", " "))  # as typed from paper
    page.get_by_role("button", name="Prüfen").click()
    expect(page.locator("#certificate-result")).to_contain_text("Dieses Zertifikat ist gültig.")
    expect(page.locator("#certificate-result")).to_contain_text("Testkurs")
    expect(page.locator("#certificate-result")).not_to_contain_text(business.company)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.console_errors == []
