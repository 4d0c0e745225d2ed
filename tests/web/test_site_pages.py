"""The imprint and the privacy notice: public pages whose texts organisers and user administrators edit in the
browser (digifit.web.site_pages); a placeholder in each language until a text is stored."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from programme.conftest import make_business

from digifit.web.models import SitePage
from digifit.web.site_pages import MAX_LENGTH

pytestmark = pytest.mark.django_db


def _user(name: str, *codenames: str):
    user = get_user_model().objects.create_user(name, password="pw-Secret-123")
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.mark.parametrize(
    ("language", "placeholder"),
    [
        ("de", "hat ihr Impressum noch nicht eingetragen"),
        ("en", "has not entered its imprint yet"),
        ("fr", "n'a pas encore saisi ses mentions légales"),
    ],
)
def test_the_imprint_shows_a_placeholder_in_each_language_until_it_is_written(client, language, placeholder):
    resp = client.get("/imprint/", headers={"Accept-Language": language})
    assert resp.status_code == 200
    html = resp.content.decode().replace("&#x27;", "'")
    assert placeholder in html and "data-placeholder" in html
    assert "/site/pages/" not in html  # no edit link for visitors


def test_an_organiser_writes_the_imprint_and_every_visitor_sees_it(client):
    client.force_login(_user("org", "view_reach"))
    page = client.get("/site/pages/imprint/")
    assert page.status_code == 200 and 'name="text_de"' in page.content.decode()
    text = "Digitalagentur Musterland GmbH\nHauptstraße 1\n\nVertreten durch <b>Erika Muster</b>"
    resp = client.post("/site/pages/imprint/", {"text_de": text, "text_en": "Digital agency Musterland Ltd"})
    assert resp.status_code == 302 and resp["Location"] == "/site/pages/imprint/"
    stored = SitePage.objects.get(key="imprint")
    assert stored.updated_by.username == "org"
    client.logout()
    html = client.get("/imprint/").content.decode()
    assert "Digitalagentur Musterland GmbH<br>Hauptstraße 1</p>" in html  # paragraphs and line breaks
    assert "&lt;b&gt;Erika Muster&lt;/b&gt;" in html and "<b>Erika" not in html  # plain text, escaped
    assert (
        "Digital agency Musterland Ltd" in client.get("/imprint/", headers={"Accept-Language": "en"}).content.decode()
    )
    # French is not stored: the German text is shown
    assert "Digitalagentur Musterland" in client.get("/imprint/", headers={"Accept-Language": "fr"}).content.decode()


def test_a_user_administrator_may_edit_the_privacy_notice(client):
    client.force_login(_user("useradmin", "change_user"))
    assert client.post("/site/pages/privacy/", {"text_de": "Wir verarbeiten Daten …"}).status_code == 302
    html = client.get("/privacy/").content.decode()
    assert "Wir verarbeiten Daten" in html and 'href="/site/pages/privacy/"' in html


def test_the_front_door_introduction_is_editable_too(client):
    client.force_login(_user("org", "view_reach"))
    client.post("/site/pages/front_intro/", {"text_de": "Unser Programm für Musterland."})
    assert "Unser Programm für Musterland." in client.get("/").content.decode()


@pytest.mark.parametrize(
    ("language", "required", "too_long"),
    [
        ("de", "Bitte den deutschen Text eingeben", f"höchstens {MAX_LENGTH} Zeichen"),
        ("en", "Please enter the German text", f"at most {MAX_LENGTH} characters"),
        ("fr", "Veuillez saisir le texte allemand", f"{MAX_LENGTH} caractères au plus"),
    ],
)
def test_the_edit_form_validates_in_the_users_language(client, language, required, too_long):
    client.force_login(_user("org", "view_reach"))
    headers = {"Accept-Language": language}
    empty = client.post("/site/pages/imprint/", {"text_de": "", "text_en": "x"}, headers=headers)
    assert empty.status_code == 200 and required in empty.content.decode().replace("&#x27;", "'")
    assert 'aria-invalid="true"' in empty.content.decode()  # the error is tied to its field
    long = client.post("/site/pages/imprint/", {"text_de": "x" * (MAX_LENGTH + 1)}, headers=headers)
    assert long.status_code == 200 and too_long in long.content.decode()
    assert not SitePage.objects.exists()


def test_the_edit_page_is_refused_to_visitors_businesses_and_coaches(client):
    resp = client.get("/site/pages/imprint/")
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/")
    assert client.post("/site/pages/imprint/", {"text_de": "x"}).status_code == 302
    business = make_business()
    coach = _user("coach", "coach_sessions")
    for user in (business.user, coach):
        client.force_login(user)
        assert client.get("/site/pages/imprint/").status_code == 403
        assert client.post("/site/pages/imprint/", {"text_de": "gekapert"}).status_code == 403
        assert "/site/pages/" not in client.get("/imprint/").content.decode()
    assert not SitePage.objects.exists()


def test_an_unknown_page_is_not_found(client):
    client.force_login(_user("org", "view_reach"))
    assert client.get("/site/pages/nonsense/").status_code == 404
