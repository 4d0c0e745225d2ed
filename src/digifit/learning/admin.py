"""Django admin for organisers: courses with their modules, lessons with their questions, enrolments (read)."""

from django.contrib import admin

from digifit.learning.models import Certificate, CheckAttempt, Choice, Course, Enrolment, Lesson, Module, Question


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 0


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("slug", "training", "completion_rule", "published")
    list_filter = ("published", "completion_rule")
    search_fields = ("slug", "training__title")
    inlines = [ModuleInline]


class LessonInline(admin.StackedInline):
    model = Lesson
    extra = 0


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ("course", "position", "title")
    inlines = [LessonInline]


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ("title", "module", "position", "kind", "pass_mark")
    list_filter = ("kind",)
    inlines = [QuestionInline]


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("text", "lesson", "position", "multiple")
    inlines = [ChoiceInline]


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ("business", "course", "enrolled_at", "completed_at")
    list_filter = ("course",)
    readonly_fields = ("business", "course", "completed_at")


@admin.register(CheckAttempt)
class CheckAttemptAdmin(admin.ModelAdmin):
    list_display = ("enrolment", "lesson", "score", "passed", "created_at")
    readonly_fields = ("enrolment", "lesson", "answers", "score", "passed", "created_at")

    def has_add_permission(self, request):
        return False


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ("code", "holder", "enrolment", "issued_at")
    search_fields = ("code",)
    readonly_fields = ("enrolment", "code", "holder", "issued_at")

    def has_add_permission(self, request):
        return False  # issued by completing a course, never by hand
