from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "digifit.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # Groups and their permissions are defined by code: bring them in line after every migrate.
        post_migrate.connect(_sync_roles, dispatch_uid="digifit.accounts.roles_sync")


def _sync_roles(sender, using="default", **kwargs) -> None:
    if getattr(sender, "label", None) != "survey":  # the survey app's permissions exist once it migrated
        return
    from digifit.accounts.roles import roles_sync

    roles_sync(using=using)
