"""OpenRosa form list and submission, with requests built as the OpenRosa specification shows them."""

from __future__ import annotations

import base64
import hashlib
import uuid
import xml.etree.ElementTree as ET

import pytest

from digifit.survey.models import Submission

pytestmark = pytest.mark.django_db

XFORMS_NS = "{http://openrosa.org/xforms/xformsList}"
RESPONSE_NS = "{http://openrosa.org/http/response}"
BOUNDARY = "----digifitOpenRosaBoundary7MA4YWxkTrZu0gW"


def basic(username: str, password: str = "pw-for-tests-1") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def openrosa_headers(username: str | None = "manager") -> dict[str, str]:
    headers = {"X-OpenRosa-Version": "1.0", "Date": "Mon, 14 Feb 2011 16:48:15 GMT", "Accept-Language": "de"}
    if username:
        headers["Authorization"] = basic(username)
    return headers


def instance_xml(instance_id: str, *, version: str = "1", employees: str = "12", form_id: str = "fob_test") -> bytes:
    """A submission instance as ODK Collect writes it: groups nested, repeats repeated, meta/instanceID."""
    return f"""<?xml version='1.0' ?><data id="{form_id}" version="{version}"
 xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"><intro/><country>FR</country>
<employees>{employees}</employees><channels>website shop</channels><shop_share>0.4</shop_share>
<tools><tool_name>CRM</tool_name><tool_cost>10</tool_cost></tools><tools><tool_name>Wiki</tool_name><tool_cost/></tools>
<meta><instanceID>uuid:{instance_id}</instanceID></meta></data>""".encode()


def multipart(xml: bytes, extra: bytes | None = None) -> bytes:
    """The MIME envelope of the Form Submission API: one part ``xml_submission_file`` (text/xml), maybe more."""
    parts = [
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="xml_submission_file"; filename="submission.xml"\r\n'
        "Content-Type: text/xml\r\n\r\n".encode()
        + xml
        + b"\r\n"
    ]
    if extra is not None:
        parts.append(
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="photo.jpg"; filename="photo.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n".encode()
            + extra
            + b"\r\n"
        )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def post_submission(client, xml: bytes, username: str | None = "manager", extra: bytes | None = None):
    return client.generic(
        "POST",
        "/openrosa/submission",
        data=multipart(xml, extra),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=openrosa_headers(username),
    )


def test_form_list_is_an_openrosa_xforms_document(client, wave):
    resp = client.get("/openrosa/formList", headers=openrosa_headers())
    assert resp.status_code == 200
    assert resp["X-OpenRosa-Version"] == "1.0"
    assert resp["Content-Type"].startswith("text/xml")
    root = ET.fromstring(resp.content)
    assert root.tag == f"{XFORMS_NS}xforms"
    (xform,) = root.findall(f"{XFORMS_NS}xform")
    assert xform.findtext(f"{XFORMS_NS}formID") == "fob_test"
    assert xform.findtext(f"{XFORMS_NS}name") == "FoB Test"
    assert xform.findtext(f"{XFORMS_NS}version") == "1"
    url = xform.findtext(f"{XFORMS_NS}downloadUrl")
    assert url.startswith("http://testserver/openrosa/forms/fob_test/form.xml")
    form = client.get(url.replace("http://testserver", ""), headers=openrosa_headers())
    assert form.status_code == 200 and b"<h:html" in form.content
    assert xform.findtext(f"{XFORMS_NS}hash") == "md5:" + hashlib.md5(form.content).hexdigest()
    none = client.get("/openrosa/formList?formID=other", headers=openrosa_headers())
    assert ET.fromstring(none.content).findall(f"{XFORMS_NS}xform") == []


def test_openrosa_requires_basic_auth_of_a_collecting_account(client, wave, analyst):
    resp = client.get("/openrosa/formList", headers=openrosa_headers(None))
    assert resp.status_code == 401
    assert resp["WWW-Authenticate"].startswith("Basic")
    assert resp["X-OpenRosa-Version"] == "1.0"
    wrong = client.get("/openrosa/formList", headers={**openrosa_headers(None), "Authorization": basic("manager", "x")})
    assert wrong.status_code == 401
    # analysts read data but do not collect it
    assert client.get("/openrosa/formList", headers=openrosa_headers("analyst")).status_code == 403
    assert post_submission(client, instance_xml(str(uuid.uuid4())), "analyst").status_code == 403
    assert Submission.objects.count() == 0


def test_head_precheck_answers_204_with_openrosa_headers(client, wave):
    resp = client.head("/openrosa/submission", headers=openrosa_headers())
    assert resp.status_code == 204
    assert resp["X-OpenRosa-Version"] == "1.0"
    assert int(resp["X-OpenRosa-Accept-Content-Length"]) > 0
    assert client.head("/openrosa/submission", headers=openrosa_headers(None)).status_code == 401


def test_submission_is_stored_and_a_resend_is_idempotent(client, wave):
    iid = str(uuid.uuid4())
    resp = post_submission(client, instance_xml(iid), extra=b"\xff\xd8 not really a jpeg")
    assert resp.status_code == 201, resp.content
    assert resp["X-OpenRosa-Version"] == "1.0"
    root = ET.fromstring(resp.content)
    assert root.tag == f"{RESPONSE_NS}OpenRosaResponse"
    assert root.find(f"{RESPONSE_NS}message").get("nature") == "submit_success"
    sub = Submission.objects.get(instance_id=iid)
    assert sub.source == "openrosa" and sub.wave_id == wave["id"]
    assert sub.data["employees"] == 12 and sub.data["country"] == "FR"
    assert sub.data["channels"] == "website shop" and sub.data["shop_share"] == 0.4
    assert sub.data["tools"] == [{"tool_name": "CRM", "tool_cost": 10}, {"tool_name": "Wiki"}]
    again = post_submission(client, instance_xml(iid))
    assert again.status_code == 201
    assert Submission.objects.filter(instance_id=iid).count() == 1
    conflict = post_submission(client, instance_xml(iid, employees="13"))
    assert conflict.status_code == 409
    assert Submission.objects.get(instance_id=iid).data["employees"] == 12


def test_same_instance_via_api_and_openrosa_is_one_submission(client, manager, wave):
    iid = str(uuid.uuid4())
    assert post_submission(client, instance_xml(iid)).status_code == 201
    body = {
        "form_id": "fob_test",
        "instance_id": iid,
        "wave_id": wave["id"],
        "data": {
            "country": "FR",
            "employees": 12,
            "channels": ["website", "shop"],
            "shop_share": 0.4,
            "tools": [{"tool_name": "CRM", "tool_cost": 10}, {"tool_name": "Wiki"}],
        },
    }
    assert manager.post("/api/submissions", body).status_code == 200
    assert Submission.objects.count() == 1


def test_bad_submissions_are_refused_and_nothing_is_stored(client, wave):
    iid = str(uuid.uuid4())
    invalid = post_submission(client, instance_xml(iid, employees="-3"))
    assert invalid.status_code == 422
    assert "employees" in ET.fromstring(invalid.content).findtext(f"{RESPONSE_NS}message")
    assert post_submission(client, b"<data id='fob_test'><unclosed></data>").status_code == 400
    assert post_submission(client, instance_xml(iid, form_id="nope")).status_code == 404
    no_id = b"<?xml version='1.0' ?><data id='fob_test' version='1'><country>DE</country></data>"
    assert post_submission(client, no_id).status_code == 422
    missing_part = client.post("/openrosa/submission", data={"other": "x"}, headers=openrosa_headers())
    assert missing_part.status_code == 400
    assert Submission.objects.count() == 0


def test_closed_wave_refuses_openrosa_submissions(client, manager, wave):
    manager.patch(f"/api/waves/{wave['id']}", {"status": "closed"})
    resp = post_submission(client, instance_xml(str(uuid.uuid4())))
    assert resp.status_code == 403
    assert Submission.objects.count() == 0


def test_an_edit_with_deprecated_id_updates_the_submission_with_an_audit_entry(client, wave):
    from digifit.survey.models import SubmissionEdit

    old, new = str(uuid.uuid4()), str(uuid.uuid4())
    assert post_submission(client, instance_xml(old)).status_code == 201
    edit = instance_xml(new, employees="15").replace(
        b"</instanceID></meta>", f"</instanceID><deprecatedID>uuid:{old}</deprecatedID></meta>".encode()
    )
    for _ in range(2):  # the client may send the edit twice
        resp = post_submission(client, edit)
        assert resp.status_code == 201, resp.content
    assert Submission.objects.count() == 1
    assert Submission.objects.get(instance_id=old).data["employees"] == 15
    (entry,) = SubmissionEdit.objects.all()
    assert entry.before["employees"] == 12 and entry.after["employees"] == 15
    assert entry.edited_by.username == "manager" and new in entry.reason
    bad = instance_xml(str(uuid.uuid4()), employees="-1").replace(
        b"</instanceID></meta>", f"</instanceID><deprecatedID>uuid:{old}</deprecatedID></meta>".encode()
    )
    assert post_submission(client, bad).status_code == 422
    assert SubmissionEdit.objects.count() == 1
