"""The JSON API (django-ninja), mounted at ``/api/``; OpenAPI schema and docs at ``/api/docs``.

Authentication: ``Authorization: Bearer <token>`` (tokens from ``digifit manage token_create USER``) or a
logged-in browser session. Respondents have no account: they post a submission with their invitation token.
Every refusal is JSON ``{"detail": "...", "errors": [{"field", "code", "message"}, ...]}``; bad input is
422 (or 400 for a malformed request), conflicts 409, missing rights 403 — never a 500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from ninja import File, NinjaAPI, Query, Router, Schema, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf
from pydantic import Field

try:  # django-ninja >= 1.6 spells an explicit status this way; older versions take a tuple
    from ninja.responses import Status
except ImportError:  # pragma: no cover

    def Status(status_code, value):
        return status_code, value


from digifit.accounts import roles
from digifit.accounts.selectors import token_user_get
from digifit.survey import exports, selectors, services
from digifit.survey.api_body import BodyRefused, StrictJsonParser
from digifit.survey.errors import FieldProblem, SurveyError
from digifit.survey.models import Submission, Wave


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>`` with a token from the accounts app."""

    def authenticate(self, request: HttpRequest, token: str):
        user = token_user_get(raw=token)
        if user is not None:
            request.user = user
        return user


CSRF_MESSAGE = (
    "CSRF check failed: a request with a browser session must send the X-CSRFToken header with the value of "
    "the csrftoken cookie (scripts authenticate with 'Authorization: Bearer <token>' instead)"
)


def _csrf_refused(request: HttpRequest) -> bool:
    """True when a cookie-authenticated write lacks a valid CSRF token (safe methods always pass)."""
    return check_csrf(request) is not None


class BrowserSession(SessionAuth):
    """A logged-in browser session; its writes need the CSRF token (Django's ``X-CSRFToken`` header)."""

    def _get_key(self, request: HttpRequest):
        if request.user.is_authenticated and _csrf_refused(request):
            raise HttpError(403, CSRF_MESSAGE)
        return request.COOKIES.get(self.param_name)


_COMMON_ERRORS = {
    400: "The request cannot be read: malformed JSON or multipart, invalid Unicode, nesting too deep.",
    401: "No valid credentials: send 'Authorization: Bearer <token>'.",
    403: "The account may not do this, or a browser session's write lacks the CSRF token.",
    413: "The body is larger than the server accepts.",
    415: "The body is not JSON ('Content-Type: application/json').",
    422: "A field, query or path parameter is invalid.",
}


class DigifitAPI(NinjaAPI):
    """The API, whose schema also documents the refusals every operation can give (see ``_COMMON_ERRORS``)."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorOut", ErrorOut.model_json_schema())
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                codes = [400, 401, 403, 422]
                if method in ("post", "put", "patch"):
                    codes.append(413)
                if "application/json" in operation.get("requestBody", {}).get("content", {}):
                    codes.append(415)
                responses = operation.setdefault("responses", {})
                for code in codes:
                    responses.setdefault(code, {"description": _COMMON_ERRORS[code], "content": error})
        return schema


bearer = BearerToken()
django_auth = BrowserSession(csrf=False)  # the CSRF check is ours, with a message that says what to send
api = DigifitAPI(
    title="digifit API",
    version="1",
    description="Questionnaires, waves, invitations, submissions and exports of digifit. See docs/api.md.",
    auth=[bearer, django_auth],
    urls_namespace="api",
    docs_url="/docs",
    # no deep links: Swagger UI puts them as links inside each operation's button (axe: nested-interactive)
    docs=Swagger(settings={"deepLinking": False}),
    parser=StrictJsonParser(),
)


def _error(request, detail: str, status: int, problems: list[FieldProblem] | list[dict] | None = None):
    errors = [p.as_dict() if isinstance(p, FieldProblem) else p for p in (problems or [])]
    return api.create_response(request, {"detail": detail, "errors": errors}, status=status)


@api.exception_handler(SurveyError)
def _survey_error(request, exc: SurveyError):
    return _error(request, str(exc), exc.status, exc.problems)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    problems = []
    for err in exc.errors:
        loc = [str(x) for x in err.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "form", "file", "header", "cookie"):
            loc = loc[1:]
        if loc and loc[0] == "payload":
            loc = loc[1:]
        problems.append(
            {
                "field": ".".join(loc) or "request",
                "code": err.get("type", "invalid"),
                "message": err.get("msg", "invalid"),
            }
        )
    return _error(request, "the request is invalid", 422, problems)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    resp = _error(request, "authentication required: send 'Authorization: Bearer <token>'", 401)
    resp["WWW-Authenticate"] = 'Bearer realm="digifit"'
    return resp


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    cause = exc.__cause__
    if isinstance(cause, BodyRefused):  # django-ninja wraps the parser's refusal in a plain 400
        problem = FieldProblem(field=cause.field, code=cause.code, message=cause.message)
        return _error(request, cause.message, cause.status, [problem])
    return _error(request, str(exc), exc.status_code)


def _require(request: HttpRequest, *perms: str) -> None:
    """Refuse with 403 unless the user has at least one of ``perms``."""
    user = request.user
    if not any(user.has_perm(p) for p in perms):
        raise HttpError(403, f"your account may not do this (needs one of: {', '.join(perms)})")


class SurveyErrorField(SurveyError):
    """A 422 about one field of the request (an unknown form id, wave id, a CSV that is not text)."""

    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, [FieldProblem(field=field, code="invalid", message=message)])


# ------------------------------------------------------------------------------------------- schemas


class ErrorOut(Schema):
    detail: str
    errors: list[dict[str, Any]] = []


class VersionOut(Schema):
    form_id: str
    version: str
    title: str
    default_language: str
    languages: list[str]
    completeness: dict[str, Any]
    created_at: datetime
    n_fields: int

    @staticmethod
    def from_model(v) -> dict[str, Any]:
        return {
            "form_id": v.questionnaire.form_id,
            "version": v.version,
            "title": v.title,
            "default_language": v.default_language,
            "languages": v.languages,
            "completeness": v.completeness,
            "created_at": v.created_at,
            "n_fields": len(v.schema.get("fields", [])),
        }


class QuestionnaireOut(Schema):
    form_id: str
    title: str
    n_versions: int


class WaveIn(Schema):
    form_id: str
    name: str = Field(min_length=1, max_length=200)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    status: Literal["draft", "open", "closed"] = "draft"
    #: the thank-you page points to the programme and the Digital-Check
    thanks_links: bool = False


class WavePatch(Schema):
    status: Literal["draft", "open", "closed"]


class WaveOut(Schema):
    id: int
    form_id: str
    name: str
    opens_at: datetime | None
    closes_at: datetime | None
    status: str
    thanks_links: bool = False
    n_submissions: int | None = None
    n_invitations: int | None = None

    @staticmethod
    def from_model(w: Wave) -> dict[str, Any]:
        return {
            "id": w.pk,
            "form_id": w.questionnaire.form_id,
            "name": w.name,
            "opens_at": w.opens_at,
            "closes_at": w.closes_at,
            "status": w.status,
            "thanks_links": w.thanks_links,
            "n_submissions": getattr(w, "n_submissions", None),
            "n_invitations": getattr(w, "n_invitations", None),
        }


class InvitationIn(Schema):
    panel_id: str
    email: str = ""
    language: str = "de"


class InvitationOut(Schema):
    id: int
    wave_id: int
    panel_id: str
    email: str
    language: str
    status: str
    # the clear token, only in the answer that created the invitation (stored as a digest: null afterwards)
    token: str | None = None

    @staticmethod
    def resolve_token(obj) -> str | None:
        return getattr(obj, "token", None)


class InvitationLinkOut(Schema):
    panel_id: str
    token: str


class BulkOut(Schema):
    created: int
    # the clear token of every invitation created, in the order of the file: shown once, never again
    invitations: list[InvitationLinkOut] = []


class SubmissionIn(Schema):
    form_id: str
    instance_id: str | None = None  # the server makes one when it is missing (then a resend is a new submission)
    data: dict[str, Any]
    version: str | None = None
    wave_id: int | None = None
    invitation_token: str | None = None
    panel_id: str = ""
    language: str = ""


class SubmissionPatch(Schema):
    data: dict[str, Any]
    reason: str = ""


class SubmissionOut(Schema):
    instance_id: UUID
    form_id: str
    version: str
    wave_id: int | None
    panel_id: str
    language: str
    status: str
    source: str
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    n_edits: int | None = None

    @staticmethod
    def from_model(s: Submission) -> dict[str, Any]:
        return {
            "instance_id": s.instance_id,
            "form_id": s.questionnaire_version.questionnaire.form_id,
            "version": s.questionnaire_version.version,
            "wave_id": s.wave_id,
            "panel_id": s.panel_id,
            "language": s.language,
            "status": s.status,
            "source": s.source,
            "data": s.data,
            "created_at": s.created_at,
            "updated_at": s.updated_at,
            "submitted_at": s.submitted_at,
            "n_edits": getattr(s, "n_edits", None),
        }


class SubmissionPage(Schema):
    count: int
    items: list[SubmissionOut]


class EditOut(Schema):
    edited_by: str | None
    edited_at: datetime
    reason: str
    before: dict[str, Any]
    after: dict[str, Any]


# ------------------------------------------------------------------------------------------- questionnaires

questionnaires = Router(tags=["questionnaires"])


@questionnaires.get("", response=list[QuestionnaireOut])
def questionnaires_list(request):
    _require(request, roles.MANAGE, roles.VIEW_DATA)
    return [
        {"form_id": q.form_id, "title": q.title, "n_versions": q.n_versions} for q in selectors.questionnaire_list()
    ]


@questionnaires.post("", response={200: VersionOut, 201: VersionOut, 409: ErrorOut, 422: ErrorOut})
def questionnaires_upload(request, file: UploadedFile = File(...)):
    """Upload an XLSForm (.xlsx, multipart field ``file``). A new ``version`` in its settings sheet makes a new
    version; the same file again returns the stored version with 200."""
    _require(request, roles.MANAGE)
    added = services.questionnaire_version_add(content=file.read(), filename=file.name or "", user=request.user)
    return Status(201 if added.created else 200, VersionOut.from_model(added.version))


@questionnaires.get("/{form_id}/versions", response={200: list[VersionOut], 404: ErrorOut})
def questionnaires_versions(request, form_id: str):
    _require(request, roles.MANAGE, roles.VIEW_DATA)
    q = selectors.questionnaire_get(form_id=form_id)
    if q is None:
        raise HttpError(404, f"no questionnaire {form_id!r}")
    return [VersionOut.from_model(v) for v in selectors.version_list(questionnaire=q)]


@questionnaires.get("/{form_id}/export", response={200: None, 404: ErrorOut})
def questionnaires_export(
    request,
    form_id: str,
    format: Literal["csv", "xlsx"] = "csv",
    labels: str | None = None,
    repeat: str | None = None,
):
    """Export every complete submission of a questionnaire (all waves, all versions)."""
    _require(request, roles.EXPORT)
    q = selectors.questionnaire_get(form_id=form_id)
    if q is None:
        raise HttpError(404, f"no questionnaire {form_id!r}")
    return _export_response(
        exports.ExportSpec(questionnaire=q, wave=None, labels=labels, repeat=repeat), format, form_id
    )


# ------------------------------------------------------------------------------------------- waves

waves = Router(tags=["waves"])


def _wave_or_404(wave_id: int) -> Wave:
    wave = selectors.wave_get(wave_id=wave_id)
    if wave is None:
        raise HttpError(404, f"no wave {wave_id}")
    return wave


@waves.get("", response={200: list[WaveOut], 404: ErrorOut})
def waves_list(request, form_id: str | None = None):
    _require(request, roles.MANAGE, roles.VIEW_DATA)
    q = None
    if form_id:
        q = selectors.questionnaire_get(form_id=form_id)
        if q is None:
            raise HttpError(404, f"no questionnaire {form_id!r}")
    return [WaveOut.from_model(w) for w in selectors.wave_list(questionnaire=q)]


@waves.post("", response={201: WaveOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def waves_create(request, payload: WaveIn):
    _require(request, roles.MANAGE)
    q = selectors.questionnaire_get(form_id=payload.form_id)
    if q is None:
        raise SurveyErrorField("form_id", f"no questionnaire {payload.form_id!r}")
    wave = services.wave_create(
        questionnaire=q,
        name=payload.name,
        opens_at=payload.opens_at,
        closes_at=payload.closes_at,
        status=payload.status,
        thanks_links=payload.thanks_links,
    )
    return Status(201, WaveOut.from_model(wave))


@waves.patch("/{wave_id}", response={200: WaveOut, 404: ErrorOut, 422: ErrorOut})
def waves_update(request, wave_id: int, payload: WavePatch):
    _require(request, roles.MANAGE)
    wave = services.wave_status_set(wave=_wave_or_404(wave_id), status=payload.status)
    return WaveOut.from_model(wave)


@waves.get("/{wave_id}/invitations", response={200: list[InvitationOut], 404: ErrorOut})
def invitations_list(request, wave_id: int):
    _require(request, roles.MANAGE)  # panel ids and addresses; tokens are stored as digests (token: null)
    return list(selectors.invitation_list(wave=_wave_or_404(wave_id)))


@waves.post("/{wave_id}/invitations", response={201: InvitationOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def invitations_create(request, wave_id: int, payload: InvitationIn):
    _require(request, roles.MANAGE)
    inv = services.invitation_create(
        wave=_wave_or_404(wave_id), panel_id=payload.panel_id, email=payload.email, language=payload.language
    )
    return Status(201, inv)


@waves.post("/{wave_id}/invitations/bulk", response={201: BulkOut, 404: ErrorOut, 422: ErrorOut})
def invitations_bulk(request, wave_id: int, file: UploadedFile = File(...)):
    """Invite from a CSV file (multipart field ``file``; columns ``panel_id,email,language``): all or nothing."""
    _require(request, roles.MANAGE)
    raw = file.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SurveyErrorField("file", "the CSV is not UTF-8 text") from exc
    created = services.invitation_bulk_create(wave=_wave_or_404(wave_id), csv_text=text)
    links = [{"panel_id": inv.panel_id, "token": inv.token} for inv in created]
    return Status(201, {"created": len(created), "invitations": links})


@waves.get("/{wave_id}/export", response={200: None, 404: ErrorOut})
def waves_export(
    request,
    wave_id: int,
    format: Literal["csv", "xlsx", "parquet"] = "csv",
    labels: str | None = None,
    repeat: str | None = None,
):
    """Export a wave's complete submissions: CSV, XLSX (repeats as extra sheets) or the Parquet snapshot."""
    _require(request, roles.EXPORT)
    wave = _wave_or_404(wave_id)
    spec = exports.ExportSpec(questionnaire=wave.questionnaire, wave=wave, labels=labels, repeat=repeat)
    return _export_response(spec, format, f"{wave.questionnaire.form_id}-{wave.name}")


def _export_response(spec, fmt: str, stem: str):
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
    exports.spec_check(spec)
    if fmt == "csv":
        resp = StreamingHttpResponse(exports.csv_stream(spec), content_type="text/csv; charset=utf-8")
        suffix = f"-{spec.repeat}" if spec.repeat else ""
        resp["Content-Disposition"] = f'attachment; filename="{safe}{suffix}.csv"'
        return resp
    if fmt == "xlsx":
        resp = FileResponse(
            exports.xlsx_bytes(spec),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        resp["Content-Disposition"] = f'attachment; filename="{safe}.xlsx"'
        return resp
    resp = FileResponse(exports.parquet_bytes(spec), content_type="application/vnd.apache.parquet")
    resp["Content-Disposition"] = f'attachment; filename="{safe}.parquet"'
    return resp


# ------------------------------------------------------------------------------------------- submissions

submissions = Router(tags=["submissions"])


@submissions.post(
    "",
    auth=None,
    response={200: SubmissionOut, 201: SubmissionOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def submissions_create(request, payload: SubmissionIn):
    """Store one complete submission. Idempotent on ``instance_id``: 201 when stored, 200 when the same
    answers were stored before, 409 when other answers were. Authorised by a token of a user who may collect
    data, or — for respondents — by ``invitation_token``."""
    invitation = None
    user = None
    if payload.invitation_token:
        invitation = selectors.invitation_get(token=payload.invitation_token)
        if invitation is None:
            raise HttpError(403, "the invitation token is not valid")
        if invitation.wave.questionnaire.form_id != payload.form_id:
            raise HttpError(403, "the invitation is for another questionnaire")
    else:
        user = _request_user(request)
        if user is None:
            raise AuthenticationError()
        if not user.has_perm(roles.COLLECT):
            raise HttpError(403, f"your account may not submit data (needs {roles.COLLECT})")
    version = selectors.version_for_submission(form_id=payload.form_id, version=payload.version)
    if version is None:
        field = "version" if payload.version and selectors.questionnaire_get(form_id=payload.form_id) else "form_id"
        raise SurveyErrorField(field, f"no questionnaire {payload.form_id!r} version {payload.version or 'any'!r}")
    wave = None
    if payload.wave_id is not None and invitation is None:
        wave = selectors.wave_get(wave_id=payload.wave_id)
        if wave is None:
            raise SurveyErrorField("wave_id", f"no wave {payload.wave_id}")
    result = services.submission_submit(
        questionnaire_version=version,
        instance_id=payload.instance_id,
        data=payload.data,
        wave=wave,
        invitation=invitation,
        panel_id=payload.panel_id,
        language=payload.language,
        source=Submission.Source.API,
        user=user,
        auto_wave=True,
    )
    return Status(201 if result.created else 200, SubmissionOut.from_model(result.submission))


def _request_user(request):
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return token_user_get(raw=header[7:].strip())
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if _csrf_refused(request):  # a browser session: another site must not submit in its name
        raise HttpError(403, CSRF_MESSAGE)
    return user


@submissions.get("", response={200: SubmissionPage, 404: ErrorOut})
def submissions_list(
    request,
    form_id: str | None = None,
    wave_id: int | None = None,
    status: Literal["draft", "complete", "all"] = "complete",
    panel_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
):
    _require(request, roles.VIEW_DATA)
    wave = _wave_or_404(wave_id) if wave_id is not None else None
    q = selectors.questionnaire_get(form_id=form_id) if form_id else None
    if form_id and q is None:
        raise HttpError(404, f"no questionnaire {form_id!r}")
    qs = selectors.submission_list(
        wave=wave, questionnaire=q, status=None if status == "all" else status, panel_id=panel_id
    ).select_related("questionnaire_version__questionnaire")
    return {"count": qs.count(), "items": [SubmissionOut.from_model(s) for s in qs[offset : offset + limit]]}


def _submission_or_404(instance_id: str) -> Submission:
    sub = selectors.submission_get(instance_id=instance_id)
    if sub is None:
        raise HttpError(404, f"no submission {instance_id}")
    return sub


@submissions.get("/{instance_id}", response={200: SubmissionOut, 404: ErrorOut})
def submissions_get(request, instance_id: str):
    _require(request, roles.VIEW_DATA)
    sub = _submission_or_404(instance_id)
    sub.n_edits = sub.edits.count()
    return SubmissionOut.from_model(sub)


@submissions.patch("/{instance_id}", response={200: SubmissionOut, 404: ErrorOut, 422: ErrorOut})
def submissions_edit(request, instance_id: str, payload: SubmissionPatch):
    """Replace the answers of a submission; the change is kept in its audit trail (``/edits``)."""
    _require(request, roles.EDIT_DATA)
    sub = _submission_or_404(instance_id)
    services.submission_edit(submission=sub, data=payload.data, user=request.user, reason=payload.reason)
    sub.n_edits = sub.edits.count()
    return SubmissionOut.from_model(sub)


@submissions.get("/{instance_id}/edits", response={200: list[EditOut], 404: ErrorOut})
def submissions_edits(request, instance_id: str):
    _require(request, roles.VIEW_DATA)
    sub = _submission_or_404(instance_id)
    return [
        {
            "edited_by": e.edited_by.get_username() if e.edited_by else None,
            "edited_at": e.edited_at,
            "reason": e.reason,
            "before": e.before,
            "after": e.after,
        }
        for e in sub.edits.select_related("edited_by").order_by("edited_at", "id")
    ]


api.add_router("/questionnaires", questionnaires)
api.add_router("/waves", waves)
api.add_router("/submissions", submissions)

from digifit.survey.webhooks_api import router as webhooks_router  # noqa: E402 (a router of its own module)

api.add_router("/webhooks", webhooks_router)
