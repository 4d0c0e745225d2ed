"""Django admin for organisers: the catalogue, series with their exceptions, sessions, registrations, stories."""

from datetime import timedelta

from django.contrib import admin, messages
from django.utils import timezone

from digifit.programme import services
from digifit.programme.errors import ProgrammeError
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
    """Saving a series (or its exceptions) regenerates its sessions: to ``until``, or 26 weeks ahead."""

    list_display = ("title", "slug", "weekday", "start_time", "tz", "start_date", "until", "active_capacity")
    inlines = [ExceptionInline]
    filter_horizontal = ("trainings",)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        series = form.instance
        if change and (form.has_changed() or any(f.has_changed() for f in formsets)):
            Series.objects.filter(pk=series.pk).update(sequence=series.sequence + 1)
            series.refresh_from_db()
        try:
            series.to_value()
        except ProgrammeError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return
        through = series.until or timezone.localdate() + timedelta(weeks=26)
        n = len(services.series_sessions_sync(series=series, through=through))
        self.message_user(request, f"{n} sessions up to {through:%Y-%m-%d}.", level=messages.INFO)


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
