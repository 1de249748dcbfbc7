"""Chinese first: the web UI is Simplified Chinese until the user picks English."""

from __future__ import annotations

from django.conf import settings


class ChineseFirstMiddleware:
    """Pages ignore the browser's Accept-Language until the user chooses a language (cookie).

    Reps often run English-language phones and browsers; the product is Chinese first. The API
    keeps honouring Accept-Language, so clients can ask for English error messages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/") and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
