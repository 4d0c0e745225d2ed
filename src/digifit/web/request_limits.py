"""Requests refused at the door: a body over the size limit is 413, an unreadable request 400 — never a 500,
and the answer says what was wrong in the form the client reads (JSON under ``/api/``, the OpenRosa XML
envelope under ``/openrosa/``, a short page elsewhere).

* :class:`RequestLimitsMiddleware` refuses a non-multipart body whose ``Content-Length`` is over
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` before anything reads it (Django would raise ``RequestDataTooBig`` on the
  first read, which it answers with 400) and a ``Content-Length`` that is not a number. Multipart bodies carry
  files, which Django streams to disk; each upload path checks its own size (OpenRosa:
  ``DIGIFIT_OPENROSA_MAX_CONTENT_LENGTH``).
  It also refuses a NUL character in the path, the query string or a form field with 400 (PostgreSQL cannot
  store or compare text holding one; JSON bodies are checked by the API's parser).
* :func:`bad_request` is the project's 400 handler: a ``RequestDataTooBig``/``TooManyFieldsSent``/
  ``TooManyFilesSent`` raised anywhere (a form field over the limit inside a multipart body) becomes 413.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def refusal(
    request: HttpRequest, status: int, message: Callable[[], str], *, code: str, field: str = "body"
) -> HttpResponse:
    """The refusal in the client's form: JSON in English (API, as all its errors), the OpenRosa XML envelope
    or a short HTML page in the user's language. ``message()`` returns the text in the active language."""
    path = request.path_info or ""
    if path.startswith("/api/"):
        with translation.override("en"):
            text = message()
        problem = {"field": field, "code": code, "message": text}
        return JsonResponse({"detail": text, "errors": [problem]}, status=status)
    if path.startswith("/openrosa/"):
        from digifit.survey.openrosa import openrosa_response

        return openrosa_response(message(), status, "submit_error")
    title = _("The request was refused")
    body = f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(message())}</p>"
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    """413: the body is over ``limit`` bytes."""
    return refusal(
        request,
        413,
        lambda: _("The request is larger than the %(limit)s this server accepts.") % {"limit": _megabytes(limit)},
        code="too_large",
    )


def _has_nul(request: HttpRequest, multipart: bool) -> bool:
    """A NUL in the path, the query or a form field (PostgreSQL refuses it in any text it compares or stores)."""
    if "\x00" in request.path:
        return True
    fields = [request.GET]
    if not multipart and request.content_type == "application/x-www-form-urlencoded":
        fields.append(request.POST)  # within the size limit; Django's CSRF check reads it anyway
    return any("\x00" in key or any("\x00" in v for v in values) for q in fields for key, values in q.lists())


class RequestLimitsMiddleware:
    """Refuse over-large and unreadable request bodies before a view or another middleware reads them."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
            if length < 0:
                raise ValueError(raw)
        except ValueError:
            return refusal(request, 400, lambda: _("The Content-Length header is not a number."), code="content_length")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        multipart = (request.META.get("CONTENT_TYPE") or "").lower().startswith("multipart/")
        if limit is not None and length > limit and not multipart:
            return too_large(request, limit)
        if _has_nul(request, multipart):
            return refusal(
                request, 400, lambda: _("The request contains a NUL character, which is not accepted."), code="nul"
            )
        return self.get_response(request)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 400 handler (``handler400``): 413 for a body over a limit, else a 400 that says so."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return refusal(
            request, 413, lambda: _("The request has more fields or files than this server accepts."), code="too_large"
        )
    return refusal(
        request, 400, lambda: _("The request could not be read. Check it and send it again."), code="bad_request"
    )


__all__ = ["RequestLimitsMiddleware", "bad_request", "refusal", "too_large"]
