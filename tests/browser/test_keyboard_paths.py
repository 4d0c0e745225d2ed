"""Keyboard-only paths (WCAG 2.1.1): a respondent answers the bundled questionnaire in German with Tab, the arrow
keys, Space, typing and Enter — no click, no ``fill``, no ``check``: every field is reached by Tab from the top of
its page, radio buttons are chosen with the arrow keys, check boxes with Space, a select by typing its option's
first letters, and each page is sent with Enter on its button. The stored submission holds what was typed.
"""

from __future__ import annotations

import pytest

from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
from digifit.survey import services
from digifit.survey.models import Submission, Wave

TABS = 120  # more Tab presses than any page of the form has stops


@pytest.fixture
def invitation(transactional_db):
    version = services.questionnaire_version_add(content=QUESTIONNAIRE_PATH.read_bytes()).version
    wave = services.wave_create(questionnaire=version.questionnaire, name="2026-11", status=Wave.Status.OPEN)
    return services.invitation_create(wave=wave, panel_id="P-0043", email="tastatur@example.org", language="de")


def _active_matches(page, selector: str) -> bool:
    return page.evaluate("sel => !!document.activeElement && document.activeElement.matches(sel)", selector)


def _tab_to(page, selector: str) -> None:
    """Press Tab until the focused element matches ``selector`` (fails if it is never reached)."""
    for _ in range(TABS):
        page.keyboard.press("Tab")
        if _active_matches(page, selector):
            return
    raise AssertionError(f"{selector} is not reached with Tab on {page.url}")


def _choose(page, group: str, value: str) -> None:
    """Tab into the radio group ``#f-<group>`` and move with the arrow keys until ``value`` is chosen."""
    _tab_to(page, f"#f-{group} input[type=radio]")
    for _ in range(20):
        if _active_matches(page, f"input[value='{value}']"):
            break
        page.keyboard.press("ArrowDown")  # moves to the next radio button and chooses it
    if not page.locator(f"#f-{group} input[value='{value}']").is_checked():
        page.keyboard.press("Space")  # the group's first button: Tab focuses it without choosing it
    assert page.locator(f"#f-{group} input[value='{value}']").is_checked(), (group, value)


def _tick(page, group: str, value: str) -> None:
    """Tab to the check box ``value`` of ``#f-<group>`` and tick it with Space."""
    _tab_to(page, f"#f-{group} input[value='{value}']")
    page.keyboard.press("Space")
    assert page.locator(f"#f-{group} input[value='{value}']").is_checked(), (group, value)


def _type(page, selector: str, text: str) -> None:
    _tab_to(page, selector)
    page.keyboard.type(text)


def _send(page, value: str) -> None:
    """Tab to the page's button (``next`` or ``submit``) and press Enter."""
    _tab_to(page, f"button[name=_action][value='{value}']:not([tabindex='-1'])")
    _enter_and_wait(page)


def _enter_and_wait(page) -> None:
    """Press Enter and wait until the page it sends has loaded (the next page keeps the same URL, so wait on the
    navigation itself: a Tab pressed before it would land in the page being left)."""
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")


def test_the_respondent_form_by_keyboard_only(browser_page, invitation):
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{page.base_url}/r/{invitation.token}/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Ihr Unternehmen")

    # 1: profile. The region select appears once the country is chosen (skip logic asked the server)
    _choose(page, "country", "DE")
    # the region is relevant from the start, but its choices follow the country (a choice filter) only when the
    # server has answered: wait for the German Länder to be offered, as a person waits for them to appear
    expect(page.locator("#f-region")).to_be_visible()
    expect(page.locator("#f-region option[value='de_by']")).to_be_enabled()
    _tab_to(page, "#f-region")
    page.keyboard.type("Bay")
    expect(page.locator("#f-region")).to_have_value("de_by")
    _choose(page, "sector", "retail")
    _choose(page, "size", "small")
    _type(page, "#f-founded", "1998")
    _enter_and_wait(page)  # Enter in a text field sends the page

    expect(heading).to_have_text("Online-Präsenz vor der Krise")
    _tick(page, "presence_before", "website")
    _choose(page, "digital_share", "p25_49")
    _send(page, "next")

    expect(heading).to_have_text("Auswirkungen der Krise")
    _choose(page, "revenue_change", "same")
    _choose(page, "employment_change", "same")
    _choose(page, "closed", "no")
    expect(page.get_by_label("Wie viele Monate insgesamt?")).to_be_hidden()
    _send(page, "next")

    _tick(page, "tools_since", "none")
    expect(page.locator("[data-field=tool_detail]")).to_be_hidden()
    _choose(page, "remote_staff", "no_staff")
    _send(page, "next")

    _tick(page, "support_needs", "none")
    expect(page.locator("#f-training_format")).to_be_hidden()
    _send(page, "next")

    _choose(page, "consent", "no")
    _send(page, "submit")
    expect(heading).to_have_text("Vielen Dank")
    assert page.console_errors == []

    data = Submission.objects.get(invitation=invitation).data
    assert (data["country"], data["region"], data["sector"], data["size"], data["founded"]) == (
        "DE",
        "de_by",
        "retail",
        "small",
        1998,
    )
    assert (data["presence_before"], data["digital_share"], data["closed"]) == ("website", "p25_49", "no")
    assert (data["tools_since"], data["remote_staff"], data["support_needs"], data["consent"]) == (
        "none",
        "no_staff",
        "none",
        "no",
    )
