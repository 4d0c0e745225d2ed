"""The demo's mailbox: the e-mails the product queued, readable in the browser (``DIGIFIT_DEMO_MAILBOX``).

`digifit demo` serves without an SMTP server; this page is where a newcomer finds the invitation, the sign-up
confirmation and the reminders, links included. Off by default (404), refused with ``DIGIFIT_HTTPS=1``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from digifit.notifications.selectors import outbox_message_list


def mailbox(request: HttpRequest) -> HttpResponse:
    """The newest queued e-mails first, 20 per page, each with its text (links clickable)."""
    if not getattr(settings, "DIGIFIT_DEMO_MAILBOX", False):
        raise Http404("the demo mailbox is off")
    messages = outbox_message_list().order_by("-created_at", "-id")
    page = Paginator(messages, 20).get_page(request.GET.get("page"))
    return render(request, "web/mailbox.html", {"page": page})
