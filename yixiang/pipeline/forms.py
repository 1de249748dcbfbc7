"""Forms of the pipeline pages. They only parse and validate input; services do the writing."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yixiang.customers.models import Grade, Stage
from yixiang.pipeline import aftersale_method, rules
from yixiang.pipeline.models import (
    AppointmentWay,
    DecisionMakerContact,
    DistributionMethod,
    FollowUpChannel,
    InternetAwareness,
    NeedCategory,
    ReleaseReason,
)
from yixiang.pipeline.playbook import get_playbook


class MonthField(forms.CharField):
    """An <input type=month> value (YYYY-MM) as the first day of that month."""

    widget = forms.TextInput(attrs={"type": "month"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return dt.datetime.strptime(value[:7], "%Y-%m").date()  # noqa: DTZ007 - a calendar month, no time
        except ValueError:
            raise forms.ValidationError(_("Enter a month like 2025-10.")) from None


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs):
        super().__init__(input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"], **kwargs)


def _stage_choices(*, signed: bool) -> list[tuple[int, str]]:
    if signed:
        return [(Stage.SIGNED.value, Stage.SIGNED.label)]
    return [(s.value, s.label) for s in Stage if s != Stage.SIGNED]


class FollowUpForm(forms.Form):
    at = LocalDateTimeField(
        label=_("Time of the contact"), required=False, help_text=_("Now, or earlier for a record written later.")
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=FollowUpChannel.choices, initial=FollowUpChannel.PHONE)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), required=False, min_value=0, max_value=1440)
    effective = forms.BooleanField(
        label=_("Effective: a real conversation with the customer"), required=False, initial=True
    )
    summary = forms.CharField(
        label=_("What was said"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("e.g. asked about the price and after-sales")}),
    )
    signals = forms.MultipleChoiceField(
        label=_("Signals observed"), required=False, widget=forms.CheckboxSelectMultiple
    )
    stage = forms.TypedChoiceField(label=_("Stage you judge"), coerce=int)
    grade = forms.ChoiceField(label=_("Grade"), required=False, choices=[("", _("(unchanged)")), *Grade.choices])
    expected_sign_month = MonthField(label=_("Expected signing month"), required=False)
    next_contact_on = forms.DateField(
        label=_("Next contact"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    decision_maker = forms.ChoiceField(
        label=_("Decision-maker"), required=False, choices=DecisionMakerContact.choices, initial=""
    )
    need_category = forms.ModelChoiceField(
        label=_("Need category"),
        required=False,
        queryset=NeedCategory.objects.filter(active=True),
        empty_label=_("Choose…"),  # not Django's "---------"
    )
    internet_awareness = forms.ChoiceField(
        label=_("Internet awareness"), required=False, choices=[("", "—"), *InternetAwareness.choices]
    )
    aftersale_checks = forms.MultipleChoiceField(
        label=_("After the sale: what did you do?"),
        required=False,
        choices=aftersale_method.AFTERSALE_CHECKLIST,
        widget=forms.CheckboxSelectMultiple,
    )
    confirm_stage = forms.BooleanField(
        label=_("I raise the stage without a ticked signal or a judging answer"),
        required=False,
        help_text=_("The raise is then recorded as a judgment without evidence."),
    )

    def clean(self) -> dict:
        """A judgment needs evidence: a rise with no signal ticked and no judging answer in the note
        asks the rep to confirm it (it is then kept as a mismatch for the team review)."""
        data = super().clean()
        stage = data.get("stage")
        if stage is None or data.get("confirm_stage"):
            return data
        pb = get_playbook()
        answer = rules.propose_from_text(data.get("summary") or "", pb.keyword_rules, pb.negations).stage
        if rules.needs_evidence_confirmation(
            from_stage=self.customer.stage, to_stage=stage, signals=data.get("signals") or [], answer=answer
        ):
            self.add_error(
                "confirm_stage",
                _(
                    "No signal is ticked and the note records no answer to a judging question: tick what the customer showed, or confirm the stage."
                ),
            )
        return data

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        pb = get_playbook()
        self.fields["signals"].choices = [(s.code, s.text) for g in pb.stages.values() for s in g.signals]
        self.fields["stage"].choices = _stage_choices(signed=customer.stage == Stage.SIGNED)
        if customer.stage != Stage.SIGNED:  # seed 001's after-sale checklist is for E-class customers
            del self.fields["aftersale_checks"]
        self.fields["stage"].initial = customer.stage
        self.fields["at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class ReleaseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=ReleaseReason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class SignForm(forms.Form):
    amount = forms.DecimalField(label=_("Deal amount (yuan)"), min_value=0, max_digits=14, decimal_places=2)
    paid_amount = forms.DecimalField(
        label=_("Paid now (yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    signed_on = forms.DateField(label=_("Signed on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    contract_number = forms.CharField(label=_("Contract number"), required=False, max_length=60)


class ProfileForm(forms.Form):
    need_category = forms.ModelChoiceField(
        label=_("Need category"),
        required=False,
        queryset=NeedCategory.objects.filter(active=True),
        empty_label=_("Choose…"),  # not Django's "---------"
    )
    internet_awareness = forms.ChoiceField(
        label=_("Internet awareness"), required=False, choices=[("", "—"), *InternetAwareness.choices]
    )


class VisitPlanForm(forms.Form):
    at = LocalDateTimeField(label=_("Time"))
    place = forms.CharField(label=_("Place"), max_length=200)
    purpose = forms.CharField(label=_("Purpose"), max_length=300)
    person = forms.CharField(label=_("Person to meet"), required=False, max_length=100)
    route = forms.CharField(label=_("Route"), required=False, max_length=300)
    materials = forms.CharField(label=_("Materials to bring"), required=False, max_length=300)
    proposal = forms.CharField(label=_("Proposal"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    appointment_way = forms.ChoiceField(label=_("Booked by"), choices=AppointmentWay.choices)


class DistributionForm(forms.Form):
    customer_ids = forms.TypedMultipleChoiceField(label=_("Customers"), coerce=int)
    method = forms.ChoiceField(label=_("Method"), choices=DistributionMethod.choices, initial="round_robin")
    rep_ids = forms.TypedMultipleChoiceField(label=_("Reps"), coerce=int)
    first_contact_by = LocalDateTimeField(label=_("First contact by"))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, customers, reps, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_ids"].choices = [(c.pk, c.name) for c in customers]
        self.fields["rep_ids"].choices = [(r.pk, r.label) for r in reps]


class NeedCategoryForm(forms.ModelForm):
    class Meta:
        model = NeedCategory
        fields = ["name", "description", "products", "sort_order", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "products": forms.Textarea(attrs={"rows": 3})}
