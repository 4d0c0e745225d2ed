"""The JSON API end to end on the configured database (SQLite, or PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import pytest

from digifit.survey.models import Invitation, Submission, SubmissionEdit, Wave

from .conftest import answers, new_id, upload, xlsform_bytes

pytestmark = pytest.mark.django_db(transaction=False)


def submit(api, data, instance_id=None, **extra):
    body = {"form_id": "fob_test", "instance_id": instance_id or new_id(), "data": data, **extra}
    return api.post("/api/submissions", body)


# ------------------------------------------------------------------------------------------ questionnaires


def test_upload_creates_a_version_and_same_file_is_idempotent(manager):
    content = xlsform_bytes(version="1")
    first = upload(manager, content)
    assert first.status_code == 201
    body = first.json()
    assert body["form_id"] == "fob_test" and body["version"] == "1"
    assert set(body["languages"]) == {"de", "en"}
    again = upload(manager, content)
    assert again.status_code == 200
    assert len(manager.get("/api/questionnaires/fob_test/versions").json()) == 1


def test_new_upload_is_a_new_version(manager, form_v1):
    resp = upload(manager, xlsform_bytes(version="2", extra_field=True))
    assert resp.status_code == 201
    versions = manager.get("/api/questionnaires/fob_test/versions").json()
    assert [v["version"] for v in versions] == ["1", "2"]
    listed = manager.get("/api/questionnaires").json()
    assert listed == [{"form_id": "fob_test", "title": "FoB Test", "n_versions": 2}]


def test_same_version_string_with_other_content_is_a_conflict(manager, form_v1):
    resp = upload(manager, xlsform_bytes(version="1", extra_field=True))
    assert resp.status_code == 409
    assert "version" in resp.json()["detail"]


def test_broken_form_is_refused_with_sheet_row_and_column(manager):
    resp = upload(manager, xlsform_bytes(broken=True))
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    assert errors and all(e["field"] == "file" for e in errors)
    assert any("survey" in (e.get("sheet") or "") and e.get("row") for e in errors), errors


def test_not_an_xlsx_is_refused(manager):
    resp = upload(manager, b"this is not a spreadsheet", name="form.xlsx")
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "file"


def test_upload_without_file_is_422_json(manager):
    resp = manager.client.post("/api/questionnaires", data={}, headers=manager.headers)
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "file"


# ------------------------------------------------------------------------------------------ waves


def test_wave_create_and_list(manager, form_v1):
    resp = manager.post("/api/waves", {"form_id": "fob_test", "name": "w1", "status": "open"})
    assert resp.status_code == 201
    wave_id = resp.json()["id"]
    assert manager.post("/api/waves", {"form_id": "fob_test", "name": "w1"}).status_code == 409
    listed = manager.get("/api/waves?form_id=fob_test").json()
    assert [(w["id"], w["name"], w["status"]) for w in listed] == [(wave_id, "w1", "open")]
    closed = manager.patch(f"/api/waves/{wave_id}", {"status": "closed"})
    assert closed.json()["status"] == "closed"
    assert closed.json()["thanks_links"] is False  # the thank-you page points nowhere unless asked
    linked = manager.post("/api/waves", {"form_id": "fob_test", "name": "w2", "thanks_links": True}).json()
    assert linked["thanks_links"] is True and Wave.objects.get(pk=linked["id"]).thanks_links is True


def test_wave_bad_input_is_422(manager, form_v1):
    resp = manager.post("/api/waves", {"form_id": "fob_test", "name": "", "status": "sometimes"})
    assert resp.status_code == 422
    fields = {e["field"] for e in resp.json()["errors"]}
    assert {"name", "status"} <= fields
    resp = manager.post(
        "/api/waves",
        {"form_id": "fob_test", "name": "x", "opens_at": "2026-02-01T00:00:00Z", "closes_at": "2026-01-01T00:00:00Z"},
    )
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "closes_at"
    assert manager.post("/api/waves", {"form_id": "nope", "name": "x"}).status_code == 422


# ------------------------------------------------------------------------------------------ submissions


def test_submission_is_stored_once_per_instance_id(manager, wave):
    iid = new_id()
    first = submit(manager, answers(), iid, wave_id=wave["id"])
    assert first.status_code == 201, first.content
    stored = first.json()
    assert stored["data"]["channels"] == "website shop"
    assert stored["data"]["tools"][0] == {"tool_name": "CRM", "tool_cost": 30}
    again = submit(manager, answers(), iid, wave_id=wave["id"])
    assert again.status_code == 200
    assert again.json() == stored
    assert Submission.objects.filter(instance_id=iid).count() == 1
    # the same answers written differently (ODK's string form) are the same submission
    same = submit(manager, answers(channels="website shop", employees="12"), "uuid:" + iid, wave_id=wave["id"])
    assert same.status_code == 200


def test_same_instance_id_with_other_answers_is_409_and_changes_nothing(manager, wave):
    iid = new_id()
    assert submit(manager, answers(), iid, wave_id=wave["id"]).status_code == 201
    resp = submit(manager, answers(employees=13), iid, wave_id=wave["id"])
    assert resp.status_code == 409
    assert Submission.objects.get(instance_id=iid).data["employees"] == 12


def test_invalid_answers_get_422_per_field_and_nothing_is_stored(manager, wave):
    iid = new_id()
    resp = submit(manager, {"country": "XX", "employees": -1, "tools": [{"tool_cost": 5}]}, iid, wave_id=wave["id"])
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    by_field = {e["field"]: e for e in errors}
    assert by_field["country"]["code"] == "choice"
    assert by_field["employees"]["code"] == "constraint"
    assert by_field["employees"]["message"] == "Nicht negativ"
    assert any(f.startswith("tools[1]") for f in by_field)
    assert Submission.objects.count() == 0


def test_type_errors_and_unknown_fields_are_422(manager, wave):
    resp = submit(manager, answers(employees="twelve", nonsense=1), wave_id=wave["id"])
    assert resp.status_code == 422
    fields = {e["field"]: e["code"] for e in resp.json()["errors"]}
    assert fields == {"employees": "type", "nonsense": "unknown"}
    huge = submit(manager, answers(employees=10**30), wave_id=wave["id"])
    assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "employees"
    bad_id = submit(manager, answers(), "not-a-uuid", wave_id=wave["id"])
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["field"] == "instance_id"
    no_data = manager.post("/api/submissions", {"form_id": "fob_test", "instance_id": new_id()})
    assert no_data.status_code == 422 and no_data.json()["errors"][0]["field"] == "data"
    not_json = manager.client.post(
        "/api/submissions", data="{oops", content_type="application/json", headers=manager.headers
    )
    assert not_json.status_code in (400, 422)
    assert Submission.objects.count() == 0


def test_closed_wave_refuses_new_submissions(manager, wave):
    manager.patch(f"/api/waves/{wave['id']}", {"status": "closed"})
    resp = submit(manager, answers(), wave_id=wave["id"])
    assert resp.status_code == 403
    assert Submission.objects.count() == 0


def test_non_relevant_answer_is_dropped_and_calculations_stored(manager, wave):
    resp = submit(manager, answers(channels=["website"], shop_share=0.5), wave_id=wave["id"])
    assert resp.status_code == 201
    assert "shop_share" not in resp.json()["data"]


def test_list_get_and_edit_with_audit_trail(manager, wave):
    iid = new_id()
    submit(manager, answers(), iid, wave_id=wave["id"])
    listed = manager.get(f"/api/submissions?wave_id={wave['id']}").json()
    assert listed["count"] == 1 and listed["items"][0]["instance_id"] == iid
    edited = manager.patch(f"/api/submissions/{iid}", {"data": answers(employees=14), "reason": "typo"})
    assert edited.status_code == 200, edited.content
    assert edited.json()["data"]["employees"] == 14 and edited.json()["n_edits"] == 1
    trail = manager.get(f"/api/submissions/{iid}/edits").json()
    assert len(trail) == 1
    assert trail[0]["edited_by"] == "manager" and trail[0]["reason"] == "typo"
    assert trail[0]["before"]["employees"] == 12 and trail[0]["after"]["employees"] == 14
    bad = manager.patch(f"/api/submissions/{iid}", {"data": answers(employees=-5)})
    assert bad.status_code == 422
    assert SubmissionEdit.objects.count() == 1
    assert manager.get(f"/api/submissions/{iid}").json()["data"]["employees"] == 14
    # a resend of the original submission after the edit is still recognised, not a conflict
    assert submit(manager, answers(), iid, wave_id=wave["id"]).status_code == 200
    assert manager.get("/api/submissions/" + new_id()).status_code == 404


# ------------------------------------------------------------------------------------------ invitations


def test_invitations_single_and_bulk_csv(manager, wave):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = f"/api/waves/{wave['id']}/invitations"
    one = manager.post(url, {"panel_id": "P001", "email": "a@example.org", "language": "en"})
    assert one.status_code == 201 and len(one.json()["token"]) >= 20
    assert manager.post(url, {"panel_id": "P001"}).status_code == 409
    good = "panel_id,email,language\nP002,b@example.org,de\nP003,,fr\n"
    resp = manager.post(url + "/bulk", files={"file": SimpleUploadedFile("p.csv", good.encode())})
    assert resp.status_code == 201 and resp.json()["created"] == 2
    links = resp.json()["invitations"]  # the clear tokens, in this answer only
    assert [x["panel_id"] for x in links] == ["P002", "P003"] and all(len(x["token"]) >= 20 for x in links)
    bad = "panel_id,email,language\nP004,not-an-email,de\nP004,,xx\n,,de\nP001,,de\n"
    resp = manager.post(url + "/bulk", files={"file": SimpleUploadedFile("p.csv", bad.encode())})
    assert resp.status_code == 422
    fields = [e["field"] for e in resp.json()["errors"]]
    assert "row 2: email" in fields and "row 3: language" in fields and "row 4: panel_id" in fields
    assert "row 5: panel_id" in fields  # already invited
    assert Invitation.objects.count() == 3  # nothing of the bad file
    listed = manager.get(url).json()
    assert len(listed) == 3 and all(x["token"] is None for x in listed)  # stored as digests: never listed


def test_respondent_submits_with_invitation_token_only(manager, anonymous, wave):
    inv = manager.post(f"/api/waves/{wave['id']}/invitations", {"panel_id": "P9", "language": "en"}).json()
    iid = new_id()
    resp = submit(anonymous, answers(), iid, invitation_token=inv["token"])
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["panel_id"] == "P9" and body["language"] == "en" and body["wave_id"] == wave["id"]
    assert submit(anonymous, answers(), iid, invitation_token=inv["token"]).status_code == 200
    second = submit(anonymous, answers(), invitation_token=inv["token"])
    assert second.status_code == 403  # one answer per invitation
    assert submit(anonymous, answers(), invitation_token="forged").status_code == 403
    assert Invitation.objects.get(panel_id="P9").status == "completed"


# ------------------------------------------------------------------------------------------ roles


def test_analyst_reads_and_exports_but_changes_nothing(manager, analyst, wave):
    from django.core.files.uploadedfile import SimpleUploadedFile

    iid = new_id()
    submit(manager, answers(), iid, wave_id=wave["id"])
    assert analyst.get("/api/submissions").status_code == 200
    assert analyst.get(f"/api/submissions/{iid}").status_code == 200
    assert analyst.get(f"/api/waves/{wave['id']}/export?format=csv").status_code == 200
    assert upload(analyst, xlsform_bytes(version="9")).status_code == 403
    assert analyst.post("/api/waves", {"form_id": "fob_test", "name": "x"}).status_code == 403
    assert analyst.get(f"/api/waves/{wave['id']}/invitations").status_code == 403  # tokens are credentials
    assert analyst.post(f"/api/waves/{wave['id']}/invitations", {"panel_id": "Z"}).status_code == 403
    csv = SimpleUploadedFile("p.csv", b"panel_id\nZ\n")
    assert analyst.post(f"/api/waves/{wave['id']}/invitations/bulk", files={"file": csv}).status_code == 403
    assert analyst.patch(f"/api/submissions/{iid}", {"data": answers(employees=1)}).status_code == 403
    assert submit(analyst, answers(), wave_id=wave["id"]).status_code == 403
    assert analyst.patch(f"/api/waves/{wave['id']}", {"status": "closed"}).status_code == 403
    assert Submission.objects.get(instance_id=iid).data["employees"] == 12


def test_user_without_role_and_anonymous_see_nothing(nobody, anonymous, manager, wave):
    iid = new_id()
    submit(manager, answers(), iid, wave_id=wave["id"])
    for api, code in ((nobody, 403), (anonymous, 401)):
        assert api.get("/api/questionnaires").status_code == code
        assert api.get("/api/waves").status_code == code
        assert api.get("/api/submissions").status_code == code
        assert api.get(f"/api/submissions/{iid}").status_code == code
        assert api.get(f"/api/waves/{wave['id']}/export").status_code == code
    assert submit(anonymous, answers()).status_code == 401
    assert submit(nobody, answers()).status_code == 403
    bad_token = type(anonymous)(anonymous.client, "not-a-token")
    assert bad_token.get("/api/submissions").status_code == 401


def test_revoked_token_stops_working(make_user, client):
    from digifit.accounts.models import Token
    from digifit.accounts.services import token_revoke

    from .conftest import ApiClient

    user, raw = make_user("m2", "survey_manager")
    api = ApiClient(client, raw)
    assert api.get("/api/waves").status_code == 200
    token_revoke(token=Token.objects.get(user=user))
    assert api.get("/api/waves").status_code == 401


def test_openapi_schema_is_served(anonymous):
    resp = anonymous.get("/api/openapi.json")
    assert resp.status_code == 200
    assert "/api/submissions" in resp.json()["paths"]
    assert anonymous.get("/api/docs").status_code == 200


def test_submission_without_wave_id_goes_to_the_open_wave(manager, wave):
    resp = submit(manager, answers())
    assert resp.status_code == 201 and resp.json()["wave_id"] == wave["id"]
    manager.patch(f"/api/waves/{wave['id']}", {"status": "closed"})
    assert submit(manager, answers()).status_code == 403
    assert Submission.objects.count() == 1


def test_questionnaire_without_waves_takes_submissions_without_a_wave(manager, form_v1):
    resp = submit(manager, answers())
    assert resp.status_code == 201 and resp.json()["wave_id"] is None


def test_groups_may_be_sent_nested_and_repeat_errors_count_from_one(manager, wave):
    from digifit.survey import services

    services.questionnaire_version_add(content=xlsform_bytes(version="3", grouped=True), filename="g.xlsx")
    nested = {"company": {"country": "DE", "employees": 3}, "tools": [{"tool_name": "CRM"}, {"tool_cost": "x"}]}
    resp = submit(manager, nested, wave_id=wave["id"])
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == ["tools[2]/tool_cost"]
    nested["tools"] = [{"tool_name": "CRM"}]
    resp = submit(manager, nested, wave_id=wave["id"])
    assert resp.status_code == 201, resp.content
    assert resp.json()["data"]["country"] == "DE" and "company" not in resp.json()["data"]


def test_an_invitation_token_is_no_api_credential(manager, anonymous, wave):
    from .conftest import ApiClient

    inv = manager.post(f"/api/waves/{wave['id']}/invitations", {"panel_id": "P1"}).json()
    respondent = ApiClient(anonymous.client, inv["token"])
    assert respondent.get("/api/submissions").status_code == 401
    assert respondent.get(f"/api/waves/{wave['id']}/invitations").status_code == 401
