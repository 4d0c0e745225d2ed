"""An account created by the web sign-up is inactive until its e-mail address is confirmed: no login by any
door (web form, OpenRosa Basic auth) before, the address as the login after."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth.models import User
from django.test import Client

PASSWORD = "Kaffeemaschine-Bergwerk-7"


def _signup():
    from digifit.programme import services

    return services.business_signup(
        email="Neu@Example.org",
        password=PASSWORD,
        company="Neu GmbH",
        sector="retail",
        size_class="micro",
        region="BY",
        contact_name="Nele Neu",
        consent=True,
        language="de",
    )


def _basic(username: str):
    auth = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    return Client().get("/openrosa/formList", HTTP_AUTHORIZATION=f"Basic {auth}")


@pytest.mark.django_db
def test_an_unconfirmed_account_cannot_log_in_anywhere():
    from digifit.notifications.models import OutboxMessage
    from digifit.programme import services

    business = _signup()
    user = User.objects.get(pk=business.user_id)
    assert not user.is_active and user.email == "neu@example.org"
    assert not User.objects.filter(username__iexact="neu@example.org").exists()  # the login name is not given yet
    for name in ("neu@example.org", user.username):
        client = Client()
        assert client.post("/accounts/login/", {"username": name, "password": PASSWORD}).status_code == 200
        assert "_auth_user_id" not in client.session
        assert _basic(name).status_code == 401
    token = OutboxMessage.objects.get(to="neu@example.org").body_text.split("/signup/confirm/")[1].split("/")[0]
    services.business_confirm(token=token)
    client = Client()
    assert client.post("/accounts/login/", {"username": "neu@example.org", "password": PASSWORD}).status_code == 302
