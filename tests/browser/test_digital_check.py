"""A business completes the Digital-Check in German in headless Chromium (Debian's) against a live server, sees
its level, its dimension scores (chart) against weighted peers with confidence intervals, and follows the
registration button of a recommended coaching session. Screenshots go to ``$DIGIFIT_SCREENSHOTS`` (default:
pytest's tmp dir)."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from assessment.conftest import RULES, make_wave

from digifit.assessment.models import Assessment


@pytest.fixture
def programme_and_survey(transactional_db):
    from django.contrib.auth import get_user_model

    from digifit.programme import services as programme

    make_wave(per_cell=40)
    programme.training_upsert(slug="daten", title="Mit Daten entscheiden", topic="strategy", sectors="all")
    programme.training_upsert(slug="website", title="Die eigene Website", topic="website", sectors="retail")
    programme.training_upsert(slug="team", title="Digital im Team arbeiten", topic="collaboration", sectors="all")
    today = dt.date.today()
    series = programme.series_create(slug="dienstag", title="Digital Durchstarten – Live-Coaching", start_date=today)
    programme.series_sessions_sync(series=series, through=today + dt.timedelta(days=35))
    user = get_user_model().objects.create_user(username="laden", email="laden@example.org", password="pw-Laden-2026")
    programme.business_register(
        user=user,
        company="Laden am Markt",
        sector="retail",
        size_class="micro",
        region="BY",
        contact_name="Inhaberin",
        email="laden@example.org",
        consent=True,
        language="de",
    )
    return series


def _shot(page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("DIGIFIT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_complete_the_check_in_german_and_see_the_result(browser_page, programme_and_survey, tmp_path):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{page.base_url}/check/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Digital-Check")
    expect(page.get_by_role("heading", name="2. Digitale Technik")).to_be_visible()

    page.locator("#q-country").get_by_label("Deutschland").check()
    page.locator("#q-sector").get_by_label("Handel", exact=True).check()
    page.locator("#q-size").get_by_label("0–9 Beschäftigte").check()
    for i, name in enumerate(RULES.dii_items):  # 5 of 12: DII level "niedrig"
        page.locator(f"#q-{name}").get_by_label("Ja" if i < 5 else "Nein", exact=True).check()
    for key, name in RULES.channels.items():
        page.locator(f"#q-{name}").get_by_label("Nein" if key == "online_ads" else "Ja", exact=True).check()
    page.locator("#q-digital_share").get_by_label("25–49 %").check()
    scale = {
        "strategy": "Weitgehend",
        "readiness": "Trifft voll zu",
        "human": "Teilweise",
        "data": "Erste Ansätze",
        "automation": "Teilweise",
        "green": "Trifft nicht zu",
    }
    for dim, names in RULES.dimensions.items():
        for name in names:
            page.locator(f"#q-{name}").get_by_label(scale[dim], exact=True).check()
    # forgot the consent question: the page says so next to it and keeps the answers
    page.get_by_role("button", name="Mein Ergebnis anzeigen").click()
    expect(page.get_by_role("alert")).to_contain_text("Eine Antwort braucht Ihre Aufmerksamkeit.")
    expect(page.locator("#q-consent_statistics .error")).to_be_visible()
    expect(page.locator("#q-dii_erp input[value=no]")).to_be_checked()
    page.locator("#q-consent_statistics").get_by_label("Ja", exact=True).check()
    page.get_by_label("E-Mail-Adresse (optional").fill("inhaberin@example.org")
    page.get_by_role("button", name="Mein Ergebnis anzeigen").click()

    expect(page).to_have_url(re.compile(r"/check/r/[A-Za-z0-9_-]{32}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Digital-Check-Ergebnis")
    expect(page.locator("#dii")).to_contain_text("5 / 12")
    expect(page.locator("#dii")).to_contain_text("Stufe: niedrig")
    expect(page.locator("#dii")).to_contain_text("mindestens grundlegende Digitalisierung")
    expect(page.locator("#overall")).to_contain_text("50,0 / 100")  # (75 + 100 + 50 + 25 + 50 + 0) / 6, German
    expect(page.locator("#dimensions svg")).to_be_visible()
    expect(page.locator("#dimensions svg title").first).to_have_text("Digitale Reife nach Dimension (0–100)")

    bench = page.locator("#bench-digital25")
    expect(bench).to_contain_text("gleiches Land, gleiche Branche und Größe (n = 40)")
    expect(bench.locator("td.num")).to_contain_text(re.compile(r"\d+ %\s*\d+–\d+ %"))
    expect(page.locator("#benchmark")).to_contain_text("Nicht verglichen: Online-Werbung")

    # learning path: the weakest dimensions (green 0, data 25) with catalogue trainings
    path = page.locator("#learning-path")
    expect(path).to_contain_text("Grüne Digitalisierung")
    expect(path).to_contain_text("Datenmanagement")
    expect(path).to_contain_text("Mit Daten entscheiden")
    expect(page.locator("#sessions li")).to_have_count(3)
    _shot(page, tmp_path, "digital-check-result")

    a = Assessment.objects.get()
    assert (a.dii_score, a.dii_level, a.email, a.consent_statistics) == (5, "low", "inhaberin@example.org", True)
    # only the deliberate 422 of the first submit (and the favicon) failed to load; no script errors
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []

    # consent can be withdrawn (and given again) on the private page
    page.get_by_role("button", name="Einwilligung widerrufen").click()
    expect(page.locator("#privacy")).to_contain_text("Dieses Ergebnis wird nicht für Statistiken genutzt.")
    assert not Assessment.objects.get().consent_statistics
    page.get_by_role("button", name="Nutzung für Statistiken erlauben").click()
    expect(page.locator("#privacy")).to_contain_text("Sie haben erlaubt")

    # registration in one click: the business signs in (the check itself needs no account) and registers
    # from its private result page for the first recommended session, as a follower
    result_url = page.url
    page.goto(f"{page.base_url}/accounts/login/?next={result_url.split(page.base_url)[1]}")
    page.get_by_label("Benutzername").fill("laden")
    page.get_by_label("Passwort").fill("pw-Laden-2026")
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(result_url)
    register = page.locator("#sessions form").first
    action = register.get_attribute("action")
    assert re.fullmatch(r"/programme/sessions/\d+/", action)
    register.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(re.compile(re.escape(action) + "$"))
    expect(page.get_by_text("Sie sind angemeldet", exact=False)).to_be_visible()
    from digifit.programme.models import Registration

    reg = Registration.objects.get()
    assert (reg.session_id, reg.role, reg.status, reg.business.email) == (
        int(action.split("/")[-2]),
        "follower",
        "confirmed",
        "laden@example.org",
    )
