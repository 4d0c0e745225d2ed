from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "digifit.web"
    label = "web"
    verbose_name = "digifit"
