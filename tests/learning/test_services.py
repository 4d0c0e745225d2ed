"""Courses as stored, enrolment, lessons done, knowledge checks graded and stored, completion by rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from learning.conftest import COURSE, make_business, make_course, right_answers, wrong_answers

pytestmark = pytest.mark.django_db


def _lessons(course):
    from digifit.learning import selectors

    return selectors.lessons_in_order(course)


def test_a_course_is_stored_in_order_with_its_checks(course):
    from digifit.learning.models import Choice, Question

    text, video, check = _lessons(course)
    assert [text.title, video.title, check.title] == ["Lesen", "Schauen", "Wissenscheck"]
    assert (text.module.position, video.module.position, check.module.position) == (1, 1, 2)
    assert course.outcome_list == ["Erstens", "Zweitens"]
    assert Question.objects.filter(lesson=check).count() == 2
    assert Choice.objects.filter(question__lesson=check, correct=True).count() == 3
    # loading again changes nothing
    from digifit.learning import services

    again, created = services.course_load(training=course.training, data=COURSE)
    assert again.pk == course.pk and not created


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["modules"][1]["lessons"][0]["questions"][0]["choices"][0].update(correct=False), "question 1"),
        (lambda d: d["modules"][0]["lessons"][1].pop("video_url"), "lesson 2: video_url"),
        (lambda d: d["modules"][0]["lessons"][0].update(kind="scorm"), "kind 'scorm'"),
        (lambda d: d.update(completion_rule="sometimes"), "completion_rule"),
    ],
)
def test_a_bad_course_file_is_refused_naming_the_place_and_nothing_is_stored(db, change, named):
    import copy

    from digifit.learning.errors import CourseDataInvalid
    from digifit.learning.models import Course, Lesson

    data = copy.deepcopy(COURSE)
    change(data)
    with pytest.raises(CourseDataInvalid, match=named):
        make_course(data)
    assert not Course.objects.exists() and not Lesson.objects.exists()


def test_enrolling_twice_gives_one_enrolment_and_an_unpublished_course_refuses(course, business):
    from digifit.learning import services
    from digifit.learning.errors import EnrolmentRefused

    first = services.course_enrol(business=business, course=course)
    assert services.course_enrol(business=business, course=course).pk == first.pk
    course.published = False
    course.save()
    with pytest.raises(EnrolmentRefused):
        services.course_enrol(business=make_business(), course=course)


def test_the_outline_continues_at_the_first_open_lesson(course, business):
    from digifit.learning import selectors, services

    text, video, check = _lessons(course)
    enrolment = services.course_enrol(business=business, course=course)
    assert selectors.course_outline(course=course, enrolment=enrolment).next_lesson == text
    services.lesson_done(enrolment=enrolment, lesson=video)  # out of order: the first open one is still the text
    outline = selectors.course_outline(course=course, enrolment=enrolment)
    assert (outline.next_lesson, outline.done, outline.total, outline.percent) == (text, 1, 3, 33)
    services.lesson_done(enrolment=enrolment, lesson=text)
    assert selectors.course_outline(course=course, enrolment=enrolment).next_lesson == check


def test_a_check_is_graded_per_question_stored_and_done_only_when_passed(course, business):
    from digifit.learning import selectors, services
    from digifit.learning.errors import LessonRefused
    from digifit.learning.models import CheckAttempt

    _text, _video, check = _lessons(course)
    enrolment = services.course_enrol(business=business, course=course)
    with pytest.raises(LessonRefused):
        services.lesson_done(enrolment=enrolment, lesson=check)
    failed = services.check_submit(enrolment=enrolment, lesson=check, answers=wrong_answers(check))
    assert (failed.attempt.score, failed.passed) == (50, False)  # 1 of 2 right; pass mark 100
    assert [r.right for r in failed.questions] == [True, False]
    assert not selectors.lesson_done_for(enrolment=enrolment, lesson=check)
    passed = services.check_submit(enrolment=enrolment, lesson=check, answers=right_answers(check))
    assert (passed.attempt.score, passed.passed) == (100, True)
    assert selectors.lesson_done_for(enrolment=enrolment, lesson=check)
    assert list(CheckAttempt.objects.filter(enrolment=enrolment).values_list("score", flat=True)) == [50, 100]


@pytest.mark.parametrize(
    "answers",
    [
        lambda check, q1, q2: {q2.pk: [c.pk for c in q2.choices.all()]},  # question 1 not answered
        lambda check, q1, q2: {q1.pk: [c.pk for c in q1.choices.all()], q2.pk: [q2.choices.first().pk]},  # 2 radios
        lambda check, q1, q2: {q1.pk: [q2.choices.first().pk], q2.pk: [q2.choices.first().pk]},  # foreign choice
        lambda check, q1, q2: {q1.pk: ["x"], q2.pk: [q2.choices.first().pk]},
    ],
)
def test_invalid_answers_store_nothing(course, business, answers):
    from digifit.learning import services
    from digifit.learning.errors import AnswersInvalid
    from digifit.learning.models import CheckAttempt

    check = _lessons(course)[2]
    q1, q2 = check.questions.order_by("position")
    enrolment = services.course_enrol(business=business, course=course)
    with pytest.raises(AnswersInvalid):
        services.check_submit(enrolment=enrolment, lesson=check, answers=answers(check, q1, q2))
    assert not CheckAttempt.objects.exists()


def test_a_lesson_of_another_course_is_refused(course, business):
    import copy

    from digifit.learning import services
    from digifit.learning.errors import LessonRefused

    other_data = copy.deepcopy(COURSE) | {"slug": "anderer-kurs"}
    other = make_course(other_data, slug="anderes-training")
    enrolment = services.course_enrol(business=business, course=course)
    with pytest.raises(LessonRefused):
        services.lesson_done(enrolment=enrolment, lesson=_lessons(other)[0])


def test_completion_all_lessons_is_dated_once(course, business):
    from digifit.learning import services
    from digifit.learning.models import Enrolment

    text, video, check = _lessons(course)
    enrolment = services.course_enrol(business=business, course=course)
    t0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    services.lesson_done(enrolment=enrolment, lesson=text, now=t0)
    services.check_submit(enrolment=enrolment, lesson=check, answers=right_answers(check), now=t0)
    assert Enrolment.objects.get(pk=enrolment.pk).completed_at is None  # the video is still open
    services.lesson_done(enrolment=enrolment, lesson=video, now=t0 + timedelta(days=2))
    assert Enrolment.objects.get(pk=enrolment.pk).completed_at == t0 + timedelta(days=2)
    services.check_submit(enrolment=enrolment, lesson=check, answers=right_answers(check), now=t0 + timedelta(days=9))
    assert Enrolment.objects.get(pk=enrolment.pk).completed_at == t0 + timedelta(days=2)  # never moves


def test_completion_by_final_check_needs_only_the_check(db, business):
    import copy

    from digifit.learning import services
    from digifit.learning.models import Enrolment

    data = copy.deepcopy(COURSE) | {"slug": "finalkurs", "completion_rule": "final_check"}
    course = make_course(data, slug="final-training")
    check = _lessons(course)[2]
    enrolment = services.course_enrol(business=business, course=course)
    services.check_submit(enrolment=enrolment, lesson=check, answers=wrong_answers(check))
    assert Enrolment.objects.get(pk=enrolment.pk).completed_at is None
    services.check_submit(enrolment=enrolment, lesson=check, answers=right_answers(check))
    assert Enrolment.objects.get(pk=enrolment.pk).completed_at is not None


def test_lesson_text_is_sanitised_markdown():
    from digifit.learning.lesson_text import render

    html = render(
        '**fett** <script>x()</script> [a](javascript:alert(1)) [b](https://example.org "t")\n\n<img src=x onerror=y>'
    )
    assert "<strong>fett</strong>" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=y&gt;" in html  # shown as text, never run
    assert '<a href="https://example.org" title="t" rel="noopener noreferrer">b</a>' in html


def test_statistics_count_the_funnel_drop_off_and_average_score(course):
    from digifit.learning import selectors, services

    text, video, check = _lessons(course)
    a, b, c = make_business(), make_business(), make_business()
    ea = services.course_enrol(business=a, course=course)
    eb = services.course_enrol(business=b, course=course)
    services.course_enrol(business=c, course=course)  # enrolled, never started
    for e in (ea, eb):
        services.lesson_done(enrolment=e, lesson=text)
    services.lesson_done(enrolment=ea, lesson=video)
    services.check_submit(enrolment=ea, lesson=check, answers=wrong_answers(check))  # 50
    services.check_submit(enrolment=ea, lesson=check, answers=right_answers(check))  # 100
    [stats] = selectors.course_statistics()
    assert (stats.enrolled, stats.started, stats.completed) == (3, 2, 1)
    assert [(row.done, row.dropped) for row in stats.lessons] == [(2, 0), (1, 1), (1, 0)]
    [score] = stats.checks
    assert (score.attempts, score.average, score.passed) == (2, 75.0, 1)
