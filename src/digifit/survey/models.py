"""Survey data: questionnaires and their versions, waves (with their population margins), invitations,
submissions and their edits.

Models hold data and constraints only; writes go through :mod:`digifit.survey.services`, reads through
:mod:`digifit.survey.selectors`.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Questionnaire(models.Model):
    """A questionnaire, identified by the XLSForm ``form_id``; its content lives in versions."""

    form_id = models.CharField(_("form id"), max_length=200, unique=True)
    title = models.CharField(_("title"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["form_id"]
        permissions = [
            ("manage_surveys", _("Can manage questionnaires, waves and invitations")),
            ("collect_submissions", _("Can submit data from a collection device (OpenRosa)")),
            ("view_data", _("Can read submissions")),
            ("export_data", _("Can export submissions and snapshots")),
            ("edit_data", _("Can edit submissions (audited)")),
        ]

    def __str__(self) -> str:
        return self.form_id


class QuestionnaireVersion(models.Model):
    """One uploaded XLSForm. A new upload is a new version; submissions keep the version they answered."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(_("version"), max_length=100)
    title = models.CharField(_("title"), max_length=500, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    xlsx = models.BinaryField(help_text=_("the uploaded XLSForm file"))
    xlsx_sha256 = models.CharField(max_length=64)
    schema = models.JSONField(help_text=_("fields, choices, repeats and labels per language"))
    xform_xml = models.TextField()
    xform_md5 = models.CharField(max_length=32)
    default_language = models.CharField(max_length=10, blank=True)
    languages = models.JSONField(default=list)
    completeness = models.JSONField(default=dict, help_text=_("missing labels per language"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("questionnaire version")
        verbose_name_plural = _("questionnaire versions")
        ordering = ["questionnaire", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "version"], name="survey_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire.form_id} {self.version}"


class Wave(models.Model):
    """A round of a questionnaire (e.g. one month); a snapshot is taken per wave."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="waves")
    name = models.CharField(_("name"), max_length=200)
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    #: the thank-you page points to the programme (trainings, the Tuesday coaching) and the Digital-Check;
    #: off by default: a research survey need not advertise the programme to its respondents
    thanks_links = models.BooleanField(
        _("point respondents to the programme and the Digital-Check after they submit"), default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("wave")
        verbose_name_plural = _("waves")
        ordering = ["questionnaire", "opens_at", "id"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "name"], name="survey_wave_unique")]

    def __str__(self) -> str:
        return f"{self.questionnaire.form_id} · {self.name}"


class Invitation(models.Model):
    """An invitation of one panel member to one wave; its token is the respondent's only credential.

    Only the SHA-256 digest of the token is stored (:func:`invitation_token_digest`): the clear token exists in
    the link e-mailed to the respondent and in the one-time answer that created the invitation, never in the
    database. A database dump or backup therefore opens no form.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        STARTED = "started", _("started")
        COMPLETED = "completed", _("completed")

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="invitations")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    panel_id = models.CharField(_("panel id"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("language"), max_length=10, default="de")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["wave", "panel_id"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "panel_id"], name="survey_invitation_panel_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.wave} · {self.panel_id}"


def invitation_token_new() -> str:
    """A fresh invitation token in clear (192 random bits, URL-safe); only its digest is ever stored."""
    return secrets.token_urlsafe(24)


def invitation_token_digest(token: str) -> str:
    """The stored form of an invitation token: its SHA-256 hex digest (a 192-bit random token needs no salt)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Submission(models.Model):
    """One filled questionnaire, identified by its ``instanceID``.

    ``data`` holds the answers by field name (repeats as lists of objects). ``received_sha256`` is the digest
    of the answers as first received: re-posting the same instance with the same answers returns the stored
    submission, with different answers it is a conflict — also after an audited edit changed ``data``.
    A ``draft`` is saved page by page by the web form and becomes ``complete`` when submitted. A ``test`` is
    a complete answer given through a version's test link (no wave): exports, statistics and webhooks, which
    all read ``complete`` answers only, never see it.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        COMPLETE = "complete", _("complete")
        TEST = "test", _("test")

    class ReviewState(models.TextChoices):
        RECEIVED = "received", _("received")
        APPROVED = "approved", _("approved")
        HAS_ISSUES = "has_issues", _("has issues")
        REJECTED = "rejected", _("rejected")

    class Source(models.TextChoices):
        API = "api", "API"
        OPENROSA = "openrosa", "OpenRosa"
        WEB = "web", _("web form")
        IMPORT = "import", _("import")

    instance_id = models.UUIDField(unique=True)
    questionnaire_version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, related_name="submissions"
    )
    wave = models.ForeignKey(Wave, null=True, blank=True, on_delete=models.PROTECT, related_name="submissions")
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.PROTECT, related_name="submissions"
    )
    panel_id = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=10, blank=True)
    data = models.JSONField(default=dict)
    received_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETE)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # the review of a submission by survey managers (as ODK Central's review states); statistics are unaffected
    review_state = models.CharField(
        _("review"), max_length=12, choices=ReviewState.choices, default=ReviewState.RECEIVED
    )
    review_note = models.CharField(_("review note"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["wave", "status", "id"], name="survey_sub_wave_status"),
            models.Index(fields=["questionnaire_version", "id"], name="survey_sub_version"),
        ]

    def __str__(self) -> str:
        return str(self.instance_id)


class SubmissionEdit(models.Model):
    """The audit trail of a submission: who changed which answers when, before and after."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="edits")
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    edited_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=500, blank=True)
    before = models.JSONField()
    after = models.JSONField()

    class Meta:
        verbose_name = _("submission edit")
        verbose_name_plural = _("submission edits")
        ordering = ["submission", "edited_at", "id"]

    def __str__(self) -> str:
        return f"{self.submission_id} @ {self.edited_at:%Y-%m-%d %H:%M}"


class Webhook(models.Model):
    """A URL that receives every accepted submission of a questionnaire as signed JSON (see ``webhooks.py``).

    ``secret`` signs each delivery (HMAC-SHA256); it is kept in clear because signing needs it, and shown once
    when the webhook is created.
    """

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("URL"), max_length=1000)
    secret = models.CharField(max_length=200, editable=False)
    description = models.CharField(_("description"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["questionnaire", "id"]

    def __str__(self) -> str:
        return f"{self.questionnaire.form_id} → {self.url}"


class WebhookDelivery(models.Model):
    """One submission sent (or to be sent) to one webhook: the delivery log and the retry queue in one row.

    A delivery is due when it is ``pending`` and ``next_attempt_at`` has passed; a worker that takes it moves
    ``next_attempt_at`` a lease ahead, so a worker that dies mid-request only delays it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    # None for a test event (sent from the webhook's page, without a submission)
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="webhook_deliveries", null=True, blank=True
    )
    event = models.CharField(max_length=50, default="submission.created")
    body = models.TextField(help_text=_("the JSON posted, fixed when the delivery is created"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "submission", "event"], name="survey_webhook_delivery_once"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="survey_webhook_due")]

    def __str__(self) -> str:
        return f"{self.event} {self.submission_id} → webhook {self.webhook_id}: {self.status}"


class ReminderSchedule(models.Model):
    """When unanswered invitations of a wave are reminded: days after the invitation was sent (e.g. [7, 14])."""

    wave = models.OneToOneField(Wave, on_delete=models.CASCADE, related_name="reminder_schedule")
    offsets_days = models.JSONField(_("reminder days"), default=list, help_text=_("days after the invitation"))

    class Meta:
        verbose_name = _("reminder schedule")
        verbose_name_plural = _("reminder schedules")

    def __str__(self) -> str:
        return f"{self.wave}: {self.offsets_days}"


class MailText(models.Model):
    """A wave's own wording of its invitation or reminder e-mail in one language, written by the survey manager.

    Only the subject and the opening text are the manager's: the personal link, the closing date, the
    do-not-forward line and the greeting stay digifit's, so no edit can break the link or drop the notice. A
    language without its own text uses digifit's default wording (``survey/respond/mail_*``).
    """

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("invitation")
        REMINDER = "reminder", _("reminder")

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="mail_texts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    language = models.CharField(max_length=10)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"), max_length=4000)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("e-mail text")
        verbose_name_plural = _("e-mail texts")
        constraints = [
            models.UniqueConstraint(fields=["wave", "kind", "language"], name="survey_mail_text_once"),
        ]

    def __str__(self) -> str:
        return f"{self.wave}: {self.kind} ({self.language})"


class WaveMargins(models.Model):
    """One uploaded version of a wave's population margins (what the wave's responses are raked to).

    A new upload is a new version (``version`` counts up per wave); the reports and the Digital-Check's peer
    benchmark use the newest, and a report job records which (``reports.ReportJob.margins``). The cells are
    :class:`Margin` rows; the uploaded file is kept as it came (:mod:`digifit.survey.margins` reads it).
    """

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="margins_versions")
    version = models.PositiveIntegerField(_("version"))
    source = models.CharField(
        _("source"), max_length=500, blank=True, help_text=_("where the counts come from, e.g. a statistics table")
    )
    filename = models.CharField(max_length=255, blank=True)
    csv = models.TextField(help_text=_("the uploaded CSV file"))
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("population margins")
        verbose_name_plural = _("population margins")
        ordering = ("wave", "-version")
        constraints = [models.UniqueConstraint(fields=["wave", "version"], name="survey_margins_version_unique")]

    def __str__(self) -> str:
        return f"{self.wave} · margins v{self.version}"


class Margin(models.Model):
    """One cell of a margin: the level of its variables (``country,size`` = ``DE,micro``) and its count."""

    margins = models.ForeignKey(WaveMargins, on_delete=models.CASCADE, related_name="cells")
    variables = models.CharField(_("variables"), max_length=200, help_text=_("comma-separated, e.g. country,size"))
    level = models.CharField(_("level"), max_length=500, help_text=_("comma-separated, e.g. DE,micro"))
    count = models.FloatField(_("population count"))

    class Meta:
        verbose_name = _("margin cell")
        verbose_name_plural = _("margin cells")
        ordering = ("margins", "id")
        constraints = [
            models.UniqueConstraint(fields=["margins", "variables", "level"], name="survey_margin_cell_unique"),
            models.CheckConstraint(condition=models.Q(count__gte=0), name="survey_margin_count_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.variables}={self.level}: {self.count:g}"
