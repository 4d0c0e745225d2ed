"""Django admin: results are read-only (they are what a business answered); the private link is not shown."""

from django.contrib import admin
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from digifit.assessment.display import format_score
from digifit.assessment.models import Assessment, PeerTable


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = (
        "completed_at",
        "country",
        "sector",
        "size",
        "dii_score",
        "dii_level",
        "overall_shown",
        "rules_version",
        "consent_statistics",
    )
    list_filter = ("rules_version", "dii_level", "country", "consent_statistics")
    exclude = ("token", "answers")
    readonly_fields = (
        "form_id",
        "form_version",
        "rules_version",
        "language",
        "result",
        "country",
        "sector",
        "size",
        "dii_score",
        "dii_level",
        "overall",
        "email",
        "consent_statistics",
        "consent_changed_at",
        "completed_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("overall maturity"), ordering="overall")
    def overall_shown(self, obj: Assessment) -> str:
        """The overall as the business reads it (stored exact)."""
        return format_score(obj.overall, get_language())


@admin.register(PeerTable)
class PeerTableAdmin(admin.ModelAdmin):
    list_display = ("wave", "fingerprint", "weighting", "computed_at")
    readonly_fields = ("wave", "fingerprint", "weighting", "table", "computed_at")

    def has_add_permission(self, request) -> bool:
        return False
