"""Login throttling backend."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class ThrottlingBackend(AxesStandaloneBackend):
    """django-axes' check, applied to logins that come with an HTTP request (web form, API).

    Authentication without a request (management commands, test clients) has no address to
    throttle by; it is left to the next backend instead of raising."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
