"""Web forms of the customer archive. They validate and shape input; services do the writing."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from yixiang.accounts import permissions
from yixiang.accounts.models import User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers import rules, services
from yixiang.customers.models import ContactPerson, Customer, Grade, Kind, Stage
from yixiang.customers.selectors import CustomerFilters

# The archive's fields grouped as the user thinks of them; together exactly services.EDITABLE_FIELDS.
FIELDSETS: list[tuple[str, Any, tuple[str, ...]]] = [
    ("basic", _("Basic information"), ("kind", "name", "grade", "expected_sign_month", "value_tier", "source")),
    ("channels", _("Contact channels"), ("phone", "email", "wechat", "qq", "preferred_channel")),
    (
        "personal",
        _("Personal"),
        ("gender", "birth_date", "birthday_calendar", "occupation", "income", "personality", "hobbies", "special_days"),
    ),
    ("family", _("Family"), ("family_situation", "family_supports")),
    ("finance", _("Finance"), ("financial_situation", "funds_available", "bank_card", "id_number")),
    ("place", _("Region and address"), ("region", "province", "city", "address")),
    ("company", _("Company"), ("company_name", "industry", "company_size", "decision_maker", "key_people")),
    ("qualification", _("Qualification checklist"), ("qualification",)),
    ("notes", _("Notes"), ("notes",)),
]
SENSITIVE = tuple(sorted(services.SENSITIVE_FIELDS))
WIDE_FIELDS = {"family_situation", "special_days", "key_people", "notes", "address"}
_MODEL_FIELDS = [f for f in services.EDITABLE_FIELDS if f not in ("qualification", *SENSITIVE)]
_TAG_SPLIT = re.compile(r"[,，、;；\n]+")


def parse_tags(text: str) -> list[str]:
    """'老客户, 展会，重点' -> ['老客户', '展会', '重点']; Chinese and Latin separators both work."""
    return [t.strip() for t in _TAG_SPLIT.split(text or "") if t.strip()]


def qualification_choices() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for items in rules.QUALIFICATION_ITEMS.values():
        for code, label in items:
            seen.setdefault(code, label)
    return list(seen.items())


def _model_fields() -> dict[str, forms.Field]:
    fields = fields_for_model(
        Customer,
        fields=_MODEL_FIELDS,
        labels={"name": _("Customer name")},
        widgets={
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "expected_sign_month": forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
            "family_situation": forms.Textarea(attrs={"rows": 3}),
            "special_days": forms.Textarea(attrs={"rows": 2}),
            "key_people": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        },
    )
    fields["expected_sign_month"].input_formats = ["%Y-%m", "%Y-%m-%d"]
    fields["phone"].widget.input_type = "tel"
    fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
    fields["funds_available"].widget.attrs.update({"min": "0", "step": "0.01", "inputmode": "decimal"})
    for f in fields.values():  # a dash reads better than Django's "---------" for "not set"
        if isinstance(f, forms.ModelChoiceField):
            f.empty_label = "—"
        elif isinstance(f, forms.ChoiceField):
            choices = list(f.choices)
            if choices and tuple(choices[0]) == ("", "---------"):
                f.choices = [("", "—"), *choices[1:]]
    return fields


class CustomerForm(forms.Form):
    """Create or edit a customer. Sensitive numbers are never pre-filled: empty keeps the stored one."""

    qualification = forms.MultipleChoiceField(
        label=_("Qualification checklist"), required=False, widget=forms.CheckboxSelectMultiple
    )
    bank_card = forms.CharField(label=_("Bank card number"), required=False, max_length=40)
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=40)
    clear_bank_card = forms.BooleanField(label=_("Remove the stored bank card number"), required=False)
    clear_id_number = forms.BooleanField(label=_("Remove the stored ID number"), required=False)
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1000,
        help_text=_("Separate tags with commas, e.g. 展会, 重点跟进"),
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    wide_fields = WIDE_FIELDS

    def __init__(self, *args, user: User, customer: Customer | None = None, **kwargs):
        if customer is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(customer)
        super().__init__(*args, **kwargs)
        self.user = user
        self.customer = customer
        self.fields.update(_model_fields())
        self.fields["qualification"].choices = qualification_choices()
        for name in SENSITIVE:
            masked = getattr(customer, f"{name}_masked", "") if customer else ""
            self.fields[name].widget.attrs.update({"autocomplete": "off", "inputmode": "numeric"})
            if masked:
                self.fields[name].widget.attrs["placeholder"] = masked
                self.fields[name].help_text = _("Stored: %(masked)s. Leave empty to keep it.") % {"masked": masked}
        if customer is not None or not self._may_assign():
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = staff_in_scope(user).order_by("username")
            self.fields["owner"].initial = user.pk
            self.fields["owner"].empty_label = _("Public pool (no owner)")
        if customer is None:
            for name in ("clear_bank_card", "clear_id_number"):
                del self.fields[name]

    def _may_assign(self) -> bool:
        return permissions.may_assign_owner(self.user)

    @staticmethod
    def initial_for(customer: Customer) -> dict[str, Any]:
        initial = {name: getattr(customer, name) for name in _MODEL_FIELDS if name != "region"}
        initial["region"] = customer.region_id
        initial["qualification"] = list(customer.qualification or [])
        initial["tags"] = ", ".join(t.name for t in customer.tags.all())
        initial["version"] = customer.version
        return initial

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # Only the checklist items of the chosen kind count.
        kind = cleaned.get("kind") or Kind.INDIVIDUAL
        valid = {code for code, _label in rules.QUALIFICATION_ITEMS.get(kind, rules.QUALIFICATION_ITEMS["individual"])}
        cleaned["qualification"] = list(dict.fromkeys(c for c in cleaned.get("qualification") or [] if c in valid))
        return cleaned

    def service_data(self) -> dict[str, Any]:
        """The cleaned values in the shape services.customer_create/update take."""
        cd = self.cleaned_data
        data = {name: cd.get(name) for name in _MODEL_FIELDS}
        data["qualification"] = cd.get("qualification") or []
        for name in ("province", "city", "address"):
            data[name] = data[name] or ""
        for name in SENSITIVE:
            if cd.get(name):
                data[name] = cd[name]
            elif cd.get(f"clear_{name}") or self.customer is None:
                data[name] = ""
        return data

    def tag_names(self) -> list[str]:
        return parse_tags(self.cleaned_data.get("tags", ""))

    def fieldsets(self) -> list[dict[str, Any]]:
        """Bound fields grouped for the template."""
        groups = []
        for key, title, names in FIELDSETS:
            extra = ("owner",) if key == "basic" and "owner" in self.fields else ()
            fields = [self[n] for n in (*names, *extra) if n in self.fields]
            for bound in fields:  # the "remove stored number" box sits under its number
                bound.clear = self[f"clear_{bound.name}"] if f"clear_{bound.name}" in self.fields else None
            groups.append({"key": key, "title": title, "fields": fields})
        return groups

    def qualification_groups(self) -> list[dict[str, Any]]:
        ticked = set(self["qualification"].value() or [])
        return [
            {
                "kind": kind,
                "label": Kind(kind).label,
                "items": [{"code": code, "label": label, "checked": code in ticked} for code, label in items],
            }
            for kind, items in rules.QUALIFICATION_ITEMS.items()
        ]

    def add_domain_error(self, exc) -> None:
        """Put a service's refusal on the form: on its field when there is one, else on top."""
        errors = getattr(exc, "errors", None)
        if errors:
            for field, messages in errors.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            return
        self.add_error(exc.field if exc.field in self.fields else None, exc.message)


class TagsForm(forms.Form):
    tags = forms.CharField(label=_("Tags"), required=False, max_length=1000)

    def tag_names(self) -> list[str]:
        return parse_tags(self.cleaned_data.get("tags", ""))


class ContactForm(forms.ModelForm):
    class Meta:
        model = ContactPerson
        fields = ["name", "title", "phone", "email", "wechat", "is_decision_maker", "notes"]
        labels = {"name": _("Contact name")}
        widgets = {"phone": forms.TextInput(attrs={"type": "tel", "inputmode": "tel"})}


OWNER_CHOICES = [("", _("Any owner")), ("mine", _("Mine")), ("pool", _("Public pool"))]


class FilterForm(forms.Form):
    """The list's search box and filters; every value is optional and bad values are ignored."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    stage = forms.TypedChoiceField(
        label=_("Intent stage"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("All stages")), *Stage.choices],
    )
    grade = forms.ChoiceField(label=_("Grade"), required=False, choices=[("", _("All grades")), *Grade.choices])
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)
    owner = forms.ChoiceField(label=_("Owner"), required=False, choices=OWNER_CHOICES)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *Kind.choices])

    def __init__(self, *args, user: User, tag_names: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if permissions.may_assign_owner(user):
            staff = staff_in_scope(user).exclude(pk=user.pk).order_by("username")
            self.fields["owner"].choices = [*OWNER_CHOICES, *((str(u.pk), u.label) for u in staff)]
        if tag_names is not None:
            self.fields["tag"] = forms.ChoiceField(
                label=_("Tag"), required=False, choices=[("", _("All tags")), *((t, t) for t in tag_names)]
            )

    def filters(self, *, deleted: bool = False) -> CustomerFilters:
        self.is_valid()  # a bad value drops only its own filter: cleaned_data keeps the valid ones
        cd = self.cleaned_data
        return CustomerFilters(
            q=cd.get("q") or "",
            stage=cd.get("stage"),
            grade=cd.get("grade") or "",
            tag=cd.get("tag") or "",
            owner=cd.get("owner") or "",
            kind=cd.get("kind") or "",
            deleted=deleted,
        )
