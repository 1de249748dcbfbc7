"""Drill-down from the pipeline's figures to the customers behind them (issue 14): the links of a
team review row and a manager's overdue count. Here, not in reports, so the pipeline's own pages
(agenda, team review) use them without importing a floor above."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from yixiang.accounts.models import Role, User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers.models import Customer


def customers_url(**params: object) -> str:
    """The customer list narrowed to the customers behind a figure (see customers.selectors)."""
    clean = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in params.items() if v not in (None, "")}
    return f"{reverse('customer_list')}?{urlencode(clean)}"


def member_links(user_id: int, date_from: dt.date, date_to: dt.date) -> dict[str, str]:
    """Drill-down links of one member's review figures over the period date_from..date_to."""
    period = {"by": user_id, "since": date_from, "until": date_to}
    links = {
        "overdue": customers_url(owner=user_id, due="overdue"),
        "today": customers_url(owner=user_id, due="today"),
        "owned": customers_url(owner=user_id),
    }
    for kind in ("followup", "effective", "rise", "drop", "signed", "hot", "moved"):
        links[kind] = customers_url(did=kind, **period)
    # Not a customer list: the rises themselves, with the evidence each lacked.
    links["mismatch"] = (
        f"{reverse('judgment_mismatches', args=[user_id])}?"
        f"{urlencode({'from': date_from.isoformat(), 'to': date_to.isoformat()})}"
    )
    return links


def team_overdue(user: User, today: dt.date | None = None) -> int:
    """Overdue customers of the reps a lead or director manages (0 for a rep): the agenda must not
    congratulate a manager whose team is behind."""
    if user.is_rep:
        return 0
    today = today or timezone.localdate()
    ids = staff_in_scope(user).filter(role=Role.REP).values("pk")
    return Customer.objects.filter(owner_id__in=ids, deleted_at__isnull=True, next_due_on__lt=today).count()
