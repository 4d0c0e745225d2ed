"""The learning pages: who may see and change what, the check's result with feedback, resuming, completion."""

from __future__ import annotations

import pytest

from learning.conftest import make_business, right_answers, wrong_answers

pytestmark = pytest.mark.django_db


def _lessons(course):
    from digifit.learning import selectors

    return selectors.lessons_in_order(course)


def _lesson_url(course, lesson) -> str:
    return f"/learning/courses/{course.slug}/lessons/{lesson.pk}/"


def _post_answers(client, course, lesson, answers):
    data = {f"q{q}": [str(c) for c in cs] for q, cs in answers.items()}
    return client.post(_lesson_url(course, lesson), data, headers={"Accept-Language": "de"})


def test_anonymous_sees_the_outline_but_is_sent_to_login_for_lessons_and_enrolment(client, course):
    page = client.get(f"/learning/courses/{course.slug}/", headers={"Accept-Language": "de"})
    assert page.status_code == 200 and "Lesen" in page.content.decode() and "Erstens" in page.content.decode()
    lesson = _lessons(course)[0]
    for response in (client.get(_lesson_url(course, lesson)), client.post(f"/learning/courses/{course.slug}/")):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    from digifit.learning.models import Enrolment

    assert not Enrolment.objects.exists()


def test_a_business_enrols_takes_the_course_and_completes_it(client, course, business):
    from digifit.learning.models import CheckAttempt, Enrolment

    text, video, check = _lessons(course)
    client.force_login(business.user)
    start = client.post(f"/learning/courses/{course.slug}/")
    assert start.status_code == 302 and start["Location"] == _lesson_url(course, text)
    page = client.get(_lesson_url(course, text), headers={"Accept-Language": "de"}).content.decode()
    assert "<strong>Wichtig</strong>" in page and "<script>x()" not in page
    assert client.post(_lesson_url(course, text))["Location"] == _lesson_url(course, video)
    video_page = client.get(_lesson_url(course, video))
    assert 'data-video-src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in video_page.content.decode()
    assert "<iframe" not in video_page.content.decode()  # nothing from the platform before the click
    assert "https://www.youtube-nocookie.com" in video_page["Content-Security-Policy"]
    # resume: the course page continues at the first open lesson
    assert (
        f'id="continue" href="{_lesson_url(course, video)}"'
        in client.get(f"/learning/courses/{course.slug}/").content.decode()
    )
    client.post(_lesson_url(course, video))
    failed = _post_answers(client, course, check, wrong_answers(check))
    html = failed.content.decode()
    assert failed.status_code == 200 and "Nicht bestanden" in html and "50" in html
    assert "A stimmt." in html and "Genau." in html and "B stimmt." not in html  # feedback of the chosen answers
    passed = _post_answers(client, course, check, right_answers(check)).content.decode()
    assert "Bestanden" in passed and "100" in passed
    enrolment = Enrolment.objects.get(business=business)
    assert enrolment.completed_at is not None
    assert CheckAttempt.objects.filter(enrolment=enrolment).count() == 2
    me = client.get("/programme/me/", headers={"Accept-Language": "de"}).content.decode()
    assert 'id="my-courses"' in me and "Abgeschlossen am" in me


def test_incomplete_answers_are_a_400_with_a_message_and_nothing_stored(client, course, business):
    from digifit.learning import services
    from digifit.learning.models import CheckAttempt

    check = _lessons(course)[2]
    services.course_enrol(business=business, course=course)
    client.force_login(business.user)
    response = client.post(_lesson_url(course, check), {}, headers={"Accept-Language": "de"})
    assert response.status_code == 400 and "Frage 1" in response.content.decode()
    assert not CheckAttempt.objects.exists()


def test_another_business_neither_sees_nor_changes_someone_elses_progress(client, course, business):
    from digifit.learning import services
    from digifit.learning.models import CheckAttempt, Enrolment, LessonProgress

    text, _video, check = _lessons(course)
    mine = services.course_enrol(business=business, course=course)
    services.lesson_done(enrolment=mine, lesson=text)
    services.check_submit(enrolment=mine, lesson=check, answers=wrong_answers(check))
    other = make_business()
    client.force_login(other.user)
    # not enrolled: the lesson page sends it to the course page, showing nothing of the first business
    response = client.get(_lesson_url(course, check))
    assert response.status_code == 302 and response["Location"] == f"/learning/courses/{course.slug}/"
    course_page = client.get(f"/learning/courses/{course.slug}/").content.decode()
    assert 'id="enrol"' in course_page and "1 of 3" not in course_page and business.company not in course_page
    client.post(_lesson_url(course, text))
    _post_answers(client, course, check, right_answers(check))
    assert not Enrolment.objects.filter(business=other).exists()
    assert LessonProgress.objects.filter(enrolment=mine).count() == 1
    assert CheckAttempt.objects.count() == 1 and Enrolment.objects.get(pk=mine.pk).completed_at is None
    # enrolled, its own attempts only
    services.course_enrol(business=other, course=course)
    page = client.get(_lesson_url(course, check), headers={"Accept-Language": "en"}).content.decode()
    assert 'id="attempts"' not in page


def test_a_staff_account_without_business_cannot_enrol(client, course):
    from django.contrib.auth import get_user_model

    from digifit.learning.models import Enrolment

    client.force_login(get_user_model().objects.create_user(username="staff-x", password="pw-Secret-123"))
    response = client.post(f"/learning/courses/{course.slug}/")
    assert response.status_code == 302 and response["Location"] == "/programme/signup/"
    assert not Enrolment.objects.exists()


def test_statistics_are_for_organisers(client, course, business):
    from django.contrib.auth import get_user_model

    from digifit.programme import roles

    client.force_login(business.user)
    assert client.get("/learning/statistics/").status_code == 403
    organiser = get_user_model().objects.create_user(username="org-x", password="pw-Secret-123")
    roles.user_role_assign(user=organiser, role=roles.ORGANISER)
    client.force_login(organiser)
    page = client.get("/learning/statistics/", headers={"Accept-Language": "de"})
    assert page.status_code == 200 and f'data-course="{course.slug}"' in page.content.decode()


def test_an_unknown_course_or_a_lesson_of_another_course_is_404(client, course, business):
    import copy

    from digifit.learning import services
    from learning.conftest import COURSE, make_course

    other = make_course(copy.deepcopy(COURSE) | {"slug": "zweiter-kurs"}, slug="zweites-training")
    services.course_enrol(business=business, course=course)
    client.force_login(business.user)
    assert client.get("/learning/courses/no-such/").status_code == 404
    assert client.get(_lesson_url(course, _lessons(other)[0])).status_code == 404


def test_the_business_export_has_its_courses_and_deleting_the_business_removes_them(client, course, business):
    import json

    from digifit.learning import services
    from digifit.learning.models import CheckAttempt, Enrolment, LessonProgress

    text, _video, check = _lessons(course)
    enrolment = services.course_enrol(business=business, course=course)
    services.lesson_done(enrolment=enrolment, lesson=text)
    services.check_submit(enrolment=enrolment, lesson=check, answers=wrong_answers(check))
    client.force_login(business.user)
    data = json.loads(client.get("/programme/me/export.json").content)
    [entry] = data["courses"]
    assert entry["course"] == course.slug and entry["completed_at"] is None
    assert [x["lesson"] for x in entry["lessons_done"]] == ["Lesen"]
    assert [(a["score"], a["passed"]) for a in entry["check_attempts"]] == [(50, False)]
    client.post("/programme/me/delete/", {"confirm": "yes"})
    assert not Enrolment.objects.exists() and not LessonProgress.objects.exists() and not CheckAttempt.objects.exists()
