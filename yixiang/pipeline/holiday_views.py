"""The statutory calendar page (administrators): a year's days off and make-up working days.

Thin: reads through the selector, writes through ``holiday_services``."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yixiang.errors import DomainError
from yixiang.pipeline import holiday_services, selectors
from yixiang.pipeline.models import HolidayDay, HolidayKind


class HolidayDayForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=gettext_lazy("kind"), choices=HolidayKind.choices)
    name = forms.CharField(label=gettext_lazy("holiday"), max_length=40, required=False)


def _year(value: str | None) -> int:
    today = timezone.localdate()
    try:
        year = int(value or "")
    except ValueError:
        return selectors.calendar_missing_year(today) or today.year
    return min(max(year, 2000), today.year + 5)


@login_required
def holiday_calendar(request: HttpRequest) -> HttpResponse:
    if not request.user.is_admin_role:
        raise Http404("administrators only")
    year = _year(request.GET.get("year") or request.POST.get("year"))
    here = f"{reverse('holiday_calendar')}?year={year}"
    form = HolidayDayForm(request.POST if request.POST.get("action") == "save" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "remove":
                day = dt.date.fromisoformat(request.POST.get("date", ""))
                holiday_services.holiday_day_remove(actor=request.user, day=day)
                messages.success(request, _("Removed from the statutory calendar."))
                return redirect(here)
            if form.is_valid():
                data = form.cleaned_data
                saved = holiday_services.holiday_day_save(
                    actor=request.user, day=data["date"], kind=data["kind"], name=data["name"]
                )
                messages.success(request, _("Saved in the statutory calendar."))
                return redirect(f"{reverse('holiday_calendar')}?year={saved.date.year}")
        except DomainError as exc:
            form.add_error(getattr(exc, "field", None) if getattr(exc, "field", None) in form.fields else None,
                           exc.message)  # fmt: skip
        except ValueError:
            messages.error(request, _("Enter a valid date."))
    days = HolidayDay.objects.filter(date__year=year).order_by("date")
    return render(
        request,
        "pipeline/holiday_calendar.html",
        {"year": year, "days": days, "form": form, "years": (year - 1, year + 1)},
    )
