"""A retail business finds a retail training and the next Tuesday live coaching, registers its business and
itself as active participant with its question — all in German, in headless Chromium (Debian's) against a live
server — and gets the confirmation with a calendar entry at 10:00 Berlin time."""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest


@pytest.fixture
def programme(transactional_db):
    from digifit.programme import services

    services.training_upsert(
        slug="instagram-handel", title="Instagram für den Einzelhandel", sectors="retail", topic="instagram"
    )
    services.training_upsert(slug="reise-fb", title="Facebook für Reisebüros", sectors="travel", topic="facebook")
    today = dt.date.today()
    series = services.series_create(slug="dienstag", title="Digital Durchstarten – Live-Coaching", start_date=today)
    services.series_sessions_sync(series=series, through=today + dt.timedelta(days=35))
    return series


def _shot(page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("DIGIFIT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_register_for_a_tuesday_session_in_german(browser_page, programme, tmp_path):
    from playwright.sync_api import expect

    from digifit.notifications.models import OutboxMessage
    from digifit.programme.models import Registration

    page = browser_page
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # the site has none
    page.goto(f"{page.base_url}/programme/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Trainings und Live-Coaching")

    # the catalogue filter (HTMX swaps the list without a reload)
    page.get_by_label("Branche").select_option("retail")
    expect(page.locator("[data-training=reise-fb]")).to_have_count(0)
    expect(page.locator("[data-training=instagram-handel]")).to_be_visible()
    expect(page.get_by_text("1 Training", exact=True)).to_be_visible()
    _shot(page, tmp_path, "programme-1-catalogue")

    # the next Tuesday session
    page.locator("section", has=page.get_by_role("heading", name="Nächste Live-Coachings")).get_by_role(
        "link"
    ).first.click()
    expect(page.get_by_text("Freie aktive Plätze")).to_be_visible()
    assert "Dienstag" in page.locator("main").inner_text()
    page.get_by_role("button", name="Registrieren Sie Ihren Betrieb, um teilzunehmen").click()

    # the business profile with the consent (purpose shown)
    expect(page.get_by_role("heading", level=1)).to_have_text("Betrieb registrieren")
    expect(page.get_by_text("Zweck:")).to_be_visible()
    page.locator("input[name=company]").fill("Buchhandlung Seitenweise")
    page.locator("select[name=sector]").select_option(label="Handel")
    page.locator("select[name=size_class]").select_option(label="2–9 Beschäftigte")
    page.locator("select[name=region]").select_option(label="Sachsen")
    page.locator("input[name=contact_name]").fill("Jana Weber")
    page.locator("input[name=email]").fill("jana@seitenweise.example")
    page.locator("input[name=password]").fill("lesen-ist-digital-2026")
    page.get_by_label("Ich willige in die oben beschriebene Verarbeitung ein.").check()
    _shot(page, tmp_path, "programme-2-signup")
    page.get_by_role("button", name="Anmelden").click()

    # nothing works before the address is confirmed: the link in the e-mail activates the account
    expect(page.get_by_role("heading", level=1)).to_have_text("Bitte sehen Sie in Ihr Postfach")
    mail = OutboxMessage.objects.get(to="jana@seitenweise.example")
    assert mail.subject == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    link = re.search(r"https?://\S+/programme/signup/confirm/\S+/", mail.body_text).group(0)
    page.goto(page.base_url + urlsplit(link).path)  # the e-mail names DIGIFIT_BASE_URL, not the test server
    expect(page.get_by_role("heading", level=1)).to_have_text("E-Mail-Adresse bestätigt")
    page.get_by_role("button", name="Anmelden").click()
    page.locator("input[name=username]").fill("jana@seitenweise.example")
    page.locator("input[name=password]").fill("lesen-ist-digital-2026")
    page.get_by_role("button", name="Anmelden").click()

    # back on the session page: register as active with the question
    expect(page.get_by_text("Freie aktive Plätze")).to_be_visible()
    page.get_by_label("aktiv (live gecoacht)").check()
    page.locator("textarea[name=question]").fill(
        "Wie verkaufe ich Bücher über Instagram, ohne den Laden zu vernachlässigen?"
    )
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_text("Ihr Platz ist bestätigt")).to_be_visible()
    expect(page.get_by_text("Sie sind angemeldet. Die Bestätigung kommt per E-Mail.")).to_be_visible()
    _shot(page, tmp_path, "programme-3-confirmed")
    assert page.console_errors == []

    reg = Registration.objects.select_related("session").get(business__email="jana@seitenweise.example")
    assert (reg.status, reg.role, reg.sector) == ("confirmed", "active", "retail")
    confirmation = OutboxMessage.objects.get(key=f"programme.confirmed:{reg.pk}")
    assert confirmation.subject.startswith("Anmeldung bestätigt") and confirmation.language == "de"
    _, content, _ = confirmation.attachments[0]
    [event] = icalendar.Calendar.from_ical(base64.b64decode(content)).walk("VEVENT")
    start = event.decoded("dtstart").astimezone(ZoneInfo("Europe/Berlin"))
    assert (start.weekday(), start.hour, start.minute) == (1, 10, 0)
    assert start == reg.session.start
