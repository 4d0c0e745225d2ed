"""A completed course counts toward reach automatically, as attendance of kind "course" on its completion day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from learning.conftest import right_answers

pytestmark = pytest.mark.django_db

COURSES_ONLY = {"min_sessions": 1, "kinds": ["course"], "require_check": False}


def _complete(course, business, when):
    from digifit.learning import selectors, services

    enrolment = services.course_enrol(business=business, course=course)
    for lesson in selectors.lessons_in_order(course):
        if lesson.kind == "check":
            services.check_submit(enrolment=enrolment, lesson=lesson, answers=right_answers(lesson), now=when)
        else:
            services.lesson_done(enrolment=enrolment, lesson=lesson, now=when)
    return enrolment


def test_completing_a_course_changes_the_reach_figures(course, business, settings):
    from digifit.programme import reach
    from digifit.programme import selectors as programme

    settings.DIGIFIT_FIT_RULE = COURSES_ONLY
    before = programme.reach_summary().total
    assert (before.registered, before.attended, before.fit) == (1, 0, 0)
    when = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)  # 23:30 in Berlin: still the 10th
    _complete(course, business, when)
    after = programme.reach_summary().total
    assert (after.registered, after.attended, after.fit) == (1, 1, 1)
    [record] = programme.fit_inputs()
    assert record.attended == (reach.Attendance(when.date(), "course"),)
    assert reach.fit_date(record, programme.fit_rule()) == when.date()


def test_a_started_course_does_not_count(course, business, settings):
    from digifit.learning import selectors, services
    from digifit.programme import selectors as programme

    settings.DIGIFIT_FIT_RULE = COURSES_ONLY
    enrolment = services.course_enrol(business=business, course=course)
    services.lesson_done(enrolment=enrolment, lesson=selectors.lessons_in_order(course)[0])
    assert programme.reach_summary().total.fit == 0
    assert programme.fit_inputs()[0].attended == ()


def test_the_default_rule_counts_a_course_as_a_session():
    from datetime import date

    from digifit.programme import reach

    b = reach.Business("b", date(2026, 3, 1), attended=(reach.Attendance(date(2026, 3, 9), "course"),),
                       check_completed_on=date(2026, 3, 2))  # fmt: skip
    assert reach.fit_date(b) == date(2026, 3, 9)
    assert reach.fit_date(b, reach.FitRule(kinds=frozenset({"coaching"}))) is None
