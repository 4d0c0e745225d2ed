"""Django admin for staff: browse everything; submissions are read-only here (edit through the API, audited)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy

from digifit.survey.models import (
    Invitation,
    Questionnaire,
    QuestionnaireVersion,
    ReminderSchedule,
    Submission,
    SubmissionEdit,
    Wave,
    Webhook,
    WebhookDelivery,
)


class VersionInline(admin.TabularInline):
    model = QuestionnaireVersion
    fields = ("version", "title", "default_language", "languages", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ("form_id", "title", "created_at")
    search_fields = ("form_id", "title")
    inlines = [VersionInline]


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(admin.ModelAdmin):
    list_display = ("questionnaire", "version", "title", "default_language", "created_at")
    list_filter = ("questionnaire",)
    exclude = ("xlsx",)
    readonly_fields = [f.name for f in QuestionnaireVersion._meta.fields if f.name != "xlsx"]

    def has_add_permission(self, request) -> bool:  # uploads go through the service (validation)
        return False


@admin.action(description="Send the invitation e-mails (and schedule reminders)")
def _invitations_send(modeladmin, request, queryset) -> None:
    from digifit.survey.invitations import invitations_send

    n = sum(invitations_send(wave=wave) for wave in queryset)
    modeladmin.message_user(request, f"{n} invitation e-mail(s) queued")


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    list_display = ("questionnaire", "name", "status", "opens_at", "closes_at")
    list_filter = ("status", "questionnaire")
    actions = [_invitations_send]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("wave", "panel_id", "email", "language", "status", "created_at")
    list_filter = ("status", "language", "wave")
    search_fields = ("panel_id", "email")
    exclude = ("token_digest",)  # only the digest is stored; the clear token is in the respondent's link

    def save_model(self, request, obj, form, change) -> None:
        if not change:  # a token of its own; its link reaches the respondent when the e-mails are sent
            import secrets

            from digifit.survey.models import invitation_token_digest

            obj.token_digest = invitation_token_digest(secrets.token_urlsafe(24))
        super().save_model(request, obj, form, change)


class EditInline(admin.TabularInline):
    model = SubmissionEdit
    fields = ("edited_at", "edited_by", "reason", "before", "after")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("instance_id", "questionnaire_version", "wave", "panel_id", "status", "submitted_at")
    list_filter = ("status", "source", "wave")
    search_fields = ("instance_id", "panel_id")
    readonly_fields = [f.name for f in Submission._meta.fields]
    inlines = [EditInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class WebhookForm(forms.ModelForm):
    """The webhook form: the URL passes the same outbound guard as in the API (public addresses only)."""

    url = forms.URLField(label=gettext_lazy("URL"), max_length=1000, assume_scheme="https")

    class Meta:
        model = Webhook
        fields = ("questionnaire", "url", "description", "active")

    def clean_url(self) -> str:
        from digifit.survey.errors import SubmissionRejected
        from digifit.survey.webhooks import webhook_url_check, webhook_url_refusal_text

        try:
            return webhook_url_check(self.cleaned_data.get("url") or "")
        except SubmissionRejected as exc:
            raise forms.ValidationError(webhook_url_refusal_text(exc), code="url") from exc


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Webhooks per questionnaire; the secret is shown read-only (receivers need it to check signatures).

    The delivery log (below) shows status codes and short errors; receivers' replies are never stored."""

    form = WebhookForm

    list_display = ("questionnaire", "url", "active", "created_at")
    list_filter = ("active", "questionnaire")
    fields = ("questionnaire", "url", "description", "active", "secret")
    readonly_fields = ("secret",)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            import secrets

            obj.secret = secrets.token_urlsafe(32)
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.action(description="Retry now")
def _retry(modeladmin, request, queryset) -> None:
    from digifit.survey.webhooks import webhook_delivery_retry

    for delivery in queryset:
        webhook_delivery_retry(delivery=delivery)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, with a retry action."""

    list_display = ("created_at", "webhook", "submission", "status", "attempts", "response_code", "next_attempt_at")
    list_filter = ("status", "webhook")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = [_retry]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReminderSchedule)
class ReminderScheduleAdmin(admin.ModelAdmin):
    """Reminder days per wave (days after the invitation e-mail); waves without one use the default."""

    list_display = ("wave", "offsets_days")
