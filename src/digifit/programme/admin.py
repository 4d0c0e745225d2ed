"""Django admin for organisers: the catalogue, series with their exceptions, sessions, registrations, stories."""

from django.contrib import admin

from digifit.programme.models import (
    Business,
    Registration,
    Series,
    SeriesException,
    Session,
    Story,
    Training,
    TrainingParticipation,
)


@admin.register(Training)
class TrainingAdmin(admin.ModelAdmin):
    list_display = ("title", "sectors", "topic", "level", "format", "language", "duration_minutes", "published")
    list_filter = ("topic", "level", "format", "language", "published")
    search_fields = ("title", "title_en", "title_fr", "slug")
    prepopulated_fields = {"slug": ("title",)}


class ExceptionInline(admin.TabularInline):
    model = SeriesException
    extra = 0


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "weekday", "start_time", "tz", "start_date", "until", "active_capacity")
    inlines = [ExceptionInline]
    filter_horizontal = ("trainings",)


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("series", "start", "moved", "cancelled", "active_capacity", "follower_capacity")
    list_filter = ("series", "cancelled")
    readonly_fields = ("series", "original_date", "start", "end", "moved")


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ("company", "sector", "size_class", "region", "email", "consent_version", "consent_given_at")
    list_filter = ("sector", "size_class", "region")
    search_fields = ("company", "email", "contact_name")
    readonly_fields = ("consent_purpose", "consent_text", "consent_version", "consent_given_at", "feed_token")


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ("business", "session", "role", "status", "attended", "created_at")
    list_filter = ("role", "status", "sector")
    readonly_fields = ("session", "business", "role", "status", "created_at", "confirmed_at", "promoted_at")

    def has_add_permission(self, request) -> bool:  # registrations go through the service (capacity lock)
        return False


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    list_display = ("title", "company", "published", "consent_given_at")
    filter_horizontal = ("trainings",)


admin.site.register(TrainingParticipation)
