"""Role homes and navigation: after a real login each role lands on its own start page (never "Kein Zugang"),
the logo links to it, and the rendered navigation has exactly the entries the role can use."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from digifit.accounts.services import user_role_assign
from digifit.programme import roles as programme_roles
from digifit.programme import services as programme_services

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"

#: role → (its home, the navigation keys it sees, in order)
EXPECTED = {
    "survey_manager": ("/surveys/", ["surveys", "dashboard", "analysis", "reports", "api"]),
    "analyst": ("/dashboard/", ["dashboard", "analysis", "reports", "api"]),
    "organiser": ("/programme/reach/", ["reach", "agenda", "learning", "programme"]),
    "coach": ("/programme/coach/", ["agenda", "programme"]),
    "business": ("/programme/me/", ["me", "courses", "programme", "check"]),
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make(role: str | None, name: str | None = None, *, extra: tuple[str, ...] = ()):
    user = get_user_model().objects.create_user(username=name or f"u-{role}", password=PASSWORD)
    for r in (role, *extra):
        if r in ("survey_manager", "analyst"):
            user_role_assign(user=user, role=r)
        elif r in ("coach", "organiser"):
            programme_roles.user_role_assign(user=user, role=r)
        elif r == "business":
            programme_services.business_register(
                user=user,
                company="Bäckerei Kern",
                sector="retail",
                size_class="micro",
                region="BY",
                contact_name="Eva Kern",
                email="eva@example.org",
                consent=True,
                language="de",
            )
    return user


def nav_keys(html: str) -> list[str]:
    return re.findall(r'data-nav="([a-z]+)"', html)


def login(client, username: str):
    resp = client.post("/accounts/login/", {"username": username, "password": PASSWORD}, REMOTE_ADDR="10.9.8.7")
    assert resp.status_code == 302, resp.content.decode()[:500]
    return resp


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_lands_on_its_home_with_its_navigation(client, role):
    home, keys = EXPECTED[role]
    make(role)
    resp = login(client, f"u-{role}")
    assert resp["Location"] == "/home/"
    landing = client.get("/home/")
    assert landing.status_code == 302 and landing["Location"] == home
    page = client.get(home, headers={"Accept-Language": "de"})
    assert page.status_code == 200, page.content.decode()[:1000]
    html = page.content.decode()
    assert "Kein Zugang" not in html
    assert nav_keys(html) == keys
    assert f'<a href="{home}" id="nav-home">' in html  # the logo links to the home
    assert 'href="/manage/"' not in html  # no administration link without staff rights


def test_login_with_next_still_goes_there(client):
    make("coach")
    resp = client.post(
        "/accounts/login/?next=/programme/", {"username": "u-coach", "password": PASSWORD}, REMOTE_ADDR="10.9.8.6"
    )
    assert resp.status_code == 302 and resp["Location"] == "/programme/"


@pytest.mark.parametrize(
    ("roles", "home"),
    [
        (("coach", "survey_manager"), "/surveys/"),
        (("coach", "analyst"), "/dashboard/"),
        (("coach", "organiser"), "/programme/reach/"),
        (("business", "coach"), "/programme/coach/"),
    ],
)
def test_several_roles_follow_the_documented_precedence(client, roles, home):
    user = make(roles[0], "multi", extra=roles[1:])
    client.force_login(user)
    assert client.get("/home/")["Location"] == home
    html = client.get(home).content.decode()
    keys = nav_keys(html)
    # the navigation is the union of the roles' entries, in the fixed order
    wanted = [
        k for k in ["surveys", "dashboard", "analysis", "reports", "reach", "agenda", "learning", "programme", "api"]
    ]
    expected = [k for k in wanted if any(k in EXPECTED[r][1] for r in roles if r != "business")]
    assert keys == expected


def test_a_user_without_any_role_is_offered_the_business_signup_not_no_access(client):
    make(None, "plain")
    login(client, "plain")
    resp = client.get("/home/", follow=True)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert resp.redirect_chain[-1][0].startswith("/programme/signup/")
    assert "Kein Zugang" not in html and nav_keys(html) == ["me", "courses", "programme", "check"]


def test_staff_see_the_administration(client, settings):
    user = make("analyst", "staff")
    user.is_staff = True
    user.save()
    client.force_login(user)
    keys = nav_keys(client.get("/dashboard/").content.decode())
    assert keys == ["dashboard", "analysis", "reports", "api", "admin"]


def test_every_navigation_entry_opens_for_its_role(client):
    """No entry leads to a refusal: each link the navigation shows answers 200 (or a redirect to a 200)."""
    for role in EXPECTED:
        user = make(role)
        client.force_login(user)
        home, _keys = EXPECTED[role]
        html = client.get(home).content.decode()
        for url in re.findall(r'<a href="([^"]+)" data-nav="[a-z]+"', html):
            resp = client.get(url, follow=True)
            assert resp.status_code == 200, (role, url, resp.status_code)
        client.logout()
