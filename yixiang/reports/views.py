"""Report pages (ECharts), the weekly one-pager, .xlsx exports, digest settings and the calendar feed.

Thin: the filters come from ReportFilterForm, the figures from present.build (the same dicts the
API returns), the writes from services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yixiang.customers.scoping import access_customer
from yixiang.reports import agenda, feeds, present, selectors, services, weekly_figures, win_rates
from yixiang.reports.api import XLSX
from yixiang.reports.forms import DigestPreferenceForm, ReportFilterForm, make_filters
from yixiang.reports.models import CalendarFeed, DigestDelivery, DigestPreference

SECTIONS = {
    "funnel": "reports",
    "movement": "reports",
    "activity": "reports_activity",
    "aftercare": "reports_aftercare",
    "incentives": "reports_incentives",
}


def chart_i18n() -> dict[str, str]:
    """The few words the chart script shows, in the user's language."""
    return {
        "Customers": _("Customers"),
        "Target": _("Target"),
        "Rate": _("Rate"),
        "Days": _("Days"),
        "days": _("days"),
        "Win rate": _("Win rate"),
        "Follow-ups": _("Follow-ups"),
        "Effective": _("Effective"),
        "Accuracy": _("Accuracy"),
        "Rises taken back": _("Rises taken back"),
        "Share of customers": _("Share of customers"),
        "Share of revenue": _("Share of revenue"),
        "messages": _("Messages"),
        "calls": _("Calls"),
        "gifts": _("Gifts"),
        "Penalty fund": _("Penalty fund"),
        "No figures in this period": _("No figures in this period"),
    }


def _filters(request: HttpRequest) -> tuple[ReportFilterForm, selectors.ReportFilters]:
    default = make_filters()
    initial = {"from": default.date_from, "to": default.date_to, "unit": default.unit}
    form = ReportFilterForm(request.GET or None, user=request.user, initial=initial)
    return form, (form.filters() if request.GET else default)


def _page(request: HttpRequest, template: str, tab: str, sections: list[str], **extra: Any) -> HttpResponse:
    form, f = _filters(request)
    data = {name: present.build(name, user=request.user, f=f) for name in sections}
    context = {
        "form": form,
        "f": f,
        "tab": tab,
        "data": data,
        "query": request.GET.urlencode(),
        "chart_i18n": chart_i18n(),
        **extra,
    }
    return render(request, template, context)


@login_required
def pipeline(request: HttpRequest) -> HttpResponse:
    return _page(request, "reports/pipeline.html", "pipeline", ["funnel", "movement"])


@login_required
def activity(request: HttpRequest) -> HttpResponse:
    return _page(request, "reports/activity.html", "activity", ["activity"])


@login_required
def aftercare(request: HttpRequest) -> HttpResponse:
    return _page(request, "reports/aftercare.html", "aftercare", ["aftercare"])


@login_required
def incentives(request: HttpRequest) -> HttpResponse:
    return _page(request, "reports/incentives.html", "incentives", ["incentives"])


@login_required
def export(request: HttpRequest, section: str) -> HttpResponse:
    if section not in SECTIONS:
        raise Http404("no such report")
    _form, f = _filters(request)
    body = services.report_export(actor=request.user, section=section, f=f)
    response = HttpResponse(body, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{services.export_filename(section, f)}"'
    return response


@login_required
def weekly(request: HttpRequest) -> HttpResponse:
    """A one-page weekly report for a rep or a team, made to be printed (or saved as PDF)."""
    form, f = _filters(request)
    try:
        day = dt.date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = timezone.localdate() - dt.timedelta(days=7)
    report = weekly_figures.weekly(user=request.user, f=f, day=day)
    return render(request, "reports/weekly.html", {"form": form, "f": f, "tab": "weekly", "r": report})


@login_required
def win_probability(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer's chance to sign, as a small fragment (htmx: hx-get it into a customer page)."""
    customer = access_customer(request.user, customer_id)
    p = win_rates.win_probability(customer, fetched_by=request.user)
    return render(request, "reports/_win_probability.html", {"p": p})


@login_required
def subscriptions(request: HttpRequest) -> HttpResponse:
    """The user's own daily-digest settings and private calendar feed."""
    pref = DigestPreference.objects.filter(user=request.user).first() or DigestPreference(user=request.user)
    if request.method == "POST":
        form = DigestPreferenceForm(request.POST, instance=pref)
        if form.is_valid():
            services.digest_preference_save(actor=request.user, data=form.cleaned_data)
            messages.success(request, _("Digest settings saved."))
            return redirect("reports_subscriptions")
    else:
        form = DigestPreferenceForm(instance=pref)
    feed = CalendarFeed.objects.filter(user=request.user).first()
    raw = request.session.pop("calendar_token_once", None)
    context = {
        "tab": "subscriptions",
        "form": form,
        "feed": feed,
        "feed_url": request.build_absolute_uri(f"/calendar/{raw}.ics") if raw else "",
        "deliveries": DigestDelivery.objects.filter(user=request.user).order_by("-date", "channel")[:10],
    }
    return render(request, "reports/subscriptions.html", context)


@login_required
@require_POST
def calendar_token(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action")
    if action == "revoke":
        if services.calendar_feed_revoke(actor=request.user):
            messages.success(request, _("The calendar link no longer works."))
    elif action == "create":
        request.session["calendar_token_once"] = services.calendar_feed_regenerate(actor=request.user)
        messages.success(request, _("New calendar link made. Copy it now: it is shown only once."))
    else:
        return HttpResponseBadRequest(_("Unknown action."))
    return redirect("reports_subscriptions")


def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private .ics feed: the token is the key; unknown or revoked tokens are "not found"."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(key_hash=CalendarFeed.hash(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404("no such calendar")
    services.calendar_feed_touch(feed)
    body = feeds.ical(feed.user, agenda.calendar_events(user=feed.user))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="yixiang.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
