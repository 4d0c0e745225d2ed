"""Writes of the learning app: load a course, enrol, mark a lesson done, submit a knowledge check, complete.

Completion
----------
After every lesson done and every passed check, :func:`_completion_refresh` applies the course's rule:
``all_lessons`` (every lesson done; a check lesson is done when it is passed) or ``final_check`` (the course's
last knowledge check passed). ``Enrolment.completed_at`` is set once and never moves: it is the date the
programme's reach counts (an attendance of kind ``"course"``, :func:`digifit.learning.selectors.course_completions`).
The same transaction issues the course's certificate (:func:`certificate_issue`).

Grading
-------
A question is right when the chosen answers are exactly its right answers (single choice: the one right
answer). The score is the share of right questions in percent, rounded half up; the check is passed when the
score reaches the lesson's pass mark. Every attempt is stored, passed or not.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from digifit.learning import certificate_code, scorm_manifest
from digifit.learning.errors import AnswersInvalid, CourseDataInvalid, EnrolmentRefused, LessonRefused
from digifit.learning.models import (
    Certificate,
    CheckAttempt,
    Choice,
    Course,
    Enrolment,
    Lesson,
    LessonProgress,
    Module,
    Question,
    ScormPackage,
    ScormRecord,
)

# ----------------------------------------------------------------------------------------- loading


def _need(value: Any, what: str, where: str) -> Any:
    if value in (None, "", []):
        raise CourseDataInvalid(f"{where}: {what} is missing")
    return value


def course_load(*, training, data: Mapping[str, Any]) -> tuple[Course, bool]:
    """Store the course ``data`` describes for ``training`` (a ``programme.Training``); idempotent by slug.

    ``data``: ``{"slug", "completion_rule", "learning_outcomes": [..], "published", "modules": [{"title",
    "title_en", "lessons": [{"title", "title_en", "kind", "body", "video_url", "minutes", "pass_mark",
    "questions": [{"text", "multiple", "choices": [{"text", "correct", "feedback"}]}]}]}]}``.
    Returns the course and whether it was created (an existing course is left as it is).
    """
    slug = _need(data.get("slug"), "slug", "course")
    existing = Course.objects.filter(slug=slug).first()
    if existing is not None:
        return existing, False
    rule = data.get("completion_rule", Course.Completion.ALL_LESSONS)
    if rule not in Course.Completion.values:
        raise CourseDataInvalid(f"course {slug}: completion_rule {rule!r} is not one of {Course.Completion.values}")
    modules = _need(data.get("modules"), "modules", f"course {slug}")
    with transaction.atomic():
        course = Course.objects.create(
            training=training,
            slug=slug,
            learning_outcomes="\n".join(data.get("learning_outcomes", [])),
            completion_rule=rule,
            published=bool(data.get("published", True)),
        )
        for m_pos, m in enumerate(modules, start=1):
            where = f"course {slug}, module {m_pos}"
            module = Module.objects.create(
                course=course,
                position=m_pos,
                title=_need(m.get("title"), "title", where),
                title_en=m.get("title_en", ""),
            )
            for l_pos, row in enumerate(_need(m.get("lessons"), "lessons", where), start=1):
                _lesson_load(module, l_pos, row, f"{where}, lesson {l_pos}")
        if (
            rule == Course.Completion.FINAL_CHECK
            and not Lesson.objects.filter(module__course=course, kind=Lesson.Kind.CHECK).exists()
        ):
            raise CourseDataInvalid(f"course {slug}: completion_rule final_check needs a knowledge check lesson")
    return course, True


def _lesson_load(module: Module, position: int, row: Mapping[str, Any], where: str) -> Lesson:
    kind = row.get("kind", Lesson.Kind.TEXT)
    loadable = [k for k in Lesson.Kind.values if k != Lesson.Kind.SCORM]
    if kind == Lesson.Kind.SCORM:
        raise CourseDataInvalid(f"{where}: kind {kind!r} is added by uploading its package (/learning/packages/)")
    if kind not in loadable:
        raise CourseDataInvalid(f"{where}: kind {kind!r} is not one of {loadable}")
    if kind == Lesson.Kind.VIDEO:
        _need(row.get("video_url"), "video_url", where)
    lesson = Lesson.objects.create(
        module=module,
        position=position,
        title=_need(row.get("title"), "title", where),
        title_en=row.get("title_en", ""),
        kind=kind,
        body=row.get("body", ""),
        video_url=row.get("video_url", ""),
        minutes=int(row.get("minutes", 5)),
        pass_mark=int(row.get("pass_mark", 80)),
    )
    if kind != Lesson.Kind.CHECK:
        return lesson
    for q_pos, q in enumerate(_need(row.get("questions"), "questions", where), start=1):
        q_where = f"{where}, question {q_pos}"
        choices = _need(q.get("choices"), "choices", q_where)
        right = sum(bool(c.get("correct")) for c in choices)
        multiple = bool(q.get("multiple", False))
        if len(choices) < 2 or right == 0 or (not multiple and right != 1):
            raise CourseDataInvalid(
                f"{q_where}: needs at least 2 answers and {'at least one' if multiple else 'exactly one'} right one"
            )
        question = Question.objects.create(
            lesson=lesson, position=q_pos, text=_need(q.get("text"), "text", q_where), multiple=multiple
        )
        Choice.objects.bulk_create(
            Choice(
                question=question,
                position=c_pos,
                text=_need(c.get("text"), "text", f"{q_where}, answer {c_pos}"),
                correct=bool(c.get("correct")),
                feedback=c.get("feedback", ""),
            )
            for c_pos, c in enumerate(choices, start=1)
        )
    return lesson


# ----------------------------------------------------------------------------------------- taking a course


def course_enrol(*, business, course: Course) -> Enrolment:
    """Enrol ``business`` (a ``programme.Business``) in ``course``; enrolling again returns the enrolment."""
    if not course.published:
        raise EnrolmentRefused(_("This course is not open yet."))
    found = Enrolment.objects.filter(business=business, course=course).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Enrolment.objects.create(business=business, course=course)
    except IntegrityError:  # enrolled at the same moment in another request
        return Enrolment.objects.get(business=business, course=course)


def _lesson_of(enrolment: Enrolment, lesson: Lesson) -> None:
    if lesson.module.course_id != enrolment.course_id:
        raise LessonRefused(_("This lesson is not part of the course."))


def lesson_done(*, enrolment: Enrolment, lesson: Lesson, now: datetime | None = None) -> LessonProgress:
    """Mark a text or video lesson done (again: no change); a knowledge check is done only by passing it."""
    _lesson_of(enrolment, lesson)
    if lesson.kind == Lesson.Kind.CHECK:
        raise LessonRefused(_("A knowledge check is done when it is passed."))
    if lesson.kind == Lesson.Kind.SCORM:
        raise LessonRefused(_("An interactive module is done when it reports that it is completed."))
    now = now or timezone.now()
    with transaction.atomic():
        progress, _created = LessonProgress.objects.get_or_create(
            enrolment=enrolment, lesson=lesson, defaults={"done_at": now}
        )
        _completion_refresh(enrolment, now)
    return progress


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    chosen: list[Choice]
    right: bool


@dataclass(frozen=True)
class CheckResult:
    attempt: CheckAttempt
    questions: list[QuestionResult]

    @property
    def passed(self) -> bool:
        return self.attempt.passed


def _chosen(lesson: Lesson, answers: Mapping[Any, Iterable[Any]]) -> list[tuple[Question, list[Choice]]]:
    questions = list(lesson.questions.prefetch_related("choices"))
    out = []
    for q in questions:
        raw = answers.get(q.pk, answers.get(str(q.pk), ()))
        raw = [raw] if isinstance(raw, (str, int)) else list(raw)
        try:
            ids = {int(v) for v in raw}
        except (TypeError, ValueError):
            raise AnswersInvalid(_("An answer was not understood; please choose again.")) from None
        by_id = {c.pk: c for c in q.choices.all()}
        if not ids:
            raise AnswersInvalid(_("Please answer every question (question %(n)s is open).") % {"n": q.position})
        if ids - set(by_id):
            raise AnswersInvalid(_("An answer does not belong to question %(n)s.") % {"n": q.position})
        if not q.multiple and len(ids) != 1:
            raise AnswersInvalid(_("Question %(n)s takes exactly one answer.") % {"n": q.position})
        out.append((q, [by_id[i] for i in sorted(ids, key=lambda i: by_id[i].position)]))
    return out


def score_percent(right: int, total: int) -> int:
    """The share of right questions in percent, rounded half up (``2 of 3`` → 67)."""
    return (200 * right + total) // (2 * total) if total else 0


def check_submit(
    *, enrolment: Enrolment, lesson: Lesson, answers: Mapping[Any, Iterable[Any]], now: datetime | None = None
) -> CheckResult:
    """Grade and store an attempt at a knowledge check; a passed check marks its lesson done.

    ``answers`` maps question ids to the chosen choice ids. Incomplete or foreign answers raise
    :class:`AnswersInvalid` and store nothing.
    """
    _lesson_of(enrolment, lesson)
    if lesson.kind != Lesson.Kind.CHECK:
        raise LessonRefused(_("This lesson has no knowledge check."))
    chosen = _chosen(lesson, answers)
    results = [
        QuestionResult(q, cs, {c.pk for c in cs} == {c.pk for c in q.choices.all() if c.correct}) for q, cs in chosen
    ]
    score = score_percent(sum(r.right for r in results), len(results))
    now = now or timezone.now()
    with transaction.atomic():
        attempt = CheckAttempt.objects.create(
            enrolment=enrolment,
            lesson=lesson,
            answers={str(q.pk): [c.pk for c in cs] for q, cs in chosen},
            score=score,
            passed=score >= lesson.pass_mark,
            created_at=now,
        )
        if attempt.passed:
            LessonProgress.objects.get_or_create(enrolment=enrolment, lesson=lesson, defaults={"done_at": now})
            _completion_refresh(enrolment, now)
    return CheckResult(attempt, results)


def _completion_refresh(enrolment: Enrolment, now: datetime) -> None:
    """Set ``completed_at`` (once) when the course's completion rule is met."""
    locked = Enrolment.objects.select_for_update().select_related("course").get(pk=enrolment.pk)
    if locked.completed_at is not None:
        enrolment.completed_at = locked.completed_at
        return
    course = locked.course
    lessons = Lesson.objects.filter(module__course=course)
    done = set(locked.progress.values_list("lesson_id", flat=True))
    if course.completion_rule == Course.Completion.FINAL_CHECK:
        final = lessons.filter(kind=Lesson.Kind.CHECK).order_by("-module__position", "-position").first()
        complete = final is not None and final.pk in done
    else:
        complete = set(lessons.values_list("pk", flat=True)) <= done
    if complete:
        Enrolment.objects.filter(pk=locked.pk).update(completed_at=now)
        enrolment.completed_at = now
        locked.completed_at = now
        certificate_issue(enrolment=locked)


# ----------------------------------------------------------------------------------------- certificates


def certificate_issue(*, enrolment: Enrolment) -> Certificate:
    """The certificate of a completed enrolment, issued on first call (dated the completion) and returned as it
    is afterwards. An enrolment that is not completed raises :class:`LessonRefused`."""
    found = Certificate.objects.filter(enrolment=enrolment).first()
    if found is not None:
        return found
    if enrolment.completed_at is None:
        raise LessonRefused(_("The course is not completed yet."))
    for _attempt in range(5):  # a code already taken: 60 random bits make this a formality
        try:
            with transaction.atomic():
                return Certificate.objects.create(
                    enrolment=enrolment,
                    code=certificate_code.new(),
                    holder=enrolment.business.company,
                    issued_at=enrolment.completed_at,
                )
        except IntegrityError:
            found = Certificate.objects.filter(enrolment=enrolment).first()
            if found is not None:  # issued at the same moment in another request
                return found
    raise RuntimeError("no free certificate code after 5 tries")  # pragma: no cover


# ----------------------------------------------------------------------------------------- SCORM packages


def scorm_package_add(*, module: Module, data, file_name: str, title: str = "", root: Path, limits=None) -> Lesson:
    """Unpack the uploaded package ``data`` below ``root`` and append it to ``module`` as a SCORM lesson.

    The archive goes through the upload checks (:func:`digifit.uploads.unpack_scorm`: size, entries, paths,
    links, zip bombs) and the manifest through :func:`digifit.learning.scorm_manifest.read`; a refusal raises
    :class:`~digifit.uploads.UploadRefused` or :class:`~digifit.learning.scorm_manifest.ManifestInvalid` and
    leaves nothing behind (no folder, no lesson).
    """
    from digifit.uploads import unpack_scorm
    from digifit.uploads.scorm import SCORM_LIMITS

    key = secrets.token_hex(16)
    target = Path(root) / key
    try:
        manifest_bytes = unpack_scorm(data, target, limits or SCORM_LIMITS)
        files = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
        manifest = scorm_manifest.read(manifest_bytes, files)
        size = sum((target / f).stat().st_size for f in files)
        with transaction.atomic():
            position = (module.lessons.aggregate(m=Max("position"))["m"] or 0) + 1
            lesson = Lesson.objects.create(
                module=module,
                position=position,
                title=(title.strip() or manifest.title)[:300],
                kind=Lesson.Kind.SCORM,
                minutes=15,
            )
            ScormPackage.objects.create(
                lesson=lesson,
                key=key,
                version=manifest.version,
                title=manifest.title,
                launch=manifest.launch,
                files=len(files),
                size_bytes=size,
                file_name=Path(file_name).name[:255],
            )
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return lesson


_TIME_12 = re.compile(r"^(\d+):([0-5]?\d):([0-5]?\d(?:\.\d+)?)$")
_TIME_2004 = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def _seconds(value: Any, version: str) -> float | None:
    """A SCORM time span in seconds: ``HHHH:MM:SS.SS`` (1.2) or ISO 8601 ``P…T…H…M…S`` (2004)."""
    text = value.strip() if isinstance(value, str) else ""
    m = (_TIME_12 if version == "1.2" else _TIME_2004).match(text)
    if not m or text in ("P", "PT"):
        return None
    if version == "1.2":
        return int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    y, mo, d, h, mi, sec = (float(g) if g else 0.0 for g in m.groups())
    return ((y * 365 + mo * 30 + d) * 24 + h) * 3600 + mi * 60 + sec


def scorm_statuses(cmi: Mapping[str, Any], version: str) -> tuple[str, str, float | None, float | None]:
    """Completion, success, score (percent) and total time (seconds) of a ``cmi`` tree as scorm-again sends it.

    SCORM 1.2 has one ``cmi.core.lesson_status``: ``passed`` and ``completed`` are complete, ``failed`` is
    incomplete and failed. SCORM 2004 has ``cmi.completion_status`` and ``cmi.success_status``.
    """
    if version == "1.2":
        core = cmi.get("core") if isinstance(cmi.get("core"), Mapping) else {}
        status = str(core.get("lesson_status") or "")
        completion = {"passed": "completed", "completed": "completed", "failed": "incomplete"}.get(status, status)
        success = status if status in ("passed", "failed") else "unknown"
        score = core.get("score")
        total = core.get("total_time")
    else:
        completion = str(cmi.get("completion_status") or "")
        success = str(cmi.get("success_status") or "unknown")
        score = cmi.get("score")
        total = cmi.get("total_time")
    completion = completion if completion in ("completed", "incomplete", "not attempted", "browsed") else "unknown"
    success = success if success in ("passed", "failed") else "unknown"
    return completion, success, _scorm_score(score), _seconds(total, version)


def scorm_commit(*, enrolment: Enrolment, lesson: Lesson, commit: Any, now: datetime | None = None) -> ScormRecord:
    """Store a commit of scorm-again (its ``cmi`` tree: ``{"cmi": {…}}``, or a commit object with
    ``{"runtimeData": {"cmi": {…}}}``) for the enrolment; a completed or passed package marks its lesson done.

    The statuses are read from the ``cmi`` values themselves (:func:`scorm_statuses`). A malformed commit raises
    :class:`AnswersInvalid` and stores nothing. Progress never goes back: a lesson done stays done, and a later
    commit of a restarted attempt does not undo the course's completion.
    """
    _lesson_of(enrolment, lesson)
    package = ScormPackage.objects.filter(lesson=lesson).first()
    if lesson.kind != Lesson.Kind.SCORM or package is None:
        raise LessonRefused(_("This lesson has no interactive module."))
    if not isinstance(commit, Mapping):
        raise AnswersInvalid("a commit is a JSON object")
    tree = commit.get("runtimeData") if isinstance(commit.get("runtimeData"), Mapping) else commit
    cmi = tree.get("cmi")
    if not isinstance(cmi, Mapping):
        raise AnswersInvalid("the commit has no cmi object")
    completion, success, score, total = scorm_statuses(cmi, package.version)
    now = now or timezone.now()
    with transaction.atomic():
        record, _created = ScormRecord.objects.select_for_update().get_or_create(
            enrolment=enrolment, lesson=lesson, defaults={"updated_at": now}
        )
        record.cmi = dict(cmi)
        record.completion, record.success = completion, success
        if score is not None:
            record.score = score
        if total is not None and 0 <= total < 10**8:
            record.total_seconds = total
        record.commits += 1
        record.updated_at = now
        record.save()
        if completion == "completed" or success == "passed":
            LessonProgress.objects.get_or_create(enrolment=enrolment, lesson=lesson, defaults={"done_at": now})
            _completion_refresh(enrolment, now)
    return record


def _scorm_score(score: Any) -> float | None:
    """A commit's score in percent: ``scaled`` (−1…1, SCORM 2004) × 100, else ``raw`` on ``min``–``max``."""
    if not isinstance(score, Mapping):
        return None

    def number(key: str) -> float | None:
        value = score.get(key)
        try:
            return float(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    scaled, raw = number("scaled"), number("raw")
    if scaled is not None and -1 <= scaled <= 1:
        return round(100 * scaled, 2)
    if raw is None:
        return None
    low, high = number("min"), number("max")
    if low is not None and high is not None and high > low:
        return round(100 * (raw - low) / (high - low), 2)
    return raw if 0 <= raw <= 100 else None


def scorm_package_delete(*, package: ScormPackage, root: Path) -> None:
    """Remove a package: its lesson with the businesses' records and lesson progress, then its files. Course
    completions already reached stay (``completed_at`` never moves, and the certificates issued stay valid)."""
    folder = Path(root) / package.key
    with transaction.atomic():
        package.lesson.delete()  # cascades: the package row, records, progress of this lesson
    shutil.rmtree(folder, ignore_errors=True)


def course_import(*, training_fields: Mapping[str, Any], course_data: Mapping[str, Any], training_upsert) -> Course:
    """Store a course read from a course file (:mod:`digifit.learning.course_file`) as a new course.

    ``training_upsert`` creates the catalogue training (the programme's ``training_upsert``, passed in: the
    learning app sits below the programme). An existing course or training of the same slug is never
    overwritten: :class:`CourseDataInvalid` says which slug to change. Nothing is stored on any refusal.
    """
    fields = dict(training_fields)
    slug = fields.pop("slug")
    course_slug = course_data.get("slug")
    if Course.objects.filter(slug=course_slug).exists():
        raise CourseDataInvalid(_('a course with the slug "%(slug)s" exists already') % {"slug": course_slug})
    training_model = Course._meta.get_field("training").related_model
    if training_model.objects.filter(slug=slug).exists():
        raise CourseDataInvalid(_('a training with the slug "%(slug)s" exists already') % {"slug": slug})
    with transaction.atomic():
        training = training_upsert(slug=slug, **fields)
        course, _created = course_load(training=training, data=course_data)
    return course
