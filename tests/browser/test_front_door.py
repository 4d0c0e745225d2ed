"""A visitor on a 390 px phone opens the front door, opens the collapsed navigation with the keyboard, follows
the next Tuesday coaching session with free places and lands on its page; a business that logs in through the
same navigation finds the session's registration form the same way. Headless Chromium against a live server,
in German."""

from __future__ import annotations

import datetime as dt

import pytest

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def programme(transactional_db):
    from digifit.programme import services

    services.training_upsert(
        slug="instagram-handel", title="Instagram für den Einzelhandel", sectors="retail", topic="instagram"
    )
    today = dt.date.today()
    start = today + dt.timedelta(days=(1 - today.weekday()) % 7 or 7)  # the next Tuesday
    series = services.series_create(
        slug="dienstag",
        title="Digital Durchstarten – Live-Coaching",
        start_date=start,
        active_capacity=1,
        follower_capacity=0,
    )
    services.series_sessions_sync(series=series, through=start + dt.timedelta(days=21))
    return series


WIDE = """(limit) => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > limit + 1)
  .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' + Math.round(el.getBoundingClientRect().right))
  .slice(-4)"""


def _no_sideways_scroll(page) -> None:
    page.wait_for_load_state("load")  # measured with the page's stylesheets and scripts applied
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide: {page.evaluate(WIDE, PHONE['width'])}"


def test_a_visitor_finds_the_next_tuesday_session_from_the_front_door(browser_page, programme):
    from playwright.sync_api import expect
    from programme.conftest import make_business

    from digifit.programme import services

    first, second = list(programme.sessions.order_by("start"))[:2]
    services.session_register(session=first, business=make_business(), role="active", question="Wie?")
    owner = make_business(verified=True, email="jana@seitenweise.example")

    page = browser_page
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.set_viewport_size(PHONE)
    page.goto(page.base_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Machen Sie Ihren Betrieb digital fit")

    # the navigation is collapsed behind "Menü" on a phone
    toggle = page.locator("#nav-toggle")
    entries = page.locator("#nav-entries")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(entries).to_be_hidden()
    _no_sideways_scroll(page)

    # keyboard only: Tab to the button, Enter opens, Escape closes and returns the focus, Space opens again
    page.keyboard.press("Tab")
    expect(page.locator("#nav-home")).to_be_focused()
    page.keyboard.press("Tab")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(entries.get_by_role("link", name="Live-Coaching")).to_be_visible()
    page.keyboard.press("Tab")
    expect(entries.get_by_role("link", name="Programm und Angebote")).to_be_focused()
    page.keyboard.press("Escape")
    expect(entries).to_be_hidden()
    expect(toggle).to_be_focused()
    page.keyboard.press(" ")
    expect(entries).to_be_visible()
    for name in ("Programm und Angebote", "Live-Coaching", "Digital-Check", "Anmelden", "Registrieren"):
        expect(entries.get_by_role("link", name=name, exact=True)).to_be_visible()
    _no_sideways_scroll(page)

    # the full first Tuesday is not offered; the next one with free places is
    expect(page.locator(f"[data-session='{first.pk}']")).to_have_count(0)
    offered = page.locator(f"[data-session='{second.pk}'] a")
    expect(offered).to_contain_text("Dienstag")
    expect(page.locator(f"[data-session='{second.pk}']")).to_contain_text("1 aktiver Platz frei")
    offered.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{page.base_url}/programme/sessions/{second.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Digital Durchstarten – Live-Coaching")
    expect(page.get_by_role("button", name="Registrieren Sie Ihren Betrieb, um teilzunehmen")).to_be_visible()
    expect(page.locator("footer").get_by_role("link", name="Impressum")).to_be_visible()
    _no_sideways_scroll(page)

    # a business logs in through the menu and finds the registration form the same way
    page.locator("#nav-toggle").click()
    page.locator("#nav-entries").get_by_role("link", name="Anmelden", exact=True).click()
    page.fill("input[name=username]", owner.user.username)
    page.fill("input[name=password]", "pw-Secret-123")
    page.click("main button[type=submit]")
    expect(page.locator("#nav-home")).to_be_visible()
    page.goto(page.base_url + "/")
    expect(page.locator("#front-home")).to_be_visible()
    page.locator(f"[data-session='{second.pk}'] a").click()
    form = page.locator("main form[method=post]")
    expect(form.get_by_role("button", name="Anmelden")).to_be_visible()  # registers for the session
    expect(form.locator("textarea, input[name=question]").first).to_be_visible()
    _no_sideways_scroll(page)
    assert not page.console_errors, page.console_errors
