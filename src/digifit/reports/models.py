"""Report jobs (one headline report of a wave, made in the background by ``digifit worker``) and the population
margins per wave that reports are weighted to."""

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
        "WaveMargins", null=True, blank=True, on_delete=models.SET_NULL, related_name="report_jobs",
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


class WaveMargins(models.Model):
    """One uploaded version of a wave's population margins (what the wave's responses are raked to).

    A new upload is a new version (``version`` counts up per wave); reports use the newest and record which
    (:attr:`ReportJob.margins`). The cells are :class:`Margin` rows; the uploaded file is kept as it came.
    """

    wave = models.ForeignKey("survey.Wave", on_delete=models.CASCADE, related_name="margins_versions")
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
        constraints = [models.UniqueConstraint(fields=["wave", "version"], name="reports_margins_version_unique")]

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
            models.UniqueConstraint(fields=["margins", "variables", "level"], name="reports_margin_cell_unique"),
            models.CheckConstraint(condition=models.Q(count__gte=0), name="reports_margin_count_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.variables}={self.level}: {self.count:g}"
