from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The web part of the reports: the analysis page, the dashboard and report jobs."""

    name = "digifit.reports"
    label = "reports"
    verbose_name = _("Reports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from digifit.reports import tasks  # noqa: F401 - connects report_make to services.job_queued
