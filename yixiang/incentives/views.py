"""Incentive pages: statements (+ .xlsx), closing a month, scheme versions, the monthly inputs."""

from __future__ import annotations

import datetime as dt
from functools import wraps
from io import BytesIO

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yixiang.accounts.scoping import staff_in_scope
from yixiang.errors import DomainError, NotFound, ValidationFailed
from yixiang.incentives import rules, selectors, services
from yixiang.incentives.engine import Engine, MonthOutOfRange, NoScheme, to_scheme
from yixiang.incentives.forms import AssessmentForm, DevelopedForm, FakedForm, MonthFundsForm, SchemeVersionForm
from yixiang.spreadsheet import xlsx_row


class _MonthRefused(Exception):
    """A month outside rules.month_bounds: the page answers with a message, having done nothing."""


def _month_param(request: HttpRequest) -> dt.date:
    raw = request.GET.get("month") or request.POST.get("month") or ""
    try:
        month = rules.parse_month(raw)
    except ValueError:
        return rules.month_start(timezone.localdate())
    try:
        return selectors.bounded_month(month)
    except MonthOutOfRange as exc:
        messages.error(request, exc.message)
        raise _MonthRefused from None
    except NoScheme:
        return month  # before the first version: the pages say so themselves


def _refuses_bad_months(back: str | None = None):
    """Back to the page (``back``: URL name, else this one) with the message when the month is out of range."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except _MonthRefused:
                return redirect(reverse(back) if back else request.path)

        return wrapped

    return decorator


def _month_nav(month: dt.date) -> dict:
    return {
        "month": month,
        "month_text": month.strftime("%Y-%m"),
        "prev_month": rules.add_months(month, -1).strftime("%Y-%m"),
        "next_month": rules.add_months(month, 1).strftime("%Y-%m"),
    }


def _require_keeper(request: HttpRequest) -> None:
    # Not theirs to see: the same 404 as a page that does not exist.
    if not selectors.keeps_inputs(request.user):
        raise Http404


def _require_admin(request: HttpRequest) -> None:
    if not request.user.is_admin_role:
        raise Http404


@login_required
@_refuses_bad_months()
def statements(request: HttpRequest) -> HttpResponse:
    month = _month_param(request)
    ctx = {**_month_nav(month), "keeps_inputs": selectors.keeps_inputs(request.user)}
    try:
        ctx["view"] = selectors.month_statements(fetched_by=request.user, month=month)
    except NoScheme as exc:
        ctx["no_scheme"] = exc.message
    else:
        # A line's customer opens the customer page, where the reader may see it (issue 14).
        from yixiang.customers.scoping import visible_customers

        named = {line.customer_id for s in ctx["view"].statements for line in s.lines if line.customer_id}
        ctx["linkable"] = (
            set(visible_customers(request.user).filter(pk__in=named).values_list("pk", flat=True)) if named else set()
        )
    template = "incentives/_statements.html" if request.headers.get("HX-Request") else "incentives/statements.html"
    return render(request, template, ctx)


@login_required
@_refuses_bad_months("incentive_statements")
def statements_xlsx(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    month = _month_param(request)
    try:
        view = selectors.month_statements(fetched_by=request.user, month=month)
    except NoScheme as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('incentive_statements')}?month={month:%Y-%m}")
    wb = Workbook()
    summary = wb.active
    summary.title = _("Statements")
    summary.append(
        [
            _("Month"),
            _("User"),
            _("Name"),
            _("Role"),
            _("Threshold"),
            _("Valid customers"),
            _("Total (yuan)"),
            _("Target filed late"),
        ]
    )
    lines = wb.create_sheet(_("Lines"))
    lines.append(
        [
            _("Month"),
            _("User"),
            _("Kind"),
            _("Customer ID"),
            _("Customer"),
            _("Amount (yuan)"),
            _("Funding source"),
            _("Held back (yuan)"),
            _("Settles month"),
            _("Reason"),
        ]
    )
    for s in view.statements:
        summary.append(  # names are stored text: characters .xlsx cannot hold become U+FFFD
            xlsx_row(
                [
                    view.month.strftime("%Y-%m"),
                    s.username,
                    s.name,
                    s.role_label,
                    s.threshold,
                    s.valid_customers,
                    s.total,
                    _("yes") if s.target_late else "",
                ]
            )
        )
        for line in s.lines:
            lines.append(
                xlsx_row(
                    [
                        view.month.strftime("%Y-%m"),
                        s.username,
                        line.kind_label,
                        line.customer_id,
                        line.customer_name,
                        line.amount,
                        line.funding_label,
                        line.held_back or None,
                        line.refers_to.strftime("%Y-%m") if line.refers_to else None,
                        line.reason,
                    ]
                )
            )
    for sheet in (summary, lines):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    buf = BytesIO()
    wb.save(buf)
    services.statements_exported(actor=request.user, month=month, statements=len(view.statements))
    response = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="incentives-{month:%Y-%m}.xlsx"'
    return response


@login_required
@_refuses_bad_months("incentive_statements")
@require_POST
def month_close(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    month = _month_param(request)
    try:
        services.month_close(actor=request.user, month=month)
        messages.success(request, _("%(month)s is closed: its statements are frozen.") % {"month": f"{month:%Y-%m}"})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(f"{reverse('incentive_statements')}?month={month:%Y-%m}")


# --- Scheme versions --------------------------------------------------------------------------------


@login_required
def versions(request: HttpRequest) -> HttpResponse:
    """Everyone may read the scheme they are assessed by; administrators edit it."""
    rows = [
        {
            "version": v,
            "penalties": rules.format_penalties({int(k): p for k, p in v.penalties.items()}),
            "reward_steps": rules.format_reward_steps({int(k): p for k, p in v.reward_steps.items()}),
        }
        for v in selectors.scheme_versions()
    ]
    return render(request, "incentives/versions.html", {"rows": rows, "can_edit": request.user.is_admin_role})


_FORM_FIELD = {
    "penalties": "penalties_text",
    "reward_steps": "reward_steps_text",
    "counted_categories": "counted_categories_text",
}


@login_required
def version_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_admin(request)
    version = get_object_or_404(selectors.scheme_versions(), pk=pk) if pk else None
    form = SchemeVersionForm(request.POST or None, instance=version)
    if request.method == "POST" and form.is_valid():
        try:
            services.scheme_version_save(actor=request.user, data=form.service_data(), version=version)
        except ValidationFailed as exc:
            for field, errors in exc.errors.items():
                name = _FORM_FIELD.get(field, field)
                for e in errors:
                    form.add_error(name if name in form.fields else None, e)
        else:
            messages.success(request, _("The scheme version is saved."))
            return redirect("incentive_versions")
    return render(request, "incentives/version_form.html", {"form": form, "version": version})


# --- Monthly inputs ------------------------------------------------------------------------------------


def _thresholds(month: dt.date) -> tuple[int, ...]:
    try:
        return to_scheme(Engine().version(month)).thresholds
    except NoScheme:
        return ()


@login_required
@_refuses_bad_months()
def assessments(request: HttpRequest) -> HttpResponse:
    _require_keeper(request)
    month = _month_param(request)
    staff = staff_in_scope(request.user).order_by("username")
    form = AssessmentForm(request.POST or None, staff=staff, thresholds=_thresholds(month))
    if request.method == "POST":
        if request.POST.get("action") == "copy":
            n = services.assessments_copy_forward(actor=request.user, month=month)
            messages.success(request, _("%(n)s rows copied from the month before.") % {"n": n})
            return redirect(f"{reverse('incentive_assessments')}?month={month:%Y-%m}")
        if request.POST.get("action") == "delete":
            try:
                services.assessment_delete(actor=request.user, assessment_id=int(request.POST.get("id") or 0))
            except (ValueError, NotFound):
                raise Http404 from None
            return redirect(f"{reverse('incentive_assessments')}?month={month:%Y-%m}")
        if form.is_valid():
            try:
                services.assessment_save(
                    actor=request.user,
                    user_id=form.cleaned_data["user"].pk,
                    month=month,
                    threshold=form.cleaned_data["threshold"],
                    performance_pay=form.cleaned_data["performance_pay"],
                    target=form.cleaned_data["target"],
                    on_probation=form.probation(),
                )
            except NotFound:
                raise Http404 from None
            except ValidationFailed as exc:
                for field, errors in exc.errors.items():
                    for e in errors:
                        form.add_error(field if field in form.fields else None, e)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("The row is filed."))
                return redirect(f"{reverse('incentive_assessments')}?month={month:%Y-%m}")
    version = None
    try:
        version = Engine().version(month)
    except NoScheme:
        pass
    due = (
        rules.target_due(month, version.target_due_day, version.target_due_time, timezone.get_current_timezone())
        if version
        else None
    )
    rows = [
        {"row": r, "late": rules.filed_late(r.target_filed_at, due) if due else False}
        for r in selectors.assessments_for(fetched_by=request.user, month=month)
    ]
    ctx = {**_month_nav(month), "rows": rows, "form": form, "due": due, "version": version}
    return render(request, "incentives/assessments.html", ctx)


@login_required
@_refuses_bad_months()
def developed(request: HttpRequest) -> HttpResponse:
    _require_keeper(request)
    month = _month_param(request)
    staff = staff_in_scope(request.user).order_by("username")
    form = DevelopedForm(request.POST or None, staff=staff)
    faked_form = FakedForm(request.POST or None)
    back = redirect(f"{reverse('incentive_developed')}?month={month:%Y-%m}")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "derive":
                n = services.developed_customers_derive(actor=request.user, month=month)
                messages.success(request, _("%(n)s customers recorded from their first payment.") % {"n": n})
                return back
            if action in ("faked", "unfaked", "delete", "up", "down"):
                developed_id = int(request.POST.get("id") or 0)
                if action in ("up", "down"):  # the region's reported order (item 8)
                    services.developed_move(
                        actor=request.user, developed_id=developed_id, step=-1 if action == "up" else 1
                    )
                elif action == "faked" and faked_form.is_valid():
                    services.developed_customer_mark_faked(
                        actor=request.user,
                        developed_id=developed_id,
                        found_month=faked_form.cleaned_data["found_month"],
                        note=faked_form.cleaned_data["note"],
                    )
                elif action == "unfaked":
                    services.developed_customer_unmark_faked(actor=request.user, developed_id=developed_id)
                elif action == "delete":
                    services.developed_customer_delete(actor=request.user, developed_id=developed_id)
                return back
            if form.is_valid():
                services.developed_customer_record(
                    actor=request.user,
                    customer_id=form.cleaned_data["customer_id"],
                    developer_id=form.cleaned_data["developer"].pk,
                    month=month,
                    reported_on=form.cleaned_data["reported_on"],
                )
                messages.success(request, _("The developed customer is recorded."))
                return back
        except ValueError:
            raise Http404 from None
        except NotFound:
            form.add_error("customer_id", _("No such customer among yours."))
        except ValidationFailed as exc:
            if action in ("up", "down"):
                messages.error(request, exc.message)
                return back
            for field, errors in exc.errors.items():
                for e in errors:
                    form.add_error(field if field in form.fields else None, e)
        except DomainError as exc:
            messages.error(request, exc.message)
            return back
    rows = selectors.developed_for(fetched_by=request.user, month=month)
    ctx = {
        **_month_nav(month),
        "rows": rows,
        "form": form,
        "faked_form": FakedForm(),
        "is_admin": request.user.is_admin_role,
    }
    return render(request, "incentives/developed.html", ctx)


@login_required
@require_POST
def month_funds(request: HttpRequest) -> HttpResponse:
    """Enter the month's management-assessment fund and team efficiency wages (item 11)."""
    _require_admin(request)
    month = _month_param(request)
    form = MonthFundsForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
    else:
        try:
            services.month_funds_set(actor=request.user, month=month, **form.cleaned_data)
            messages.success(request, _("The month's funds are saved."))
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect(f"{reverse('incentive_statements')}?month={month:%Y-%m}")
