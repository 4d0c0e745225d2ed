"""Errors of the learning app. Views turn them into a message and a 4xx; the demo loader into one line.

::

    DigifitError
     └── LearningError(ValueError)
          ├── EnrolmentRefused      the course is not published, or the account has no business
          ├── LessonRefused         the lesson is not of this course, or a check lesson is marked done by hand
          ├── AnswersInvalid        the answers to a knowledge check are missing or name unknown choices
          └── CourseDataInvalid     a course file (the demo's JSON shape) is incomplete or inconsistent

Messages are in the UI language (they are shown on pages).
"""

from __future__ import annotations

from digifit.errors import DigifitError


class LearningError(ValueError, DigifitError):
    """Base class of the learning app's errors."""


class EnrolmentRefused(LearningError):
    """The business cannot enrol (course not published)."""


class LessonRefused(LearningError):
    """The lesson cannot be marked done this way (not in the course; a check is done only by passing it)."""


class AnswersInvalid(LearningError):
    """The answers to a knowledge check are incomplete or name choices of other questions."""


class CourseDataInvalid(LearningError):
    """A course file is incomplete or inconsistent (names the course, module or lesson)."""
