"""The front door at ``/``: public, with the next Tuesday sessions that have free places, featured trainings by
sector (labels, never codes), the Digital-Check, sign-up and login, in German, English and French; and every
page's public navigation and footer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from programme.conftest import make_business, make_series

from digifit.programme import services

pytestmark = pytest.mark.django_db


def _next_tuesday():
    today = timezone.localdate()
    return today + timedelta(days=(1 - today.weekday()) % 7 or 7)


def _series(**kw):
    start = _next_tuesday()
    return make_series(start=start, through=start + timedelta(weeks=3), **kw)


def _fill(session, n: int) -> None:
    for _ in range(n):
        services.session_register(session=session, business=make_business(), role="active", question="Wie?")


def _page(client, language: str = "de") -> str:
    resp = client.get("/", headers={"Accept-Language": language})
    assert resp.status_code == 200
    return resp.content.decode()


def test_anonymous_visitor_sees_the_front_door_not_a_login_form(client):
    html = _page(client)
    assert "Machen Sie Ihren Betrieb digital fit" in html
    assert 'name="password"' not in html
    for url in ("/programme/signup/", "/accounts/login/", "/check/", "/programme/"):
        assert f'href="{url}"' in html, url
    assert 'id="front-home"' not in html


def test_a_logged_in_user_also_gets_the_link_to_their_home(client):
    user = get_user_model().objects.create_user("someone", password="pw-Secret-123")
    client.force_login(user)
    html = _page(client)
    assert 'id="front-home"' in html and 'href="/home/"' in html
    assert 'id="front-signup"' not in html


def test_without_sessions_and_trainings_it_says_so(client):
    html = _page(client)
    assert 'id="front-no-session"' in html and "kein kommender Coaching-Termin" in html
    assert 'id="front-no-training"' in html


def test_a_session_with_free_places_is_offered_and_a_full_one_is_not(client):
    series = _series(active_capacity=1, follower_capacity=0)
    first, second = list(series.sessions.order_by("start"))[:2]
    _fill(first, 1)  # the first Tuesday is full (no active place, no follower place)
    html = _page(client)
    assert f'data-session="{first.pk}"' not in html
    assert f'data-session="{second.pk}"' in html
    assert f'href="/programme/sessions/{second.pk}/"' in html
    assert "1 aktiver Platz frei" in html
    # the date in German and in Berlin time
    local = timezone.localtime(second.start)
    assert f"Dienstag, {local.day}. " in html and local.strftime("%H:%M") in html


def test_a_session_with_only_follower_places_says_so(client):
    series = _series(active_capacity=1, follower_capacity=5)
    first = series.sessions.order_by("start").first()
    _fill(first, 1)
    html = _page(client)
    assert f'data-session="{first.pk}"' in html and "Sie können weiterhin zuhören" in html


@pytest.mark.parametrize(
    ("language", "intro", "weekday", "sector"),
    [
        ("de", "Machen Sie Ihren Betrieb digital fit", "Dienstag", "Handel"),
        ("en", "Make your business digitally fit", "Tuesday", "Retail"),
        ("fr", "Rendez votre entreprise digitalement performante", "mardi", "Commerce"),
    ],
)
def test_the_front_door_speaks_german_english_and_french(client, language, intro, weekday, sector):
    _series()
    services.training_upsert(
        slug="insta", title="Instagram für Läden", title_en="Instagram for shops", sectors="retail", topic="instagram"
    )
    html = _page(client, language)
    assert f'<html lang="{language}">' in html
    assert intro in html and weekday in html
    assert f"<h3>{sector}</h3>" in html
    if language == "en":
        assert "Instagram for shops" in html and "Tuesday, " in html  # no German "8. December" in English
        assert not re.search(
            r"\d\. (January|February|March|April|May|June|July|August|September|October|"
            r"November|December)",
            html,
        )


def test_featured_trainings_are_grouped_by_sector_label_never_by_code(client):
    services.training_upsert(slug="gast", title="Speisekarte online", sectors="gastronomy", topic="website")
    services.training_upsert(slug="alle", title="Storytelling für alle", sectors="all", topic="storytelling")
    services.training_upsert(slug="draft", title="Entwurf", sectors="retail", topic="facebook", published=False)
    html = _page(client)
    sections = dict(re.findall(r'<article data-sector="(\w+)">\s*<h3>([^<]+)</h3>', html))
    assert set(sections) == {"travel", "gastronomy", "retail"}  # "all" trainings appear under every sector
    assert sections["retail"] == "Handel" and sections["gastronomy"] == "Gastronomie"
    assert 'href="/programme/trainings/gast/"' in html and 'href="/programme/trainings/alle/"' in html
    assert "Entwurf" not in html
    text = re.sub(r"<[^>]+>", " ", html)
    assert not re.search(r"\b(gastronomy|retail|travel)\b", text)


def test_every_page_has_the_public_navigation_and_the_footer(client):
    series = _series()
    for url in ("/", "/programme/", "/check/", "/programme/signup/", "/imprint/", "/accounts/login/"):
        html = client.get(url).content.decode()
        assert 'id="nav-toggle"' in html and 'aria-expanded="false"' in html, url
        for key in ("programme", "coaching", "check", "login", "signup"):
            assert f'data-nav="{key}"' in html, (url, key)
        assert f'href="/programme/series/{series.slug}/"' in html, url
        assert 'href="/imprint/"' in html and 'href="/privacy/"' in html, url
        assert "Impressum" in html and "Datenschutz" in html


def test_staff_pages_have_the_footer_and_their_own_navigation(client):
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("org", password="pw-Secret-123")
    user.user_permissions.add(Permission.objects.get(codename="view_reach"))
    client.force_login(user)
    html = client.get("/programme/reach/").content.decode()
    assert 'href="/imprint/"' in html and 'href="/privacy/"' in html
    assert 'data-nav="reach"' in html and 'data-nav="signup"' not in html


def test_the_survey_list_moved_to_surveys(client):
    from django.urls import reverse

    assert reverse("survey:dashboard") == "/surveys/"
    assert reverse("front") == "/"
