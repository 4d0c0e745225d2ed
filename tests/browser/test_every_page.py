"""Every page each role reaches, in headless Chromium on a 390 px phone, in German: no sideways scrolling, no
serious or critical axe-core violation (WCAG 2.1 A/AA), no request to another host.

The list of pages is generated from the URL confs, with what the other route-wide tests already declare:

- who may open a route: ``POLICY`` of ``tests/web/test_authorization_matrix.py`` (its ``GET`` roles);
- which routes are HTML pages: ``NOT_PAGES`` of ``tests/web/test_content_security_policy.py`` names the others
  (files, JSON, POST-only actions);
- the values of a route's parameters: the ``world`` fixture of that same CSP test (the demo's loaders: users,
  a wave with submissions, catalogue, checks, courses), one line per route: ``"app:name": {"param": value}``.

A route missing from one of them fails ``test_every_page_is_declared`` with the line to add. The Django admin
(Django's own pages) and the machine routes (``api/``, ``openrosa/``, ``i18n/``) are not pages here, except the
API's documentation page ``/api/docs`` (Swagger UI, served from ninja's static files: no CDN).

One test per role: a fresh browser context (cookies) logs in once and opens each of the role's pages; the
failure message lists every page that failed with what was found (the widest elements, axe's rule ids with the
first offending elements, the foreign URLs). ``KNOWN`` lists failures another change is fixing; such an entry
is reported, and fails the test as soon as the page passes (remove the entry then).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from web.test_authorization_matrix import ADMIN, ANON, BIZ, POLICY, ROLES, Route, routes
from web.test_content_security_policy import NOT_PAGES, world  # noqa: F401  (world: the fixture, reused)

PHONE = {"width": 390, "height": 844}
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__axe-core__/axe.min.js"  # served by the test's route handler: same origin, so the CSP allows it
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MACHINE_PREFIXES = ("/api/", "/openrosa/", "/i18n/")
EXTRA_PAGES = {"api:openapi-view"}  # /api/docs: a page for people
# HTML fragments that HTMX swaps into a page: checked as part of that page
FRAGMENTS = {"analysis:results": "swapped into /analysis/ (analysis:page)"}

# the demo user of each role of the authorisation matrix (tests/web/test_authorization_matrix.py)
USERS = {
    ANON: None,
    BIZ: "betrieb",
    "survey_manager": "manager",
    "analyst": "analyst",
    "coach": "coach",
    "organiser": "organiser",
    ADMIN: "admin",  # the demo's user administrator (staff and roles), not a superuser: no survey data, no admin
}
# routes the matrix refuses to everyone but that a role does reach in the demo (DIGIFIT_DEMO_MAILBOX is on)
ALSO = {"demo_mailbox": {ANON}}

# (route name, check) → why it still fails; check is "width", "axe:<rule id>" or "hosts"
KNOWN: dict[tuple[str, str], str] = {
    # Swagger UI's own markup (a button inside the operation's summary control); digifit cannot change it
    # short of forking Swagger UI. The page is for developers; everything else on it passes.
    ("api:openapi-view", "axe:nested-interactive"): "Swagger UI upstream markup",
}

FIND_WIDE = """(limit) => {
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > limit + 1 && r.width > 0) {
      let inScroller = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden') { inScroller = true; break; }
      }
      if (!inScroller) {
        const id = el.id ? '#' + el.id : '';
        const cls = el.classList.length ? '.' + [...el.classList].join('.') : '';
        wide.push(el.tagName.toLowerCase() + id + cls + ' ' + Math.round(r.right) + 'px');
      }
    }
  }
  return wide.slice(-4);
}"""

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
                count: v.nodes.length}));
}"""


def _roles_of(route: Route) -> set[str]:
    """The roles that open the route as a page (its GET roles; the user administrator only where every account
    or the staff role may, since the matrix's staff role is a superuser)."""
    allowed = set(POLICY.get(route.key, {}).get("GET", ())) | ALSO.get(route.key, set())
    if ADMIN in allowed and not ({ANON, BIZ} & allowed) and allowed != {ADMIN}:
        allowed.discard(ADMIN)
    return allowed


def _page_routes() -> list[Route]:
    found = []
    for route in routes():
        if route.namespace == "admin" or route.key in NOT_PAGES or route.key in FRAGMENTS:
            continue
        if route.pattern.startswith(MACHINE_PREFIXES) and route.key not in EXTRA_PAGES:
            continue
        found.append(route)
    return found


def _url(route: Route, fills: dict) -> str:
    from django.urls import reverse

    return reverse(route.key, kwargs=fills.get(route.key, {}))


def test_every_page_is_declared():
    """A new route names its roles, says whether it is a page and, if it has parameters, how to fill them."""
    from django.conf import settings  # noqa: F401  (Django is configured by pytest-django)

    problems = []
    for route in _page_routes():
        if "/" in route.key:
            problems.append(f"{route.pattern}: give the route a name (the page-wide tests find pages by name)")
        elif route.key not in POLICY and route.key not in ALSO:
            problems.append(
                f"{route.key}: add it to POLICY in tests/web/test_authorization_matrix.py (who may GET it), "
                "or to NOT_PAGES in tests/web/test_content_security_policy.py if it is no HTML page"
            )
    assert problems == [], "\n".join(problems)


def _params(route: Route) -> set[str]:
    return set(re.findall(r"<(?:[^>:]+:)?([^>]+)>", route.pattern))


def _login(page, username: str) -> None:
    from playwright.sync_api import expect

    from digifit.demo import tour

    page.goto(page.base_url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", tour.DEMO_PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("#nav-home")).to_be_visible()


def _check(page, url: str) -> list[str]:
    """What is wrong with the page at ``url`` (empty: nothing)."""
    from playwright.sync_api import expect

    response = page.goto(page.base_url + url)
    page.wait_for_load_state("load")
    problems = []
    if response is None or response.status != 200:
        problems.append(f"status {response.status if response else 'none'} at {page.url}")
        return problems
    # charts draw after load (Vega): wait until each has been drawn (or failed), then measure
    undrawn = page.locator("[data-spec]:not([data-rendered]), [data-chart-spec]:not([data-rendered])")
    try:
        expect(undrawn).to_have_count(0, timeout=30_000)
    except AssertionError:
        ids = undrawn.evaluate_all("els => els.map(e => e.id || e.className)")
        problems.append(f"charts: not drawn after 30 s: {ids}")
    if url.startswith("/api/docs"):
        page.wait_for_selector("#swagger-ui .opblock")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append(f"width: {width} px at 390 (widest: {', '.join(page.evaluate(FIND_WIDE, PHONE['width']))})")
    page.add_script_tag(url=page.base_url + AXE_URL)
    for v in page.evaluate(RUN_AXE, AXE_TAGS):
        problems.append(f"axe:{v['id']}: {v['impact']}, {v['count']} × ({'; '.join(v['targets'])})")
    return problems


def _foreign(requests: list[str], base_url: str) -> list[str]:
    own = urlsplit(base_url).netloc
    return sorted({u for u in requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                   and urlsplit(u).netloc != own})  # fmt: skip


def _key(problem: str) -> str:
    return problem.split(":", 2)[0] if not problem.startswith("axe:") else ":".join(problem.split(":", 2)[:2])


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_a_role_fits_a_phone_passes_axe_and_stays_on_this_host(
    role,
    chromium_browser,
    live_server,
    world,  # noqa: F811 - the CSP test's fixture, imported above
    settings,
):
    from playwright.sync_api import expect

    pages = [r for r in _page_routes() if role in _roles_of(r)]
    unfilled = [f'"{r.key}": {{{", ".join(f"{p!r}: …" for p in sorted(_params(r)))}}}'
                for r in pages if _params(r) and r.key not in world]  # fmt: skip
    assert not unfilled, (
        "routes with parameters but no values to fill them: add to the dict world() returns in "
        "tests/web/test_content_security_policy.py:\n" + "\n".join(unfilled)
    )
    assert pages or role not in USERS, role

    context = chromium_browser.new_context(locale="de-DE", viewport=PHONE)
    context.set_default_timeout(120_000)
    context.set_default_navigation_timeout(120_000)
    expect.set_options(timeout=120_000)
    axe = AXE.read_text()
    context.route(f"**{AXE_URL}", lambda r: r.fulfill(status=200, content_type="text/javascript", body=axe))
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.base_url = live_server.url
    try:
        if USERS[role]:
            _login(page, USERS[role])
        failures: dict[str, list[str]] = {}
        known_seen: set[tuple[str, str]] = set()
        for route in pages:
            url = _url(route, world)
            requested.clear()
            found = _check(page, url)
            foreign = _foreign(requested, live_server.url)
            if foreign:
                found.append(f"hosts: requests to other hosts: {', '.join(foreign[:5])}")
            unknown = []
            for problem in found:
                if (route.key, _key(problem)) in KNOWN:
                    known_seen.add((route.key, _key(problem)))
                else:
                    unknown.append(problem)
            if unknown:
                failures[f"{url} ({route.key})"] = unknown
    finally:
        context.close()
    report = "\n".join(f"{where}\n  " + "\n  ".join(found) for where, found in failures.items())
    assert not failures, f"{len(failures)} of {len(pages)} pages of {role} fail:\n{report}"
    if known_seen:
        pytest.xfail("known: " + "; ".join(f"{route} {check}: {KNOWN[route, check]}" for route, check in known_seen))
