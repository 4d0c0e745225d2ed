"""The Content-Security-Policy holds in a real browser: charts, HTMX swaps and the respondent form work without
inline script, inline style or eval, and Chromium reports no violation.

Violations are caught twice: a ``securitypolicyviolation`` listener installed before any page script (Playwright's
init script runs outside the page's policy) and Chromium's console messages ("Refused to ...", "Content Security
Policy").
"""

from __future__ import annotations

import pytest

from digifit.demo import tour
from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
from digifit.survey import services
from digifit.survey.models import Wave

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


@pytest.fixture
def csp_page(browser_page):
    page = browser_page
    page.csp_console = []
    page.on(
        "console",
        lambda msg: (
            ("Content Security Policy" in msg.text or "Refused to" in msg.text) and page.csp_console.append(msg.text)
        ),
    )
    page.add_init_script(LISTEN)
    return page


def _violations(page) -> list[str]:
    return page.evaluate("() => window.__csp || []") + page.csp_console


@pytest.fixture
def demo_wave(settings, tmp_path, transactional_db):
    settings.DATA_DIR = tmp_path
    from digifit.reports import selectors

    tour.users_load()
    version = tour.questionnaire_load()
    tour.waves_load(version=version, rows=3000, n_waves=1)
    selectors._analysis.cache_clear()
    selectors._headline.cache_clear()
    return Wave.objects.get()


def _login(page, username: str) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", tour.DEMO_PASSWORD)
    page.click("main button[type=submit], main input[type=submit]")
    page.wait_for_load_state()


def test_dashboard_and_analysis_charts_render_under_the_policy(csp_page, demo_wave):
    from playwright.sync_api import expect

    page = csp_page
    _login(page, "analyst")
    response = page.goto(page.base_url + "/dashboard/")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    # waits are selectors and expectations: Playwright's wait_for_function evaluates a string, which the policy forbids
    page.wait_for_selector("#headline-chart[data-rendered='1'] svg")
    assert page.locator("#headline-chart svg g.mark-rect path").count() > 0

    page.goto(page.base_url + "/analysis/")
    page.wait_for_selector("#analysis-chart[data-rendered='1'] svg")
    page.select_option("#by", "size")  # HTMX swaps the results in; charts.js draws the new chart
    expect(page.locator(".analysis-results h2")).to_contain_text("Größenklasse")
    page.wait_for_selector("#analysis-chart[data-rendered='1'] svg")
    assert page.locator("#analysis-chart svg").count() == 1
    # the language switch submits on change from page.js (no onchange attribute)
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert _violations(page) == []


def test_survey_form_and_skip_logic_under_the_policy(csp_page, transactional_db):
    from playwright.sync_api import expect

    version = services.questionnaire_version_add(content=QUESTIONNAIRE_PATH.read_bytes()).version
    wave = services.wave_create(questionnaire=version.questionnaire, name="2026-11", status=Wave.Status.OPEN)
    invitation = services.invitation_create(wave=wave, panel_id="P-1", email="a@example.org", language="de")
    page = csp_page
    response = page.goto(f"{page.base_url}/r/{invitation.token}/")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    region = page.get_by_label("In welcher Region liegt der Hauptsitz?")
    page.locator("#f-country").get_by_label("Anderes Land").check()
    expect(region).to_be_hidden()  # skiplogic.js asked the server and applied its answer
    page.locator("#f-country").get_by_label("Frankreich").check()
    expect(region).to_be_visible()
    assert _violations(page) == []


def test_api_docs_and_digital_check_under_the_policy(csp_page, transactional_db):
    page = csp_page
    page.goto(page.base_url + "/check/")
    page.wait_for_load_state("load")
    page.goto(page.base_url + "/api/docs")
    page.wait_for_selector("#swagger-ui .opblock")  # Swagger UI from ninja's static files drew the operations
    assert _violations(page) == []
