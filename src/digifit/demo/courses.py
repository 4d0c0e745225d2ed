"""The demo's courses: three short sector courses (travel, gastronomy, retail) and one on storytelling, written in
German with English titles (``courses_data/courses.json``), each with real lessons and a knowledge check.

``load_courses()`` stores each course's catalogue training and the course (idempotent: a course that exists is
left as it is). On the first load it also lets synthetic businesses take the courses at their own pace over
the past weeks (some stop, some fail a check before passing it, some complete), so the organiser's statistics
and the reach figures show something, and puts the ``betrieb`` demo business part-way through the course of
its sector: the first module done, the rest open.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources

__all__ = ["CoursesLoaded", "load_courses"]

SECTOR_COURSE = {
    "travel": "reise-online-buchbar",
    "gastronomy": "gastro-bestellungen",
    "retail": "handel-click-collect",
}
OTHER_COURSE = "storytelling"
DEMO_OWNER_EMAIL = "betrieb001@example.org"


@dataclass(frozen=True)
class CoursesLoaded:
    courses: int
    enrolments: int
    created: bool


def _rows() -> list[dict]:
    text = resources.files("digifit.demo.courses_data").joinpath("courses.json").read_text("utf-8")
    return json.loads(text)


def _answers(lesson, *, right: bool) -> dict[int, list[int]]:
    """Right answers to every question, or (``right=False``) a wrong one to the first question."""
    out = {}
    for i, q in enumerate(lesson.questions.prefetch_related("choices")):
        choices = list(q.choices.all())
        if not right and i == 0:
            out[q.pk] = [next(c.pk for c in choices if not c.correct)]
        else:
            out[q.pk] = [c.pk for c in choices if c.correct]
    return out


def _take(enrolment, lessons, steps: int, start, rng: random.Random, end) -> None:
    """Do the first ``steps`` lessons, a day or two apart from ``start`` (never after ``end``)."""
    from digifit.learning import services

    at = start
    for lesson in lessons[:steps]:
        at = min(at + timedelta(hours=rng.randint(2, 60)), end)
        if lesson.kind == "check":
            if rng.random() < 0.4:
                services.check_submit(enrolment=enrolment, lesson=lesson, answers=_answers(lesson, right=False), now=at)
                at = min(at + timedelta(minutes=rng.randint(5, 90)), end)
            services.check_submit(enrolment=enrolment, lesson=lesson, answers=_answers(lesson, right=True), now=at)
        else:
            services.lesson_done(enrolment=enrolment, lesson=lesson, now=at)


def load_courses(*, seed: int = 20261203, takers: int = 60) -> CoursesLoaded:
    """Store the demo courses (Django must be set up and migrated); on first load, demo progress too."""
    from django.db import transaction
    from django.utils import timezone

    from digifit.learning import selectors, services
    from digifit.learning.models import Course, Enrolment
    from digifit.programme import services as programme
    from digifit.programme.models import Business

    created_any = False
    with transaction.atomic():
        for row in _rows():
            fields = dict(row["training"])
            training = programme.training_upsert(slug=fields.pop("slug"), **fields)
            _course, created = services.course_load(training=training, data=row["course"])
            created_any |= created
        if not created_any:
            return CoursesLoaded(Course.objects.count(), Enrolment.objects.count(), False)
        courses = {c.slug: c for c in Course.objects.all()}
        lessons = {slug: selectors.lessons_in_order(c) for slug, c in courses.items()}
        rng = random.Random(seed)
        now = timezone.now()
        owner = Business.objects.filter(email=DEMO_OWNER_EMAIL).first()
        others = Business.objects.exclude(email=DEMO_OWNER_EMAIL).order_by("id")[:takers]
        for business in others:
            slug = SECTOR_COURSE.get(business.sector, OTHER_COURSE) if rng.random() < 0.8 else OTHER_COURSE
            enrolment = services.course_enrol(business=business, course=courses[slug])
            start = max(business.created_at, now - timedelta(weeks=10)) + timedelta(days=rng.randint(0, 14))
            start = min(start, now - timedelta(days=1))
            Enrolment.objects.filter(pk=enrolment.pk).update(enrolled_at=start)
            steps = rng.choice([0, 1, 2, len(lessons[slug]), len(lessons[slug]), len(lessons[slug])])
            _take(enrolment, lessons[slug], min(steps, len(lessons[slug])), start, rng, now)
        if owner is not None:
            course = courses[SECTOR_COURSE.get(owner.sector, OTHER_COURSE)]
            enrolment = services.course_enrol(business=owner, course=course)
            first_module = [x for x in lessons[course.slug] if x.module.position == 1]
            _take(enrolment, first_module, len(first_module), now - timedelta(days=3), rng, now)
    return CoursesLoaded(Course.objects.count(), Enrolment.objects.count(), True)
