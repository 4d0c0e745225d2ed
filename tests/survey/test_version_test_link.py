"""A version's test link (issue 12, item 2): the manager's page with a link and a QR code per language, the
form behind the link working before any wave is open, and its answers kept out of exports, snapshots,
statistics and webhooks — on the bundled questionnaire, through Django's test client."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from django.test import Client

from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
from digifit.survey import exports, respond, services, webhooks
from digifit.survey.models import Submission, Wave, WebhookDelivery

from .conftest import login_as
from .test_respond import PAGES


@pytest.fixture
def version(db, settings):
    settings.DIGIFIT_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    v = services.questionnaire_version_add(content=QUESTIONNAIRE_PATH.read_bytes()).version
    # a wave in preparation (not open) and a webhook: neither may see a test answer
    services.wave_create(questionnaire=v.questionnaire, name="2026-12", status=Wave.Status.DRAFT)
    webhooks.webhook_create(questionnaire=v.questionnaire, url="http://127.0.0.1:9/hook")
    return v


def _answer_all(client, url, *, lang=None):
    first = client.get(url + (f"?lang={lang}" if lang else ""))
    assert first.status_code == 200, first.content[:500]
    for name, data in PAGES.items():
        response = client.post(url, {"_page": name, "_action": "submit" if name == "contact" else "next", **data})
        assert response.status_code == 302, (name, response.content[:800])
    return first


def test_manager_page_shows_a_link_and_a_qr_code_per_language(client, version):
    login_as(client, "survey_manager")
    q = version.questionnaire
    detail = client.get(f"/questionnaires/{q.form_id}/").content.decode()
    page_url = f"/questionnaires/{q.form_id}/versions/{version.version}/test/"
    assert page_url in detail
    response = client.get(page_url)
    assert response.status_code == 200
    html = response.content.decode()
    path = respond.version_test_url(version)
    for lang in version.languages:
        assert f"http://testserver{path}?lang={lang}" in html
    assert html.count("<svg") == len(version.languages) and 'class="qr"' in html
    assert "Noch keine Testantwort." in html  # German first, translated


def test_test_answer_is_stored_as_test_and_kept_out_of_everything(client, version, django_capture_on_commit_callbacks):
    url = respond.version_test_url(version)
    with django_capture_on_commit_callbacks(execute=True):
        first = _answer_all(client, url)
    assert "Test" in first.content.decode() and "test-banner" in first.content.decode()
    sub = Submission.objects.get()
    assert (sub.status, sub.wave, sub.invitation) == (Submission.Status.TEST, None, None)
    assert sub.questionnaire_version == version and sub.data["sector"] == "retail"
    assert not WebhookDelivery.objects.exists()
    thanks = client.get(url)
    assert thanks["Location"].endswith("/thanks")
    page = client.get(thanks["Location"]).content.decode()
    assert "?again=1" in page and "test-banner" in page

    spec = exports.ExportSpec(questionnaire=version.questionnaire)
    csv_text = b"".join(exports.csv_stream(spec)).decode()
    assert str(sub.instance_id) not in csv_text and len(csv_text.strip().splitlines()) == 1  # the header only
    table = pq.read_table(exports.parquet_bytes(spec))
    assert table.num_rows == 0


def test_again_starts_a_fresh_answer_and_english_by_lang(client, version):
    url = respond.version_test_url(version)
    _answer_all(client, url)
    again = client.get(url + "?again=1&lang=en")
    assert again.status_code == 200
    html = again.content.decode()
    assert 'lang="en"' in html and "test link" in html
    _answer_all(client, url, lang="en")
    assert Submission.objects.filter(status=Submission.Status.TEST).count() == 2
    assert set(Submission.objects.values_list("language", flat=True)) == {"de", "en"}


def test_a_bad_key_is_not_found_and_the_page_is_for_managers_only(client, version):
    url = respond.version_test_url(version)
    assert client.get(url.replace("/r/test/", "/r/test/x")).status_code == 404
    # the signature is of the test link: a wave's open-link key for the same number does not open it
    wave = Wave.objects.get()
    assert client.get(f"/r/test/{respond.wave_open_key(wave)}/").status_code == 404
    page_url = f"/questionnaires/{version.questionnaire.form_id}/versions/{version.version}/test/"
    assert client.get(page_url).status_code == 302  # to the login
    login_as(client, "analyst")
    assert client.get(page_url).status_code == 403
    assert client.get(f"/questionnaires/{version.questionnaire.form_id}/versions/nope/test/").status_code in (403, 404)


def test_manager_deletes_the_test_answers_and_nothing_else(client, version):
    url = respond.version_test_url(version)
    _answer_all(client, url)
    unfinished = Client()
    unfinished.get(url)
    unfinished.post(url, {"_page": "profile", "_action": "next", **PAGES["profile"]})  # a draft of a test
    wave = Wave.objects.get()
    services.wave_status_set(wave=wave, status=Wave.Status.OPEN)
    _answer_all(Client(), respond.wave_open_url(wave))  # a real answer, through the wave's open link
    real = Submission.objects.get(status=Submission.Status.COMPLETE)
    assert Submission.objects.count() == 3
    login_as(client, "survey_manager")
    page_url = f"/questionnaires/{version.questionnaire.form_id}/versions/{version.version}/test/"
    html = client.get(page_url).content.decode()
    assert html.count("/submissions/") >= 2
    test_answer = Submission.objects.get(status=Submission.Status.TEST)
    detail = client.get(f"/submissions/{test_answer.instance_id}/").content.decode()
    assert "über den Testlink gegeben" in detail and page_url in detail
    assert client.post(page_url, {"action": "nonsense"}).status_code == 400
    response = client.post(page_url, {"action": "delete"})
    assert response.status_code == 302
    assert list(Submission.objects.values_list("pk", flat=True)) == [real.pk]


def test_wave_page_shows_the_open_link_with_its_qr_code_to_managers_only(client, version):
    wave = Wave.objects.get()
    open_url = f"http://testserver{respond.wave_open_url(wave)}"
    login_as(client, "analyst")
    assert open_url not in client.get(f"/waves/{wave.pk}/").content.decode()
    client.logout()
    login_as(client, "survey_manager")
    html = client.get(f"/waves/{wave.pk}/").content.decode()
    assert open_url in html and "Offener Link" in html
    assert "<title>QR-Code des offenen Links</title>" in html
