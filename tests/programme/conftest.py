"""Fixtures of the programme's Django tests: a Tuesday series with sessions, businesses, users of each role."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

_counter = itertools.count(1)


def make_business(
    *,
    sector: str = "retail",
    region: str = "BY",
    language: str = "de",
    email: str | None = None,
    verified: bool = False,
    company: str | None = None,
):
    from django.contrib.auth import get_user_model

    from digifit.programme import services

    n = next(_counter)
    email = email or f"owner{n}@example.org"
    user = get_user_model().objects.create_user(username=email, email=email, password="pw-Secret-123")
    return services.business_register(
        user=user,
        company=company or f"Firma {n}",
        sector=sector,
        size_class="micro",
        region=region,
        contact_name=f"Inhaberin {n}",
        email=email,
        consent=True,
        language=language,
        verified=verified,
    )


def confirmation_link(email: str) -> str:
    """The path of the last confirmation (or claim) link e-mailed to ``email``, read from the outbox."""
    import re

    from django.conf import settings

    from digifit.notifications.models import OutboxMessage

    message = OutboxMessage.objects.filter(to=email).order_by("-id").first()
    assert message is not None, f"no e-mail to {email}"
    found = re.search(
        re.escape(settings.DIGIFIT_BASE_URL) + r"(/programme/(?:signup/confirm|claim)/[^/\s]+/)", message.body_text
    )
    assert found, message.body_text
    return found.group(1)


def make_series(*, slug: str = "dienstag", start: date = date(2026, 1, 6), through: date = date(2026, 12, 29), **kw):
    from digifit.programme import services

    fields = {"location": "https://meet.example.org/dienstag", "description": "Live-Coaching"} | kw
    series = services.series_create(slug=slug, title="Digital Durchstarten – Live-Coaching", start_date=start, **fields)
    services.series_sessions_sync(series=series, through=through)
    return series


@pytest.fixture
def series(db):
    return make_series()


@pytest.fixture
def business(db):
    return make_business()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def check_answers(*, level: str = "3", **overrides) -> dict:
    """Complete answers of the bundled Digital-Check, every maturity item at ``level``; an override of None
    leaves that answer out."""
    from digifit.assessment.scoring import load_rules

    rules = load_rules()
    data: dict = {"country": "DE", "sector": "retail", "size": "micro", "consent_statistics": "yes"}
    for name in rules.dii_items:
        data[name] = "yes"
    for name in rules.channels.values():
        data[name] = "no"
    data[rules.share_field] = "p25_49"
    for names in rules.dimensions.values():
        for name in names:
            data[name] = level
    return {k: v for k, v in {**data, **overrides}.items() if v is not None}
