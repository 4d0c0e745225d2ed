"""Reads of the learning app: the course list, a course's outline with a business's progress, the lesson to
continue with, completions for the programme's reach, and the organiser's statistics.

The business of a request is the one linked to the logged-in account (``Business.user``, the reverse accessor
``user.business``), as on the business's programme page; never an address typed into a form.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Avg, Count, QuerySet
from django.utils import timezone

from digifit.learning import certificate_code
from digifit.learning.models import (
    Certificate,
    CheckAttempt,
    Course,
    Enrolment,
    Lesson,
    LessonProgress,
    ScormPackage,
    ScormRecord,
)


def business_of(user):
    """The business (``programme.Business``) of a logged-in account, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "business", None)  # the OneToOne's reverse accessor; None when the account has none


def course_list() -> QuerySet[Course]:
    """Published courses of published trainings, by title."""
    return (
        Course.objects.filter(published=True, training__published=True)
        .select_related("training")
        .order_by("training__title")
    )


def course_get(*, slug: str) -> Course | None:
    return course_list().filter(slug=slug).first()


def course_for_training(*, training) -> Course | None:
    """The published course of a catalogue training, if it has one (the training page links to it)."""
    return course_list().filter(training=training).first()


def enrolment_get(*, business, course: Course) -> Enrolment | None:
    if business is None:
        return None
    return Enrolment.objects.filter(business=business, course=course).first()


def enrolment_by_id(*, enrolment_id) -> Enrolment | None:
    """An enrolment by id — only for a signed token (the SCORM player's commit address), never a typed id."""
    return Enrolment.objects.filter(pk=enrolment_id).first() if isinstance(enrolment_id, int) else None


def lesson_get(*, course: Course, lesson_id: int) -> Lesson | None:
    return Lesson.objects.select_related("module__course").filter(module__course=course, pk=lesson_id).first()


def lessons_in_order(course: Course) -> list[Lesson]:
    return list(
        Lesson.objects.filter(module__course=course).select_related("module").order_by("module__position", "position")
    )


@dataclass(frozen=True)
class LessonRow:
    lesson: Lesson
    done: bool


@dataclass(frozen=True)
class Outline:
    """A course with its modules and lessons, and (for an enrolment) what is done and where to continue."""

    course: Course
    enrolment: Enrolment | None
    modules: list[tuple[object, list[LessonRow]]]
    total: int
    done: int
    next_lesson: Lesson | None
    minutes: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def completed(self) -> bool:
        return self.enrolment is not None and self.enrolment.completed_at is not None


def course_outline(*, course: Course, enrolment: Enrolment | None = None) -> Outline:
    """The outline; ``next_lesson`` is the first lesson not done (the "continue" link), or None when all are."""
    lessons = lessons_in_order(course)
    done = set(enrolment.progress.values_list("lesson_id", flat=True)) if enrolment else set()
    by_module: dict[int, tuple[object, list[LessonRow]]] = {}
    for lesson in lessons:
        by_module.setdefault(lesson.module_id, (lesson.module, []))[1].append(LessonRow(lesson, lesson.pk in done))
    next_lesson = next((lesson for lesson in lessons if lesson.pk not in done), None)
    return Outline(
        course=course,
        enrolment=enrolment,
        modules=list(by_module.values()),
        total=len(lessons),
        done=sum(lesson.pk in done for lesson in lessons),
        next_lesson=next_lesson,
        minutes=sum(lesson.minutes for lesson in lessons),
    )


def lesson_after(*, lesson: Lesson) -> Lesson | None:
    """The lesson after ``lesson`` in the course's order, or None for the last one."""
    lessons = lessons_in_order(lesson.module.course)
    ids = [x.pk for x in lessons]
    i = ids.index(lesson.pk)
    return lessons[i + 1] if i + 1 < len(lessons) else None


def lesson_done_for(*, enrolment: Enrolment | None, lesson: Lesson) -> bool:
    return enrolment is not None and LessonProgress.objects.filter(enrolment=enrolment, lesson=lesson).exists()


def attempts_for(*, enrolment: Enrolment | None, lesson: Lesson) -> list[CheckAttempt]:
    """The business's attempts at a check, newest first."""
    if enrolment is None:
        return []
    return list(CheckAttempt.objects.filter(enrolment=enrolment, lesson=lesson).order_by("-created_at", "-id"))


def outlines_for_business(*, business) -> list[Outline]:
    """The courses ``business`` is enrolled in, with progress (its programme page)."""
    enrolments = Enrolment.objects.filter(business=business).select_related("course__training").order_by("enrolled_at")
    return [course_outline(course=e.course, enrolment=e) for e in enrolments]


# ----------------------------------------------------------------------------------------- reach


def course_completions() -> dict[int, list[date]]:
    """``{business id: [day of each completed course]}`` in the site's time zone (the programme's reach input)."""
    zone = timezone.get_default_timezone()
    out: dict[int, list[date]] = defaultdict(list)
    rows = Enrolment.objects.filter(completed_at__isnull=False).values_list("business_id", "completed_at")
    for business_id, at in rows.order_by("completed_at"):
        out[business_id].append(at.astimezone(zone).date())
    return dict(out)


# ----------------------------------------------------------------------------------------- organiser


@dataclass(frozen=True)
class LessonFunnel:
    lesson: Lesson
    done: int  # enrolments that have done this lesson
    dropped: int  # enrolments that did the lesson before but not this one (0 for the first lesson)


@dataclass(frozen=True)
class CheckScore:
    lesson: Lesson
    attempts: int
    average: float | None  # mean score of all attempts, in percent
    passed: int  # enrolments that passed


@dataclass(frozen=True)
class CourseStats:
    """Per course: enrolled → started (≥ 1 lesson done or a check attempted) → completed."""

    course: Course
    enrolled: int
    started: int
    completed: int
    lessons: list[LessonFunnel] = field(default_factory=list)
    checks: list[CheckScore] = field(default_factory=list)
    last_completed: datetime | None = None


def course_statistics() -> list[CourseStats]:
    """The organiser's view of every course (published or not)."""
    out = []
    for course in Course.objects.select_related("training").order_by("training__title"):
        enrolments = Enrolment.objects.filter(course=course)
        lessons = lessons_in_order(course)
        done_by_lesson = dict(
            LessonProgress.objects.filter(lesson__module__course=course)
            .values("lesson_id")
            .annotate(n=Count("enrolment_id", distinct=True))
            .values_list("lesson_id", "n")
        )
        started_ids = set(
            LessonProgress.objects.filter(enrolment__course=course).values_list("enrolment_id", flat=True)
        )
        started_ids |= set(CheckAttempt.objects.filter(enrolment__course=course).values_list("enrolment_id", flat=True))
        funnel, previous = [], None
        for lesson in lessons:
            n = done_by_lesson.get(lesson.pk, 0)
            funnel.append(LessonFunnel(lesson, n, max(previous - n, 0) if previous is not None else 0))
            previous = n
        checks = []
        for lesson in (x for x in lessons if x.kind == Lesson.Kind.CHECK):
            agg = CheckAttempt.objects.filter(lesson=lesson).aggregate(n=Count("id"), avg=Avg("score"))
            passed = CheckAttempt.objects.filter(lesson=lesson, passed=True).values("enrolment_id").distinct().count()
            checks.append(CheckScore(lesson, agg["n"], agg["avg"], passed))
        completed = enrolments.filter(completed_at__isnull=False)
        out.append(
            CourseStats(
                course=course,
                enrolled=enrolments.count(),
                started=len(started_ids),
                completed=completed.count(),
                lessons=funnel,
                checks=checks,
                last_completed=completed.order_by("-completed_at").values_list("completed_at", flat=True).first(),
            )
        )
    return out


def courses_export(*, business) -> list[dict]:
    """The business's courses for its data export (GDPR Art. 15/20): enrolment, lessons done, every attempt."""
    out = []
    enrolments = Enrolment.objects.filter(business=business).select_related("course").order_by("enrolled_at", "id")
    for e in enrolments:
        done = e.progress.select_related("lesson").order_by("done_at", "id")
        attempts = e.attempts.select_related("lesson").order_by("created_at", "id")
        out.append(
            {
                "course": e.course.slug,
                "enrolled_at": e.enrolled_at.isoformat(),
                "completed_at": e.completed_at.isoformat() if e.completed_at else None,
                "certificate": _certificate_export(e),
                "scorm": [
                    {
                        "lesson": r.lesson.title,
                        "completion": r.completion,
                        "success": r.success,
                        "score": r.score,
                        "total_seconds": r.total_seconds,
                        "updated_at": r.updated_at.isoformat(),
                        "cmi": r.cmi,
                    }
                    for r in e.scorm_records.select_related("lesson").order_by("updated_at", "id")
                ],
                "lessons_done": [{"lesson": p.lesson.title, "done_at": p.done_at.isoformat()} for p in done],
                "check_attempts": [
                    {
                        "lesson": a.lesson.title,
                        "at": a.created_at.isoformat(),
                        "score": a.score,
                        "passed": a.passed,
                        "answers": a.answers,
                    }
                    for a in attempts
                ],
            }
        )
    return out


def _certificate_export(enrolment: Enrolment) -> dict | None:
    found = Certificate.objects.filter(enrolment=enrolment).first()
    if found is None:
        return None
    return {"code": found.code, "holder": found.holder, "issued_at": found.issued_at.isoformat()}


# ----------------------------------------------------------------------------------------- certificates


def certificate_verify(*, code: str) -> Certificate | None:
    """The certificate a typed or scanned code names (normalised: case, dashes, O/0, I/L/1), or None."""
    canonical = certificate_code.normalise(code)
    if canonical is None:
        return None
    return Certificate.objects.select_related("enrolment__course__training").filter(code=canonical).first()


# ----------------------------------------------------------------------------------------- SCORM packages


def scorm_package_by_key(*, key: str) -> ScormPackage | None:
    return ScormPackage.objects.select_related("lesson__module__course").filter(key=key).first()


def scorm_record_for(*, enrolment: Enrolment | None, lesson: Lesson) -> ScormRecord | None:
    if enrolment is None:
        return None
    return ScormRecord.objects.filter(enrolment=enrolment, lesson=lesson).first()


def _str(value) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def scorm_start(*, enrolment: Enrolment, package: ScormPackage) -> dict:
    """The ``cmi`` values the player loads before the package starts (scorm-again's ``loadFromJSON``): the
    learner as a pseudonym (``digifit-<enrolment>``, no name: the package is third-party content), and from the
    last commit where it left off — location, suspend data, status, score and total time, with ``entry`` set to
    ``resume`` when there is something to resume."""
    record = scorm_record_for(enrolment=enrolment, lesson=package.lesson)
    cmi = record.cmi if record else {}
    learner = f"digifit-{enrolment.pk}"
    if package.version == ScormPackage.Version.SCORM_12:
        core = _mapping(cmi.get("core"))
        suspend = _str(cmi.get("suspend_data"))
        out = {"core": {"student_id": learner, "student_name": ""}}
        out["core"].update(_present(core, ("lesson_location", "lesson_status", "total_time")))
        score = _present(_mapping(core.get("score")), ("raw", "min", "max"))
        if score:
            out["core"]["score"] = score
        if suspend:
            out["suspend_data"] = suspend
        resumable = record is not None and (bool(suspend) or _str(core.get("lesson_status")) == "incomplete")
        out["core"]["entry"] = "resume" if resumable else "ab-initio"
        return out
    out = {"learner_id": learner, "learner_name": ""}
    out.update(_present(cmi, ("location", "completion_status", "success_status", "suspend_data", "total_time")))
    score = _present(_mapping(cmi.get("score")), ("scaled", "raw", "min", "max"))
    if score:
        out["score"] = score
    resumable = record is not None and (bool(out.get("suspend_data")) or _str(cmi.get("exit")) == "suspend")
    out["entry"] = "resume" if resumable else "ab-initio"
    return out


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _present(values: dict, keys: tuple[str, ...]) -> dict[str, str]:
    """The non-empty ``keys`` of a stored ``cmi`` branch, as strings (what scorm-again loads back)."""
    return {k: _str(values.get(k)) for k in keys if _str(values.get(k))}


@dataclass(frozen=True)
class PackageRow:
    package: ScormPackage
    started: int
    completed: int


def scorm_packages() -> list[PackageRow]:
    """Every package with how many enrolments started it (a commit) and completed or passed it."""
    packages = (
        ScormPackage.objects.select_related("lesson__module__course__training")
        .annotate(
            started=Count("lesson__scorm_records", distinct=True), completed=Count("lesson__progress", distinct=True)
        )
        .order_by("-uploaded_at", "-id")
    )
    return [PackageRow(p, p.started, p.completed) for p in packages]


def scorm_package_get(*, package_id: int) -> ScormPackage | None:
    return ScormPackage.objects.select_related("lesson__module__course__training").filter(pk=package_id).first()


@dataclass(frozen=True)
class LearnerRow:
    business: object
    record: ScormRecord
    done_at: datetime | None


def scorm_learners(*, package: ScormPackage) -> list[LearnerRow]:
    """Who played the package: the business, its status, score, time and when it completed the lesson."""
    done = dict(LessonProgress.objects.filter(lesson=package.lesson).values_list("enrolment_id", "done_at"))
    records = ScormRecord.objects.filter(lesson=package.lesson).select_related("enrolment__business")
    return [
        LearnerRow(r.enrolment.business, r, done.get(r.enrolment_id)) for r in records.order_by("-updated_at", "-id")
    ]
