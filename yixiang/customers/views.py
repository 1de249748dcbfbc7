"""Customer archive pages. Thin: scoping decides access, services write, selectors read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yixiang.blank_forms import blank_form_fields
from yixiang.customers import display, rules, selectors, services
from yixiang.customers.forms import FIELDSETS, ContactForm, CustomerForm, FilterForm, TagsForm
from yixiang.customers.models import Channel, Customer, Kind
from yixiang.customers.scoping import access_customer, may_change_customer
from yixiang.errors import Conflict, DomainError

PAGE_SIZE = 25
# Which archive field carries each contact channel, to mark the preferred one.
CHANNEL_FIELD = {
    Channel.PHONE: "phone",
    Channel.SMS: "phone",
    Channel.WECHAT: "wechat",
    Channel.EMAIL: "email",
    Channel.QQ: "qq",
    Channel.VISIT: "address",
}


def _is_htmx(request: HttpRequest) -> bool:
    # A history restore wants the whole page even though htmx asks for it.
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def _list_page(request: HttpRequest, *, deleted: bool, template: str) -> HttpResponse:
    tag_names = selectors.visible_tag_names(request.user)
    form = FilterForm(request.GET or None, user=request.user, tag_names=tag_names)
    filters = form.filters(deleted=deleted) if request.GET else selectors.CustomerFilters(deleted=deleted)
    customers = selectors.customer_results(fetched_by=request.user, filters=filters)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))  # counts up to COUNT_CAP
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "filter_query": query.urlencode(),
        "is_filtered": any(v for k, v in request.GET.items() if k != "page"),
        "active_filters": sum(1 for k, v in request.GET.items() if v and k not in ("page", "q")),
        "trash": deleted,
        "today": timezone.localdate(),
    }
    response = render(request, "customers/_results.html" if _is_htmx(request) else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, deleted=False, template="customers/list.html")


@login_required
def customer_trash(request: HttpRequest) -> HttpResponse:
    return _list_page(request, deleted=True, template="customers/trash.html")


def _field_groups(customer: Customer) -> list[dict[str, Any]]:
    preferred = CHANNEL_FIELD.get(customer.preferred_channel)
    groups = []
    for key, title, names in FIELDSETS:
        if key in ("qualification", "notes", "basic"):
            continue  # shown in their own blocks
        if key == "company" and customer.kind != Kind.COMPANY and not any(getattr(customer, n) for n in names):
            continue
        rows = [
            {
                "name": n,
                "label": display.field_label(n),
                "value": display.field_value(customer, n),
                "preferred": key == "channels" and n == preferred,
                "sensitive": n in services.SENSITIVE_FIELDS,
            }
            for n in names
        ]
        empty = not any(r["value"] for r in rows)
        groups.append({"key": key, "title": title, "rows": rows, "empty": empty})
    return groups


def _qualification(customer: Customer) -> dict[str, Any]:
    items = rules.QUALIFICATION_ITEMS.get(customer.kind, rules.QUALIFICATION_ITEMS["individual"])
    ticked = set(customer.qualification or [])
    return {
        "score": rules.qualification_score(customer.kind, customer.qualification),
        "items": [{"label": label, "ticked": code in ticked} for code, label in items],
    }


# The page shows the latest changes; older ones load on request (htmx), a page at a time.
HISTORY_FIRST = 10
HISTORY_PAGE = 50


def _history(customer: Customer, offset: int, count: int) -> tuple[list[display.ChangeView], int | None]:
    """``count`` history rows from ``offset`` on, described, and the offset of the next ones (None: no more)."""
    rows = display.timeline(customer, offset + count + 1)[offset:]
    more = offset + count if len(rows) > count else None
    return rows[:count], more


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Deleted customers stay readable (from the trash) so they can be checked before a restore.
    customer = access_customer(request.user, pk, include_deleted=True, select_related=("owner", "region"))
    may_edit = may_change_customer(request.user, customer, include_deleted=True)
    history, history_more = _history(customer, 0, HISTORY_FIRST)
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "may_edit": may_edit,
            # Tags and contacts of a customer in the trash wait for its restore.
            "may_change_parts": may_edit and customer.deleted_at is None,
            "groups": _field_groups(customer),
            "qualification": _qualification(customer),
            "history": history,
            "history_more": history_more,
            "today": timezone.localdate(),  # the header shows an overdue next contact in red
            "contacts": customer.contacts.all(),
            "tags": customer.tags.all(),
            "blank_contact_fields": blank_form_fields(ContactForm),
            "basic": [
                (display.field_label(n), display.field_value(customer, n))
                for n in ("kind", "grade", "expected_sign_month", "value_tier", "source")
            ],
        },
    )


@login_required
def customer_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Older history entries of the customer page (htmx), from ``offset`` on."""
    customer = access_customer(request.user, pk, include_deleted=True)
    try:
        offset = min(max(int(request.GET.get("offset", HISTORY_FIRST)), 0), 1_000_000)
    except ValueError:
        offset = HISTORY_FIRST
    history, history_more = _history(customer, offset, HISTORY_PAGE)
    context = {"customer": customer, "history": history, "history_more": history_more}
    return render(request, "customers/_history_items.html", context)


def _render_form(request: HttpRequest, form: CustomerForm, customer: Customer | None, status: int = 200):
    return render(
        request, "customers/form.html", {"form": form, "customer": customer, "kinds": Kind.choices}, status=status
    )


def _warn_same_name(request: HttpRequest, customer: Customer) -> None:
    warning = services.same_name_warning(customer.name, viewer=request.user, exclude_pk=customer.pk)
    if warning:
        messages.warning(request, warning)


@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_form(request, CustomerForm(user=request.user), None)
    form = CustomerForm(request.POST, user=request.user)
    if form.is_valid():
        owner = form.cleaned_data["owner"] if "owner" in form.fields else request.user
        try:
            customer = services.customer_create(
                actor=request.user, data=form.service_data(), owner=owner, tags=form.tag_names()
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            _warn_same_name(request, customer)
            return redirect("customer_detail", pk=customer.pk)
    return _render_form(request, form, None, status=400)


@login_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    if request.method != "POST":
        return _render_form(request, CustomerForm(user=request.user, customer=customer), customer)
    form = CustomerForm(request.POST, user=request.user, customer=customer)
    if form.is_valid():
        try:
            updated = services.customer_update(
                actor=request.user,
                customer=customer,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
                tags=form.tag_names(),
            )
        except Conflict as exc:
            form.add_domain_error(exc)
            if exc.code == "stale_version":
                return _render_conflict(request, form, customer)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Changes to %(name)s saved.") % {"name": updated.name})
            _warn_same_name(request, updated)
            return redirect("customer_detail", pk=updated.pk)
    return _render_form(request, form, customer, status=400)


def _render_conflict(request: HttpRequest, form: CustomerForm, customer: Customer) -> HttpResponse:
    """Keep the user's input, show what the record holds now, and let a second save apply it."""
    current = access_customer(request.user, customer.pk, for_change=True)
    data = form.service_data()
    differences = [
        {"label": display.field_label(n), "now": display.field_value(current, n)}
        for n in data
        if n not in services.SENSITIVE_FIELDS and _differs(getattr(current, n), data[n])
    ]
    form.data = form.data.copy()
    form.data["version"] = str(current.version)  # a deliberate second save wins
    return render(
        request,
        "customers/form.html",
        {"form": form, "customer": current, "kinds": Kind.choices, "differences": differences},
        status=409,
    )


def _differs(stored: Any, submitted: Any) -> bool:
    if hasattr(stored, "pk"):
        stored = stored.pk
    if hasattr(submitted, "pk"):
        submitted = submitted.pk
    return (stored if stored is not None else "") != (submitted if submitted is not None else "")


@login_required
@require_POST
def customer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    services.customer_soft_delete(actor=request.user, customer=customer)
    messages.success(
        request, _("%(name)s moved to the trash. You can restore it from there.") % {"name": customer.name}
    )
    return redirect("customer_list")


@login_required
@require_POST
def customer_restore(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True, include_deleted=True)
    services.customer_restore(actor=request.user, customer=customer)
    messages.success(request, _("%(name)s restored.") % {"name": customer.name})
    return redirect("customer_detail", pk=customer.pk)


@login_required
@require_POST
def customer_tags(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    form = TagsForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            customer = services.customer_set_tags(actor=request.user, customer=customer, tags=form.tag_names())
        except DomainError as exc:
            error = exc.message
    else:
        error = "; ".join(e for errs in form.errors.values() for e in errs)
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect("customer_detail", pk=customer.pk)
    return render(
        request,
        "customers/_tags.html",
        {"customer": customer, "tags": customer.tags.all(), "may_change_parts": True, "tags_error": error},
    )


def _contacts_fragment(request: HttpRequest, customer: Customer, form: ContactForm | None = None) -> HttpResponse:
    if not _is_htmx(request):
        return redirect("customer_detail", pk=customer.pk)
    return render(
        request,
        "customers/_contacts.html",
        {
            "customer": customer,
            "contacts": customer.contacts.all(),
            "contact_form": form,
            "blank_contact_fields": None if form is not None else blank_form_fields(ContactForm),
            "may_change_parts": True,
            "open_form": form is not None,
        },
    )


@login_required
@require_POST
def customer_contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    form = ContactForm(request.POST)
    if not form.is_valid():
        if not _is_htmx(request):
            messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
        return _contacts_fragment(request, customer, form)
    try:
        services.contact_add(actor=request.user, customer=customer, data=form.cleaned_data)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _contacts_fragment(request, customer, form)
    return _contacts_fragment(request, customer)


@login_required
@require_POST
def customer_contact_remove(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    services.contact_remove(actor=request.user, customer=customer, contact_id=contact_id)
    return _contacts_fragment(request, customer)


@login_required
@require_POST
def customer_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk)
    try:
        values = services.customer_unmask(actor=request.user, customer=customer)
    except DomainError as exc:
        return render(request, "customers/_sensitive.html", {"customer": customer, "error": exc.message}, status=403)
    return render(request, "customers/_sensitive.html", {"customer": customer, "unmasked": values})
