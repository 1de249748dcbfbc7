"""Pipeline pages: the agenda, the follow-up form, the customer's pipeline panel, the pool,
distribution and the team review. Thin: scoping from accounts.scoping, writes through services."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import urlencode
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from yixiang.accounts import permissions
from yixiang.blank_forms import blank_form_fields
from yixiang.customers import display
from yixiang.customers.models import Customer, Stage
from yixiang.customers.scoping import access_customer, may_change_customer, visible_customers
from yixiang.errors import DomainError, ValidationFailed
from yixiang.pipeline import aftersale_method, events, forms, pool_page, selectors, services
from yixiang.pipeline import pool as pool_services
from yixiang.pipeline.conf import conf
from yixiang.pipeline.models import CustomerProfile, DistributionMethod, NeedCategory
from yixiang.pipeline.playbook import get_playbook
from yixiang.pipeline.templatetags.pipeline_tags import weekends_assumed
from yixiang.redirects import safe_next


def _next_url(request: HttpRequest, default: str) -> str:
    return safe_next(request, default)


def _customer_page(customer: Customer) -> str:
    return selectors.customer_url(customer.pk)


def _form_errors(form, exc: DomainError) -> None:
    """Put a service's refusal on the form: on its field when the form has one."""
    if isinstance(exc, ValidationFailed):
        for name, errors in exc.errors.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        form.add_error(None, exc.message)


def _parse_day(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        return timezone.localdate()


# --- The agenda ---------------------------------------------------------------------------------


@login_required
def agenda(request: HttpRequest) -> HttpResponse:
    from yixiang.pipeline.drilldown import team_overdue

    day = _parse_day(request.GET.get("date"))
    data = selectors.agenda(user=request.user, day=day)
    due = [i for i in data.items if i.is_due]
    now = timezone.localtime()
    filters = _agenda_filters(request)
    shown = selectors.agenda_filter(due, **filters)
    notes = selectors.last_notes(i.customer_id for i in shown)
    known_years = selectors.known_calendar_years(i.due_on for i in due)
    _dress_cards(shown, notes, known_years)
    return render(
        request,
        "pipeline/agenda.html",
        {
            "agenda": data,
            "day": day,
            "day_iso": day.isoformat(),
            "next_param": urlencode(request.get_full_path()),
            "today": timezone.localdate(),
            "prev_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
            "due_items": shown,
            "due_total": len(due),
            "filters": filters,
            "filtered": any(filters.values()),
            "compact": request.GET.get("view") == "compact",
            "stage_choices": [(s, label) for s, label in Stage.choices if any(i.stage == s for i in due)],
            "bands": [b for b in AGENDA_BANDS if any(i.band == b for i in due)],
            "warned_only": [i for i in data.items if not i.is_due],
            "late_in_day": now.strftime("%H:%M") >= conf("SIGNED_SUGGEST_AFTER"),
            "max_locks": conf("RECYCLE_LOCKS_PER_REP"),
            "known_years": known_years,
            "team_overdue": team_overdue(request.user) if not due else 0,
            # A manager's crowded band can also thin through the team's recycling proposals.
            "recycle_count": pool_services.recycle_proposal_count(request.user),
        },
    )


def _when(value: dt.datetime | None) -> tuple[str, str]:
    """A time's ``datetime`` attribute and its title, as ``|date:'c'`` and ``|date:'DATETIME_FORMAT'`` write them."""
    if value is None:
        return "", ""
    local = timezone.localtime(value)
    return local.isoformat(), date_format(local, "DATETIME_FORMAT")


def _dress_cards(shown: list, notes: dict[int, str], known_years: frozenset[int]) -> None:
    """What each agenda card shows beyond the item, worked out here rather than per card in the
    template (65 cards made the template the page's main cost): a stage's call guide and badge
    once per stage, counted and formatted words once per card."""
    guides = selectors.call_guides()
    guide_html: dict[int, str] = {}
    badges: dict[int, str] = {}
    overdue: dict[int, str] = {}
    log_url = selectors.url_maker("agenda_log")
    for i in shown:
        i.last_note = notes.get(i.customer_id, "")
        if i.stage not in guide_html:
            g = guides.get(i.stage)
            guide_html[i.stage] = (
                render_to_string("pipeline/_agenda_guide.html", {"stage": i.stage, "guide": g})
                if g and (g.questions or g.lift_tips)
                else ""
            )
            badges[i.stage] = display.stage_badge(i.stage)
        i.guide_html, i.badge_html = guide_html[i.stage], badges[i.stage]
        i.cid = str(i.customer_id)
        i.log_url = log_url(i.customer_id)
        i.weekends_html = weekends_assumed(i.due_on, known_years)
        i.tel = (i.phone or "").replace(" ", "")
        n = i.overdue_days
        if n and n not in overdue:
            overdue[n] = ngettext("%(counter)s day overdue", "%(counter)s days overdue", n) % {"counter": n}
        i.overdue_text = overdue.get(n, "")
        i.suggest_text = _("after %(t)s") % {"t": i.suggest_after} if i.suggest_after else ""
        i.contact_iso, i.contact_title = _when(i.last_contact_at)
        shows_attempt = i.last_attempt_at and i.last_attempt_at != i.last_contact_at
        i.attempt_iso, i.attempt_title = _when(i.last_attempt_at) if shows_attempt else ("", "")


AGENDA_BANDS = ("3-4", "1-2", "0", "E", "rejecting")


def _agenda_filters(request: HttpRequest) -> dict:
    """The agenda's filters from the query string; anything unknown is ignored, not an error."""
    band = request.GET.get("band", "")
    stage = request.GET.get("stage", "")
    return {
        "band": band if band in AGENDA_BANDS else "",
        "overdue": request.GET.get("overdue") == "1",
        "stage": int(stage) if stage.lstrip("-").isdigit() and int(stage) in Stage.values else None,
    }


# --- Follow-ups ---------------------------------------------------------------------------------


@login_required
def followup_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    profile = CustomerProfile.objects.filter(customer=customer).first()
    initial = {"channel": request.GET.get("channel", "phone")}
    if profile:
        initial |= {"need_category": profile.need_category_id, "internet_awareness": profile.internet_awareness}
    form = forms.FollowUpForm(request.POST or None, customer=customer, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.followup_log(
                actor=request.user,
                customer=customer,
                stage=d["stage"],
                at=d["at"] or None,
                channel=d["channel"],
                duration_minutes=d["duration_minutes"],
                effective=d["effective"],
                summary=d["summary"],
                signals=d["signals"],
                grade=d["grade"] or None,
                expected_sign_month=d["expected_sign_month"],
                next_contact_on=d["next_contact_on"],
                decision_maker=d["decision_maker"] or "",
                aftersale_checks=d.get("aftersale_checks") or [],
            )
            if "need_category" in form.changed_data or "internet_awareness" in form.changed_data:
                services.profile_update(
                    actor=request.user,
                    customer=customer,
                    need_category=d["need_category"],
                    internet_awareness=d["internet_awareness"] or "",
                )
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Follow-up with %(name)s saved.") % {"name": customer.name})
            return redirect(_next_url(request, reverse("agenda")))
    pb = get_playbook()
    guides = pb.guides_for_form(customer.stage)
    shown = {s.code for g in guides for s in g.signals}
    return render(
        request,
        "pipeline/followup_form.html",
        {
            **_proposal_context(form["signals"].value() or [], form["summary"].value() or ""),
            "customer": customer,
            "form": form,
            "guides": guides,
            "lift_tips": pb.lift_tips(customer.stage),
            "next_stage": Stage(customer.stage + 1).label if customer.stage < Stage.SIGNED else None,
            "other_signals": [s for g in pb.stages.values() for s in g.signals if s.code not in shown],
            "ticked": set(form["signals"].value() or []),
            "ticked_checks": set(form["aftersale_checks"].value() or [])
            if "aftersale_checks" in form.fields
            else set(),
            "profile": profile,
            "categories": NeedCategory.objects.filter(active=True),
            "next": _next_url(request, ""),
            "referral": aftersale_method.referral_coaching() if customer.stage == Stage.SIGNED else None,
        },
    )


def _proposal_context(signals: list[str], text: str, *, box_id: str = "proposals", inline: bool = False) -> dict:
    """The proposal box: both proposals, the signals and keywords behind each (so the rep sees
    why they differ), and whether the box sits in the agenda's inline form (apply-and-save)."""
    proposals = services.propose_stage(signals=signals, text=text)
    pb = get_playbook()
    basis = [pb.signal_text(code) for code in signals if pb.signal_stage.get(code) == proposals.from_signals]
    return {
        "proposals": proposals,
        "signal_basis": basis,
        "differ": None not in (proposals.from_signals, proposals.from_text)
        and proposals.from_signals != proposals.from_text,
        "box_id": box_id,
        "inline": inline,
        "stage_labels": dict(Stage.choices),
    }


@login_required
@require_POST
def followup_proposal(request: HttpRequest, pk: int) -> HttpResponse:
    """The live proposal box of the follow-up form and of the agenda's inline form (htmx)."""
    access_customer(request.user, pk, for_change=True)
    inline = request.POST.get("box") == f"proposals-{pk}"
    context = _proposal_context(
        request.POST.getlist("signals"),
        request.POST.get("summary", "")[:5000],
        box_id=f"proposals-{pk}" if inline else "proposals",
        inline=inline,
    )
    return render(request, "pipeline/_proposals.html", context)


# --- The customer's pipeline panel and its actions ----------------------------------------------


# The panel shows the latest entries of each history; older ones load on request (a customer
# worked for years has hundreds of follow-ups, and most visits only need the last few).
PANEL_HISTORY = 10
HISTORY_PAGE = 50
HISTORY_KINDS = {
    "follow_ups": selectors.customer_followups,
    "stage_changes": selectors.customer_stage_changes,
    "owner_changes": selectors.customer_owner_changes,
}


def _profile_fields(profile: CustomerProfile | None) -> SafeString:
    """The need category / internet awareness fields, rendered once per choice list and values."""
    need = profile.need_category_id if profile else None
    awareness = profile.internet_awareness if profile else ""
    # Read on every request (one short query), so a category added or renamed shows at once.
    categories = tuple(NeedCategory.objects.filter(active=True).values_list("pk", "name"))
    initial = {"need_category": need, "internet_awareness": awareness}
    return blank_form_fields(forms.ProfileForm, categories, need, awareness, initial=initial)


@login_required
def customer_pipeline_panel(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, select_related=selectors.PANEL_JOINS)
    may_change = may_change_customer(request.user, customer)
    panel = selectors.customer_pipeline(customer=customer, limit=PANEL_HISTORY + 1)
    more = {}
    for kind in HISTORY_KINDS:
        rows = getattr(panel, kind)
        more[kind] = PANEL_HISTORY if len(rows) > PANEL_HISTORY else None
        setattr(panel, kind, rows[:PANEL_HISTORY])
    today = timezone.localdate()
    return render(
        request,
        "pipeline/_panel.html",
        {
            "c": customer,
            "known_years": selectors.known_calendar_years([customer.next_due_on]),
            "panel": panel,
            "more": more,
            "may_change": may_change,
            "stage_labels": dict(Stage.choices),
            # The same HTML for every customer (of a day): rendered once, see yixiang.blank_forms.
            "release_fields": blank_form_fields(forms.ReleaseForm),
            "sign_fields": blank_form_fields(forms.SignForm, today, initial={"signed_on": today}),
            "profile_fields": _profile_fields(panel.profile) if may_change and customer.owner_id else "",
            "back": _customer_page(customer),
            "hand_over_to": list(selectors.distributable_reps(user=request.user))
            if may_change and permissions.can_manage(request.user)
            else [],
        },
    )


@login_required
def customer_pipeline_history(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The next entries of one of the panel's histories (htmx), from ``offset`` on."""
    if kind not in HISTORY_KINDS:
        raise Http404
    customer = access_customer(request.user, pk)
    try:
        offset = min(max(int(request.GET.get("offset", PANEL_HISTORY)), 0), 1_000_000)
    except ValueError:
        offset = PANEL_HISTORY
    rows = list(HISTORY_KINDS[kind](customer=customer)[offset : offset + HISTORY_PAGE + 1])
    more_offset = offset + HISTORY_PAGE if len(rows) > HISTORY_PAGE else None
    context = {"c": customer, "kind": kind, "rows": rows[:HISTORY_PAGE], "more_offset": more_offset}
    return render(request, "pipeline/_history_rows.html", context)


def _act(
    request: HttpRequest, customer: Customer, action, success: str, *, form=None, invalid: str = ""
) -> HttpResponse:
    """Run a panel action (after validating its form) and go back with a message."""
    if form is not None and not form.is_valid():
        messages.error(request, invalid)
        return redirect(_next_url(request, _customer_page(customer)))
    try:
        action()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect(_next_url(request, _customer_page(customer)))


@login_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk)
    return _act(
        request,
        customer,
        lambda: pool_services.claim_from_pool(actor=request.user, customer=customer),
        _("%(name)s is now on your tracked list.") % {"name": customer.name},
    )


@login_required
@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    form = forms.ReleaseForm(request.POST)
    return _act(
        request,
        customer,
        lambda: pool_services.customer_release(
            actor=request.user, customer=customer, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"]
        ),
        _("%(name)s was released to the public pool.") % {"name": customer.name},
        form=form,
        invalid=_("Choose a reason for the release."),
    )


@login_required
@require_POST
def keep(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    return _act(
        request,
        customer,
        lambda: pool_services.release_proposal_dismiss(actor=request.user, customer=customer),
        _("You keep %(name)s; the proposal is hidden for now.") % {"name": customer.name},
    )


@login_required
@require_POST
def hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    target = selectors.distributable_reps(user=request.user).filter(pk=request.POST.get("to_user") or 0).first()
    if target is None:
        messages.error(request, _("Choose whom to hand the customer to."))
        return redirect(_next_url(request, _customer_page(customer)))
    return _act(
        request,
        customer,
        lambda: pool_services.customer_hand_over(
            actor=request.user, customer=customer, to_user=target, note=request.POST.get("note", "")[:2000]
        ),
        _("%(name)s was handed over to %(user)s.") % {"name": customer.name, "user": target.label},
    )


@login_required
@require_POST
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    form = forms.SignForm(request.POST)
    return _act(
        request,
        customer,
        lambda: events.sign_customer(actor=request.user, customer=customer, **form.cleaned_data),
        _("%(name)s is signed: an E-class customer now.") % {"name": customer.name},
        form=form,
        invalid=_("Enter the deal amount."),
    )


@login_required
@require_POST
def lock(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    locked = request.POST.get("locked") == "1"
    msg = _("Locked against recycling.") if locked else _("Unlocked: it recycles like any other customer.")
    return _act(
        request,
        customer,
        lambda: pool_services.customer_set_recycle_lock(actor=request.user, customer=customer, locked=locked),
        msg,
    )


@login_required
@require_POST
def profile(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    form = forms.ProfileForm(request.POST)
    return _act(
        request,
        customer,
        lambda: services.profile_update(actor=request.user, customer=customer, **form.cleaned_data),
        _("Need category saved."),
        form=form,
        invalid=_("Choose a need category and internet awareness from the lists."),
    )


@login_required
def visit_plan_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = access_customer(request.user, pk, for_change=True)
    initial_at = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    form = forms.VisitPlanForm(request.POST or None, initial={"at": initial_at, "purpose": _default_purpose(customer)})
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_plan_create(actor=request.user, customer=customer, **form.cleaned_data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Visit planned; it will show on the agenda."))
            nearby = selectors.nearby_signed_customers(rep=request.user, customer=customer)
            if nearby:  # seed 001 顺便拜访: the old customers on the way
                messages.info(
                    request,
                    _("Visit old customers nearby while you are out: %(names)s")
                    % {"names": "、".join(c.name for c in nearby)},
                )
            return redirect(_next_url(request, _customer_page(customer)))
    nearby = selectors.nearby_signed_customers(rep=request.user, customer=customer)
    return render(request, "pipeline/visit_plan_form.html", {"customer": customer, "form": form, "nearby": nearby})


def _default_purpose(customer: Customer) -> str:
    return get_playbook().purpose(customer.stage)


# --- The pool, distribution, review, need categories --------------------------------------------


@login_required
def pool(request: HttpRequest) -> HttpResponse:
    filters = pool_page.PoolFilters.from_query(request.GET)
    page = Paginator(pool_page.pool_rows(user=request.user, filters=filters), 30).get_page(request.GET.get("page"))
    state = pool_page.claim_state(user=request.user)
    refusals = pool_page.row_refusals(user=request.user, customer_ids=[c.pk for c in page], state=state)
    for c in page:
        c.reason_words = pool_page.reason_words(c.pool_reason)
        c.former_owner = c.former_owner_name or c.former_owner_username or ""
        c.claim_refusal = pool_page.refusal_words(refusals[c.pk]) if c.pk in refusals else ""
    return render(
        request,
        "pipeline/pool.html",
        {
            "page": page,
            "q": filters.q,
            "filters": filters,
            "choices": pool_page.filter_choices(user=request.user),
            "claim": state,
            "can_manage": permissions.can_manage(request.user),
        },
    )


def _require_manager(user) -> None:
    if not permissions.can_manage(user):
        raise Http404("not a manager")


@login_required
def distribute(request: HttpRequest) -> HttpResponse:
    _require_manager(request.user)
    q = request.GET.get("q", "")[:100]
    candidates = list(selectors.pool_customers(user=request.user, q=q)[:200])
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("customer_ids") if i.isdigit()]
        candidates = list(
            {c.pk: c for c in [*candidates, *visible_customers(request.user).filter(pk__in=ids)]}.values()
        )
    reps = list(selectors.distributable_reps(user=request.user))
    form = forms.DistributionForm(
        request.POST or None,
        customers=candidates,
        reps=reps,
        initial={
            "first_contact_by": (timezone.localtime() + dt.timedelta(hours=conf("FIRST_CONTACT_HOURS"))).replace(
                second=0, microsecond=0
            )
        },
    )
    if request.method == "POST":
        if form.data.get("method") == DistributionMethod.BY_HAND:
            form.fields["rep_ids"].required = False
        if form.is_valid():
            d = form.cleaned_data
            by_hand = None
            if d["method"] == DistributionMethod.BY_HAND:
                by_hand = {
                    cid: int(request.POST.get(f"rep_for_{cid}", "0") or 0)
                    for cid in d["customer_ids"]
                    if (request.POST.get(f"rep_for_{cid}") or "").isdigit()
                }
            try:
                result = pool_services.distribute_customers(
                    actor=request.user,
                    customer_ids=d["customer_ids"],
                    method=d["method"],
                    rep_ids=d["rep_ids"],
                    by_hand=by_hand,
                    first_contact_by=d["first_contact_by"],
                    note=d["note"],
                )
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                msg = _("%(n)s customers distributed.") % {"n": len(result.assigned)}
                if result.unassigned:
                    msg += " " + _("%(n)s had no rep in their region and stay where they were.") % {
                        "n": len(result.unassigned)
                    }
                messages.success(request, msg)
                return redirect("distribute")
    return render(request, "pipeline/distribute.html", {"form": form, "candidates": candidates, "reps": reps, "q": q})


@login_required
def team_review(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    date_to = _parse_day(request.GET.get("to"))
    date_from = _parse_day(request.GET.get("from") or (today - dt.timedelta(days=6)).isoformat())
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    date_from = max(date_from, date_to - dt.timedelta(days=366))
    members = selectors.team_review(user=request.user, date_from=date_from, date_to=date_to)
    # Every figure links to the customers behind it (issue 14).
    from yixiang.pipeline.drilldown import member_links

    rows = [(m, member_links(m.user_id, date_from, date_to)) for m in members]
    return render(
        request,
        "pipeline/team_review.html",
        {"members": members, "rows": rows, "date_from": date_from, "date_to": date_to},
    )


@login_required
def need_categories(request: HttpRequest) -> HttpResponse:
    if not permissions.is_admin(request.user):
        raise Http404("administrators only")
    editing = None
    if request.GET.get("edit"):
        editing = get_object_or_404(NeedCategory, pk=request.GET["edit"])
    form = forms.NeedCategoryForm(request.POST or None, instance=editing)
    if request.method == "POST" and form.is_valid():
        try:
            services.need_category_save(actor=request.user, category=editing, **form.cleaned_data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Need category saved."))
            return redirect("need_categories")
    return render(
        request,
        "pipeline/need_categories.html",
        {"categories": NeedCategory.objects.all(), "form": form, "editing": editing},
    )


# --- Logging a call inline on the agenda (htmx) -------------------------------------------------


def _inline_context(request: HttpRequest, customer: Customer, form, day: dt.date) -> dict:
    pb = get_playbook()
    return {
        "customer": customer,
        "form": form,
        "guides": pb.guides_for_form(customer.stage),
        "ticked": set(form["signals"].value() or []),
        **_proposal_context(
            form["signals"].value() or [],
            form["summary"].value() or "",
            box_id=f"proposals-{customer.pk}",
            inline=True,
        ),
        "day": day,
        "ticked_checks": set(form["aftersale_checks"].value() or []) if "aftersale_checks" in form.fields else set(),
        "referral": aftersale_method.referral_coaching() if customer.stage == Stage.SIGNED else None,
    }


@login_required
def agenda_log(request: HttpRequest, pk: int) -> HttpResponse:
    """The agenda card's inline call log: GET the small form, POST saves it through the same
    follow-up service as the full form; on success the card is replaced by a one-line receipt and
    the count of customers left is updated, with no page load."""
    customer = access_customer(request.user, pk, for_change=True)
    day = _parse_day(request.POST.get("day") or request.GET.get("date"))
    data = request.POST.copy() if request.method == "POST" else None
    if data is not None and data.get("apply_stage", "").lstrip("-").isdigit():
        data["stage"] = data["apply_stage"]  # "use the proposal and save": one click, not two
    form = forms.FollowUpForm(data, customer=customer, initial={"channel": "phone"})
    if data is not None and form.is_valid():
        d = form.cleaned_data
        try:
            fu = services.followup_log(
                actor=request.user,
                customer=customer,
                stage=d["stage"],
                channel=d["channel"],
                effective=d["effective"],
                summary=d["summary"],
                signals=d["signals"],
                grade=d["grade"] or None,
                next_contact_on=d["next_contact_on"],
                aftersale_checks=d.get("aftersale_checks") or [],
            )
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            if not request.headers.get("HX-Request"):
                messages.success(request, _("Follow-up with %(name)s saved.") % {"name": customer.name})
                return redirect(f"{reverse('agenda')}?date={day.isoformat()}")
            customer.refresh_from_db(fields=["stage", "next_due_on"])
            left = sum(1 for i in selectors.agenda_items(user=request.user, day=day) if i.is_due)
            response = render(
                request,
                "pipeline/_agenda_done.html",
                {"customer": customer, "follow_up": fu, "left": left, "day": day},
            )
            response["HX-Retarget"] = f"#card-{customer.pk}"
            response["HX-Reswap"] = "outerHTML"
            return response
    return render(request, "pipeline/_agenda_log.html", _inline_context(request, customer, form, day))
