"""Programme data: trainings, businesses, the live-coaching series and their sessions, registrations, stories.

Models hold data and constraints only; writes go through :mod:`digifit.programme.services`, reads through
:mod:`digifit.programme.selectors`. The recurrence, calendar and reach logic lives in the Django-free modules
:mod:`~digifit.programme.recurrence`, :mod:`~digifit.programme.calendar` and :mod:`~digifit.programme.reach`.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from digifit.programme import recurrence


class Sector(models.TextChoices):
    TRAVEL = "travel", _("Travel")
    GASTRONOMY = "gastronomy", _("Gastronomy")
    RETAIL = "retail", _("Retail")
    OTHER = "other", _("Other sector")


class Topic(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    MESSENGER = "messenger", "Messenger"
    WHATSAPP = "whatsapp", "WhatsApp"
    WEBSITE = "website", _("Own website / shop")
    STORYTELLING = "storytelling", _("Storytelling")
    COLLABORATION = "collaboration", _("Digital collaboration and remote work")
    STRATEGY = "strategy", _("Whole digital strategy")


class Level(models.TextChoices):
    BEGINNER = "beginner", _("Beginner")
    INTERMEDIATE = "intermediate", _("Intermediate")
    ADVANCED = "advanced", _("Advanced")


class Format(models.TextChoices):
    LIVE = "live", _("Live")
    SELF_PACED = "self_paced", _("Self-paced")
    RECORDING = "recording", _("Recording")


class SizeClass(models.TextChoices):
    SOLO = "solo", _("1 person")
    MICRO = "micro", _("2–9 employees")
    SMALL = "small", _("10–49 employees")
    MEDIUM = "medium", _("50–249 employees")


class Region(models.TextChoices):
    BW = "BW", "Baden-Württemberg"
    BY = "BY", "Bayern"
    BE = "BE", "Berlin"
    BB = "BB", "Brandenburg"
    HB = "HB", "Bremen"
    HH = "HH", "Hamburg"
    HE = "HE", "Hessen"
    MV = "MV", "Mecklenburg-Vorpommern"
    NI = "NI", "Niedersachsen"
    NW = "NW", "Nordrhein-Westfalen"
    RP = "RP", "Rheinland-Pfalz"
    SL = "SL", "Saarland"
    SN = "SN", "Sachsen"
    ST = "ST", "Sachsen-Anhalt"
    SH = "SH", "Schleswig-Holstein"
    TH = "TH", "Thüringen"


class Language(models.TextChoices):
    DE = "de", _("German")
    EN = "en", _("English")
    FR = "fr", _("French")


class Training(models.Model):
    """A training of the catalogue. ``sectors`` is a space-separated list of sectors, or ``all``."""

    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    title_fr = models.CharField(_("title (French)"), max_length=300, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    sectors = models.CharField(_("sectors"), max_length=100, default="all", help_text="travel gastronomy retail | all")
    topic = models.CharField(_("channel or topic"), max_length=20, choices=Topic.choices)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices, default=Level.BEGINNER)
    format = models.CharField(_("format"), max_length=20, choices=Format.choices, default=Format.SELF_PACED)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.DE)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=60)
    url = models.URLField(_("link"), blank=True)
    published = models.BooleanField(_("published"), default=True)

    class Meta:
        verbose_name = _("training")
        verbose_name_plural = _("trainings")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @property
    def sector_list(self) -> list[str]:
        return self.sectors.split()

    def title_in(self, language: str) -> str:
        """The title in ``language`` (German when no translation is stored)."""
        return {"en": self.title_en, "fr": self.title_fr}.get(language) or self.title


class Business(models.Model):
    """A registered business with its profile and the consent it gave (GDPR: purpose, text version, time).

    ``email_verified_at`` is set when the owner opened the confirmation link sent to ``email``; only then is the
    account active and may it claim Digital-Check results. One verified address, one business: a verified
    address is unique (case-insensitive); unverified rows may repeat an address (pending sign-ups).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="business"
    )
    company = models.CharField(_("company"), max_length=200)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices)
    size_class = models.CharField(_("size"), max_length=10, choices=SizeClass.choices)
    region = models.CharField(_("federal state"), max_length=2, choices=Region.choices)
    contact_name = models.CharField(_("contact person"), max_length=200)
    email = models.EmailField(_("e-mail"))
    email_verified_at = models.DateTimeField(_("e-mail confirmed at"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.DE)
    consent_purpose = models.TextField(_("purpose of processing"))
    consent_version = models.CharField(_("consent text version"), max_length=20)
    consent_text = models.TextField(_("consent text"))
    consent_given_at = models.DateTimeField(_("consent given at"))
    feed_token = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("business")
        verbose_name_plural = _("businesses")
        ordering = ["company", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(email_verified_at__isnull=False),
                name="programme_business_verified_email_unique",
            )
        ]

    @property
    def verified(self) -> bool:
        return self.email_verified_at is not None

    def __str__(self) -> str:
        return self.company


class Series(models.Model):
    """A live-coaching series; its recurrence (default: Tuesdays 10:00–11:00 Europe/Berlin) makes sessions."""

    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    location = models.CharField(_("location or meeting link"), max_length=500, blank=True)
    weekday = models.CharField(_("weekday"), max_length=2, default="TU", choices=[(d, d) for d in recurrence.WEEKDAYS])
    start_time = models.TimeField(_("start time"), default="10:00")
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=60)
    tz = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin")
    start_date = models.DateField(_("first date"))
    until = models.DateField(_("last date"), null=True, blank=True)
    active_capacity = models.PositiveIntegerField(_("active places per session"), default=5)
    follower_capacity = models.PositiveIntegerField(_("follower places per session"), default=500)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.DE)
    sectors = models.CharField(_("sectors"), max_length=100, default="travel gastronomy retail")
    trainings = models.ManyToManyField(Training, blank=True, related_name="series")
    sequence = models.PositiveIntegerField(default=0, help_text=_("raised when the times change"))

    class Meta:
        verbose_name = _("coaching series")
        verbose_name_plural = _("coaching series")
        ordering = ["start_date", "slug"]
        permissions = [
            ("coach_sessions", _("Can see coaching agendas and mark attendance")),
            ("view_reach", _("Can see the reach dashboard")),
        ]

    def __str__(self) -> str:
        return self.title

    def to_value(self) -> recurrence.Series:
        """The Django-free :class:`~digifit.programme.recurrence.Series` of this row and its exceptions."""
        skipped, moved = set(), {}
        for exc in self.exceptions.all():
            if exc.kind == SeriesException.Kind.SKIP:
                skipped.add(exc.original_date)
            else:
                moved[exc.original_date] = exc.new_start
        return recurrence.Series(
            slug=self.slug,
            title=self.title,
            start_date=self.start_date,
            weekday=self.weekday,
            start_time=self.start_time,
            duration=timedelta(minutes=self.duration_minutes),
            tz=self.tz,
            until=self.until,
            skipped=frozenset(skipped),
            moved=moved,
            active_capacity=self.active_capacity,
            follower_capacity=self.follower_capacity,
            language=self.language,
            description=self.description,
            location=self.location,
        )


class SeriesException(models.Model):
    """A recurrence date that is skipped (a holiday) or moved to another start."""

    class Kind(models.TextChoices):
        SKIP = "skip", _("skipped")
        MOVE = "move", _("moved")

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="exceptions")
    original_date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    new_start = models.DateTimeField(_("new start"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("series exception")
        verbose_name_plural = _("series exceptions")
        ordering = ["series", "original_date"]
        constraints = [
            models.UniqueConstraint(fields=["series", "original_date"], name="programme_exception_unique"),
            models.CheckConstraint(
                condition=Q(kind="skip", new_start__isnull=True) | Q(kind="move", new_start__isnull=False),
                name="programme_exception_move_has_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.series.slug} {self.original_date} {self.kind}"


class Session(models.Model):
    """One session of a series (identified by its recurrence date), with its own capacities."""

    series = models.ForeignKey(Series, on_delete=models.PROTECT, related_name="sessions")
    original_date = models.DateField(_("recurrence date"))
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    moved = models.BooleanField(default=False)
    cancelled = models.BooleanField(_("cancelled"), default=False)
    active_capacity = models.PositiveIntegerField(_("active places"))
    follower_capacity = models.PositiveIntegerField(_("follower places"))
    recording_url = models.URLField(_("recording"), blank=True)
    recording_published_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(_("coach notes"), blank=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["start", "id"]
        constraints = [models.UniqueConstraint(fields=["series", "original_date"], name="programme_session_unique")]

    def __str__(self) -> str:
        return f"{self.series.title} · {self.start:%Y-%m-%d %H:%M}"


class Registration(models.Model):
    """A business's place in a session: active (coached live, with its question) or follower."""

    class Role(models.TextChoices):
        ACTIVE = "active", _("active (coached live)")
        FOLLOWER = "follower", _("follower")

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed")
        WAITLISTED = "waitlisted", _("waitlisted")
        CANCELLED = "cancelled", _("cancelled")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="registrations")
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="registrations")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    question = models.TextField(_("question in advance"), blank=True)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    coach_note = models.TextField(_("coach note"), blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["session", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "business"],
                condition=~Q(status="cancelled"),
                name="programme_registration_one_live",
            ),
        ]
        indexes = [models.Index(fields=["session", "role", "status", "created_at"], name="programme_reg_queue")]

    def __str__(self) -> str:
        return f"{self.business} · {self.session} · {self.role}/{self.status}"


class TrainingParticipation(models.Model):
    """A business took part in (completed) a training: counts as attendance for reach."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="trainings_taken")
    training = models.ForeignKey(Training, on_delete=models.CASCADE, related_name="participations")
    completed_on = models.DateField(_("completed on"))

    class Meta:
        verbose_name = _("training participation")
        verbose_name_plural = _("training participations")
        constraints = [models.UniqueConstraint(fields=["business", "training"], name="programme_participation_unique")]

    def __str__(self) -> str:
        return f"{self.business} · {self.training}"


class Story(models.Model):
    """A success story of a participating business, published with its consent and linked to trainings."""

    title = models.CharField(_("title"), max_length=300)
    company = models.CharField(_("company"), max_length=200)
    business = models.ForeignKey(Business, null=True, blank=True, on_delete=models.SET_NULL, related_name="stories")
    body = models.TextField(_("story"))
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.DE)
    trainings = models.ManyToManyField(Training, blank=True, related_name="stories")
    consent_given_at = models.DateTimeField(_("consent to publish given at"), null=True, blank=True)
    published = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("success story")
        verbose_name_plural = _("success stories")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(published=False) | Q(consent_given_at__isnull=False),
                name="programme_story_published_needs_consent",
            )
        ]

    def __str__(self) -> str:
        return self.title
