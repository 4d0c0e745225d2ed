"""Courses a business takes in digifit: modules, lessons, knowledge checks, enrolments, progress and attempts.

A course belongs to one catalogue training (``programme.Training``): its title in three languages, sectors,
channel or topic, level, language and duration are the training's (the programme's vocabularies, stored once).
The course adds what the catalogue does not know: learning outcomes, modules and lessons, the completion rule.

The learning app sits **below** the programme in the import layers (the programme's reach reads completions
from :mod:`digifit.learning.selectors`), so it never imports ``digifit.programme``: the training and the
business are referenced by app label (``"programme.Training"``, ``"programme.Business"``), which Django resolves
without an import. Models hold data and constraints only; writes go through :mod:`digifit.learning.services`,
reads through :mod:`digifit.learning.selectors`.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Course(models.Model):
    class Completion(models.TextChoices):
        ALL_LESSONS = "all_lessons", _("all lessons done")
        FINAL_CHECK = "final_check", _("final knowledge check passed")

    training = models.OneToOneField(
        "programme.Training", on_delete=models.CASCADE, related_name="course", verbose_name=_("training")
    )
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    learning_outcomes = models.TextField(_("learning outcomes"), blank=True, help_text=_("one per line"))
    completion_rule = models.CharField(
        _("completed when"), max_length=20, choices=Completion.choices, default=Completion.ALL_LESSONS
    )
    published = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def outcome_list(self) -> list[str]:
        return [line.strip() for line in self.learning_outcomes.splitlines() if line.strip()]


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    position = models.PositiveIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        ordering = ["course", "position"]
        constraints = [models.UniqueConstraint(fields=["course", "position"], name="learning_module_position_unique")]

    def __str__(self) -> str:
        return f"{self.course.slug} · {self.position}. {self.title}"

    def title_in(self, language: str) -> str:
        return (self.title_en if language == "en" else "") or self.title


class Lesson(models.Model):
    """A lesson: Markdown text, a video (loaded only when the person clicks), a knowledge check, or a SCORM
    package (its :class:`ScormPackage`)."""

    class Kind(models.TextChoices):
        TEXT = "text", _("text")
        VIDEO = "video", _("video")
        CHECK = "check", _("knowledge check")
        SCORM = "scorm", _("interactive module (SCORM)")

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(_("text (Markdown)"), blank=True)
    video_url = models.URLField(_("video link"), blank=True, help_text=_("YouTube or Vimeo; loaded only on click"))
    minutes = models.PositiveIntegerField(_("minutes"), default=5)
    pass_mark = models.PositiveIntegerField(
        _("pass mark (%)"), default=80, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        ordering = ["module__course", "module__position", "position"]
        constraints = [
            models.UniqueConstraint(fields=["module", "position"], name="learning_lesson_position_unique"),
            models.CheckConstraint(condition=~Q(kind="video") | ~Q(video_url=""), name="learning_video_has_url"),
            models.CheckConstraint(
                condition=Q(pass_mark__gte=1, pass_mark__lte=100), name="learning_pass_mark_percent"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def title_in(self, language: str) -> str:
        return (self.title_en if language == "en" else "") or self.title


class Question(models.Model):
    """A question of a knowledge-check lesson: single choice (one right answer) or multiple choice."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(_("position"))
    text = models.TextField(_("question"))
    multiple = models.BooleanField(_("several answers may be right"), default=False)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["lesson", "position"]
        constraints = [models.UniqueConstraint(fields=["lesson", "position"], name="learning_question_position_unique")]

    def __str__(self) -> str:
        return self.text[:80]


class Choice(models.Model):
    """An answer of a question, whether it is right, and the feedback shown once it was chosen."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveIntegerField(_("position"))
    text = models.CharField(_("answer"), max_length=500)
    correct = models.BooleanField(_("right"), default=False)
    feedback = models.TextField(_("feedback"), blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["question", "position"]
        constraints = [models.UniqueConstraint(fields=["question", "position"], name="learning_choice_position_unique")]

    def __str__(self) -> str:
        return self.text[:80]


class Enrolment(models.Model):
    """A business takes a course. ``completed_at`` is set once, when the course's completion rule is met."""

    business = models.ForeignKey("programme.Business", on_delete=models.CASCADE, related_name="enrolments")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrolments")
    enrolled_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["course", "enrolled_at", "id"]
        constraints = [models.UniqueConstraint(fields=["business", "course"], name="learning_enrolment_unique")]

    def __str__(self) -> str:
        return f"{self.business_id} · {self.course.slug}"


class LessonProgress(models.Model):
    """A lesson an enrolment has done (a check lesson: passed)."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    done_at = models.DateTimeField()

    class Meta:
        verbose_name = _("lesson done")
        verbose_name_plural = _("lessons done")
        constraints = [models.UniqueConstraint(fields=["enrolment", "lesson"], name="learning_progress_unique")]


class CheckAttempt(models.Model):
    """One submitted knowledge check: the chosen answers (``{question id: [choice ids]}``), score and result."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="attempts")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="attempts")
    answers = models.JSONField()
    score = models.PositiveIntegerField(_("score (%)"))
    passed = models.BooleanField(_("passed"))
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("check attempt")
        verbose_name_plural = _("check attempts")
        ordering = ["enrolment", "created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(score__lte=100), name="learning_attempt_score_percent")]


class Certificate(models.Model):
    """The certificate of a completed course, issued once when the enrolment completes.

    ``code`` is what the PDF prints beside its QR code: anyone can check it on the public verification page,
    which answers whether it is valid and for which course and day, never who holds it. ``holder`` is the
    business's name at the time of issue (a certificate keeps what it said). Deleting the business deletes its
    enrolments and with them the certificates: their codes then verify as not valid.
    """

    enrolment = models.OneToOneField(Enrolment, on_delete=models.CASCADE, related_name="certificate")
    code = models.CharField(_("verification code"), max_length=14, unique=True, editable=False)
    holder = models.CharField(_("issued to"), max_length=200)
    issued_at = models.DateTimeField(_("issued at"))

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["issued_at", "id"]

    def __str__(self) -> str:
        return self.code


class ScormPackage(models.Model):
    """The SCORM package a lesson plays: unpacked below ``DIGIFIT_SCORM_ROOT/<key>/`` and served from
    ``/learning/scorm/<key>/…`` in a sandboxed frame. ``key`` is random: the content's address is not guessable
    from the lesson. ``launch`` is the file the manifest starts (with its parameters)."""

    class Version(models.TextChoices):
        SCORM_12 = "1.2", "SCORM 1.2"
        SCORM_2004 = "2004", "SCORM 2004"

    lesson = models.OneToOneField(Lesson, on_delete=models.CASCADE, related_name="scorm")
    key = models.CharField(max_length=32, unique=True, editable=False)
    version = models.CharField(_("SCORM version"), max_length=4, choices=Version.choices)
    title = models.CharField(_("title in the package"), max_length=300)
    launch = models.CharField(_("start file"), max_length=1000)
    files = models.PositiveIntegerField(_("files"))
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"))
    file_name = models.CharField(_("uploaded file"), max_length=255)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("SCORM package")
        verbose_name_plural = _("SCORM packages")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.title


class ScormRecord(models.Model):
    """What a SCORM package stored for an enrolment (scorm-again's commits): the whole ``cmi`` tree to resume
    with, and the figures the organiser reads — status, score, total time."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="scorm_records")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="scorm_records")
    cmi = models.JSONField(default=dict)
    completion = models.CharField(_("completion"), max_length=20, default="unknown")
    success = models.CharField(_("success"), max_length=20, default="unknown")
    score = models.FloatField(_("score"), null=True, blank=True)
    total_seconds = models.FloatField(_("total time (s)"), default=0)
    commits = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(_("last saved"))

    class Meta:
        verbose_name = _("SCORM record")
        verbose_name_plural = _("SCORM records")
        constraints = [models.UniqueConstraint(fields=["enrolment", "lesson"], name="learning_scorm_record_unique")]
