"""The staff page: a user administrator invites staff by e-mail, the invitee sets a password through the link
(which activates the account), roles are given and withdrawn, accounts deactivated — and nobody locks
themselves out. Real database, real outbox messages, the real login."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from digifit.accounts.services import user_role_assign
from digifit.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-Passw0rd-for-staff"


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_user(username="useradmin", password="pw-for-tests-1")
    user_role_assign(user=admin, role="user_admin")
    client.force_login(admin)
    client.admin = admin
    return client


def _invite(client, email="neu@example.org", roles=("analyst",), language="de"):
    return client.post("/staff/", {"action": "invite", "email": email, "roles": list(roles), "language": language})


def _link() -> str:
    body = OutboxMessage.objects.filter(key__startswith="staff-invite:").latest("created_at").body_text
    found = re.search(r"https?://[^/\s]+(/staff/welcome/[^\s]+/)", body)
    assert found, body
    return found.group(1)


def test_invite_set_password_log_in_with_the_role(admin_client):
    assert _invite(admin_client).status_code == 302
    invited = get_user_model().objects.get(email="neu@example.org")
    assert not invited.is_active and not invited.has_usable_password()
    message = OutboxMessage.objects.get(key__startswith="staff-invite:")
    assert message.to == "neu@example.org" and message.subject == "Ihr Zugang zu digifit"
    assert "useradmin" in message.body_text
    page = admin_client.get("/staff/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "neu@example.org" in page and "eingeladen" in page
    # the invitee (another browser) opens the link and chooses a password
    invitee = Client()
    link = _link()
    assert "neu@example.org" in invitee.get(link).content.decode()
    response = invitee.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302 and response.url == "/accounts/login/"
    invited.refresh_from_db()
    assert invited.is_active and invited.check_password(PASSWORD)
    # the link is spent; the login works and lands on the role's home
    assert invitee.get(link).status_code == 400
    login = invitee.post("/accounts/login/", {"username": "neu@example.org", "password": PASSWORD})
    assert login.status_code == 302
    assert invitee.get("/home/").url == "/dashboard/"


def test_invite_refuses_an_existing_address_and_no_role(admin_client):
    get_user_model().objects.create_user(username="x", email="Schon@Example.org", password="pw-for-tests-1")
    page = _invite(admin_client, email="schon@example.org").content.decode()
    assert "existiert bereits" in page or "exists already" in page
    page = _invite(admin_client, email="leer@example.org", roles=()).content.decode()
    assert "errorlist" in page
    page = _invite(admin_client, email="böse@", roles=("analyst",)).content.decode()
    assert "errorlist" in page
    assert not OutboxMessage.objects.exists()
    assert not get_user_model().objects.filter(email__in=["leer@example.org", "böse@"]).exists()


def test_tampered_and_malformed_links_are_refused(admin_client):
    _invite(admin_client)
    link = _link()
    invitee = Client()
    assert invitee.get(link[:-3] + "xx/").status_code == 400
    assert invitee.get("/staff/welcome/!!/abc/").status_code == 400
    assert invitee.get("/staff/welcome/OTk5OTk5/abc/").status_code == 400
    assert invitee.post(link, {"new_password1": "1", "new_password2": "1"}).status_code == 200  # too short: form
    assert not get_user_model().objects.get(email="neu@example.org").is_active


def test_roles_are_given_and_withdrawn_and_other_groups_kept(admin_client):
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username="coach1", password="pw-for-tests-1")
    user_role_assign(user=user, role="analyst")
    user.groups.add(Group.objects.create(name="newsletter"))
    admin_client.post("/staff/", {"action": "roles", "user": user.pk, "roles": ["coach", "survey_manager"]})
    assert set(user.groups.values_list("name", flat=True)) == {"coach", "survey_manager", "newsletter"}
    admin_client.post("/staff/", {"action": "roles", "user": user.pk, "roles": ["no_such_role"]})
    assert set(user.groups.values_list("name", flat=True)) == {"newsletter"}
    assert admin_client.post("/staff/", {"action": "roles", "user": "9999", "roles": []}).status_code == 404
    assert admin_client.post("/staff/", {"action": "roles", "user": "x'", "roles": []}).status_code == 404
    assert admin_client.post("/staff/", {"action": "nope"}).status_code == 400


def test_deactivated_accounts_cannot_log_in_and_nobody_locks_themselves_out(admin_client):
    user = get_user_model().objects.create_user(username="ana", password="pw-for-tests-1")
    user_role_assign(user=user, role="analyst")
    admin_client.post("/staff/", {"action": "active", "user": user.pk, "active": "0"})
    user.refresh_from_db()
    assert not user.is_active
    assert Client().post("/accounts/login/", {"username": "ana", "password": "pw-for-tests-1"}).status_code == 200
    admin_client.post("/staff/", {"action": "active", "user": user.pk, "active": "1"})
    user.refresh_from_db()
    assert user.is_active
    me = admin_client.admin
    page = admin_client.post(
        "/staff/", {"action": "active", "user": me.pk, "active": "0"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "You cannot lock yourself out" in page
    admin_client.post("/staff/", {"action": "roles", "user": me.pk, "roles": ["analyst"]})
    me.refresh_from_db()
    assert me.is_active and me.groups.filter(name="user_admin").exists()


def test_business_accounts_are_not_listed_and_other_roles_are_refused(client):
    get_user_model().objects.create_user(username="owner@example.org", password="pw-for-tests-1")
    admin = get_user_model().objects.create_user(username="useradmin", password="pw-for-tests-1")
    user_role_assign(user=admin, role="user_admin")
    client.force_login(admin)
    assert "owner@example.org" not in client.get("/staff/").content.decode()
    for role in ("survey_manager", "analyst"):
        other = get_user_model().objects.create_user(username=f"u-{role}", password="pw-for-tests-1")
        user_role_assign(user=other, role=role)
        client.force_login(other)
        assert client.get("/staff/").status_code == 403
        assert _invite(client).status_code == 403
    assert not OutboxMessage.objects.exists()
