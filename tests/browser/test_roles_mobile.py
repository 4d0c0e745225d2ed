"""The organiser's reach page and the coach's agenda on a 390 px phone, in German, in headless Chromium: each
lands there after logging in, the page never scrolls sideways, and the reach charts render as SVG."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

PASSWORD = "pw-Browser-Test-1"
PHONE = {"width": 390, "height": 844}


def _user(username: str, role: str):
    from django.contrib.auth import get_user_model

    from digifit.programme import roles

    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    roles.user_role_assign(user=user, role=role)
    return user


def _business(n: int, sector: str, region: str):
    from django.contrib.auth import get_user_model

    from digifit.programme import services

    email = f"firma{n}@example.org"
    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    return services.business_register(
        user=user,
        company=f"Firma Nummer {n} mit einem recht langen Namen GmbH & Co. KG",
        sector=sector,
        size_class="micro",
        region=region,
        contact_name=f"Inhaberin {n}",
        email=email,
        consent=True,
        language="de",
    )


@pytest.fixture
def programme(transactional_db, settings, monkeypatch):
    """Ten weeks of history (registrations, attendance, checks) and the next session with its registrations."""
    from django.utils import timezone

    from digifit.programme import selectors, services
    from digifit.programme.models import Business, Session

    settings.DIGIFIT_REACH_TARGET, settings.DIGIFIT_REACH_DEADLINE = 10000, f"{timezone.localdate().year + 1}-12-31"
    today = timezone.localdate()
    series = services.series_create(
        slug="dienstag", title="Digital Durchstarten – Live-Coaching", start_date=today - dt.timedelta(weeks=10)
    )
    services.series_sessions_sync(series=series, through=today + dt.timedelta(days=35))
    now = timezone.now()
    past = list(Session.objects.filter(series=series, start__lt=now).order_by("start"))
    upcoming = Session.objects.filter(series=series, start__gt=now).order_by("start").first()
    sectors, regions = ["retail", "travel", "gastronomy"], ["BY", "BB", "NW"]
    checks = {}
    for i in range(24):
        b = _business(i, sectors[i % 3], regions[i % 3])
        joined = now - dt.timedelta(weeks=10 - (i % 9))
        Business.objects.filter(pk=b.pk).update(created_at=joined)
        session = next((s for s in past if s.start > joined + dt.timedelta(days=1)), None)
        if session is not None and i % 4 != 3:
            reg = services.session_register(
                session=session, business=b, role="follower", now=session.start - dt.timedelta(days=1)
            )
            services.attendance_mark(registration=reg, attended=True)
            if i % 2 == 0:
                checks[b.pk] = (session.start + dt.timedelta(days=2)).date()
        if i < 3:
            services.session_register(
                session=upcoming, business=b, role="active", question=f"Wie verkaufe ich online? ({i})", now=now
            )
    monkeypatch.setattr(selectors, "completed_checks", lambda: (checks, "test"))
    return upcoming


def _login(page, username: str):
    from playwright.sync_api import expect

    page.goto(f"{page.base_url}/accounts/login/")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.locator("#nav-home")).to_be_visible()


def _shot(page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("DIGIFIT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _no_sideways_scroll(page) -> None:
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def test_organiser_reach_page_on_a_phone(browser_page, programme, tmp_path):
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size(PHONE)
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    _user("orga", "organiser")
    _login(page, "orga")
    expect(page).to_have_url(f"{page.base_url}/programme/reach/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reichweite und Ziel")
    expect(page.locator("#by-sector")).to_contain_text("Gastronomie")
    expect(page.locator("#by-region")).to_contain_text("Brandenburg")
    expect(page.locator("#forecast")).to_contain_text("Das Ziel von 10.000 digital fitten Unternehmen")
    # both charts rendered to SVG by the static embed script
    for chart in ("#chart-funnel", "#chart-trend"):
        expect(page.locator(f'{chart}[data-rendered="1"] svg')).to_have_count(1)
        box = page.locator(f"{chart} svg").bounding_box()
        assert box is not None and box["width"] > 200 and box["x"] + box["width"] <= PHONE["width"]
    expect(page.locator("#chart-trend svg")).to_contain_text("Ziel")
    _no_sideways_scroll(page)
    _shot(page, tmp_path, "reach-390")
    assert not page.console_errors, page.console_errors
    # the navigation: exactly the organiser's entries, and the logo leads home
    keys = page.locator("[data-nav]").evaluate_all("els => els.map(e => e.dataset.nav)")
    assert keys == ["reach", "agenda", "learning", "programme"]
    page.locator("#nav-toggle").click()  # on a phone the navigation is collapsed behind "Menü" (digifit/nav.js)
    page.locator("[data-nav=agenda]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Coaching-Agenda")
    _no_sideways_scroll(page)
    page.locator("#nav-home").click()
    expect(page).to_have_url(f"{page.base_url}/programme/reach/")


def test_coach_agenda_on_a_phone(browser_page, programme, tmp_path):
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size(PHONE)
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    _user("coach", "coach")
    _login(page, "coach")
    expect(page).to_have_url(f"{page.base_url}/programme/coach/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Coaching-Agenda")
    expect(page.locator("#agenda")).to_contain_text("Wie verkaufe ich online? (0)")
    expect(page.locator("#attendance tbody tr")).to_have_count(3)
    expect(page.locator("#attendance")).to_contain_text("Anwesenheit kann ab Beginn der Sitzung erfasst werden")
    _no_sideways_scroll(page)
    _shot(page, tmp_path, "agenda-390")
    keys = page.locator("[data-nav]").evaluate_all("els => els.map(e => e.dataset.nav)")
    assert keys == ["agenda", "programme"]
    assert not page.console_errors, page.console_errors
