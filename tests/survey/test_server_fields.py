"""Server-side metadata (wave, form version, instanceID, received time) comes from the server on every path
that stores answers — the JSON API, OpenRosa, the web form, drafts and edits — never from the form's stale
defaults or what a client sends; the detail page and the webhook payload show the server's values."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
from digifit.survey import services, webhooks
from digifit.survey.models import Submission, Wave, WebhookDelivery

from .conftest import answers, new_id, upload, xlsform_bytes
from .test_openrosa import post_submission
from .test_respond import PAGES, _post

pytestmark = pytest.mark.django_db

STALE = {
    "wave": "2026-1",
    "form_version": "0",
    "instanceID": "uuid:00000000-0000-0000-0000-000000000000",
    "received_at": "2020-01-01T00:00:00",
}


@pytest.fixture
def meta_wave(manager):
    resp = upload(manager, xlsform_bytes(version="7", server_fields=True))
    assert resp.status_code == 201, resp.content
    resp = manager.post("/api/waves", {"form_id": "fob_test", "name": "2027-3", "status": "open"})
    assert resp.status_code == 201, resp.content
    return Wave.objects.get(pk=resp.json()["id"])


def _assert_server_values(sub: Submission, wave_name: str = "2027-3") -> None:
    assert sub.data["wave"] == wave_name
    assert sub.data["form_version"] == "7"
    assert sub.data["instanceID"] == f"uuid:{sub.instance_id}"
    assert sub.data["received_at"] != STALE["received_at"]
    assert sub.data["received_at"] == sub.submitted_at.astimezone(dt.UTC).isoformat(timespec="seconds")


def test_api_submission_gets_the_servers_metadata_over_what_the_client_sent(manager, meta_wave):
    iid = new_id()
    resp = manager.post("/api/submissions", {"form_id": "fob_test", "instance_id": iid, "data": answers(**STALE)})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["data"]["wave"] == "2027-3" and body["data"]["form_version"] == "7"
    assert body["data"]["instanceID"] == f"uuid:{iid}"
    _assert_server_values(Submission.objects.get(instance_id=iid))
    # the form's defaults alone (a client that sends nothing for them) give the same
    resp = manager.post("/api/submissions", {"form_id": "fob_test", "instance_id": new_id(), "data": answers()})
    assert resp.status_code == 201, resp.content
    _assert_server_values(Submission.objects.get(instance_id=resp.json()["instance_id"]))
    # a resend of the same answers is still the same submission (the digest is of what the client sent)
    again = manager.post("/api/submissions", {"form_id": "fob_test", "instance_id": iid, "data": answers(**STALE)})
    assert again.status_code == 200


def test_api_without_instance_id_gets_one_from_the_server(manager, meta_wave):
    resp = manager.post("/api/submissions", {"form_id": "fob_test", "data": answers()})
    assert resp.status_code == 201, resp.content
    iid = resp.json()["instance_id"]
    assert uuid.UUID(iid).version == 4
    _assert_server_values(Submission.objects.get(instance_id=iid))


def test_openrosa_submission_gets_the_servers_metadata(client, meta_wave):
    iid = str(uuid.uuid4())
    xml = f"""<?xml version='1.0' ?><data id="fob_test" version="7"><country>FR</country>
<employees>3</employees><wave>2026-1</wave><form_version>0</form_version><received_at>2020-01-01T00:00:00</received_at>
<instanceID>uuid:00000000-0000-0000-0000-000000000000</instanceID>
<tools><tool_name>CRM</tool_name></tools><meta><instanceID>uuid:{iid}</instanceID></meta></data>""".encode()
    resp = post_submission(client, xml)
    assert resp.status_code == 201, resp.content
    sub = Submission.objects.get(instance_id=iid)
    assert sub.source == "openrosa"
    _assert_server_values(sub)


def test_drafts_and_edits_keep_the_servers_metadata(make_user, meta_wave):
    version = meta_wave.questionnaire.versions.get()
    iid = new_id()
    draft = services.submission_draft_save(
        questionnaire_version=version, instance_id=iid, data={"country": "DE", **STALE}, wave=meta_wave
    )
    assert draft.data["wave"] == "2027-3" and draft.data["form_version"] == "7"
    assert draft.data["instanceID"] == f"uuid:{iid}" and "received_at" not in draft.data  # not received yet
    sub = services.submission_submit(
        questionnaire_version=version, instance_id=iid, data=answers(**STALE), wave=meta_wave
    ).submission
    _assert_server_values(sub)
    editor, _ = make_user("editor", "survey_manager")
    services.submission_edit(submission=sub, data=answers(employees=40, **STALE), user=editor, reason="typo")
    sub.refresh_from_db()
    assert sub.data["employees"] == 40
    _assert_server_values(sub)


def test_a_submission_without_a_wave_keeps_the_wave_the_client_sent(db):
    """The server has no wave to set: what the client sent stays (the exports' wave column uses it)."""
    version = services.questionnaire_version_add(content=xlsform_bytes(server_fields=True)).version
    sub = services.submission_submit(
        questionnaire_version=version, instance_id=new_id(), data=answers(wave="2026-4")
    ).submission
    assert sub.wave is None and sub.data["wave"] == "2026-4"
    assert sub.data["form_version"] == "1" and sub.data["instanceID"] == f"uuid:{sub.instance_id}"


def test_web_form_submission_of_a_new_wave_shows_that_wave_on_the_detail_page_and_in_the_webhook(
    client, make_user, settings, django_capture_on_commit_callbacks
):
    """The bundled questionnaire's hidden ``wave`` defaults to 2026-1; a response to wave 2026-7 says 2026-7."""
    version = services.questionnaire_version_add(content=QUESTIONNAIRE_PATH.read_bytes()).version
    assert any(f["name"] == "wave" and f["type"] == "hidden" for f in version.schema["fields"])
    wave = services.wave_create(questionnaire=version.questionnaire, name="2026-7", status=Wave.Status.OPEN)
    settings.DIGIFIT_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # queued only; nothing is sent in this test
    webhooks.webhook_create(questionnaire=version.questionnaire, url="http://127.0.0.1:9/hook")
    invitation = services.invitation_create(wave=wave, panel_id="P-7", email="a@example.org", language="de")
    url = f"/r/{invitation.token}/"
    with django_capture_on_commit_callbacks(execute=True):
        for name, data in PAGES.items():
            resp = _post(client, url, name, data, action="submit" if name == "contact" else "next")
            assert resp.status_code == 302, (name, resp.content.decode()[:2000])
    sub = Submission.objects.get(invitation=invitation)
    assert sub.source == "web" and sub.data["wave"] == "2026-7"
    payload = json.loads(WebhookDelivery.objects.get(submission=sub).body)
    assert payload["wave"] == "2026-7" and payload["data"]["wave"] == "2026-7"
    assert payload["version"] == version.version
    analyst, _ = make_user("reader", "analyst")
    client.force_login(analyst)
    page = client.get(f"/submissions/{sub.instance_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<td><code>wave</code></td>" in html
    assert "<td>2026-7</td>" in html and "<td>2026-1</td>" not in html
