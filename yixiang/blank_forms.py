"""Empty forms rendered once per language (and key) instead of on every request.

A form whose HTML depends only on the language and a few values (the contact person form on the
customer page, the sign, release and profile forms of its pipeline panel) gives the same HTML for
many customers; rendering its widget templates cost ~1 ms a form on each page (issue 17). Rendered as
``{% for field in form %}{% include "customers/_field.html" %}{% endfor %}`` would be.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import get_language

_CACHE: dict[tuple[Any, ...], SafeString] = {}
_MAX = 512  # keys hold a date or values: drop all now and then rather than grow


def blank_form_fields(form_class: type[forms.BaseForm], *key: Any, initial: dict[str, Any] | None = None) -> SafeString:
    """The fields of ``form_class(initial=initial)``; ``key`` must name whatever ``initial`` holds."""
    cache_key = (form_class, get_language(), *key)
    html = _CACHE.get(cache_key)
    if html is None:
        html = render_to_string("_form_fields.html", {"form": form_class(initial=initial)})
        if not settings.DEBUG:  # templates reload while developing
            if len(_CACHE) >= _MAX:
                _CACHE.clear()
            _CACHE[cache_key] = html
    return html
