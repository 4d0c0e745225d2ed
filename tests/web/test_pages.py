"""Server-rendered pages: login, dashboard per role, languages, static assets optional."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from digifit.accounts.services import user_role_assign

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client):
    def login(role: str | None, *, staff: bool = False):
        user = get_user_model().objects.create_user(username=f"u-{role}", password="pw-for-tests-1", is_staff=staff)
        if role:
            user_role_assign(user=user, role=role)
        client.force_login(user)
        return client

    return login


def test_anonymous_is_sent_to_login_from_the_survey_list(client):
    resp = client.get("/surveys/")
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/")
    login = client.get("/accounts/login/")
    assert login.status_code == 200
    assert "Anmelden" in login.content.decode()  # German is the default language


@pytest.mark.parametrize(("language", "word"), [("de", "Befragungen"), ("en", "Surveys"), ("fr", "Enquêtes")])
def test_dashboard_speaks_german_english_and_french(logged_in, language, word):
    client = logged_in("survey_manager")
    resp = client.get("/surveys/", headers={"Accept-Language": language})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert word in html and f'<html lang="{language}">' in html


def test_manager_sees_upload_analyst_does_not_and_no_role_goes_home(logged_in, client):
    assert 'type="file"' in logged_in("survey_manager").get("/surveys/").content.decode()
    client.logout()
    analyst = logged_in("analyst")
    page = analyst.get("/surveys/")
    assert page.status_code == 200 and 'type="file"' not in page.content.decode()
    assert analyst.post("/surveys/", {}).status_code == 403
    client.logout()
    no_role = logged_in(None).get("/surveys/")  # no "no access" page: the user's own home (the business side)
    assert no_role.status_code == 302 and no_role["Location"] == "/home/"


def test_upload_through_the_page(logged_in):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from survey.conftest import xlsform_bytes

    client = logged_in("survey_manager")
    resp = client.post("/surveys/", {"file": SimpleUploadedFile("f.xlsx", xlsform_bytes())}, follow=True)
    assert resp.status_code == 200 and "fob_test" in resp.content.decode()
    broken = client.post("/surveys/", {"file": SimpleUploadedFile("f.xlsx", xlsform_bytes(version="2", broken=True))})
    assert broken.status_code == 200 and "errorlist" in broken.content.decode()
    detail = client.get("/questionnaires/fob_test/")
    assert detail.status_code == 200
    created = client.post("/questionnaires/fob_test/", {"name": "2026-11"}, follow=True)
    assert "2026-11" in created.content.decode()


def test_pages_render_with_and_without_front_end_assets(logged_in, tmp_path):
    client = logged_in("survey_manager")
    with override_settings(VENDOR_DIR=tmp_path):  # as if `make install` never fetched Pico CSS and HTMX
        html = client.get("/surveys/").content.decode()
        assert "pico.min.css" not in html and "htmx.min.js" not in html
    (tmp_path / "pico.min.css").write_text("/* pico */")
    (tmp_path / "htmx.min.js").write_text("// htmx")
    with override_settings(VENDOR_DIR=tmp_path):
        html = client.get("/surveys/").content.decode()
        assert "vendor/pico.min.css" in html and "vendor/htmx.min.js" in html


def test_admin_is_for_staff_only(logged_in, client):
    assert logged_in("survey_manager").get("/manage/").status_code == 302
    client.logout()
    staff = get_user_model().objects.create_superuser(username="root", password="pw-for-tests-1")
    client.force_login(staff)
    for url in ("/manage/", "/manage/survey/submission/", "/manage/survey/questionnaire/", "/manage/accounts/token/"):
        assert client.get(url).status_code == 200, url


def test_settings_time_zone_and_languages():
    from django.conf import settings

    assert settings.TIME_ZONE == "Europe/Berlin" and settings.LANGUAGE_CODE == "de"
    assert [code for code, _ in settings.LANGUAGES] == ["de", "en", "fr"]


def test_wave_open_close_with_htmx_and_without(logged_in, client):
    from survey.conftest import xlsform_bytes

    from digifit.survey import services

    version = services.questionnaire_version_add(content=xlsform_bytes(), filename="f.xlsx").version
    wave = services.wave_create(questionnaire=version.questionnaire, name="w")
    manager = logged_in("survey_manager")
    fragment = manager.post(f"/waves/{wave.pk}/status", {"status": "open"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    wave.refresh_from_db()
    assert wave.status == "open"
    plain = manager.post(f"/waves/{wave.pk}/status", {"status": "closed"})
    assert plain.status_code == 302
    wave.refresh_from_db()
    assert wave.status == "closed"
    client.logout()
    analyst = logged_in("analyst")
    assert analyst.post(f"/waves/{wave.pk}/status", {"status": "open"}).status_code == 403


def test_wave_page_invites_from_csv_for_managers_only(logged_in, client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from survey.conftest import xlsform_bytes

    from digifit.survey import services
    from digifit.survey.models import Invitation

    version = services.questionnaire_version_add(content=xlsform_bytes(), filename="f.xlsx").version
    wave = services.wave_create(questionnaire=version.questionnaire, name="w", status="open")
    manager = logged_in("survey_manager")
    page = manager.get(f"/waves/{wave.pk}/")
    assert page.status_code == 200 and "ausstehend" in page.content.decode()
    csv_file = SimpleUploadedFile("panel.csv", b"panel_id,email,language\nP1,a@example.org,de\nP2,,en\n")
    done = manager.post(f"/waves/{wave.pk}/", {"file": csv_file}, follow=True)
    assert done.status_code == 200 and Invitation.objects.filter(wave=wave).count() == 2
    bad = manager.post(f"/waves/{wave.pk}/", {"file": SimpleUploadedFile("p.csv", b"panel_id,language\nP3,xx\n")})
    assert "row 2: language" in bad.content.decode()
    assert Invitation.objects.filter(wave=wave).count() == 2
    client.logout()
    analyst = logged_in("analyst")
    assert analyst.get(f"/waves/{wave.pk}/").status_code == 200
    assert 'type="file"' not in analyst.get(f"/waves/{wave.pk}/").content.decode()
    assert (
        analyst.post(f"/waves/{wave.pk}/", {"file": SimpleUploadedFile("p.csv", b"panel_id\nP4\n")}).status_code == 403
    )


def test_submission_pages_for_analysts_show_answers_and_audit_trail(logged_in, client):
    import uuid

    from django.contrib.auth import get_user_model
    from survey.conftest import answers, xlsform_bytes

    from digifit.survey import services

    version = services.questionnaire_version_add(content=xlsform_bytes(), filename="f.xlsx").version
    wave = services.wave_create(questionnaire=version.questionnaire, name="w", status="open")
    iid = str(uuid.uuid4())
    sub = services.submission_submit(questionnaire_version=version, instance_id=iid, data=answers(), wave=wave)
    editor = get_user_model().objects.create_user(username="editor")
    services.submission_edit(submission=sub.submission, data=answers(employees=13), user=editor, reason="Tippfehler")
    analyst = logged_in("analyst")
    listing = analyst.get(f"/waves/{wave.pk}/submissions/")
    assert listing.status_code == 200 and iid in listing.content.decode()
    detail = analyst.get(f"/submissions/{iid}/", headers={"Accept-Language": "en"})
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "Employees" in html and "Tippfehler" in html and "editor" in html and "CRM" in html
    assert analyst.get(f"/submissions/{uuid.uuid4()}/").status_code == 404
    client.logout()
    assert logged_in(None).get(f"/submissions/{iid}/").status_code == 403
