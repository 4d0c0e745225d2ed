"""The analysis page in headless Chromium: pick indicator and breakdown; the table and the Vega chart render."""

from __future__ import annotations

import pytest

from digifit.demo import tour


@pytest.fixture
def demo_wave(settings, tmp_path, transactional_db):
    settings.DATA_DIR = tmp_path
    from digifit.reports import selectors

    tour.users_load()
    version = tour.questionnaire_load()
    tour.waves_load(version=version, rows=6000, n_waves=1)
    selectors._analysis.cache_clear()
    selectors._headline.cache_clear()
    from digifit.survey.models import Wave

    return Wave.objects.get()


def login(page, username: str) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", tour.DEMO_PASSWORD)
    page.click("main button[type=submit], main input[type=submit]")
    page.wait_for_load_state()


def test_analysis_page_updates_table_and_chart(browser_page, demo_wave, tmp_path):
    from playwright.sync_api import expect

    from digifit.reports import selectors
    from digifit.reports.locale import fmt_pct, level_label

    page = browser_page
    login(page, "analyst")
    page.goto(page.base_url + "/analysis/")
    page.wait_for_selector("#analysis-chart svg")  # Vega-Lite rendered (scripts served locally)
    assert page.locator("[data-testid=estimates] tbody tr").count() == 7  # six countries and all

    page.select_option("#indicator", "loss25")
    page.select_option("#by", "size")
    # the page's policy forbids eval, so waits are selectors and expectations, never wait_for_function
    expect(page.locator(".analysis-results h2")).to_contain_text("Größenklasse")
    page.wait_for_selector("[data-testid=estimates] tbody tr td")
    page.wait_for_selector("#analysis-chart svg")
    page.wait_for_selector("#analysis-chart[data-rendered='1'] svg")
    a = selectors.analysis_get(waves=[demo_wave], indicator="loss25", by=("size",))
    labels = selectors.level_labels_get(waves=[demo_wave])  # the questionnaire version's choice labels
    rows = page.locator("[data-testid=estimates] tbody tr")
    assert rows.count() == len(a.rows) + 1
    for i, r in enumerate(a.rows):
        cells = rows.nth(i).locator("td")
        assert cells.nth(0).inner_text() == level_label("size", dict(r.domain)["size"], "de", labels)
        assert cells.nth(1).inner_text() == fmt_pct(r.estimate.estimate, "de")
    # bars and whiskers: one bar per shown cell
    assert page.locator("#analysis-chart svg g.mark-rect path").count() == len(a.rows)
    assert page.locator("[data-testid=comparison]").is_visible()

    page.select_option("#by2", "country")  # a cross of two
    page.wait_for_selector("[data-testid=estimates] tbody tr:nth-child(21)")
    page.wait_for_selector("#analysis-chart[data-rendered='1'] svg")
    page.screenshot(path=str(tmp_path / "analysis.png"), full_page=True)
    assert [e for e in page.console_errors if "404" not in e] == []  # the 404 is /favicon.ico


def test_business_owner_cannot_open_the_analysis(browser_page, demo_wave):
    page = browser_page
    login(page, "betrieb")
    response = page.goto(page.base_url + "/analysis/")
    assert response.status == 403
