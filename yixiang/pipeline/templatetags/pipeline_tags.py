"""Template helpers of the pipeline pages."""

from __future__ import annotations

from django import template

from yixiang.customers.models import Stage
from yixiang.pipeline import selectors
from yixiang.pipeline.playbook import get_playbook

register = template.Library()


@register.filter
def stage_label(stage: int | None) -> str:
    if stage is None:
        return ""
    try:
        return str(Stage(int(stage)).label)
    except ValueError:
        return str(stage)


@register.filter
def customer_url(customer_id: int) -> str:
    return selectors.customer_url(customer_id)


@register.filter
def signal_text(code: str) -> str:
    return get_playbook().signal_text(code)
