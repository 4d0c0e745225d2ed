"""Admin: the outbox, read-only (messages are written by services and sent by the worker)."""

from django.contrib import admin

from digifit.notifications.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("key", "to", "subject", "state", "send_at", "attempts", "sent_at")
    list_filter = ("state", "language")
    search_fields = ("key", "to", "subject")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
