"""The demo programme: a training catalogue (German, with English and French titles), a season of Tuesday
live-coaching sessions, synthetic businesses with registrations, attendance and success stories.

``load_catalogue()`` is what ``make demo`` calls after migrating. It is idempotent: a second call updates the
trainings and adds nothing else. Synthetic businesses have addresses at ``example.org`` and no login; e-mails
that would already be due (confirmations of past registrations) are withdrawn from the outbox, future
reminders stay queued.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

__all__ = ["CatalogueLoaded", "load_catalogue"]

SERIES_SLUG = "digital-durchstarten"
BERLIN = ZoneInfo("Europe/Berlin")
SECTORS = ("retail", "gastronomy", "travel", "other")
SECTOR_WEIGHTS = (0.4, 0.3, 0.2, 0.1)
REGIONS = ("BY", "BW", "NW", "NI", "HE", "BE", "SN", "HH", "RP", "SH", "TH", "BB", "ST", "MV", "SL", "HB")
QUESTIONS = {
    "retail": [
        "Wie bringe ich mein Sortiment in einen Onlineshop, ohne dass der Laden leidet?",
        "Lohnt sich Instagram Shopping für einen kleinen Buchladen?",
        "Wie beantworte ich Kundenanfragen auf drei Kanälen, ohne den Überblick zu verlieren?",
    ],
    "gastronomy": [
        "Wie organisiere ich Abholbestellungen über WhatsApp?",
        "Welche Fotos und Geschichten bringen Gäste zurück?",
        "Wie gehe ich mit schlechten Bewertungen online um?",
    ],
    "travel": [
        "Wie halte ich Stammkunden, wenn niemand reisen darf?",
        "Wie mache ich unsere Reisen online buchbar?",
        "Lohnen sich Reels für ein Reisebüro mit zwei Mitarbeitenden?",
    ],
    "other": ["Wo fange ich mit der Digitalisierung überhaupt an?"],
}


@dataclass(frozen=True)
class CatalogueLoaded:
    """What :func:`load_catalogue` stored."""

    trainings: int
    stories: int
    sessions: int
    businesses: int
    registrations: int
    created: bool


def _data(name: str):
    return json.loads(resources.files("digifit.demo.catalogue_data").joinpath(name).read_text("utf-8"))


def load_catalogue(*, today: date | None = None, businesses: int = 240, seed: int = 20260303) -> CatalogueLoaded:
    """Load the demo catalogue, series, sessions, businesses and registrations (Django must be set up).

    Parameters
    ----------
    today : date, optional
        The demo's "now" for the season: the series starts 12 Tuesdays before and runs to 31 December.
    businesses : int, default 240
        Synthetic businesses, registered over the past weeks; about two thirds take part in sessions.
    seed : int
        Fixed, so every demo looks the same.
    """
    from django.db import transaction
    from django.utils import timezone

    from digifit.notifications.models import OutboxMessage
    from digifit.programme import services
    from digifit.programme.models import Business, Registration, Series, Session, Story, Training

    today = today or timezone.localdate()
    trainings = {}
    for row in _data("trainings.json"):
        slug = row.pop("slug")
        trainings[slug] = services.training_upsert(slug=slug, **row)
    if Series.objects.filter(slug=SERIES_SLUG).exists():
        return CatalogueLoaded(
            Training.objects.count(),
            Story.objects.count(),
            Session.objects.count(),
            Business.objects.count(),
            Registration.objects.count(),
            False,
        )
    rng = random.Random(seed)
    now = timezone.now()
    start = today - timedelta(days=(today.weekday() - 1) % 7) - timedelta(weeks=12)  # a Tuesday
    until = date(today.year, 12, 31) if today.month < 11 else date(today.year + 1, 6, 30)
    with transaction.atomic():
        series = services.series_create(
            slug=SERIES_SLUG,
            title="Digital Durchstarten – Live-Coaching",
            start_date=start,
            until=until,
            description=(
                "Jeden Dienstag arbeiten Marketing-Expertinnen und -Experten live an den Fragen von fünf Betrieben "
                "aus Handel, Gastronomie und Reise. Alle anderen können zuschauen und mitlernen."
            ),
            location="https://meet.example.org/digital-durchstarten",
            active_capacity=5,
            follower_capacity=300,
        )
        series.trainings.set([trainings[s] for s in ("storytelling-grundlagen", "digitale-strategie")])
        services.series_sessions_sync(series=series, through=until)
        for d in (date(until.year, 12, 22), date(until.year, 12, 29)):  # the holidays
            if series.to_value().is_occurrence(d):
                services.series_exception_set(series=series, original_date=d, kind="skip", reason="Feiertage")
        moved = today + timedelta(days=(1 - today.weekday()) % 7 + 21)  # three weeks after the next Tuesday
        if series.to_value().is_occurrence(moved):
            services.series_exception_set(
                series=series,
                original_date=moved,
                kind="move",
                new_start=datetime.combine(moved + timedelta(days=1), time(14), tzinfo=BERLIN),
                reason="Messe",
            )
    sessions = list(Session.objects.filter(series=series, cancelled=False).order_by("start"))
    past = [s for s in sessions if s.start < now]
    upcoming = [s for s in sessions if s.start >= now][:3]
    made = 0
    for i in range(businesses):
        sector = rng.choices(SECTORS, SECTOR_WEIGHTS)[0]
        registered_at = datetime.combine(
            start + timedelta(days=rng.randrange(0, max(1, (today - start).days))), time(9 + rng.randrange(9)), BERLIN
        )
        business = services.business_register(
            user=None,
            company=f"Demo-Betrieb {i + 1:03d}",
            sector=sector,
            size_class=rng.choices(["solo", "micro", "small", "medium"], [0.3, 0.45, 0.2, 0.05])[0],
            region=rng.choices(REGIONS, [16, 14, 18, 9, 7, 6, 5, 4, 4, 3, 3, 3, 3, 2, 1, 1])[0],
            contact_name=f"Kontakt {i + 1:03d}",
            email=f"betrieb{i + 1:03d}@example.org",
            consent=True,
            language=rng.choices(["de", "en", "fr"], [0.85, 0.1, 0.05])[0],
            verified=True,  # synthetic addresses: the loader vouches for them
            now=registered_at,
        )
        Business.objects.filter(pk=business.pk).update(created_at=registered_at)
        if rng.random() < 0.68:
            choices = [s for s in past if s.start > registered_at] + upcoming
            if choices:
                session = rng.choice(choices)
                role = "active" if rng.random() < 0.3 else "follower"
                question = rng.choice(QUESTIONS[sector]) if role == "active" else ""
                when = min(registered_at + timedelta(hours=2), session.start - timedelta(hours=30))
                reg = services.session_register(
                    session=session, business=business, role=role, question=question, now=max(when, registered_at)
                )
                made += 1
                if session.start < now and reg.status == "confirmed":
                    services.attendance_mark(registration=reg, attended=rng.random() < 0.8)
        if rng.random() < 0.3:
            training = rng.choice(list(trainings.values()))
            done = registered_at.date() + timedelta(days=rng.randrange(1, 20))
            if done <= today:
                services.training_participation_record(business=business, training=training, completed_on=done)
    for row in _data("stories.json"):
        services.story_publish(
            title=row["title"],
            company=row["company"],
            body=row["body"],
            consent_given_at=now,
            trainings=[trainings[s] for s in row["trainings"]],
        )
    # Synthetic addresses: withdraw what would be sent now (past confirmations); future reminders stay queued.
    OutboxMessage.objects.filter(to__endswith="@example.org", state="pending", send_at__lte=now).update(
        state="cancelled"
    )
    return CatalogueLoaded(
        Training.objects.count(),
        Story.objects.count(),
        Session.objects.count(),
        Business.objects.count(),
        made,
        True,
    )
