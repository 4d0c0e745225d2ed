"""Certificates: issued once when a course is completed, downloaded by the business as a tagged PDF in its
language (read back with poppler's pdftotext, as a PDF reader would), checked by anyone on the public
verification page — which says whether a code is valid, for which course and day, and nothing about the
business."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from learning.conftest import make_business, right_answers

pytestmark = pytest.mark.django_db


def _complete(business, course):
    from digifit.learning import selectors, services

    enrolment = services.course_enrol(business=business, course=course)
    *reading, check = selectors.lessons_in_order(course)
    for lesson in reading:
        services.lesson_done(enrolment=enrolment, lesson=lesson)
    services.check_submit(enrolment=enrolment, lesson=check, answers=right_answers(check))
    enrolment.refresh_from_db()
    return enrolment


def _poppler(tool: list[str], pdf: bytes, tmp_path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    out = ["-"] if tool[0] == "pdftotext" else []
    return subprocess.run([*tool, str(path), *out], capture_output=True, text=True, check=True).stdout


def test_completing_a_course_issues_one_certificate_with_a_readable_code(course, business):
    from digifit.learning import selectors, services
    from digifit.learning.models import Certificate

    enrolment = services.course_enrol(business=business, course=course)
    *reading, check = selectors.lessons_in_order(course)
    for lesson in reading:
        services.lesson_done(enrolment=enrolment, lesson=lesson)
    assert not Certificate.objects.exists()  # not completed yet
    from digifit.learning.errors import LessonRefused

    with pytest.raises(LessonRefused):
        services.certificate_issue(enrolment=enrolment)
    services.check_submit(enrolment=enrolment, lesson=check, answers=right_answers(check))
    certificate = Certificate.objects.get()
    enrolment.refresh_from_db()
    assert certificate.enrolment == enrolment and certificate.issued_at == enrolment.completed_at
    assert certificate.holder == business.company
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", certificate.code)
    # passing again or asking again issues nothing new; renaming the business does not rewrite the certificate
    services.check_submit(enrolment=enrolment, lesson=check, answers=right_answers(check))
    business.company = "Neuer Name GmbH"
    business.save()
    assert services.certificate_issue(enrolment=enrolment) == certificate
    assert Certificate.objects.get().holder != "Neuer Name GmbH" and Certificate.objects.count() == 1


def test_codes_are_random_and_typed_codes_are_forgiven():
    from digifit.learning import certificate_code

    codes = {certificate_code.new() for _ in range(200)}
    assert len(codes) == 200
    code = next(iter(codes))
    assert certificate_code.normalise(code.lower().replace("-", " ")) == code
    assert certificate_code.normalise("O1IL-0000-0000") == "0111-0000-0000"  # O read as 0, I and L as 1
    for bad in ("", "7KQ2-M9XD", "7KQ2-M9XD-4HTR-X", "7KQ2-M9XD-4HTU", "7KQ2_M9XD_4HTR"):
        assert certificate_code.normalise(bad) is None, bad


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed")
@pytest.mark.parametrize(
    ("language", "title", "done", "course_title"),
    [
        ("de", "Teilnahmezertifikat", "hat den Online-Kurs erfolgreich abgeschlossen", "Testkurs"),
        ("en", "Certificate of completion", "has successfully completed the online course", "Test course"),
    ],
)
def test_the_business_downloads_its_certificate_in_its_language(
    client, course, tmp_path, language, title, done, course_title
):
    business = make_business()
    business.language = language
    business.save()
    enrolment = _complete(business, course)
    client.force_login(business.user)
    page = client.get(f"/learning/courses/{course.slug}/", headers={"Accept-Language": "de"}).content.decode()
    assert f'href="/learning/courses/{course.slug}/certificate.pdf"' in page
    me = client.get("/programme/me/", headers={"Accept-Language": "de"}).content.decode()
    assert f'href="/learning/courses/{course.slug}/certificate.pdf"' in me

    response = client.get(f"/learning/courses/{course.slug}/certificate.pdf", headers={"Accept-Language": "fr"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith(f'attachment; filename="certificate-{course.slug}-')
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    info = _poppler(["pdfinfo"], pdf, tmp_path)
    assert "Tagged:          yes" in info  # PDF/UA: a screen reader reads it in order
    structure = _poppler(["pdfinfo", "-struct"], pdf, tmp_path)
    assert "H1" in structure and "Figure" in structure  # the QR code is a figure with its accessible name
    text = " ".join(_poppler(["pdftotext"], pdf, tmp_path).split())
    code = enrolment.certificate.code
    assert title in text and done in text and course_title in text and business.company in text
    assert code in text and f"/learning/certificates/{code}/" in text
    assert "Erstens" in text  # the course's learning outcomes


def test_no_certificate_before_completion_nor_for_another_business(client, course):
    owner, other = make_business(), make_business()
    _complete(owner, course)
    url = f"/learning/courses/{course.slug}/certificate.pdf"
    client.force_login(other.user)
    assert client.get(url).status_code == 404  # not enrolled: never the owner's certificate
    from digifit.learning import services

    services.course_enrol(business=other, course=course)
    assert client.get(url).status_code == 404  # enrolled, not completed
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_verification_page_confirms_a_code_and_shows_nothing_about_the_business(client, course, business):
    enrolment = _complete(business, course)
    from digifit.learning import services

    code = services.certificate_issue(enrolment=enrolment).code
    page = client.get(f"/learning/certificates/{code}/", headers={"Accept-Language": "de"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Dieses Zertifikat ist gültig." in html and "Testkurs" in html and code in html
    for private in (business.company, business.contact_name, business.email, business.get_region_display()):
        assert private not in html
    assert '<meta name="robots" content="noindex">' in html

    # the form forgives case, spaces and O/0; it leads to the same page
    typed = code.lower().replace("-", " ").replace("0", "o")
    response = client.get("/learning/certificates/", {"code": typed})
    assert response.status_code == 302 and response["Location"] == f"/learning/certificates/{code}/"


def test_an_unknown_or_malformed_code_is_refused_in_the_visitors_language(client):
    page = client.get("/learning/certificates/7KQ2-M9XD-4HTR/", headers={"Accept-Language": "de"})
    assert page.status_code == 404 and "Kein gültiges Zertifikat hat diesen Code." in page.content.decode()
    page = client.get("/learning/certificates/", {"code": "123"}, headers={"Accept-Language": "en"})
    html = page.content.decode()
    assert page.status_code == 400 and "A verification code has 12 letters and digits" in html
    assert 'aria-invalid="true"' in html
    page = client.get("/learning/certificates/", headers={"Accept-Language": "fr"})
    assert page.status_code == 200 and 'name="code"' in page.content.decode()


def test_deleting_the_business_invalidates_its_certificates(client, course, business):
    from digifit.learning.models import Certificate

    code = _complete(business, course).certificate.code
    business.delete()
    assert not Certificate.objects.exists()
    assert client.get(f"/learning/certificates/{code}/").status_code == 404


def test_the_data_export_lists_the_certificate(course, business):
    from digifit.learning import selectors

    enrolment = _complete(business, course)
    exported = selectors.courses_export(business=business)
    assert exported[0]["certificate"]["code"] == enrolment.certificate.code
    assert exported[0]["certificate"]["holder"] == business.company
