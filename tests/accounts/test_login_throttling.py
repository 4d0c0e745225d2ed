"""Login throttling (django-axes): 5 failures lock the account and the client address; OpenRosa answers 429."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.models import User
from django.test import Client

PASSWORD = "Sehr-geheim-42!"


@pytest.fixture
def user(db):
    return User.objects.create_user("ana", "ana@example.org", PASSWORD)


def _login(client: Client, username: str, password: str, ip: str = "127.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_wrong_logins_lock_the_account_even_with_the_right_password(user):
    client = Client()
    for i in range(5):  # the form again with its error, the 5th failure already answered with the lockout
        assert _login(client, "ana", "wrong").status_code == (200 if i < 4 else 429)
    refused = _login(client, "ana", PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    # from another address too: the account itself is locked
    assert _login(Client(), "ana", PASSWORD, ip="127.0.0.2").status_code == 429
    assert AccessFailureLog.objects.filter(username="ana").count() >= 5
    assert AccessAttempt.objects.filter(username="ana").exists()


def test_five_failures_from_one_address_lock_that_address(user):
    User.objects.create_user("ben", "ben@example.org", PASSWORD)
    client = Client()
    for name in ("x1", "x2", "x3", "x4", "x5"):
        _login(client, name, "wrong", ip="127.0.0.9")
    assert _login(client, "ben", PASSWORD, ip="127.0.0.9").status_code == 429
    ok = Client()
    assert _login(ok, "ben", PASSWORD, ip="127.0.0.10").status_code == 302  # another address still gets in


def test_openrosa_basic_auth_is_throttled_with_429(user):
    def get(password: str):
        auth = base64.b64encode(f"ana:{password}".encode()).decode()
        return Client().get("/openrosa/formList", HTTP_AUTHORIZATION=f"Basic {auth}")

    for i in range(5):
        assert get("wrong").status_code == (401 if i < 4 else 429)
    assert get(PASSWORD).status_code == 429


def test_signup_refuses_a_password_equal_to_the_email(db):
    from digifit.programme.forms import BusinessSignupForm

    data = {"contact_name": "Ana Beispiel", "email": "ana.beispiel@example.org", "password": "ana.beispiel@example.org"}
    form = BusinessSignupForm(data=data)
    assert not form.is_valid()
    assert "password" in form.errors
    ok = BusinessSignupForm(data={**data, "password": "Kaffeemaschine-Bergwerk-7"})
    ok.is_valid()
    assert "password" not in ok.errors


@pytest.mark.parametrize(
    ("language", "title", "again"),
    [("de", "Anmeldung pausiert", "Bitte versuchen Sie es nach"), ("en", "Login paused", "Please try again after")],
)
def test_web_lockout_is_a_page_in_the_users_language_saying_when_to_try_again(user, language, title, again):
    from django.utils import timezone, translation
    from django.utils.formats import time_format

    client = Client(headers={"Accept-Language": language})
    for _ in range(5):
        _login(client, "ana", "wrong")
    before = timezone.now()
    page = _login(client, "ana", PASSWORD)
    assert page.status_code == 429
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert f'<html lang="{language}">' in html and 'id="nav-home"' in html  # the site's layout
    assert title in html and again in html
    # the time to try again: 15 minutes (AXES_COOLOFF_TIME) after the last failed attempt, in Berlin time
    until = timezone.localtime(AccessAttempt.objects.get(username="ana").attempt_time + timedelta(minutes=15))
    assert until >= before
    with translation.override(language):
        assert time_format(until, "TIME_FORMAT") in html  # "14:35" in German, "2:35 p.m." in English
    assert "15" in html
    assert 14 * 60 <= int(page["Retry-After"]) <= 15 * 60


def test_openrosa_lockout_stays_plain_text(user):
    auth = base64.b64encode(b"ana:wrong").decode()
    for _ in range(6):
        resp = Client().get("/openrosa/formList", HTTP_AUTHORIZATION=f"Basic {auth}")
    assert resp.status_code == 429
    assert resp["Content-Type"].startswith("text/plain") and "<html" not in resp.content.decode()
    assert int(resp["Retry-After"]) > 0
