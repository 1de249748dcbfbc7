"""Chinese first: the web UI is Simplified Chinese until the user picks English."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _


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


_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def _bad_char(text: str) -> bool:
    """NUL and lone surrogates: PostgreSQL cannot store them, SQLite's full-text search breaks on
    NUL, and no person types them. Other control characters are stored (and exported) as they are."""
    return _BAD_CHAR.search(text) is not None


def _first_bad_in_json(value: Any, path: str = "") -> str | None:
    if isinstance(value, str):
        return path or "body" if _bad_char(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if _bad_char(str(key)):
                return where
            found = _first_bad_in_json(item, where)
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _first_bad_in_json(item, f"{path}[{i}]" if path else f"[{i}]")
            if found:
                return found
    return None


# A JSON body can only carry NUL or a surrogate as a \u escape: parse it only when one may be there.
_JSON_ESCAPE = re.compile(rb"\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


class InvalidTextMiddleware:
    """One gate for text no field may hold (issue 12 defect 5): a NUL (or a lone surrogate) in a
    query parameter, a form field or a JSON body is a 400 with a clear message, the same on SQLite
    and PostgreSQL, before any view or query sees it. Multipart forms are left to Django's form
    fields (they refuse NUL themselves) so views keep control over how uploads are read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = self._bad_field(request)
        if field is not None:
            return self._refuse(request, field)
        if self._api_body_not_an_object(request):
            # Ninja reads a falsy body (`false`, `0`, `[]`) as no body and applies the defaults:
            # `POST /customers/{id}/lock` with `false` locked the customer. Answered as Ninja answers
            # a truthy non-object (a 422 naming the body).
            message = _("The request body must be a JSON object.")
            return JsonResponse(
                {
                    "detail": message,
                    "code": "invalid",
                    "errors": [{"type": "dict_type", "loc": ["body"], "msg": message}],
                },
                status=422,
            )
        return self.get_response(request)

    @staticmethod
    def _api_body_not_an_object(request: HttpRequest) -> bool:
        if not request.path.startswith("/api/") or request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return False
        if (request.content_type or "") not in ("application/json", ""):
            return False
        try:
            body = request.body.lstrip(b"\xef\xbb\xbf \t\r\n")
        except RequestDataTooBig:
            return False
        if not body or body.startswith(b"{"):
            return False
        try:
            json.loads(body)
        except ValueError:
            return False  # not JSON at all: Ninja's 400 "not valid JSON" says so
        return True

    def _bad_field(self, request: HttpRequest) -> str | None:
        for key, values in request.GET.lists():
            if _bad_char(key) or any(_bad_char(v) for v in values):
                return key
        content_type = request.content_type or ""
        if request.method in ("GET", "HEAD", "OPTIONS") or content_type.startswith("multipart/"):
            return None
        try:
            body = request.body
        except RequestDataTooBig:
            return None  # the view refuses it with its own clear message (413 on the API)
        if content_type == "application/x-www-form-urlencoded":
            for key, values in request.POST.lists():
                if _bad_char(key) or any(_bad_char(v) for v in values):
                    return key
            return None
        if _JSON_ESCAPE.search(body):
            try:
                data = json.loads(body)
            except ValueError:
                return None  # not JSON: the view answers that
            return _first_bad_in_json(data)
        return None

    def _refuse(self, request: HttpRequest, field: str) -> HttpResponse:
        message = _("“%(field)s” contains a character that text cannot hold (NUL or an invalid code point).") % {
            "field": field
        }
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "invalid_text", "field": field}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
