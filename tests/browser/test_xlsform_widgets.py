"""The wider XLSForm widgets in headless Chromium at 390 px, in German, filled by keyboard.

date, time and dateTime are the browser's own inputs (date and time typed digit by digit, dateTime set), the
range slider moves with the arrow keys and shows its value, the geopoint is typed, the rank order changes with
the up/down buttons (Enter on a focused button) — then the submission is stored with the typed values.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from digifit.survey import respond, services
from digifit.survey.models import Submission, Wave

FORM = Path(__file__).parents[1] / "forms" / "corpus" / "web_widgets.xlsx"


def _type_date(field, day: str, month: str, year: str) -> bool:
    """Type a date digit by digit in the order the browser's own date input shows its parts.

    Headless Chromium orders them by its UI locale (MM/DD/YYYY on Debian's build), not the page's language:
    typed day first; if the browser read it month first, typed again in its order (from the first part, typing
    overwrites). Returns whether the browser puts the month first.
    """
    field.press_sequentially(day + month + year)
    if field.input_value() == f"{year}-{day}-{month}":
        field.press("ArrowLeft")  # from the year back to the first part
        field.press("ArrowLeft")
        field.page.keyboard.type(month + day + year)
        return True
    return False


@pytest.fixture
def wave(transactional_db):
    version = services.questionnaire_version_add(content=FORM.read_bytes(), filename=FORM.name).version
    return services.wave_create(questionnaire=version.questionnaire, name="w1", status=Wave.Status.OPEN)


def test_widgets_by_keyboard_at_390_px_in_german(browser_page, wave):
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + respond.wave_open_url(wave))
    expect(page.locator("html")).to_have_attribute("lang", "de")

    _type_date(page.get_by_label("Datum des Besuchs"), "03", "12", "2026")
    expect(page.get_by_label("Datum des Besuchs")).to_have_value("2026-12-03")
    page.get_by_label("Uhrzeit des Besuchs").press_sequentially("1405")
    expect(page.get_by_label("Uhrzeit des Besuchs")).to_have_value("14:05")
    moment = page.get_by_label("Zeitpunkt")
    moment.fill("2026-12-03T09:30")  # datetime-local's parts differ per browser locale: set, not typed
    expect(moment).to_have_value("2026-12-03T09:30")

    slider = page.get_by_label("Bewertung")
    expect(page.locator("#f-score-value")).to_have_text("–")  # untouched: no answer yet
    slider.focus()
    for _ in range(3):
        slider.press("ArrowRight")
    expect(page.locator("#f-score-value")).to_have_text("6")
    expect(slider).to_have_attribute("name", "score")

    page.get_by_label("Breitengrad (−90 bis 90)").fill("52.52")
    page.get_by_label("Längengrad (−180 bis 180)").fill("13.405")
    page.get_by_label("Genauigkeit in Metern").fill("8")
    expect(page.get_by_role("button", name="Meinen Standort verwenden")).to_be_visible()

    def expect_order(*names: str) -> None:
        for i, name in enumerate(names, start=1):
            expect(page.locator(f"ol[data-rank] li:nth-child({i})")).to_have_attribute("data-choice", name)

    expect_order("apple", "pear", "plum")
    down = page.get_by_role("button", name="„Apfel“ nach unten verschieben")
    down.focus()
    down.press("Enter")
    expect_order("pear", "apple", "plum")
    expect(down).to_be_focused()  # focus stays with the moved item: press again to move it further
    down.press("Enter")
    expect_order("pear", "plum", "apple")
    expect(page.locator("[data-rank-status]")).to_have_text("Jetzt an Position 3.")

    consent = page.get_by_label("Ich stimme zu")
    consent.focus()
    consent.press("Space")
    page.get_by_label("Strichcode").fill("4006381333931")
    expect(page.get_by_text("Diese Frage braucht die App ODK Collect")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px)"

    page.get_by_role("button", name="Absenden").click()
    expect(page.get_by_text("Vielen Dank")).to_be_visible()
    data = Submission.objects.get(wave=wave, status=Submission.Status.COMPLETE).data
    assert data["visit_date"] == "2026-12-03" and data["visit_time"] == "14:05"
    assert data["visit_at"] == "2026-12-03T09:30" and data["score"] == 6
    assert data["place"] == "52.52 13.405 0 8" and data["fruit_rank"] == "pear plum apple"
    assert data["consent"] == "OK" and data["code"] == "4006381333931"
    assert page.console_errors == []
