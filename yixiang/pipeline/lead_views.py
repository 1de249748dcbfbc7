"""A lead's confirmation and audit pages (issue 15): the recycling proposals of stage 3–4 customers
waiting for a decision, and one rep's judgments the evidence did not carry. Thin: scoping from the
selectors and services, which refuse anyone outside the viewer's team."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yixiang.accounts import permissions
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers.scoping import access_customer
from yixiang.errors import DomainError
from yixiang.pipeline import pool as pool_services
from yixiang.pipeline import rules, selectors
from yixiang.pipeline.models import RecycleProposal, StageChange


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- Recycling proposals ------------------------------------------------------------------------


@dataclass
class ProposalRow:
    proposal: RecycleProposal
    days_held: int | None
    overdue_days: int

    @property
    def customer(self):
        return self.proposal.customer


def _rows(proposals: list[RecycleProposal], today: dt.date) -> list[ProposalRow]:
    out = []
    for p in proposals:
        c = p.customer
        held = (today - timezone.localtime(c.held_since).date()).days if c.held_since else None
        overdue = (today - c.next_due_on).days if c.next_due_on and c.next_due_on < today else 0
        out.append(ProposalRow(proposal=p, days_held=held, overdue_days=overdue))
    return out


@login_required
def recycle_proposals(request: HttpRequest) -> HttpResponse:
    # A rep confirms nothing: the same 404 as any page they may not open.
    if not permissions.can_manage(request.user):
        raise Http404("leads and directors only")
    today = timezone.localdate()
    rows = _rows(pool_services.recycle_proposals_for(request.user), today)
    return render(request, "pipeline/recycle_proposals.html", {"rows": rows, "today": today})


@login_required
@require_POST
def recycle_decide(request: HttpRequest, pk: int) -> HttpResponse:
    if not permissions.can_manage(request.user):
        raise Http404("leads and directors only")
    customer = access_customer(request.user, pk, select_related=("owner",))
    decision = request.POST.get("decision", "")
    if decision not in ("recycle", "keep"):
        raise Http404("unknown decision")
    note = request.POST.get("note", "")
    try:
        prop = pool_services.recycle_proposal_decide(
            actor=request.user, customer=customer, recycle=decision == "recycle", note=note
        )
    except DomainError as exc:
        if _is_htmx(request):
            return render(
                request, "pipeline/_recycle_done.html", {"customer": customer, "error": exc.message}, status=200
            )
        messages.error(request, exc.message)
        return redirect("recycle_proposals")
    if prop.decision == RecycleProposal.Decision.RECYCLE:
        done = _("%(name)s went to the public pool (%(why)s).") % {
            "name": customer.name,
            "why": prop.get_reason_display(),
        }
    else:
        done = _("%(name)s stays with %(rep)s.") % {"name": customer.name, "rep": prop.owner.label}
    if _is_htmx(request):
        return render(request, "pipeline/_recycle_done.html", {"customer": customer, "done": done})
    messages.success(request, done)
    return redirect("recycle_proposals")


# --- Judgment mismatches ------------------------------------------------------------------------


def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    """from..to of the query (the team review's default week when absent or unreadable)."""
    today = timezone.localdate()

    def day(name: str, default: dt.date) -> dt.date:
        try:
            return dt.date.fromisoformat(request.GET.get(name) or "")
        except ValueError:
            return default

    date_to = day("to", today)
    date_from = day("from", date_to - dt.timedelta(days=6))
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    return max(date_from, date_to - dt.timedelta(days=366)), date_to


@dataclass
class MismatchRow:
    change: StageChange
    supported: int | None  # the stage the ticked signals and the judging answer carry


@login_required
def judgment_mismatches(request: HttpRequest, rep_id: int) -> HttpResponse:
    # Same 404 for "no such person" and "not in your team".
    rep = staff_in_scope(request.user).filter(pk=rep_id).first()
    if rep is None:
        raise Http404("not in your scope")
    date_from, date_to = _period(request)
    changes = selectors.judgment_mismatches(user=request.user, rep_id=rep.pk, date_from=date_from, date_to=date_to)
    rows = [
        MismatchRow(
            change=c,
            supported=rules.supported_stage(
                c.follow_up.proposed_stage_signals if c.follow_up else None,
                c.follow_up.proposed_stage_text if c.follow_up else None,
            ),
        )
        for c in changes
    ]
    review = f"{reverse('team_review')}?from={date_from.isoformat()}&to={date_to.isoformat()}"
    return render(
        request,
        "pipeline/judgment_mismatches.html",
        {"rep": rep, "rows": rows, "date_from": date_from, "date_to": date_to, "review_url": review},
    )
