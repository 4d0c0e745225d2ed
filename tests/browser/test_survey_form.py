"""A respondent fills the bundled questionnaire in German in headless Chromium (Debian's) against a live server.

Seen in the browser: questions that appear and disappear as answers change (skip logic evaluated by the
server, shown by ``skiplogic.js``), a choice filter (regions of the chosen country), a validation message next
to its field, going back a page, adding a repeat entry, submitting, the thank-you page — and then the stored
submission in the database. Screenshots go to ``$DIGIFIT_SCREENSHOTS`` (default: pytest's tmp dir).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
from digifit.survey import services
from digifit.survey.models import Invitation, Submission, Wave


@pytest.fixture
def invitation(transactional_db):
    version = services.questionnaire_version_add(content=QUESTIONNAIRE_PATH.read_bytes()).version
    wave = services.wave_create(questionnaire=version.questionnaire, name="2026-11", status=Wave.Status.OPEN)
    return services.invitation_create(wave=wave, panel_id="P-0042", email="inhaberin@example.org", language="de")


def _shot(page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("DIGIFIT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_fill_the_bundled_form_in_german(browser_page, invitation, tmp_path):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{page.base_url}/r/{invitation.token}/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Unternehmen")
    expect(page.get_by_text("Seite 1 von 6")).to_be_visible()

    # profile: the region question follows the country (relevance and choice filter, evaluated by the server)
    country = page.locator("#f-country")
    region = page.get_by_label("In welcher Region liegt der Hauptsitz?")
    country.get_by_label("Anderes Land").check()
    expect(region).to_be_hidden()
    country.get_by_label("Frankreich").check()
    expect(region).to_be_visible()
    expect(region.locator("option[value=fr_bre]")).to_be_enabled()
    expect(region.locator("option[value=de_by]")).to_be_disabled()
    country.get_by_label("Deutschland").check()
    expect(region.locator("option[value=de_by]")).to_be_enabled()
    region.select_option("de_by")
    page.locator("#f-sector").get_by_label("Handel", exact=True).check()
    page.locator("#f-size").get_by_label("10–49 Beschäftigte").check()
    page.get_by_label("In welchem Jahr wurde Ihr Unternehmen gegründet?").fill("neunzehnhundert")
    page.get_by_role("button", name="Weiter").click()

    # a validation message next to the field, linked to it, and a summary
    founded = page.get_by_label("In welchem Jahr wurde Ihr Unternehmen gegründet?")
    error = page.locator("#f-founded-error")
    expect(error).to_contain_text("ganze Zahl")
    expect(founded).to_have_attribute("aria-invalid", "true")
    expect(founded).to_have_attribute("aria-describedby", "f-founded-error")
    expect(page.get_by_role("alert")).to_contain_text("Bitte prüfen Sie eine Antwort")
    _shot(page, tmp_path, "1-validation")
    founded.fill("1998")
    founded.press("Enter")  # Enter goes to the next page

    # presence; then back and forth: the answers are kept
    expect(page.get_by_role("heading", level=1)).to_have_text("Online-Präsenz vor der Krise")
    page.locator("#f-presence_before").get_by_label("Eigene Website").check()
    page.locator("#f-presence_before").get_by_label("Seite in sozialen Medien").check()
    page.locator("#f-digital_share").get_by_label("25–49 %").check()
    page.get_by_role("button", name="Zurück").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Unternehmen")
    expect(page.get_by_label("In welchem Jahr wurde Ihr Unternehmen gegründet?")).to_have_value("1998")
    page.get_by_role("button", name="Weiter").click()
    expect(page.locator("#f-presence_before").get_by_label("Eigene Website")).to_be_checked()
    page.get_by_role("button", name="Weiter").click()

    # impact: "how many months" appears only when the business had to close
    expect(page.get_by_text("Seite 3 von 6")).to_be_visible()
    months = page.get_by_label("Wie viele Monate insgesamt?")
    expect(months).to_be_hidden()
    page.locator("#f-revenue_change").get_by_label("Um weniger als 25 % gesunken").check()
    page.locator("#f-employment_change").get_by_label("Gleich viele").check()
    page.locator("#f-closed").get_by_label("Ja").check()
    expect(months).to_be_visible()
    _shot(page, tmp_path, "2-skip-logic")
    page.locator("#f-closed").get_by_label("Nein").check()
    expect(months).to_be_hidden()
    page.locator("#f-closed").get_by_label("Ja").check()
    months.fill("3")
    page.get_by_role("button", name="Weiter").click()

    # adoption: a repeat with an entry per tool; the tool list offers the tools ticked above
    page.locator("#f-tools_since").get_by_label("Online-Shop").check()
    page.locator("#f-tools_since").get_by_label("Cloud-Büroanwendungen").check()
    page.get_by_role("button", name="Eintrag hinzufügen").click()
    page.locator("#f-tool_detail-1--tool").select_option("online_shop")
    page.locator("#f-tool_detail-2--tool").select_option("cloud")
    page.get_by_label("Monatliche Kosten in Euro (ungefähr)").first.fill("29.90")
    page.locator("#f-remote_staff").get_by_label("Gelegentlich").check()
    _shot(page, tmp_path, "3-repeat")
    page.get_by_role("button", name="Weiter").click()

    # needs, then contact: the e-mail question appears with consent
    page.locator("#f-support_needs").get_by_label("Online-Werbung").check()
    page.locator("#f-training_format").get_by_label("Live-Coaching (dienstags)").check()
    page.get_by_role("button", name="Weiter").click()
    email = page.get_by_label("E-Mail-Adresse")
    expect(email).to_be_hidden()
    page.locator("#f-consent").get_by_label("Ja").check()
    expect(email).to_be_visible()
    email.fill("inhaberin@example.org")
    _shot(page, tmp_path, "4-last-page")
    page.get_by_role("button", name="Absenden").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Vielen Dank")
    expect(page.get_by_text("Vielen Dank für Ihre Teilnahme!")).to_be_visible()
    _shot(page, tmp_path, "5-thanks")
    assert page.console_errors == []

    sub = Submission.objects.get(invitation=invitation)
    assert sub.status == Submission.Status.COMPLETE and sub.source == Submission.Source.WEB
    assert sub.language == "de" and sub.panel_id == "P-0042"
    data = sub.data
    assert data["country"] == "DE" and data["region"] == "de_by" and data["founded"] == 1998
    assert data["closed"] == "yes" and data["closed_months"] == 3
    assert data["presence_before"] == "website social_page" and data["digital25"] == 1
    assert data["tool_detail"] == [{"tool": "online_shop", "tool_cost": 29.9}, {"tool": "cloud"}]
    assert data["consent"] == "yes" and data["email"] == "inhaberin@example.org"
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.COMPLETED
