"""A small hand-made history whose report figures are worked out in the tests.

All in 2025 (Asia/Shanghai), on the shared test organisation (yixiang.testing.make_org):

  customer  owner now        history
  甲 c1     rep              created 1 Jan at 0; 0→1 10 Jan; 1→2 20 Jan; 2→3 1 Feb; 3→E 15 Feb
  乙 c2     rep              created 5 Jan at 1; 1→3 25 Jan; 3→1 10 Feb
  丙 c3     rep              created 1 Feb at 0; no change
  丁 c4     teammate         created 3 Jan, first row (none→2) the same day; 2→rejecting 5 Feb
  戊 c5     other_team_rep   created 2 Jan at 0; 0→4 15 Jan
  己 c6     outsider         created 2 Jan at 0; 0→2 12 Jan
  庚 c7     rep              created 1 Jan at 1 owned by teammate; handed to rep 1 Feb; no stage change
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from yixiang.customers.models import Customer
from yixiang.pipeline.models import OwnerChange, StageChange
from yixiang.testing import Org

TZ = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10, year: int = 2025) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=TZ)


def customer(org: Org, owner, name: str, *, created: dt.datetime, stage: int, **data) -> Customer:
    c = org.customer(owner, name, **data)
    Customer.objects.filter(pk=c.pk).update(created_at=created, stage=stage)
    c.refresh_from_db()
    return c


def change(c: Customer, when: dt.datetime, frm: int | None, to: int, owner) -> StageChange:
    return StageChange.objects.create(customer=c, at=when, from_stage=frm, to_stage=to, owner=owner, by=owner)


def build(org: Org) -> SimpleNamespace:
    rep, mate, other, outsider = org.rep, org.teammate, org.other_team_rep, org.outsider
    c1 = customer(org, rep, "甲", created=at(1, 1), stage=5)
    for when, frm, to in ((at(1, 10), 0, 1), (at(1, 20), 1, 2), (at(2, 1), 2, 3), (at(2, 15), 3, 5)):
        change(c1, when, frm, to, rep)
    Customer.objects.filter(pk=c1.pk).update(signed_at=at(2, 15))
    c2 = customer(org, rep, "乙", created=at(1, 5), stage=1)
    change(c2, at(1, 25), 1, 3, rep)
    change(c2, at(2, 10), 3, 1, rep)
    c3 = customer(org, rep, "丙", created=at(2, 1), stage=0)
    c4 = customer(org, mate, "丁", created=at(1, 3), stage=-1)
    change(c4, at(1, 3), None, 2, mate)
    change(c4, at(2, 5), 2, -1, mate)
    c5 = customer(org, other, "戊", created=at(1, 2), stage=4)
    change(c5, at(1, 15), 0, 4, other)
    c6 = customer(org, outsider, "己", created=at(1, 2), stage=2)
    change(c6, at(1, 12), 0, 2, outsider)
    c7 = customer(org, rep, "庚", created=at(1, 1), stage=1)
    OwnerChange.objects.create(customer=c7, at=at(1, 1), from_owner=None, to_owner=mate, reason="created")
    OwnerChange.objects.create(customer=c7, at=at(2, 1), from_owner=mate, to_owner=rep, reason="handover")
    return SimpleNamespace(c1=c1, c2=c2, c3=c3, c4=c4, c5=c5, c6=c6, c7=c7)


def build_aftercare(org: Org, today: dt.date) -> None:
    """Signed customers of the rep with tiers, payments this month, loyalty levels, a gift, a payout
    and a renewal coming up: enough for every after-sale chart to have something to draw."""
    from decimal import Decimal

    from yixiang.aftercare.models import Contract, CustomerCare, Gift, Payment, Payout

    levels = ["loyal", "very_satisfied", "satisfied", "satisfied", "indifferent", "unhappy", "", "", "", ""]
    for i, (tier, amount) in enumerate(
        zip("AABBBCCCDD", (90000, 40000, 12000, 9000, 6000, 3000, 2000, 1000, 500, 0), strict=True)
    ):
        c = customer(org, org.rep, f"老客户{i}", created=at(1, 1), stage=5)
        Customer.objects.filter(pk=c.pk).update(value_tier=tier)
        if amount:
            Payment.objects.create(customer=c, paid_on=today, amount=Decimal(amount))
        if levels[i]:
            CustomerCare.objects.create(customer=c, loyalty_level=levels[i])
        if i == 0:
            Gift.objects.create(customer=c, rep=org.rep, given_on=today, item="茶叶", cost=Decimal(168))
            k = Contract.objects.create(
                customer=c, name="年度推广", number="HT-100", start_date=today - dt.timedelta(days=330),
                end_date=today + dt.timedelta(days=20), amount=Decimal(90000),
            )  # fmt: skip
            Payout.objects.create(contract=k, due_date=today + dt.timedelta(days=4), amount=Decimal(3000))
