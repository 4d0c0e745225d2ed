"""Crafted requests at the edges of the API and OpenRosa: each is refused with the right status and a message
that says what was wrong — never a 500 — and nothing is stored."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from digifit.survey.api_body import MAX_DEPTH
from digifit.survey.formdef import MAX_XML_DEPTH
from digifit.survey.models import Submission, Webhook

from .conftest import answers, new_id
from .test_openrosa import RESPONSE_NS, instance_xml, openrosa_headers, post_submission

MB = 1024 * 1024


def _body(**overrides) -> dict:
    body = {"form_id": "fob_test", "instance_id": new_id(), "data": answers()}
    body.update(overrides)
    return body


def _raw_post(api, raw: bytes | str, content_type: str = "application/json", url: str = "/api/submissions"):
    return api.client.generic("POST", url, data=raw, content_type=content_type, headers=api.headers)


def _problem(resp) -> dict:
    body = resp.json()
    assert body["detail"] and len(body["errors"]) == 1, body
    return body["errors"][0]


# ------------------------------------------------------------------------------------------- size


def test_a_json_body_over_the_limit_is_413(manager, form_v1, settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 20 * MB
    raw = json.dumps(_body(data=answers(comment="x" * (25 * MB)))).encode()
    resp = _raw_post(manager, raw)
    assert resp.status_code == 413 and resp["Content-Type"] == "application/json"
    assert _problem(resp)["code"] == "too_large" and "20 MB" in resp.json()["detail"]
    assert not Submission.objects.exists()


def test_a_form_post_over_the_limit_is_413_with_a_page_in_the_users_language(client, db):
    resp = client.post(
        "/accounts/login/",
        data="username=a&password=" + "x" * (21 * MB),
        content_type="application/x-www-form-urlencoded",
        headers={"Accept-Language": "de"},
    )
    assert resp.status_code == 413 and resp["Content-Type"].startswith("text/html")
    assert "20 MB" in resp.content.decode() and "größer" in resp.content.decode()


def test_an_unreadable_content_length_is_400(manager, form_v1):
    resp = manager.client.generic(
        "POST", "/api/submissions", data=b"{}", content_type="application/json", CONTENT_LENGTH="12abc"
    )
    assert resp.status_code == 400 and _problem(resp)["code"] == "content_length"


def test_a_malformed_multipart_body_is_400(manager, db):
    resp = manager.client.generic(
        "POST",
        "/api/questionnaires",
        data=b"--x\r\ngarbage",
        content_type="multipart/form-data; boundary=",
        headers=manager.headers,
    )
    assert resp.status_code == 400, resp.content


# ------------------------------------------------------------------------------------------- JSON


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"form_id": "fob_test", "instance_id": "%s", "data": {"country": "\\ud800"}}', "data.country"),
        (
            '{"form_id": "fob_test", "instance_id": "%s", "data": {"tools": [{"tool_name": "\\udfff"}]}}',
            "data.tools.0.tool_name",
        ),
        ('{"form_id": "fob_test", "instance_id": "%s", "data": {"\\ud800": 1}}', "data"),
        ('{"form_id": "fob_test", "instance_id": "%s", "data": {}, "panel_id": "p\\ud800"}', "panel_id"),
        ('{"form_id": "fob_test", "instance_id": "%s", "data": {}, "panel_id": "p\\u0000"}', "panel_id"),
    ],
)
def test_invalid_unicode_is_400_naming_the_field(manager, form_v1, raw, field):
    resp = _raw_post(manager, raw % new_id())
    assert resp.status_code == 400, resp.content
    problem = _problem(resp)
    assert (problem["field"], problem["code"]) == (field, "unicode")
    assert "lone surrogate" in problem["message"] or "NUL" in problem["message"]
    assert not Submission.objects.exists()


def test_a_body_that_is_not_utf8_is_400(manager, form_v1):
    raw = json.dumps(_body(panel_id="PLACEHOLDER")).encode().replace(b"PLACEHOLDER", b"\xff\xfe")
    resp = _raw_post(manager, raw)
    assert resp.status_code == 400 and _problem(resp)["code"] == "unicode" and "not UTF-8" in resp.json()["detail"]
    assert not Submission.objects.exists()


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 500, 5_000, 100_000])
def test_over_deep_json_is_400(manager, form_v1, depth):
    nested = "[" * depth + "]" * depth
    raw = f'{{"form_id": "fob_test", "instance_id": "{new_id()}", "data": {{"country": {nested}}}}}'
    resp = _raw_post(manager, raw)
    assert resp.status_code == 400, resp.content
    assert _problem(resp)["code"] == "depth" and f"deeper than {MAX_DEPTH} levels" in resp.json()["detail"]
    assert not Submission.objects.exists()


def test_json_nested_within_the_limit_is_read(manager, form_v1):
    """The depth rule is not a blanket refusal: a deep but allowed value reaches validation (and fails there)."""
    nested = "[" * (MAX_DEPTH - 3) + "]" * (MAX_DEPTH - 3)
    resp = _raw_post(manager, f'{{"form_id": "fob_test", "instance_id": "{new_id()}", "data": {{"x": {nested}}}}}')
    assert resp.status_code == 422, resp.content


def test_malformed_json_is_400_with_its_position(manager, form_v1):
    resp = _raw_post(manager, '{"form_id": "fob_test",\n "data": {')
    assert resp.status_code == 400
    assert _problem(resp)["code"] == "json" and "line 2" in resp.json()["detail"]


# ------------------------------------------------------------------------------------------- content types


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "text/html", "application/json; charset=latin-1", ""],
)
def test_json_in_another_content_type_is_415(manager, form_v1, content_type):
    resp = _raw_post(manager, json.dumps(_body()), content_type=content_type)
    assert resp.status_code == 415, resp.content
    problem = _problem(resp)
    assert problem["field"] == "Content-Type" and problem["code"] == "media_type"
    assert "'Content-Type: application/json'" in problem["message"] or "UTF-8" in problem["message"]
    assert not Submission.objects.exists()


def test_json_with_charset_utf8_or_a_json_suffix_is_accepted(manager, form_v1):
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        resp = _raw_post(manager, json.dumps(_body()), content_type=content_type)
        assert resp.status_code == 201, resp.content


# ------------------------------------------------------------------------------------------- CSRF


CSRF = "Z" * 32


@pytest.fixture
def browser(make_user):
    """A logged-in browser session that enforces CSRF as a real browser request would meet it."""
    user, _ = make_user("browser", "survey_manager")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF
    return client


@pytest.mark.parametrize("url", ["/api/submissions", "/api/webhooks", "/api/waves"])
def test_a_cookie_authenticated_write_without_csrf_token_is_403(browser, form_v1, url):
    body = {**_body(), "url": "http://127.0.0.1:9/x", "name": "w"}
    resp = browser.post(url, data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 403, resp.content
    assert "CSRF" in resp.json()["detail"] and "X-CSRFToken" in resp.json()["detail"]
    assert not Submission.objects.exists() and not Webhook.objects.exists()


def test_a_cookie_authenticated_write_with_the_csrf_token_and_reads_pass(browser, form_v1):
    resp = browser.post(
        "/api/submissions", data=json.dumps(_body()), content_type="application/json", headers={"X-CSRFToken": CSRF}
    )
    assert resp.status_code == 201, resp.content
    assert browser.get("/api/submissions").json()["count"] == 1  # reads need no token


def test_a_bearer_token_needs_no_csrf_token(manager, form_v1):
    manager.client = Client(enforce_csrf_checks=True)
    assert manager.post("/api/submissions", _body()).status_code == 201


# ------------------------------------------------------------------------------------------- OpenRosa


def _message(resp) -> str:
    return ET.fromstring(resp.content).findtext(f"{RESPONSE_NS}message")


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_openrosa_xml_nested_deep_is_400(client, wave, depth):
    inner = b"<g>" * depth + b"1" + b"</g>" * depth
    xml = instance_xml(new_id()).replace(b"<intro/>", b"<intro/>" + inner)
    started = time.monotonic()
    resp = post_submission(client, xml)
    assert resp.status_code == 400, resp.content
    assert f"deeper than {MAX_XML_DEPTH} levels" in _message(resp)
    assert time.monotonic() - started < 10  # generous: refused at depth 65, not after reading 100,000 levels
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        b"&#xD800;",  # a lone surrogate as a character reference
        b"\xed\xa0\x80",  # and as (invalid) UTF-8 bytes
        b"\xff",
        b"\x00",
        b"<unclosed>",
    ],
)
def test_openrosa_invalid_characters_and_malformed_xml_are_400(client, wave, payload):
    xml = instance_xml(new_id()).replace(b"<country>FR</country>", b"<country>" + payload + b"</country>")
    resp = post_submission(client, xml)
    assert resp.status_code == 400, resp.content
    message = _message(resp)
    assert "not well-formed XML (line" in message and "Traceback" not in message
    assert not Submission.objects.exists()


def test_openrosa_enforces_the_size_it_advertises(client, wave, settings):
    assert settings.DIGIFIT_OPENROSA_MAX_CONTENT_LENGTH == 10 * MB
    head = client.head("/openrosa/submission", headers=openrosa_headers())
    assert head.status_code == 204 and head["X-OpenRosa-Accept-Content-Length"] == str(10 * MB)
    resp = post_submission(client, instance_xml(new_id()), extra=b"\xff" * (10 * MB))
    assert resp.status_code == 413, resp.content
    assert str(10 * MB) in _message(resp) and "X-OpenRosa-Accept-Content-Length" in _message(resp)
    assert not Submission.objects.exists()
    assert post_submission(client, instance_xml(new_id()), extra=b"\xff" * 1000).status_code == 201


def test_openrosa_over_the_general_limit_without_multipart_is_413_in_openrosa_form(client, wave):
    resp = client.generic(
        "POST", "/openrosa/submission", data=b"x" * (21 * MB), content_type="text/xml", headers=openrosa_headers()
    )
    assert resp.status_code == 413 and _message(resp)


# ------------------------------------------------------------------------------------------- every path


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"data": answers(tools=[{"tool_name": "CRM"}, {"tool_name": "a\x00b"}])}, "tools[2]/tool_name"),
        ({"data": answers(country="\udc80")}, "country"),
        ({"data": answers(), "panel_id": "P-\ud800"}, "panel_id"),
    ],
)
def test_the_service_refuses_text_no_database_can_store(manager, form_v1, overrides, field):
    """The web form, OpenRosa and imports reach the database through ``submission_submit``: it refuses a NUL or
    a lone surrogate too (PostgreSQL fails on both, SQLite on the surrogate), naming the field."""
    from digifit.survey import selectors, services
    from digifit.survey.errors import SubmissionRejected

    version = selectors.version_get(form_id="fob_test", version=None)
    with pytest.raises(SubmissionRejected) as exc:
        services.submission_submit(questionnaire_version=version, instance_id=new_id(), **overrides)
    [problem] = exc.value.problems
    assert (problem.field, problem.code) == (field, "unicode")
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/api/waves?form_id=%00", None),
        ("get", "/api/submissions?panel_id=P%00", None),
        ("post", "/accounts/login/", "username=a%00&password=b"),
    ],
)
def test_a_nul_in_the_query_or_a_form_is_400(manager, db, method, url, data):
    if method == "get":
        resp = manager.get(url)
    else:
        resp = manager.client.post(url, data=data, content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 400, resp.content
    assert "NUL" in resp.content.decode()
