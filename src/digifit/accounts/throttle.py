"""Login throttling: django-axes, for every authentication that comes with a request.

The web login, the OpenRosa Basic auth and every other server path pass the request to ``authenticate``, so axes
counts failures per account and per client address there. A call without a request (Django's test client
``login()``, a management command checking a password) cannot come from a client address and is left to the next
backend instead of raising axes' ``AxesBackendRequestParameterRequired``.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
