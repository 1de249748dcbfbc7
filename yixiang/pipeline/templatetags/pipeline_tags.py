"""Template helpers of the pipeline pages."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from yixiang.customers.models import Stage
from yixiang.pipeline import selectors
from yixiang.pipeline.aftersale_method import AFTERSALE_CHECKLIST
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


@register.filter
def aftersale_check_text(code: str) -> str:
    """The words of an E-class checklist tick kept on a follow-up (the code itself if unknown)."""
    return str(dict(AFTERSALE_CHECKLIST).get(code, code))


@register.simple_tag
def weekends_assumed(day, known_years) -> str:
    """A note by a due date whose year has no statutory calendar yet: only weekends were skipped."""
    if day is None or known_years is None or day.year in known_years:
        return ""
    return format_html('<span class="chip chip-muted weekends-assumed" title="{}">{}</span>',
                       _("This year's statutory holidays are not entered yet; only weekends were skipped."),
                       _("weekends assumed"))  # fmt: skip


@register.inclusion_tag("pipeline/_holiday_banner.html", takes_context=True)
def holiday_calendar_banner(context) -> dict:
    """For administrators: the statutory calendar of a year about to start (from December) or
    already started is missing; until it is entered, due dates there skip only weekends."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_admin_role", False):
        return {"missing_year": None}
    return {"missing_year": selectors.calendar_missing_year()}
