"""The webhooks part of the JSON API (``/api/webhooks``), mounted by :mod:`digifit.survey.api`.

Survey managers register URLs per questionnaire and read the delivery log; the secret is shown once, when the
webhook is created.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

try:  # django-ninja >= 1.6 spells an explicit status this way; older versions take a tuple
    from ninja.responses import Status
except ImportError:  # pragma: no cover

    def Status(status_code, value):
        return status_code, value


from digifit.accounts import roles
from digifit.survey import selectors, webhooks
from digifit.survey.errors import FieldProblem, SurveyError
from digifit.survey.models import Webhook, WebhookDelivery

router = Router(tags=["webhooks"])


class _Unknown(SurveyError):
    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, [FieldProblem(field=field, code="invalid", message=message)])


class WebhookError(Schema):
    detail: str
    errors: list[dict[str, Any]] = []


class WebhookIn(Schema):
    form_id: str
    url: str = Field(max_length=1000)
    secret: str = ""
    description: str = ""


class WebhookPatch(Schema):
    url: str | None = None
    active: bool | None = None


class WebhookOut(Schema):
    id: int
    form_id: str
    url: str
    description: str
    active: bool
    created_at: datetime
    secret: str | None = None  # only in the answer to the creation

    @staticmethod
    def from_model(h: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
        return {
            "id": h.pk,
            "form_id": h.questionnaire.form_id,
            "url": h.url,
            "description": h.description,
            "active": h.active,
            "created_at": h.created_at,
            "secret": h.secret if with_secret else None,
        }


class DeliveryOut(Schema):
    id: UUID
    instance_id: UUID | None  # None for a test event (``webhook.test``)
    event: str
    status: str
    attempts: int
    response_code: int | None
    last_error: str
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


def _require_manager(request) -> None:
    if not request.user.has_perm(roles.MANAGE):
        raise HttpError(403, f"your account may not do this (needs {roles.MANAGE})")


def _hook(webhook_id: int) -> Webhook:
    hook = Webhook.objects.select_related("questionnaire").filter(pk=webhook_id).first()
    if hook is None:
        raise HttpError(404, f"no webhook {webhook_id}")
    return hook


@router.get("", response=list[WebhookOut])
def webhooks_list(request, form_id: str | None = None):
    """The registered webhooks (of one questionnaire with ``form_id``)."""
    _require_manager(request)
    qs = Webhook.objects.select_related("questionnaire").order_by("id")
    if form_id:
        qs = qs.filter(questionnaire__form_id=form_id)
    return [WebhookOut.from_model(h) for h in qs]


@router.post("", response={201: WebhookOut, 403: WebhookError, 422: WebhookError})
def webhooks_create(request, payload: WebhookIn):
    """Register a URL for every accepted submission of a questionnaire; the answer holds the secret, once."""
    _require_manager(request)
    q = selectors.questionnaire_get(form_id=payload.form_id)
    if q is None:
        raise _Unknown("form_id", f"no questionnaire {payload.form_id!r}")
    hook = webhooks.webhook_create(
        questionnaire=q, url=payload.url, secret=payload.secret, description=payload.description, user=request.user
    )
    return Status(201, WebhookOut.from_model(hook, with_secret=True))


@router.patch("/{webhook_id}", response={200: WebhookOut, 404: WebhookError, 422: WebhookError})
def webhooks_update(request, webhook_id: int, payload: WebhookPatch):
    """Change the URL, or switch the webhook off (``active: false``) and on."""
    _require_manager(request)
    hook = webhooks.webhook_update(webhook=_hook(webhook_id), url=payload.url, active=payload.active)
    return WebhookOut.from_model(hook)


@router.delete("/{webhook_id}", response={204: None, 404: WebhookError})
def webhooks_delete(request, webhook_id: int):
    """Remove a webhook and its delivery log."""
    _require_manager(request)
    webhooks.webhook_delete(webhook=_hook(webhook_id))
    return Status(204, None)


@router.get("/{webhook_id}/deliveries", response={200: list[DeliveryOut], 404: WebhookError})
def webhooks_deliveries(
    request,
    webhook_id: int,
    status: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
):
    """The delivery log, newest first: status, attempts, response code, last error."""
    _require_manager(request)
    qs = WebhookDelivery.objects.filter(webhook=_hook(webhook_id)).select_related("submission")
    if status:
        qs = qs.filter(status=status)
    return [
        {
            "id": d.pk,
            "instance_id": d.submission.instance_id if d.submission_id else None,
            "event": d.event,
            "status": d.status,
            "attempts": d.attempts,
            "response_code": d.response_code,
            "last_error": d.last_error,
            "next_attempt_at": d.next_attempt_at,
            "last_attempt_at": d.last_attempt_at,
            "delivered_at": d.delivered_at,
            "created_at": d.created_at,
        }
        for d in qs.order_by("-created_at")[offset : offset + limit]
    ]


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry", response={200: DeliveryOut, 404: WebhookError})
def webhooks_delivery_retry(request, webhook_id: int, delivery_id: UUID):
    """Make a failed delivery due again now."""
    _require_manager(request)
    delivery = WebhookDelivery.objects.filter(webhook=_hook(webhook_id), pk=delivery_id).first()
    if delivery is None:
        raise HttpError(404, f"no delivery {delivery_id}")
    d = webhooks.webhook_delivery_retry(delivery=delivery)
    return {
        "id": d.pk,
        "instance_id": d.submission.instance_id if d.submission_id else None,
        "event": d.event,
        "status": d.status,
        "attempts": d.attempts,
        "response_code": d.response_code,
        "last_error": d.last_error,
        "next_attempt_at": d.next_attempt_at,
        "last_attempt_at": d.last_attempt_at,
        "delivered_at": d.delivered_at,
        "created_at": d.created_at,
    }
