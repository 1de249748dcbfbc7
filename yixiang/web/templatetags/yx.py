"""Small template helpers shared by every page: stage badges, query strings, field display."""

from __future__ import annotations

from django import template
from django.http import QueryDict
from django.utils.html import format_html

from yixiang import formatting
from yixiang.customers import display
from yixiang.pipeline.playbook import english_text

register = template.Library()


# The badge lives beside the other customer display helpers (the agenda view builds it too).
stage_badge = register.simple_tag(display.stage_badge, name="stage_badge")


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (None or "" removes one)."""
    request = context.get("request")
    query: QueryDict = request.GET.copy() if request is not None else QueryDict(mutable=True)
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = str(value)
    return query.urlencode()


@register.filter
def field_value(customer, field_name: str) -> str:
    return display.field_value(customer, field_name)


@register.filter
def field_label(field_name: str) -> str:
    return display.field_label(field_name)


@register.simple_tag(takes_context=True)
def nav_active(context, url: str) -> str:
    """'active' when the current page is ``url`` or below it (the home page only matches itself)."""
    request = context.get("request")
    if request is None or not url:
        return ""
    if url == "/":
        return "active" if request.path == "/" else ""
    return "active" if request.path.startswith(url) else ""


@register.filter
def ago(value) -> str:
    """A relative time in one style per language ("3 天前", "3 days ago"); see yixiang/formatting.py."""
    return formatting.relative_time(value)


@register.filter
def yuan(amount) -> str:
    """An amount with thousands separators and the unit ("7,950 元"): one money style everywhere."""
    return formatting.format_yuan(amount)


@register.filter
def method(text) -> str:
    """A text of the method (signal, judging question, lifting tip, qualification item): as it is in
    Chinese; in English the translation with the Chinese original beside it, small and grey."""
    if text is None or text == "":
        return ""
    english = english_text(str(text))
    if english is None:
        return text
    return format_html(
        '<span class="method-en">{}</span> <small class="method-zh" lang="zh-Hans">{}</small>', english, text
    )
