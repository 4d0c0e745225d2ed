"""What a locked-out login is answered with (django-axes' ``AXES_LOCKOUT_CALLABLE``).

A person at the web login gets a page in their language, inside the site's layout, saying when to try again;
machine clients (OpenRosa's Basic auth, the API) get a plain-text 429. Both carry ``Retry-After``. The lock ends
a cool-off period after the last failed attempt of the account or of the client address (axes' ``AccessAttempt``).
"""

from __future__ import annotations

import math
from datetime import timedelta

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

MACHINE_PREFIXES = ("/openrosa/", "/api/")
STATUS = 429


def lockout_until(request: HttpRequest, credentials: dict | None = None):
    """When the account's or the address's lock ends (now + cool-off if axes stored no attempt)."""
    cool_off = get_cool_off(request) or timedelta(0)
    username = get_client_username(request, credentials) or ""
    ip = get_client_ip_address(request) or ""
    last = AccessAttempt.objects.filter(Q(username=username) | Q(ip_address=ip)).aggregate(t=Max("attempt_time"))["t"]
    return (last or timezone.now()) + cool_off


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    until = lockout_until(request, credentials)
    seconds = max(0, math.ceil((until - timezone.now()).total_seconds()))
    minutes = max(1, math.ceil(seconds / 60))
    if request.path.startswith(MACHINE_PREFIXES) or "HTTP_AUTHORIZATION" in request.META:
        text = _("Too many failed logins: try again in %(minutes)d minutes.") % {"minutes": minutes}
        response = HttpResponse(text + "\n", status=STATUS, content_type="text/plain; charset=utf-8")
    else:
        response = render(request, "registration/lockout.html", {"until": until, "minutes": minutes}, status=STATUS)
    response["Retry-After"] = str(seconds)
    return response
