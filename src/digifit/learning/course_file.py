"""A course as a file, to take it from one digifit to another: ``digifit-course`` version 1 (JSON, UTF-8).

::

    {"format": "digifit-course", "version": 1,
     "training": {"slug", "title", "title_en", "title_fr", "summary", "sectors", "topic", "level", "format",
                  "language", "duration_minutes"},
     "course": {"slug", "completion_rule", "learning_outcomes": [..], "published",
                "modules": [{"title", "title_en", "lessons": [{"title", "title_en", "kind", "body", "video_url",
                             "minutes", "pass_mark", "questions": [{"text", "multiple",
                             "choices": [{"text", "correct", "feedback"}]}]}]}]},
     "skipped": [{"module": 1, "lesson": "…", "kind": "scorm"}]}

``course`` is exactly what :func:`digifit.learning.services.course_load` reads. SCORM lessons are not in the file
(their package is not JSON): they are listed in ``skipped`` and uploaded again on the other side. A reader
refuses another ``format`` or a newer ``version`` rather than guessing.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from digifit.learning.errors import CourseDataInvalid
from digifit.learning.models import Course, Lesson

FORMAT = "digifit-course"
VERSION = 1
MAX_BYTES = 5 * 1024 * 1024
TRAINING_FIELDS = (
    "slug", "title", "title_en", "title_fr", "summary", "sectors", "topic", "level", "format", "language",
    "duration_minutes",
)  # fmt: skip


def course_export(course: Course) -> dict[str, Any]:
    """The file of ``course`` (and of its catalogue training) as a JSON-ready dict."""
    training = course.training
    modules, skipped = [], []
    for module in course.modules.order_by("position"):
        lessons = []
        for lesson in module.lessons.order_by("position"):
            if lesson.kind == Lesson.Kind.SCORM:
                skipped.append({"module": module.position, "lesson": lesson.title, "kind": lesson.kind})
                continue
            row: dict[str, Any] = {
                "title": lesson.title,
                "title_en": lesson.title_en,
                "kind": lesson.kind,
                "body": lesson.body,
                "video_url": lesson.video_url,
                "minutes": lesson.minutes,
                "pass_mark": lesson.pass_mark,
            }
            if lesson.kind == Lesson.Kind.CHECK:
                row["questions"] = [
                    {
                        "text": q.text,
                        "multiple": q.multiple,
                        "choices": [
                            {"text": c.text, "correct": c.correct, "feedback": c.feedback}
                            for c in q.choices.order_by("position")
                        ],
                    }
                    for q in lesson.questions.order_by("position")
                ]
            lessons.append(row)
        if lessons:
            modules.append({"title": module.title, "title_en": module.title_en, "lessons": lessons})
    return {
        "format": FORMAT,
        "version": VERSION,
        "training": {name: getattr(training, name) for name in TRAINING_FIELDS},
        "course": {
            "slug": course.slug,
            "completion_rule": course.completion_rule,
            "learning_outcomes": course.outcome_list,
            "published": course.published,
            "modules": modules,
        },
        "skipped": skipped,
    }


def course_file_read(raw: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The training fields and the course data of a course file; :class:`CourseDataInvalid` says what is wrong."""
    if len(raw) > MAX_BYTES:
        raise CourseDataInvalid(_("the file is larger than %(n)s MB") % {"n": MAX_BYTES // 2**20})
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CourseDataInvalid(_("the file is not UTF-8 text")) from None
    except json.JSONDecodeError as exc:
        raise CourseDataInvalid(
            _("the file is not JSON (line %(line)s, column %(column)s)") % {"line": exc.lineno, "column": exc.colno}
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CourseDataInvalid(
            _('the file is not a digifit course file ("format": "%(format)s" is missing)') % {"format": FORMAT}
        )
    version = data.get("version")
    if not isinstance(version, int) or version < 1 or version > VERSION:
        raise CourseDataInvalid(
            _("the file has version %(found)s; this digifit reads versions 1 to %(max)s")
            % {"found": version, "max": VERSION}
        )
    training, course = data.get("training"), data.get("course")
    if not isinstance(training, dict) or not isinstance(course, dict):
        raise CourseDataInvalid(_('the file needs a "training" and a "course" object'))
    unknown = sorted(set(training) - set(TRAINING_FIELDS))
    if unknown:
        raise CourseDataInvalid(_("training: unknown field(s) %(fields)s") % {"fields": ", ".join(unknown)})
    if not isinstance(training.get("slug"), str) or not training.get("slug"):
        raise CourseDataInvalid(_("training: slug is missing"))
    return training, course
