from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ProgrammeConfig(AppConfig):
    name = "digifit.programme"
    label = "programme"
    verbose_name = _("Programme")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from digifit.programme.roles import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate, sender=self)
