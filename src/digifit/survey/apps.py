from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveyConfig(AppConfig):
    name = "digifit.survey"
    label = "survey"
    verbose_name = _("Survey")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from digifit.survey import tasks  # noqa: F401 - connects the webhook flush to deliveries_queued
