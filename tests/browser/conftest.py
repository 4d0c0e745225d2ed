"""Browser tests: Debian's Chromium, headless, driven by Playwright's Python package against ``live_server``.

``browser_page`` is a fresh page (its own context: cookies, storage) of one Chromium per test module. The
browser is the system's ``/usr/bin/chromium`` (``make test`` installs it with apt); Playwright never downloads
one. Override the path with ``DIGIFIT_CHROMIUM``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("DIGIFIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium_browser():
    """One headless Chromium (the system's) per test module.

    Playwright's sync API keeps an event loop running in the test's thread while it is started; the tests still
    use the database synchronously (fixtures, assertions), which Django refuses inside a running loop unless
    ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set. Both last only as long as this module's tests, so the tests of other
    modules run with Django's check in place.
    """
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does: APT_PACKAGES)")
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def browser_page(chromium_browser, live_server, transactional_db):
    """A new page in a fresh browser context; ``page.base_url`` is the live server's address.

    Console errors of the page are collected in ``page.console_errors``.
    """
    context = chromium_browser.new_context(locale="de-DE", viewport={"width": 1000, "height": 900})
    # generous limits: the tests wait on conditions, and a loaded 2-core machine may take long to reach them
    context.set_default_timeout(120_000)
    context.set_default_navigation_timeout(120_000)
    from playwright.sync_api import expect

    expect.set_options(timeout=120_000)
    page = context.new_page()
    page.base_url = live_server.url
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    yield page
    context.close()
