"""OpenRosa endpoints, so that ODK Collect and Enketo can fetch forms and submit offline-collected data.

Implements the OpenRosa Form List API and Form Submission API (docs.getodk.org/openrosa):

``GET  /openrosa/formList``                 the ``<xforms>`` list (``formID``, ``listAllVersions`` supported)
``GET  /openrosa/forms/<form_id>/form.xml`` the XForm pyxform generated (``?version=`` for an older one)
``HEAD /openrosa/submission``               204 pre-check with ``X-OpenRosa-Accept-Content-Length``
``POST /openrosa/submission``               multipart with ``xml_submission_file``: 201 + OpenRosaResponse;
                                            413 over ``DIGIFIT_OPENROSA_MAX_CONTENT_LENGTH`` (the length the
                                            pre-check advertises), 400 for malformed or over-deep XML

Authentication is HTTP Basic with a digifit account that may collect data (the ``survey_manager`` role has
``survey.collect_submissions``); use HTTPS in production. Digest authentication is not offered. Every
response carries ``X-OpenRosa-Version: 1.0``. Submissions go through the same
:func:`~digifit.survey.services.submission_submit` as the JSON API: the ``meta/instanceID`` (``uuid:`` prefix
stripped) makes a resend idempotent (201 again, nothing duplicated). An edit (a new instanceID with
``meta/deprecatedID`` naming a stored one) updates the stored submission through the audited
:func:`~digifit.survey.services.submission_edit` instead of adding a second submission.
"""

from __future__ import annotations

import base64
import hashlib
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from digifit.accounts import roles
from digifit.survey import formdef, selectors, services
from digifit.survey.errors import SurveyError
from digifit.survey.models import Questionnaire, QuestionnaireVersion, Submission

REALM = "digifit OpenRosa"
XML_TYPE = "text/xml; charset=utf-8"


def _headers(response: HttpResponse) -> HttpResponse:
    response["X-OpenRosa-Version"] = "1.0"
    response["X-OpenRosa-Accept-Content-Length"] = str(settings.DIGIFIT_OPENROSA_MAX_CONTENT_LENGTH)
    response["Date"] = http_date()
    return response


def openrosa_response(message: str, status: int, nature: str = "") -> HttpResponse:
    nature_attr = f' nature="{escape(nature)}"' if nature else ""
    body = (
        "<?xml version='1.0' encoding='UTF-8' ?>\n"
        '<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
        f"<message{nature_attr}>{escape(message)}</message></OpenRosaResponse>"
    )
    return _headers(HttpResponse(body, status=status, content_type=XML_TYPE))


def _basic_user(request: HttpRequest):
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        username, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return authenticate(request, username=username, password=password)


def _challenge() -> HttpResponse:
    resp = openrosa_response("authentication required", 401)
    resp["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return resp


def _authorised(request: HttpRequest):
    """Return (user, None) or (None, the 401/403 response to send)."""
    user = _basic_user(request)
    if user is None:
        return None, _challenge()
    if not user.has_perm(roles.COLLECT):
        return None, openrosa_response("your account may not collect data for digifit", 403)
    return user, None


def _md5(xml: str) -> str:
    return "md5:" + hashlib.md5(xml.encode()).hexdigest()


@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def form_list(request: HttpRequest) -> HttpResponse:
    """The OpenRosa form list: the newest version of each questionnaire (all with ``listAllVersions``)."""
    _user, refusal = _authorised(request)
    if refusal is not None:
        return refusal
    form_id = request.GET.get("formID")
    all_versions = request.GET.get("listAllVersions", "").lower() == "true"
    questionnaires = Questionnaire.objects.order_by("form_id")
    if form_id:
        questionnaires = questionnaires.filter(form_id=form_id)
    parts = ["<?xml version='1.0' encoding='UTF-8' ?>", '<xforms xmlns="http://openrosa.org/xforms/xformsList">']
    for q in questionnaires:
        versions = QuestionnaireVersion.objects.filter(questionnaire=q).defer("xlsx").order_by("-created_at", "-id")
        chosen = list(versions) if all_versions else [v for v in versions[:1]]
        for v in chosen:
            url = request.build_absolute_uri(reverse("openrosa:form_xml", args=[q.form_id]))
            if all_versions:
                url += f"?version={v.version}"
            parts.append(
                "<xform>"
                f"<formID>{escape(q.form_id)}</formID>"
                f"<name>{escape(v.title or q.form_id)}</name>"
                f"<version>{escape(v.version)}</version>"
                f"<hash>{_md5(v.xform_xml)}</hash>"
                f"<downloadUrl>{escape(url)}</downloadUrl>"
                "</xform>"
            )
    parts.append("</xforms>")
    return _headers(HttpResponse("\n".join(parts), content_type=XML_TYPE))


@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def form_xml(request: HttpRequest, form_id: str) -> HttpResponse:
    """The XForm XML of a questionnaire version (the newest, or ``?version=``)."""
    _user, refusal = _authorised(request)
    if refusal is not None:
        return refusal
    version = selectors.version_get(form_id=form_id, version=request.GET.get("version"))
    if version is None:
        return openrosa_response(f"no form {form_id!r}", 404)
    return _headers(HttpResponse(version.xform_xml, content_type=XML_TYPE))


@csrf_exempt
@require_http_methods(["HEAD", "POST"])
def submission(request: HttpRequest) -> HttpResponse:
    """Receive an XForms submission (``xml_submission_file``); HEAD answers the pre-check with 204."""
    user, refusal = _authorised(request)
    if refusal is not None:
        return refusal
    if request.method == "HEAD":
        resp = _headers(HttpResponse(status=204))
        resp["Location"] = request.build_absolute_uri(reverse("openrosa:submission"))
        return resp
    limit = settings.DIGIFIT_OPENROSA_MAX_CONTENT_LENGTH
    if _content_length(request) > limit:  # refused before the body is read
        return _too_large(limit)
    upload = request.FILES.get("xml_submission_file")
    if upload is not None and upload.size > limit:
        return _too_large(limit)
    if upload is None:
        return openrosa_response("the multipart request has no part named xml_submission_file", 400)
    content = upload.read()
    try:
        head = formdef.answers_from_xml(None, content)
        version = selectors.version_for_submission(form_id=head.form_id, version=head.version or None)
        if version is None:
            return openrosa_response(f"no form {head.form_id!r} version {head.version!r} on this server", 404)
        instance = formdef.answers_from_xml(version.schema, content)
        original = selectors.submission_get(instance_id=instance.deprecated_id) if instance.deprecated_id else None
        if original is not None and selectors.submission_get(instance_id=instance.instance_id) is None:
            # An edit of a stored instance (Enketo/ODK send the new instanceID with meta/deprecatedID): the
            # stored submission takes the new answers, with an audit entry; no second submission appears.
            if not user.has_perm(roles.EDIT_DATA):
                return openrosa_response("your account may not edit submissions", 403, "submit_error")
            services.submission_edit(
                submission=original,
                data=instance.answers,
                user=user,
                reason=f"OpenRosa edit, instanceID {instance.instance_id}",
            )
            return _created("Form edit received", request)
        result = services.submission_submit(
            questionnaire_version=version,
            instance_id=instance.instance_id,
            data=instance.answers,
            auto_wave=True,
            source=Submission.Source.OPENROSA,
            user=user,
        )
    except SurveyError as exc:
        status = 400 if any(p.code == "xml" for p in exc.problems) else exc.status
        return openrosa_response(str(exc), status, "submit_error")
    return _created("Form received" if result.created else "Form already received", request)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # RequestLimitsMiddleware answers an unreadable length before this view runs


def _too_large(limit: int) -> HttpResponse:
    return openrosa_response(
        f"the submission is larger than the {limit} bytes this server accepts "
        "(X-OpenRosa-Accept-Content-Length); send its media files in separate requests",
        413,
        "submit_error",
    )


def _created(message: str, request: HttpRequest) -> HttpResponse:
    resp = openrosa_response(message, 201, "submit_success")
    resp["Location"] = request.build_absolute_uri(reverse("openrosa:submission"))
    return resp


app_name = "openrosa"
urlpatterns = [
    path("formList", form_list, name="form_list"),
    path("forms/<str:form_id>/form.xml", form_xml, name="form_xml"),
    path("submission", submission, name="submission"),
]
