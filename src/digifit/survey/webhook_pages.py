"""The survey manager's webhook pages: register a URL for a questionnaire, send a test event, read the delivery
log, retry a failed delivery, rotate the secret, switch a webhook off or remove it — what the JSON API
(``/api/webhooks``) offers, in the browser.

A secret is shown once: in the answer to the creation and to a rotation, never again (the page is not
redirected then, so a reload does not show it a second time either: the browser asks before re-posting).
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digifit.accounts import roles
from digifit.survey import selectors, webhooks
from digifit.survey.errors import SubmissionRejected
from digifit.survey.models import Webhook, WebhookDelivery

DELIVERIES_PER_PAGE = 50


class WebhookForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Receiving address (URL)"),
        max_length=1000,
        help_text=gettext_lazy("A public https:// address of the system that receives each submission."),
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)


def _outcome(delivery: WebhookDelivery) -> str:
    """The last attempt in the manager's words (the log's short technical error stays in ``last_error``)."""
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return _("delivered: the receiver answered HTTP %(code)s") % {"code": delivery.response_code}
    if not delivery.attempts:
        return _("not sent yet")
    if delivery.response_code is not None:
        return _("the receiver answered HTTP %(code)s (expected 2xx)") % {"code": delivery.response_code}
    if delivery.last_error.startswith("refused"):
        return _("not sent: the address is not public (see DIGIFIT_WEBHOOK_ALLOWED_HOSTS)")
    return _("no answer: the receiver could not be reached or did not answer in time")


@login_required
@permission_required(roles.MANAGE, raise_exception=True)
def webhook_list(request: HttpRequest, form_id: str) -> HttpResponse:
    """A questionnaire's webhooks, and the form that registers a new one."""
    questionnaire = selectors.questionnaire_get(form_id=form_id)
    if questionnaire is None:
        raise Http404(form_id)
    form = WebhookForm()
    created: tuple[Webhook, str] | None = None
    if request.method == "POST":
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                hook = webhooks.webhook_create(
                    questionnaire=questionnaire,
                    url=form.cleaned_data["url"],
                    description=form.cleaned_data["description"],
                    user=request.user,
                )
            except SubmissionRejected as exc:
                form.add_error("url", webhooks.webhook_url_refusal_text(exc))
            else:
                created = (hook, hook.secret)
                form = WebhookForm()
        status = 200 if form.is_valid() or created else 422
    else:
        status = 200
    hooks = Webhook.objects.filter(questionnaire=questionnaire).order_by("id")
    context = {"questionnaire": questionnaire, "hooks": hooks, "form": form, "created": created}
    return render(request, "survey/webhooks.html", context, status=status)


@login_required
@permission_required(roles.MANAGE, raise_exception=True)
def webhook_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """One webhook: its delivery log (newest first, filtered by status) and its actions (POST ``action``)."""
    hook = Webhook.objects.select_related("questionnaire").filter(pk=webhook_id).first()
    if hook is None:
        raise Http404(str(webhook_id))
    new_secret = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "test":
            delivery = webhooks.webhook_test_send(webhook=hook)
            if delivery.status == WebhookDelivery.Status.DELIVERED:
                messages.success(request, _("Test event sent: %(outcome)s.") % {"outcome": _outcome(delivery)})
            else:
                messages.error(request, _("Test event not delivered: %(outcome)s.") % {"outcome": _outcome(delivery)})
            return redirect("survey:webhook", webhook_id=hook.pk)
        if action in ("on", "off"):
            webhooks.webhook_update(webhook=hook, active=action == "on")
            if hook.active:
                messages.success(request, _("The webhook is on: the worker sends the waiting deliveries."))
            else:
                messages.info(request, _("The webhook is off: new submissions wait until it is switched on again."))
            return redirect("survey:webhook", webhook_id=hook.pk)
        if action == "rotate":
            new_secret = webhooks.webhook_secret_rotate(webhook=hook)
        elif action == "retry":
            pk = request.POST.get("delivery", "")
            delivery = WebhookDelivery.objects.filter(webhook=hook, pk=pk).first() if _is_uuid(pk) else None
            if delivery is None:
                return HttpResponse(_("This delivery does not belong to this webhook."), status=404)
            webhooks.webhook_delivery_retry(delivery=delivery)
            messages.success(request, _("The delivery is due again; the worker sends it shortly."))
            return redirect("survey:webhook", webhook_id=hook.pk)
        elif action == "delete":
            form_id = hook.questionnaire.form_id
            webhooks.webhook_delete(webhook=hook)
            messages.success(request, _("The webhook and its delivery log are removed."))
            return redirect("survey:webhooks", form_id=form_id)
        else:
            return HttpResponse(_("Unknown action."), status=400)
    status = request.GET.get("status", "")
    qs = WebhookDelivery.objects.filter(webhook=hook).select_related("submission").order_by("-created_at")
    if status in WebhookDelivery.Status.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    page = Paginator(qs, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(d, _outcome(d)) for d in page]
    context = {
        "hook": hook,
        "page": page,
        "rows": rows,
        "status": status,
        "statuses": WebhookDelivery.Status.choices,
        "query": urlencode({"status": status}) if status else "",
        "new_secret": new_secret,
    }
    return render(request, "survey/webhook.html", context)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
