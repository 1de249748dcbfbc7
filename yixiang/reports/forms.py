"""Report filters (period, funnel date, rep, team, region) and the digest preference form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yixiang.accounts.models import User
from yixiang.errors import ValidationFailed
from yixiang.incentives import rules as incentive_rules
from yixiang.reports import selectors
from yixiang.reports.conf import conf
from yixiang.reports.models import DigestChannel, DigestPreference
from yixiang.reports.selectors import ReportFilters

# <input type=date> only accepts ISO; the widget would otherwise write the locale's first input format.
ISO_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

UNITS = [("week", gettext_lazy("By week")), ("month", gettext_lazy("By month"))]
# The longest period a report covers (about three years): longer ones would only be slow.
MAX_PERIOD_DAYS = 3 * 366


def make_filters(
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    as_of: dt.date | None = None,
    rep: int | None = None,
    team: int | None = None,
    region: int | None = None,
    unit: str = "week",
    today: dt.date | None = None,
) -> ReportFilters:
    """Report filters from raw input, with defaults; a clear, translated refusal when they make no sense."""
    today = today or timezone.localdate()
    default = ReportFilters.default(today)
    date_to = date_to or (date_from + dt.timedelta(days=conf("REPORT_DEFAULT_DAYS") - 1) if date_from else today)
    date_from = date_from or min(default.date_from, date_to)
    errors: dict[str, list[str]] = {}
    if date_from > date_to:
        errors["from"] = [_("The period must start on or before its last day.")]
    elif (date_to - date_from).days > MAX_PERIOD_DAYS:
        errors["from"] = [_("A report covers at most three years; choose a shorter period.")]
    else:
        # The incentive months' bounds (a far month would chain a computation per month up to it).
        first, last = incentive_rules.month_bounds(None, today)
        if date_from < first or date_to > incentive_rules.month_end(last):
            errors["to" if date_to > last else "from"] = [
                _("A report period lies between %(first)s and %(last)s (a year ahead).")
                % {"first": first.isoformat(), "last": incentive_rules.month_end(last).isoformat()}
            ]
    if as_of is not None and as_of > today:
        errors["date"] = [_("The funnel date cannot be in the future.")]
    if unit not in ("week", "month"):
        errors["unit"] = [_("Choose weeks or months.")]
    if errors:
        raise ValidationFailed(errors)
    return ReportFilters(
        date_from=date_from, date_to=date_to, as_of=as_of, rep=rep, team=team, region=region, unit=unit
    )


class ReportFilterForm(forms.Form):
    """The filter bar of the report pages; choices are limited to the viewer's scope."""

    date_from = forms.DateField(label=gettext_lazy("From"), required=False, widget=ISO_DATE)
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=ISO_DATE)
    date = forms.DateField(
        label=gettext_lazy("Funnel on"),
        required=False,
        widget=ISO_DATE,
        help_text=gettext_lazy("Empty: now"),
    )
    rep = forms.TypedChoiceField(label=gettext_lazy("Rep"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=gettext_lazy("Team"), required=False, coerce=int, empty_value=None)
    region = forms.TypedChoiceField(label=gettext_lazy("Region"), required=False, coerce=int, empty_value=None)
    unit = forms.ChoiceField(label=gettext_lazy("Over time"), required=False, choices=UNITS)

    def __init__(self, *args: Any, user: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # The same parameter names as the API (?from=&to=), which Python cannot use as attributes.
        date = {"required": False, "widget": ISO_DATE}
        self.fields = {
            "from": forms.DateField(label=_("From"), **date),
            "to": forms.DateField(label=_("To"), **date),
            **self.fields,
        }
        choices = selectors.filter_choices(user)
        everyone = [("", _("All"))]
        self.fields["rep"].choices = everyone + choices["reps"]
        self.fields["team"].choices = everyone + choices["teams"]
        self.fields["region"].choices = everyone + choices["regions"]
        # A rep has nobody to choose: the filters would only repeat their own name.
        self.narrow = len(choices["reps"]) > 1

    def filters(self) -> ReportFilters:
        """The filters asked for; a bad value is reported on the form and the defaults are used.
        A rep, team or region outside the viewer's scope is "not found", as everywhere else."""
        if not self.is_valid():
            if any(name in self.errors for name in ("rep", "team", "region")):
                raise Http404("not in scope")
            return make_filters()
        d = self.cleaned_data
        try:
            return make_filters(
                date_from=d.get("from"),
                date_to=d.get("to"),
                as_of=d.get("date"),
                rep=d.get("rep"),
                team=d.get("team"),
                region=d.get("region"),
                unit=d.get("unit") or "week",
            )
        except ValidationFailed as exc:
            for name, messages in exc.errors.items():
                self.add_error(name, messages)
            return make_filters()


class DigestPreferenceForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels"),
        choices=DigestChannel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = DigestPreference
        fields = ["enabled", "send_at", "channels", "webhook_url", "webhook_secret"]
        widgets = {
            "send_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "webhook_url": forms.URLInput(
                attrs={"placeholder": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"}
            ),
            "webhook_secret": forms.PasswordInput(render_value=True, attrs={"autocomplete": "off"}),
        }

    def clean_webhook_url(self) -> str:
        url = (self.cleaned_data.get("webhook_url") or "").strip()
        if url and not url.startswith(("https://", "http://")):
            raise forms.ValidationError(_("The webhook address must start with https://."))
        return url

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        channels = data.get("channels") or []
        robots = [c for c in channels if c in (DigestChannel.WECOM, DigestChannel.DINGTALK)]
        if len(robots) > 1:
            self.add_error("channels", _("Choose one group robot: WeCom or DingTalk."))
        if robots and not data.get("webhook_url"):
            self.add_error("webhook_url", _("A group robot needs its webhook address."))
        if DigestChannel.EMAIL in channels and self.instance.user_id and not self.instance.user.email:
            self.add_error("channels", _("Your account has no e-mail address; add one on your account page first."))
        return data
