"""Activity (item 10): a developed customer must be active in 2 of its first 3 months, otherwise
its month is re-assessed without it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from yixiang.incentives.rules.base import (
    ACTIVITY,
    DIRECTOR,
    DIRECTOR_PENALTY,
    DIRECTOR_REWARD,
    MANAGER,
    PENALTY,
    REWARD,
    REWARD_KINDS,
    Line,
    NewCustomer,
    Scheme,
    Statement,
    add_months,
)
from yixiang.incentives.rules.directors import assess_director
from yixiang.incentives.rules.thresholds import assess_manager


def active_months(developed: dt.date, shipped_months: Iterable[dt.date], window: int) -> int:
    """How many of the first ``window`` months (the month developed included) had a shipment."""
    last = add_months(developed, window - 1)
    return len({m for m in shipped_months if developed <= m <= last})


# --- Activity re-assessment ------------------------------------------------------------------------


def paid_rewards(st: Statement) -> dict[int | None, int]:
    """What each customer's reward actually paid in a statement (held-back parts of months closed
    before rewards were always paid count as not paid)."""
    paid: dict[int | None, int] = defaultdict(int)
    for line in st.lines:
        if line.kind in REWARD_KINDS:
            paid[line.customer_id] += line.amount
    return paid


def _manager_part(lines: Iterable[Line]) -> int:
    return sum(line.amount for line in lines if line.kind in (PENALTY, REWARD))


def _director_part(lines: Iterable[Line]) -> int:
    return sum(line.amount for line in lines if line.kind in (DIRECTOR_PENALTY, DIRECTOR_REWARD))


@dataclass(frozen=True)
class Inactive:
    """A customer of month M re-assessed as not developed."""

    customer_id: int
    name: str
    active: int  # active months found


def reassess_for_activity(
    stated: Statement, inactive: Mapping[int, Inactive], *, month: dt.date, scheme: Scheme
) -> list[Line]:
    """Adjustment lines (one per inactive customer) re-assessing month ``month`` without them.

    ``stated`` is the statement of month M as issued; each step removes one more customer (in
    reported order) and the line carries the change it makes, so the lines add up to the whole
    re-assessment. Rewards are never restored above what was paid.
    """
    out: list[Line] = []
    base_params = {"window": scheme.activity_window, "min_active": scheme.activity_min_active}
    if stated.role == MANAGER and stated.threshold is not None and "customers" in stated.detail:
        customers = [
            NewCustomer(
                customer_id=c["id"],
                name=c["name"],
                developer_id=stated.user_id,
                region_id=None,
                paid=Decimal(c["paid"]),
                # Snapshots from before explicit positions are already in reported order.
                position=c.get("position", index),
            )
            for index, c in enumerate(stated.detail["customers"])
        ]
        targets = [c for c in customers if c.customer_id in inactive]
        if not targets:
            return []
        caps = {k: v for k, v in paid_rewards(stated).items() if k is not None}
        before = _manager_part(stated.lines)
        removed: set[int] = set()
        for c in targets:
            removed.add(c.customer_id)
            lines, _ = assess_manager(
                threshold=stated.threshold,
                performance_pay=stated.performance_pay or 0,
                on_probation=stated.on_probation,
                customers=[x for x in customers if x.customer_id not in removed],
                scheme=scheme,
                reward_caps=caps,
            )
            after = _manager_part(lines)
            info = inactive[c.customer_id]
            params = {**base_params, "active": info.active}
            out.append(Line(ACTIVITY, after - before, "activity", params, c.customer_id, c.name, refers_to=month))
            before = after
        return out
    if stated.role == DIRECTOR and stated.threshold is not None and "region_customers" in stated.detail:
        units = {cid: u for cid, u in stated.detail["region_customers"]}
        targets = [cid for cid, _ in stated.detail["region_customers"] if cid in inactive]
        if not targets:
            return []
        cap = sum(paid_rewards(stated).values())
        before = _director_part(stated.lines)
        count = stated.valid_customers
        for cid in targets:
            count -= units[cid]
            lines = assess_director(
                threshold=stated.threshold,
                count=count,
                on_probation=stated.on_probation,
                scheme=scheme,
                reward_cap=cap,
            )
            after = _director_part(lines)
            info = inactive[cid]
            params = {**base_params, "active": info.active}
            out.append(Line(ACTIVITY, after - before, "activity", params, cid, info.name, refers_to=month))
            before = after
    return out
