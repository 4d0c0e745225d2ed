"""A report job: one headline report of a wave, made in the background by ``digifit worker``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportJob(models.Model):
    """A requested report: its wave, format and language, and how far the background task got.

    ``status`` moves ``queued`` → ``running`` → ``done`` | ``failed``. The database task backend never retries a
    task whose worker died, so a job left ``running`` past ``DIGIFIT_REPORT_TIMEOUT`` seconds counts as stale:
    :func:`digifit.reports.services.reportjob_requeue_stale` queues it again.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    class Format(models.TextChoices):
        HTML = "html", "HTML"
        PDF = "pdf", "PDF"
        XLSX = "xlsx", "Excel (XLSX)"

    class Lang(models.TextChoices):
        DE = "de", _("German")
        EN = "en", _("English")

    wave = models.ForeignKey("survey.Wave", on_delete=models.CASCADE, related_name="report_jobs")
    format = models.CharField(_("format"), max_length=4, choices=Format.choices, default=Format.PDF)
    lang = models.CharField(_("language"), max_length=2, choices=Lang.choices, default=Lang.DE)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("per cent"))
    step = models.CharField(max_length=200, blank=True)
    file = models.CharField(max_length=500, blank=True, help_text=_("path of the made report under DIGIFIT_DATA_DIR"))
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    margins = models.ForeignKey(
        "survey.WaveMargins", null=True, blank=True, on_delete=models.SET_NULL, related_name="report_jobs",
        help_text=_("the margins version the report was weighted to"),
    )  # fmt: skip
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report job")
        verbose_name_plural = _("report jobs")
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.wave} {self.format}/{self.lang} ({self.status})"

    @property
    def filename(self) -> str:
        return (
            f"bericht-{self.wave.name}-{self.lang}.{self.format}"
            if self.lang == "de"
            else (f"report-{self.wave.name}-{self.lang}.{self.format}")
        )
