from django.contrib import admin

from digifit.accounts.models import Token


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "name", "prefix")
    readonly_fields = ("digest", "prefix", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:  # raw values are shown once: create them with the CLI/API
        return False
