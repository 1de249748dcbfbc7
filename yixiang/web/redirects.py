"""The one place a page follows a ``next=`` parameter: only to this site, never off-site."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, default: str) -> str:
    """``next`` (POST, else GET) when it points into this site; ``default`` otherwise (an open redirect
    would let a link on this site send people to a look-alike login page)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default
