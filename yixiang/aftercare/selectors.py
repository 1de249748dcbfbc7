"""Reads of the after-sale part, always starting from the user's scope (yixiang.accounts.scoping)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import Role, User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.aftercare import loyalty_ladder, rules
from yixiang.aftercare.conf import conf
from yixiang.aftercare.models import (
    Campaign,
    CareTask,
    Contract,
    CustomerCare,
    CustomerIssue,
    Gift,
    LifeEvent,
    LoyaltyChange,
    Message,
    Payment,
    Payout,
    PayoutIncident,
    ReferralAsk,
    ReferralReward,
    RegionalEvent,
    Shipment,
    TierChange,
)
from yixiang.customers import rules as customer_rules
from yixiang.customers.models import Customer, Kind, Stage
from yixiang.customers.scoping import access_customer, visible_customers
from yixiang.formatting import format_amount
from yixiang.months import month_end

SIGNED = Stage.SIGNED


def customer_url(customer_id: int) -> str:
    return reverse("customer_detail", args=[customer_id])


# --------------------------------------------------------------------------- care tasks


def care_tasks(user: User) -> QuerySet[CareTask]:
    """Care tasks of the staff in the user's scope, on customers the user may see."""
    return CareTask.objects.filter(
        rep__in=staff_in_scope(user), customer__in=visible_customers(user, include_pool=False)
    ).select_related("customer", "rep")


def care_task_access(user: User, task_id: int) -> CareTask:
    task = care_tasks(user).filter(pk=task_id).first()
    if task is None:
        raise Http404("care task not found")
    return task


def care_tasks_between(
    user: User, start: dt.date, end: dt.date, *, include_done: bool = False, kind: str = "", mine: bool = False
) -> QuerySet[CareTask]:
    qs = care_tasks(user).filter(due_on__gte=start, due_on__lte=end)
    if not include_done:
        qs = qs.filter(done_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    if mine:
        qs = qs.filter(rep=user)
    return qs.order_by("due_on", "id")


def agenda_care_items(*, user: User, day: dt.date) -> list[dict[str, Any]]:
    """The user's open care tasks due on or before ``day``, for the pipeline's daily agenda.

    Keys: kind, customer_id, customer_name, title, due_on, overdue_days, suggestion, url (plus id,
    kind_label and done_url for a "done" button)."""
    qs = (
        care_tasks(user)
        .filter(rep=user, done_at__isnull=True, due_on__lte=day)
        .order_by("due_on", "id")
        .values("pk", "kind", "customer_id", "customer__name", "title", "due_on", "suggestion")
    )
    labels = dict(CareTask.Kind.choices)
    return [
        {
            "id": row["pk"],
            "kind": row["kind"],
            "kind_label": str(labels.get(row["kind"], row["kind"])),
            "customer_id": row["customer_id"],
            "customer_name": row["customer__name"],
            "title": row["title"],
            "due_on": row["due_on"],
            "overdue_days": max((day - row["due_on"]).days, 0),
            "suggestion": row["suggestion"],
            "url": customer_url(row["customer_id"]),
            "done_url": reverse("care_task_done", args=[row["pk"]]),
        }
        for row in qs
    ]


# --------------------------------------------------------------------------- the calendar


@dataclass
class Occasion:
    on: dt.date
    kind: str
    label: str
    customer_id: int | None = None
    customer_name: str = ""
    extra: dict = field(default_factory=dict)


MAX_CALENDAR_DAYS = 62


def care_calendar(
    user: User, start: dt.date, end: dt.date, *, customers: QuerySet[Customer] | None = None, festivals: bool = True
) -> list[Occasion]:
    """What is coming: birthdays (lunar converted for each year), special days, life events,
    festivals, payouts and contract ends. Computed, not stored. By default for the customers the
    user holds; ``customers`` narrows or widens that, always inside the user's scope."""
    end = min(end, start + dt.timedelta(days=MAX_CALENDAR_DAYS))
    out: list[Occasion] = []
    if festivals:
        out = [
            Occasion(day, "festival", _("%(festival)s: send a card") % {"festival": f.name} if f.card else str(f.name))
            for day, f in rules.festival_occurrences(rules.FESTIVALS, start, end)
        ]
        labels = {"holiday": _("Statutory day off"), "workday": _("Make-up working day")}
        # Statutory days off come from the same calendar the due dates read (an admin's edits count).
        from yixiang.pipeline.selectors import work_calendar

        calendar = work_calendar(start, end)
        out += [
            Occasion(day, kind, labels[kind])
            for day, kind in rules.statutory_days(start, end, days_off=calendar.days_off, workdays=calendar.workdays)
        ]
    scope = visible_customers(user, include_pool=False)
    customers = scope.filter(owner=user) if customers is None else scope.filter(pk__in=customers.values("pk"))
    for c in customers.filter(birth_date__isnull=False).only("id", "name", "kind", "birth_date", "birthday_calendar"):
        out += _birthdays(c, start, end)
    for c in customers.exclude(special_days="").only("id", "name", "special_days"):
        out += _special_days(c, start, end)
    for ev in LifeEvent.objects.filter(customer__in=customers).select_related("customer"):
        out += _life_event_days(ev, ev.customer.name, start, end)
    for p in Payout.objects.filter(
        contract__customer__in=customers, due_date__gte=start, due_date__lte=end
    ).select_related("contract__customer"):
        out.append(_payout_day(p, p.contract.customer_id, p.contract.customer.name))
    for c in Contract.objects.filter(
        customer__in=customers, end_date__gte=start, end_date__lte=end, status=Contract.Status.ACTIVE
    ).select_related("customer"):
        out.append(_contract_end(c, c.customer.name))
    out.sort(key=lambda o: (o.on, o.kind, o.customer_name))
    return out


# One customer's occasions from rows already loaded: the calendar above and the customer panel share them.


def _birthdays(c: Customer, start: dt.date, end: dt.date) -> list[Occasion]:
    if c.birth_date is None:
        return []
    lunar = c.birthday_calendar == "lunar"
    if c.kind == Kind.COMPANY:  # a company's "birth date" is its founding day (成立日)
        label = _("Founding day (lunar)") if lunar else _("Founding day")
    else:
        label = _("Lunar birthday") if lunar else _("Birthday")
    return [
        Occasion(day, "birthday", label, c.pk, c.name)
        for day in rules.birthday_occurrences(c.birth_date, c.birthday_calendar, start, end)
    ]


def _special_days(c: Customer, start: dt.date, end: dt.date) -> list[Occasion]:
    return [
        Occasion(day, "special_day", sd.label, c.pk, c.name)
        for sd in rules.parse_special_days(c.special_days or "")
        for day in rules.special_day_occurrences(sd, start, end)
    ]


def _life_event_days(ev: LifeEvent, name: str, start: dt.date, end: dt.date) -> list[Occasion]:
    return [
        Occasion(day, "life_event", ev.get_kind_display(), ev.customer_id, name)
        for day in rules.yearly_occurrences(ev.on, start, end, recurring=ev.recurring)
    ]


def _payout_day(p: Payout, customer_id: int, name: str) -> Occasion:
    label = _("Payout %(amount)s yuan") % {"amount": format_amount(p.amount)}
    return Occasion(p.due_date, "payout", label, customer_id, name, {"status": p.status})


def _contract_end(c: Contract, name: str) -> Occasion:
    return Occasion(c.end_date, "contract_end", _("Contract %(no)s ends") % {"no": c.number}, c.customer_id, name)


def _customer_calendar(
    customer: Customer, contracts: list[Contract], life_events: list[LifeEvent], start: dt.date, end: dt.date
) -> list[Occasion]:
    """care_calendar(festivals=False) of one customer in scope, from its loaded contracts (payouts
    prefetched) and life events: no query."""
    end = min(end, start + dt.timedelta(days=MAX_CALENDAR_DAYS))
    name = customer.name
    out = _birthdays(customer, start, end) + _special_days(customer, start, end)
    for ev in life_events:
        out += _life_event_days(ev, name, start, end)
    for c in contracts:
        out += [_payout_day(p, customer.pk, name) for p in c.payouts.all() if start <= p.due_date <= end]
        if c.end_date and start <= c.end_date <= end and c.status == Contract.Status.ACTIVE:
            out.append(_contract_end(c, name))
    out.sort(key=lambda o: (o.on, o.kind, o.customer_name))
    return out


# --------------------------------------------------------------------------- one customer


def purchases_count(customer: Customer) -> int:
    """Purchases: contracts (not cancelled) or shipped orders, whichever records more."""
    contracts = customer.contracts.exclude(status=Contract.Status.CANCELLED).count()
    shipments = customer.shipments.count()
    return max(contracts, shipments)


def lifecycle_of(
    customer: Customer,
    *,
    care: CustomerCare | None | bool = False,
    purchases: int | None = None,
    signed_referrals: int | None = None,
) -> str:
    """The customer's lifecycle step; a caller that already holds the care row (None: there is
    none), the purchases or the signed referrals passes them and saves their queries."""
    if care is False:
        care = CustomerCare.objects.filter(pk=customer.pk).first()
    if signed_referrals is None:
        signed_referrals = Customer.objects.filter(referrer=customer, stage=SIGNED, deleted_at__isnull=True).count()
    score = customer_rules.qualification_score(customer.kind, customer.qualification or [])
    return rules.lifecycle_step(
        stage=customer.stage,
        qualification_percent=score.percent,
        purchases=purchases_count(customer) if purchases is None else purchases,
        signed_referrals=signed_referrals,
        loyalty=care.loyalty_level if care else "",
        loyal_min_purchases=conf("LOYAL_MIN_PURCHASES"),
        prospect_min_stage=conf("PROSPECT_MIN_STAGE"),
        prospect_min_qualification=conf("PROSPECT_MIN_QUALIFICATION_PERCENT"),
    )


def customer_contracts(customer: Customer) -> QuerySet[Contract]:
    # The incident rides along with its payout (one-to-one): one query for payouts and incidents.
    payouts = Prefetch("payouts", queryset=Payout.objects.select_related("incident"))
    return customer.contracts.prefetch_related(payouts).order_by("-start_date", "-id")


PANEL_ROWS = 20


def _present_checks() -> dict[str, Exists]:
    """Each kind of after-sale row, as an EXISTS on the customer of the outer query."""
    mine = {"customer": OuterRef("pk")}
    return {
        "care": Exists(CustomerCare.objects.filter(**mine)),
        "contracts": Exists(Contract.objects.filter(**mine)),
        "payments": Exists(Payment.objects.filter(**mine)),
        "shipments": Exists(Shipment.objects.filter(**mine)),
        "gifts": Exists(Gift.objects.filter(**mine)),
        "life_events": Exists(LifeEvent.objects.filter(**mine)),
        "loyalty": Exists(LoyaltyChange.objects.filter(**mine)),
        "tiers": Exists(TierChange.objects.filter(**mine)),
        "tasks": Exists(CareTask.objects.filter(**mine)),
        "asks": Exists(ReferralAsk.objects.filter(**mine)),
        "rewards": Exists(ReferralReward.objects.filter(referrer=OuterRef("pk"))),
        "referred": Exists(Customer.objects.filter(referrer=OuterRef("pk"), deleted_at__isnull=True)),
        "issues": Exists(CustomerIssue.objects.filter(**mine)),
    }


def _present_query(pk: int) -> QuerySet:
    # Prefixed: the bare names are the customer's reverse relations.
    return Customer.objects.filter(pk=pk).values(**{f"has_{k}": v for k, v in _present_checks().items()})


# The SQL of _present_query per database connection, with its parameters (the customer's id at
# the marked places). Building those thirteen EXISTS through the ORM took ~3.5 ms of CPU on every
# after-sale panel; running the statement takes ~0.02 ms (issue 17, `pages` benchmark, record pair).
_PRESENT_SQL: dict[str, tuple[str, list, list[int]] | None] = {}
_MARK = -987654321  # an id no customer has


def _present(customer: Customer) -> dict[str, bool]:
    """Which kinds of after-sale rows the customer has at all, in one query: most customers have
    few kinds (a prospect none), and the panel skips the query of every empty kind."""
    alias = Customer.objects.db
    if alias not in _PRESENT_SQL:
        sql, params = _present_query(_MARK).query.sql_with_params()
        at = [n for n, p in enumerate(params) if p == _MARK]
        _PRESENT_SQL[alias] = (sql, list(params), at) if len(at) == 1 else None  # else: built every time
    compiled = _PRESENT_SQL[alias]
    if compiled is None:
        row = _present_query(customer.pk).first() or {}
    else:
        sql, params, at = compiled
        params = [*params]
        params[at[0]] = customer.pk
        with connections[alias].cursor() as cur:
            cur.execute(sql, params)
            found = cur.fetchone()
            row = dict(zip((d[0] for d in cur.description), found, strict=True)) if found else {}
    return {k[4:]: bool(v) for k, v in row.items()} if row else dict.fromkeys(_present_checks(), False)


def customer_panel(user: User, customer: Customer, *, today: dt.date | None = None) -> dict[str, Any]:
    """Everything the after-sale panel of the customer page shows, in a bounded number of queries:
    one to learn which kinds of rows exist, then one per kind that has rows (counts and the
    calendar come from the rows already loaded)."""
    today = today or timezone.localdate()
    has = _present(customer)

    def rows(kind: str, qs: Any) -> list:
        return list(qs) if has[kind] else []

    care = (
        CustomerCare.objects.filter(pk=customer.pk).select_related("tier_override_by").first() if has["care"] else None
    )
    contracts = rows("contracts", customer_contracts(customer))
    shipments = rows("shipments", customer.shipments.order_by("-shipped_on", "-id")[:PANEL_ROWS])
    life_events = rows("life_events", LifeEvent.objects.filter(customer=customer))
    tree = referral_tree(user, customer, children=has["referred"])
    purchases = max(
        sum(1 for c in contracts if c.status != Contract.Status.CANCELLED),
        len(shipments) if len(shipments) < PANEL_ROWS else customer.shipments.count(),
    )
    step = lifecycle_of(customer, care=care, purchases=purchases, signed_referrals=tree["signed_count"])
    tasks = CareTask.objects.filter(customer=customer).select_related("rep").order_by("done_at", "-due_on")
    return {
        "customer": customer,
        "care": care,
        "contracts": contracts,
        "payments": rows("payments", customer.payments.order_by("-paid_on", "-id")[:PANEL_ROWS]),
        "shipments": shipments,
        "gifts": rows("gifts", Gift.objects.filter(customer=customer).select_related("rep")[:PANEL_ROWS]),
        "life_events": life_events,
        "loyalty_history": rows("loyalty", customer.loyalty_changes.select_related("by")[:10]),
        "tier_history": rows("tiers", customer.tier_changes.select_related("by")[:10]),
        "tasks": rows("tasks", tasks[:PANEL_ROWS]),
        # The customer came through access_customer (in scope); like the calendar, leave the pool out.
        "upcoming": _customer_calendar(customer, contracts, life_events, today, today + dt.timedelta(days=60))
        if customer.owner_id is not None or user.is_admin_role
        else [],
        "lifecycle": step,
        "lifecycle_label": dict(rules.LIFECYCLE_STEPS)[step],
        "lifecycle_steps": rules.LIFECYCLE_STEPS,
        "loyalty_levels": rules.LOYALTY_LEVELS,
        "loyalty_ladder": loyalty_ladder.LADDER,
        "loyalty_lowest_acceptable": loyalty_ladder.LOWEST_ACCEPTABLE,
        "loyalty_recovery": loyalty_ladder.recovery_action(care.loyalty_level if care else ""),
        "referrer_types": rules.REFERRER_TYPES,
        "prerequisites": rules.REFERRAL_PREREQUISITES,
        "asks": rows("asks", customer.referral_asks.select_related("rep")[:10]),
        "tree": tree,
        "rewards": rows("rewards", customer.referral_rewards.select_related("referred")),
        # Open ones first (they are on the handler's agenda until resolved), then the latest resolved.
        "issues": sorted(
            rows("issues", customer.issues.select_related("handler")[:ISSUE_ROWS]),
            key=lambda i: i.resolved_at is not None,
        ),
    }


ISSUE_ROWS = 20


def issue_handlers(user: User, customer: Customer) -> QuerySet[User]:
    """Who may be named to handle a customer's complaint, dispute or suggestion: the staff the user
    sees, the customer's rep, and the lead of that rep's team (a rep hands a dispute up)."""
    extra = Q(pk__in=[])
    if customer.owner_id:
        owner_team = User.objects.filter(pk=customer.owner_id, team__isnull=False).values("team_id")
        extra = Q(pk=customer.owner_id) | Q(team_id__in=owner_team, role=Role.LEAD)
    return (
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=staff_in_scope(user).values("pk")) | extra)
        .order_by("role", "username")
    )


# --------------------------------------------------------------------------- referrals


def referral_tree(user: User, customer: Customer, *, depth: int | None = None, children: bool = True) -> dict[str, Any]:
    """Whom the customer referred, and whom they referred in turn. Customers outside the user's
    scope appear without name or id (only whether they signed), so nothing leaks. ``children=False``
    (the caller knows there are none) builds the empty tree without a query."""
    depth = (depth or conf("REFERRAL_TREE_DEPTH")) if children else 0
    visible_ids: set[int] = set()
    root = {"id": customer.pk, "name": customer.name, "visible": True, "stage": customer.stage,
            "signed": customer.stage == SIGNED, "children": []}  # fmt: skip
    level = {customer.pk: root}
    seen = {customer.pk}
    for _i in range(depth):
        if not level:
            break
        rows = list(
            Customer.objects.filter(referrer_id__in=list(level), deleted_at__isnull=True)
            .exclude(pk__in=seen)
            .values("pk", "name", "stage", "referrer_id")
            .order_by("pk")
        )
        ids = [r["pk"] for r in rows]
        visible_ids |= set(visible_customers(user).filter(pk__in=ids).values_list("pk", flat=True))
        nxt: dict[int, dict[str, Any]] = {}
        for r in rows:
            seen.add(r["pk"])
            shown = r["pk"] in visible_ids
            node = {
                "id": r["pk"] if shown else None,
                "name": r["name"] if shown else _("(another team's customer)"),
                "visible": shown,
                "stage": r["stage"] if shown else None,
                "signed": r["stage"] == SIGNED,
                "children": [],
            }
            level[r["referrer_id"]]["children"].append(node)
            nxt[r["pk"]] = node
        level = nxt
    direct = root["children"]
    signed = sum(1 for n in direct if n["signed"])
    root["referred_count"] = len(direct)
    root["signed_count"] = signed
    root["conversion_percent"] = rules.conversion_rate(len(direct), signed)
    return root


def referrer_stats(user: User, *, limit: int = 50) -> list[dict[str, Any]]:
    """Conversion per referrer (direct referrals) among the customers the user may see."""
    referrers = (
        visible_customers(user, include_pool=False)
        .annotate(
            referred_n=Count("referred", filter=Q(referred__deleted_at__isnull=True)),
            signed_n=Count("referred", filter=Q(referred__deleted_at__isnull=True, referred__stage=SIGNED)),
        )
        .filter(referred_n__gt=0)
        .select_related("care")
        .order_by("-signed_n", "-referred_n", "pk")[:limit]
    )
    out = []
    for c in referrers:
        care = getattr(c, "care", None)
        out.append(
            {
                "customer": c,
                "referrer_type": care.get_referrer_type_display() if care and care.referrer_type else "",
                "referred": c.referred_n,
                "signed": c.signed_n,
                "conversion_percent": rules.conversion_rate(c.referred_n, c.signed_n),
            }
        )
    return out


# --------------------------------------------------------------------------- tiers, Pareto, costs


def revenue_by_customer(customers: QuerySet[Customer], *, today: dt.date) -> dict[int, Decimal]:
    since = today - dt.timedelta(days=conf("TIER_WINDOW_DAYS"))
    return dict(
        Payment.objects.filter(customer__in=customers, paid_on__gt=since, paid_on__lte=today)
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .values_list("customer_id", "total")
    )


def pareto_report(user: User, *, today: dt.date | None = None) -> dict[str, Any]:
    """Share of revenue (over the tier window) from the top 20% of signed customers, overall and per rep."""
    today = today or timezone.localdate()
    customers = visible_customers(user, include_pool=False).filter(stage=SIGNED)
    owners = dict(customers.values_list("pk", "owner_id"))
    revenue = revenue_by_customer(customers, today=today)
    top_share = Decimal(conf("PARETO_TOP_SHARE"))
    per_rep: dict[int, list[Decimal]] = defaultdict(list)
    for pk, owner_id in owners.items():
        per_rep[owner_id].append(revenue.get(pk, Decimal(0)))
    reps = {u.pk: u for u in User.objects.filter(pk__in=list(per_rep))}
    rows = [
        {"rep": reps[rid], "split": rules.pareto_split(amounts, top_share)}
        for rid, amounts in per_rep.items()
        if rid in reps
    ]
    rows.sort(key=lambda r: (-r["split"].total, r["rep"].label))
    return {
        "overall": rules.pareto_split([revenue.get(pk, Decimal(0)) for pk in owners], top_share),
        "per_rep": rows,
        "top_percent": round(top_share * 100),
        "window_days": conf("TIER_WINDOW_DAYS"),
    }


def tier_counts(user: User) -> dict[str, int]:
    qs = visible_customers(user, include_pool=False).filter(stage=SIGNED)
    counts = dict(qs.values("value_tier").annotate(n=Count("pk")).values_list("value_tier", "n"))
    return {t: counts.get(t, 0) for t in ("A", "B", "C", "D", "")}


def maintenance_cost_parts(
    customers: QuerySet[Customer], *, start: dt.date, end: dt.date, by: str = "customer_id"
) -> dict[Any, dict[str, Decimal]]:
    """The one maintenance-cost rule: per ``by`` (a customer or its value tier), the cost of the
    messages sent, the calls made (minutes × the per-minute cost, a call without a duration counting
    CALL_DEFAULT_MINUTES) and the gifts given from ``start`` to ``end`` inclusive, in yuan."""
    from yixiang.pipeline.models import FollowUp

    tz = timezone.get_current_timezone()
    t0 = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    t1 = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    per: dict[Any, dict[str, Decimal]] = defaultdict(
        lambda: {"messages": Decimal(0), "calls": Decimal(0), "gifts": Decimal(0)}
    )
    for key, total in (
        Message.objects.filter(customer__in=customers, status=Message.Status.SENT, sent_at__gte=t0, sent_at__lt=t1)
        .order_by().values(by).annotate(total=Sum("cost")).values_list(by, "total")
    ):  # fmt: skip
        per[key]["messages"] += total or 0
    per_minute = Decimal(conf("COST_CALL_PER_MINUTE"))
    default_minutes = conf("CALL_DEFAULT_MINUTES")
    for key, minutes in (
        FollowUp.objects.filter(customer__in=customers, channel="phone", at__gte=t0, at__lt=t1)
        .order_by().values(by).annotate(minutes=Sum(Coalesce("duration_minutes", default_minutes)))
        .values_list(by, "minutes")
    ):  # fmt: skip
        per[key]["calls"] += per_minute * (minutes or 0)
    for key, total in (
        Gift.objects.filter(customer__in=customers, given_on__gte=start, given_on__lte=end)
        .order_by().values(by).annotate(total=Sum("cost")).values_list(by, "total")
    ):  # fmt: skip
        per[key]["gifts"] += total or 0
    return per


def maintenance_costs(user: User, year: int, month: int) -> dict[str, Any]:
    """Cost of keeping customers in one month: messages sent, calls made, gifts given (yuan)."""
    start = dt.date(year, month, 1)
    end = month_end(start)
    customers = visible_customers(user, include_pool=False)
    per = maintenance_cost_parts(customers, start=start, end=end)
    tiers = dict(customers.filter(pk__in=list(per)).values_list("pk", "value_tier"))
    names = dict(customers.filter(pk__in=list(per)).values_list("pk", "name"))
    by_tier: dict[str, dict[str, Decimal]] = {}
    rows = []
    for cid, parts in per.items():
        total = parts["messages"] + parts["calls"] + parts["gifts"]
        tier = tiers.get(cid, "") or "-"
        rows.append({"customer_id": cid, "name": names.get(cid, ""), "tier": tier, **parts, "total": total})
        agg = by_tier.setdefault(
            tier,
            {"messages": Decimal(0), "calls": Decimal(0), "gifts": Decimal(0), "total": Decimal(0), "customers": 0},
        )
        for k in ("messages", "calls", "gifts"):
            agg[k] += parts[k]
        agg["total"] += total
        agg["customers"] += 1
    rows.sort(key=lambda r: (-r["total"], r["name"]))
    return {
        "start": start,
        "end": end,
        "customers": rows,
        "tiers": dict(sorted(by_tier.items())),
        "total": sum((r["total"] for r in rows), Decimal(0)),
    }


# --------------------------------------------------------------------------- campaigns and events


def campaigns(user: User) -> QuerySet[Campaign]:
    """Campaigns written by staff in the user's scope."""
    return (
        Campaign.objects.filter(created_by__in=staff_in_scope(user))
        .select_related("created_by")
        .annotate(
            total_n=Count("messages"),
            sent_n=Count("messages", filter=Q(messages__status=Message.Status.SENT)),
            replied_n=Count("messages", filter=Q(messages__replied_at__isnull=False)),
            cost_sum=Sum("messages__cost"),
        )
        .order_by("-created_at", "-id")
    )


def campaign_access(user: User, campaign_id: int) -> Campaign:
    campaign = (
        Campaign.objects.filter(pk=campaign_id, created_by__in=staff_in_scope(user))
        .select_related("created_by")
        .first()
    )
    if campaign is None:
        raise Http404("campaign not found")
    return campaign


def campaign_messages(user: User, campaign: Campaign) -> QuerySet[Message]:
    return (
        campaign.messages.filter(customer__in=visible_customers(user, include_pool=False))
        .select_related("customer", "rep")
        .order_by("pk")
    )


def campaign_stats(campaign: Campaign) -> dict[str, Any]:
    rows = dict(campaign.messages.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    agg = campaign.messages.aggregate(cost=Sum("cost"), replied=Count("pk", filter=Q(replied_at__isnull=False)))
    return {
        "by_status": rows,
        "cost": agg["cost"] or Decimal(0),
        "replied": agg["replied"],
        "total": sum(rows.values()),
    }


def message_access(user: User, message_id: int) -> Message:
    msg = (
        Message.objects.filter(
            pk=message_id,
            campaign__created_by__in=staff_in_scope(user),
            customer__in=visible_customers(user, include_pool=False),
        )
        .select_related("campaign", "customer")
        .first()
    )
    if msg is None:
        raise Http404("message not found")
    return msg


def regional_events(user: User) -> QuerySet[RegionalEvent]:
    return RegionalEvent.objects.filter(created_by__in=staff_in_scope(user)).select_related("region", "created_by")


def incident_access(user: User, incident_id: int) -> PayoutIncident:
    incident = PayoutIncident.objects.select_related("payout__contract__customer").filter(pk=incident_id).first()
    if incident is None:
        raise Http404("incident not found")
    access_customer(user, incident.payout.contract.customer_id, for_change=True)
    return incident


def payout_access(user: User, payout_id: int) -> Payout:
    payout = Payout.objects.select_related("contract__customer").filter(pk=payout_id).first()
    if payout is None:
        raise Http404("payout not found")
    access_customer(user, payout.contract.customer_id, for_change=True)
    return payout
