"""The Digital-Check part of the JSON API (``/api/checks``), mounted by :mod:`digifit.survey.api`.

``GET /api/checks/{token}``: one result by its private token — the same credential as the result page
``/check/r/<token>/`` and the only key (nothing is looked up by e-mail, nothing lists results). No account is
needed; an unknown or malformed token is a 404 that says nothing more. The answers and the e-mail address are not
returned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from digifit.assessment import display, selectors

router = Router(tags=["checks"])


class CheckError(Schema):
    detail: str
    errors: list[dict[str, Any]] = Field(default_factory=list)


class CheckRounded(Schema):
    dimensions: dict[str, float | None]
    overall: float | None


class CheckDisplay(Schema):
    language: str
    dimensions: dict[str, str]
    overall: str


class CheckOut(Schema):
    completed_at: datetime
    rules_version: str
    form_version: str
    language: str
    previous_completed_at: datetime | None = None
    result: dict[str, Any]
    rounded: CheckRounded
    display: CheckDisplay


@router.get("/{token}", auth=None, response={200: CheckOut, 404: CheckError})
def checks_get(
    request: HttpRequest, response: HttpResponse, token: str, language: Literal["de", "en", "fr"] | None = None
):
    """One Digital-Check result by its private token.

    ``result`` is the stored result with **exact** scores (``dimensions``, ``overall``; never rounded);
    ``rounded`` holds the same scores as the result page shows them (one decimal, half away from zero) and
    ``display`` as text in ``language`` (default the language the check was taken in: ``"58,3"`` in German and
    French, ``"58.3"`` in English). 404 when no result has this token.
    """
    assessment = selectors.assessment_get(token=token)
    if assessment is None:
        raise HttpError(404, "no Digital-Check result has this token")
    # the token is the credential: as the result page, never cached or indexed
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    shown_in = language or (assessment.language if assessment.language in display.DECIMAL_SEPARATORS else "de")
    previous = assessment.previous
    return {
        "completed_at": assessment.completed_at,
        "rules_version": assessment.rules_version,
        "form_version": assessment.form_version,
        "language": assessment.language,
        "previous_completed_at": previous.completed_at if previous else None,
        "result": assessment.result,
        "rounded": display.scores_rounded(assessment.result),
        "display": display.scores_display(assessment.result, shown_in),
    }
