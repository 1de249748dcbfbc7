"""Forms of the incentive pages: they validate and shape; services save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yixiang.accounts.models import User
from yixiang.incentives import rules
from yixiang.incentives.models import SchemeVersion


class MonthField(forms.CharField):
    """A month typed as YYYY-MM (what <input type="month"> sends)."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2011-04"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return rules.parse_month(value)
        except ValueError:
            raise forms.ValidationError(_("Give the month as YYYY-MM, e.g. 2011-04.")) from None


class SchemeVersionForm(forms.ModelForm):
    penalties_text = forms.CharField(
        label=_("Penalties per threshold"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One line per threshold: threshold: penalty at 0 reached, at 1 reached … e.g. “2: 800, 300”."),
    )
    reward_steps_text = forms.CharField(
        label=_("Reward steps per threshold"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One line per threshold: threshold: payment floor=reward, … e.g. “2: 7950=300, 20000=500”."),
    )
    counted_categories_text = forms.CharField(
        label=_("Counted product categories"),
        required=False,
        help_text=_(
            "Payments of these categories count, separated by commas (e.g. “煎烤旺, 低温产品”). Empty: every payment counts."
        ),
    )

    class Meta:
        model = SchemeVersion
        fields = [
            "name",
            "valid_from",
            "valid_to",
            "valid_floor",
            "double_floor",
            "default_threshold",
            "director_short",
            "director_over",
            "probation_factor",
            "min_days_on_staff",
            "activity_window",
            "activity_min_active",
            "fraud_person",
            "fraud_director",
            "opening_fund",
            "target_due_day",
            "target_due_time",
            "note",
        ]
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "target_due_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    wide_fields = ("name", "penalties_text", "reward_steps_text", "counted_categories_text", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        source = self.instance if self.instance.pk else None
        penalties = source.penalties if source else SchemeVersion._meta.get_field("penalties").get_default()
        steps = source.reward_steps if source else SchemeVersion._meta.get_field("reward_steps").get_default()
        self.initial.setdefault("penalties_text", rules.format_penalties({int(k): v for k, v in penalties.items()}))
        self.initial.setdefault("reward_steps_text", rules.format_reward_steps({int(k): v for k, v in steps.items()}))
        self.initial.setdefault("counted_categories_text", ", ".join(source.counted_categories if source else []))

    def clean_counted_categories_text(self) -> list[str]:
        return rules.parse_categories(self.cleaned_data["counted_categories_text"])

    def clean_penalties_text(self) -> dict[int, tuple[int, ...]]:
        try:
            return rules.parse_penalties(self.cleaned_data["penalties_text"])
        except rules.SchemeError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_reward_steps_text(self) -> dict[int, tuple[tuple[int, int], ...]]:
        try:
            return rules.parse_reward_steps(self.cleaned_data["reward_steps_text"])
        except rules.SchemeError as exc:
            raise forms.ValidationError(str(exc)) from None

    def service_data(self) -> dict[str, Any]:
        data = {f: self.cleaned_data[f] for f in self.Meta.fields}
        data["penalties"] = {str(k): list(v) for k, v in self.cleaned_data["penalties_text"].items()}
        data["reward_steps"] = {str(k): [list(s) for s in v] for k, v in self.cleaned_data["reward_steps_text"].items()}
        data["counted_categories"] = self.cleaned_data["counted_categories_text"]
        return data


PROBATION_CHOICES = [("", _("As on the staff record")), ("yes", _("On probation")), ("no", _("Not on probation"))]


class AssessmentForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Staff"), queryset=User.objects.none(), empty_label=_("Choose…"))
    threshold = forms.TypedChoiceField(
        label=_("Threshold"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("New customers per month; empty for a director."),
    )
    performance_pay = forms.IntegerField(label=_("Performance pay (yuan)"), min_value=0)
    target = forms.IntegerField(
        label=_("Monthly target"), min_value=0, required=False, help_text=_("A director's approved region target.")
    )
    on_probation = forms.ChoiceField(label=_("Probation"), choices=PROBATION_CHOICES, required=False)

    def __init__(self, *args, staff, thresholds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff
        self.fields["threshold"].choices = [("", "—")] + [(t, str(t)) for t in thresholds]

    def probation(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("on_probation") or "")


class DevelopedForm(forms.Form):
    customer_id = forms.IntegerField(label=_("Customer number (ID)"), min_value=1)
    developer = forms.ModelChoiceField(label=_("Developed by"), queryset=User.objects.none(), empty_label=_("Choose…"))
    reported_on = forms.DateField(
        label=_("Reported on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Empty: the first payment in the month. The date does not rank: the new customer goes last in the reported order."
        ),
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["developer"].queryset = staff


class FakedForm(forms.Form):
    found_month = MonthField(label=_("Found in month"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class MonthFundsForm(forms.Form):
    """The month's management-assessment fund and team efficiency wages (item 11)."""

    management_fund = forms.IntegerField(label=_("Management-assessment fund (yuan)"), min_value=0)
    efficiency_wages = forms.IntegerField(label=_("Team efficiency wages (yuan)"), min_value=0)
