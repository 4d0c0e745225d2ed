"""``digifit.demo.catalogue.load_catalogue()``: every programme page has content; a second load adds nothing."""

from __future__ import annotations

from datetime import date

import pytest

from digifit.demo.catalogue import load_catalogue
from digifit.programme import selectors
from digifit.programme.models import Registration, Session, Training


@pytest.mark.django_db
def test_load_catalogue_fills_the_programme(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    loaded = load_catalogue(businesses=60)
    assert loaded.created and loaded.trainings == 16 and loaded.stories == 4
    assert loaded.registrations > 20
    assert Training.objects.filter(title_en="").count() == 0 and Training.objects.filter(title_fr="").count() == 0
    assert all(s.start.weekday() == 1 or s.moved for s in Session.objects.all())
    assert Registration.objects.filter(attended=True).exists()
    assert selectors.session_upcoming_list(sector="retail")
    assert client.get("/programme/").status_code == 200
    assert client.get("/programme/series/digital-durchstarten/").status_code == 200
    assert client.get("/programme/series/digital-durchstarten/feed.ics").status_code == 200
    again = load_catalogue(businesses=60)
    assert not again.created and again.registrations == Registration.objects.count()


@pytest.mark.django_db
def test_demo_season_with_holidays_skipped():
    load_catalogue(today=date(2026, 3, 3), businesses=5)
    dates = set(Session.objects.filter(cancelled=False).values_list("original_date", flat=True))
    assert date(2026, 12, 29) not in dates and date(2026, 12, 15) in dates
